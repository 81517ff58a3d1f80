package spatial

import (
	"math"
	"sort"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"

	"github.com/citytwin/citytwin/layers"
)

// Item is one indexed feature with its geometry in local metres.
type Item struct {
	Feature  *layers.Feature // as stored: WGS84
	Geom     orb.Geometry    // local metres
	Bound    orb.Bound       // of Geom
	Centroid orb.Point       // of Geom (the point itself for points)
	Area     float64         // m², zero for points
}

// Hit is an item found by a distance query, with its distance in metres.
type Hit struct {
	*Item
	Distance float64
}

// Index holds the features of one layer in an R-tree keyed by their metric bounds.
type Index struct {
	Layer string
	proj  Projection
	tree  rtree.RTreeG[*Item]
	byID  map[int64]*Item
}

// NewIndex returns an empty index of a layer's features projected with proj.
func NewIndex(layer string, proj Projection) *Index {
	return &Index{Layer: layer, proj: proj, byID: map[int64]*Item{}}
}

// NewItem projects a feature to metres and measures it, without indexing it.
func NewItem(f *layers.Feature, proj Projection) *Item {
	g := proj.Geometry(f.Geometry)
	it := &Item{Feature: f, Geom: g, Bound: g.Bound(), Centroid: Centroid(g)}
	if _, isPoint := g.(orb.Point); !isPoint {
		it.Area = Area(g)
	}
	return it
}

// Insert indexes f, replacing a feature with the same ID.
func (ix *Index) Insert(f *layers.Feature) *Item {
	ix.Delete(f.ID)
	it := NewItem(f, ix.proj)
	ix.tree.Insert(it.Bound.Min, it.Bound.Max, it)
	ix.byID[f.ID] = it
	return it
}

// Delete removes the feature with the given ID and reports whether it was there.
func (ix *Index) Delete(id int64) bool {
	it, ok := ix.byID[id]
	if !ok {
		return false
	}
	ix.tree.Delete(it.Bound.Min, it.Bound.Max, it)
	delete(ix.byID, id)
	return true
}

// Get returns the item with the given feature ID.
func (ix *Index) Get(id int64) (*Item, bool) {
	it, ok := ix.byID[id]
	return it, ok
}

// Len is the number of indexed features.
func (ix *Index) Len() int { return len(ix.byID) }

// Projection is the index's metric projection.
func (ix *Index) Projection() Projection { return ix.proj }

// Items returns every item in ascending ID order.
func (ix *Index) Items() []*Item {
	out := make([]*Item, 0, len(ix.byID))
	for _, it := range ix.byID {
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Feature.ID < out[j].Feature.ID })
	return out
}

// Search calls fn for every item whose bound meets the metric bound b, until fn returns false.
func (ix *Index) Search(b orb.Bound, fn func(*Item) bool) {
	ix.tree.Search(b.Min, b.Max, func(_, _ [2]float64, it *Item) bool { return fn(it) })
}

// SearchWGS84 is Search with a WGS84 bound.
func (ix *Index) SearchWGS84(b orb.Bound, fn func(*Item) bool) { ix.Search(ix.proj.Bound(b), fn) }

// Nearest returns up to k items nearest to the metric point p, nearest first, that pass
// filter (nil passes all) and lie within maxDist metres (maxDist <= 0: no limit). Distances are
// exact: zero inside a polygon, else to its nearest edge.
func (ix *Index) Nearest(p orb.Point, k int, maxDist float64, filter func(*Item) bool) []Hit {
	if k <= 0 {
		return nil
	}
	if maxDist <= 0 {
		maxDist = math.Inf(1)
	}
	var out []Hit
	// Nearby orders by the first function: squared box distance for nodes, squared exact
	// distance for items, so items come out in true distance order.
	ix.tree.Nearby(func(min, max [2]float64, it *Item, item bool) float64 {
		if item {
			d := Distance(it.Geom, p)
			return d * d
		}
		return boxDistSq(min, max, p)
	}, func(_, _ [2]float64, it *Item, d2 float64) bool {
		d := math.Sqrt(d2)
		if d > maxDist {
			return false
		}
		if filter == nil || filter(it) {
			out = append(out, Hit{Item: it, Distance: d})
		}
		return len(out) < k
	})
	return out
}

// Within returns every item within dist metres of the metric point p that passes filter,
// nearest first.
func (ix *Index) Within(p orb.Point, dist float64, filter func(*Item) bool) []Hit {
	var out []Hit
	b := orb.Bound{Min: orb.Point{p[0] - dist, p[1] - dist}, Max: orb.Point{p[0] + dist, p[1] + dist}}
	ix.Search(b, func(it *Item) bool {
		if filter != nil && !filter(it) {
			return true
		}
		if d := Distance(it.Geom, p); d <= dist {
			out = append(out, Hit{Item: it, Distance: d})
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Distance != out[j].Distance {
			return out[i].Distance < out[j].Distance
		}
		return out[i].Feature.ID < out[j].Feature.ID
	})
	return out
}

// Containing returns the polygon items that contain the metric point p, in ascending ID order.
func (ix *Index) Containing(p orb.Point) []*Item {
	var out []*Item
	ix.Search(orb.Bound{Min: p, Max: p}, func(it *Item) bool {
		if Contains(it.Geom, p) {
			out = append(out, it)
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Feature.ID < out[j].Feature.ID })
	return out
}

func boxDistSq(min, max [2]float64, p orb.Point) float64 {
	dx := math.Max(0, math.Max(min[0]-p[0], p[0]-max[0]))
	dy := math.Max(0, math.Max(min[1]-p[1], p[1]-max[1]))
	return dx*dx + dy*dy
}
