package scenarios

import (
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/spatial"
)

// Indicator 13 (built, impervious and green share) measures the union of a layer's polygons
// within each district: overlapping buildings or green spaces count once, a polygon across a
// district's edge counts in each district for the part inside it, so no share exceeds 1.
//
// The union's area is exact (up to floating point): coverArea sweeps a vertical line across
// the polygons' edges. Between two consecutive x of a vertex, a crossing of two edges or an
// edge meeting the box's top or bottom, the covered length of the line is linear in x, so
// its value at the middle of the slab times the slab's width is the slab's area.
//
// The city is cut into square cells of coverCellM; each cell keeps, for each district its
// box meets, the area of the union in (cell ∩ district). A variant recomputes only the
// cells its changed buildings or green spaces meet (their old and new bounds) and takes the
// baseline's value for the others: a cell's value depends only on the polygons meeting it,
// so full and incremental runs agree to the bit.

const coverCellM = 250.0

// coverLayers are the layers whose union indicator 13 measures.
var coverLayers = [...]string{"buildings", "green_spaces"}

const (
	coverBuilt = iota
	coverGreen
)

// coverCell is one cell of the coverage grid.
type coverCell struct {
	box       orb.Bound
	districts []int32      // indexes into baseline.districts (-1: the city's box, no districts)
	area      [2][]float64 // by coverLayers index, by districts index
}

// coverGrid is the coverage grid of a city.
type coverGrid struct {
	origin orb.Point
	nx, ny int
	cells  []*coverCell // row-major; nil where no district meets the cell
	// clips are the district polygons (metric) by district index; one nil entry when the
	// city has no district (the city's box is the area then).
	clips []orb.Geometry
}

// newCoverGrid makes the grid over bound and computes every cell from the baseline (en).
func newCoverGrid(b *baseline, en *env, bound orb.Bound) *coverGrid {
	g := &coverGrid{origin: bound.Min}
	g.nx = max(1, int(math.Ceil((bound.Max[0]-bound.Min[0])/coverCellM)))
	g.ny = max(1, int(math.Ceil((bound.Max[1]-bound.Min[1])/coverCellM)))
	g.cells = make([]*coverCell, g.nx*g.ny)
	type area struct {
		idx   int32
		bound orb.Bound
	}
	var areas []area
	for i, d := range b.districts {
		g.clips = append(g.clips, d.Geom)
		areas = append(areas, area{int32(i), d.Bound})
	}
	if len(b.districts) == 0 {
		g.clips = []orb.Geometry{nil}
		areas = []area{{0, bound}}
	}
	for _, a := range areas {
		x0, y0, x1, y1 := g.span(a.bound)
		for j := y0; j <= y1; j++ {
			for i := x0; i <= x1; i++ {
				c := g.cells[j*g.nx+i]
				if c == nil {
					c = &coverCell{box: g.box(i, j)}
					g.cells[j*g.nx+i] = c
				}
				c.districts = append(c.districts, a.idx)
			}
		}
	}
	// Cells are independent: measure them in parallel, one worker per processor.
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(g.cells); i = int(next.Add(1)) - 1 {
				if c := g.cells[i]; c != nil {
					for l := range coverLayers {
						c.area[l] = g.measure(en, l, c)
					}
				}
			}
		})
	}
	wg.Wait()
	return g
}

func (g *coverGrid) box(i, j int) orb.Bound {
	x, y := g.origin[0]+float64(i)*coverCellM, g.origin[1]+float64(j)*coverCellM
	return orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + coverCellM, y + coverCellM}}
}

// span returns the cells a bound meets, clamped to the grid.
func (g *coverGrid) span(bd orb.Bound) (x0, y0, x1, y1 int) {
	cl := func(v float64, n int) int { return min(n-1, max(0, int(math.Floor(v/coverCellM)))) }
	return cl(bd.Min[0]-g.origin[0], g.nx), cl(bd.Min[1]-g.origin[1], g.ny), cl(bd.Max[0]-g.origin[0], g.nx), cl(bd.Max[1]-g.origin[1], g.ny)
}

// measure computes a cell's union area of layer l per district, from en's view of the layer.
func (g *coverGrid) measure(en *env, l int, c *coverCell) []float64 {
	var items []*spatial.Item
	en.v.Layer(coverLayers[l]).Search(c.box, func(it *spatial.Item) bool {
		items = append(items, it)
		return true
	})
	out := make([]float64, len(c.districts))
	if len(items) == 0 {
		return out
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Feature.ID < items[j].Feature.ID })
	var shapes []orb.Polygon
	for _, it := range items {
		shapes = appendPolygons(shapes, it.Geom)
	}
	for k, d := range c.districts {
		clip := g.clips[d]
		switch {
		case clip == nil:
			out[k] = coverArea(shapes, nil, c.box)
		case !edgesMeet(clip, c.box):
			if spatial.Contains(clip, c.box.Center()) {
				out[k] = coverArea(shapes, nil, c.box) // the cell lies inside the district
			}
		default:
			out[k] = coverArea(shapes, appendPolygons(nil, clip), c.box)
		}
	}
	return out
}

// totals sums each district's cells (in grid order) for layer l, taking the cells in dirty
// from fresh and the others from the baseline's grid.
func (g *coverGrid) totals(l int, fresh map[int][]float64) []float64 {
	out := make([]float64, len(g.clips))
	for i, c := range g.cells {
		if c == nil {
			continue
		}
		a := c.area[l]
		if f, ok := fresh[i]; ok {
			a = f
		}
		for k, d := range c.districts {
			out[d] += a[k]
		}
	}
	return out
}

// variantTotals are the union areas of a variant by district, for each cover layer:
// the cells its changes meet measured again, the others the baseline's.
func (g *coverGrid) variantTotals(b *baseline, en *env) [2][]float64 {
	var out [2][]float64
	for l, name := range coverLayers {
		lv := en.v.Layer(name)
		fresh := map[int][]float64{}
		mark := func(bd orb.Bound) {
			x0, y0, x1, y1 := g.span(bd)
			for j := y0; j <= y1; j++ {
				for i := x0; i <= x1; i++ {
					if c := g.cells[j*g.nx+i]; c != nil && fresh[j*g.nx+i] == nil && c.box.Intersects(bd) {
						fresh[j*g.nx+i] = []float64{} // measured below
					}
				}
			}
		}
		for id := range lv.Hidden {
			if it, ok := lv.Base.Get(id); ok {
				mark(it.Bound)
			}
		}
		if lv.hasOver() {
			for _, it := range lv.Over.Items() {
				mark(it.Bound)
			}
		}
		for i := range fresh {
			fresh[i] = g.measure(en, l, g.cells[i])
		}
		out[l] = g.totals(l, fresh)
	}
	return out
}

// appendPolygons appends the polygons of a Polygon or MultiPolygon.
func appendPolygons(out []orb.Polygon, g orb.Geometry) []orb.Polygon {
	switch t := g.(type) {
	case orb.Polygon:
		out = append(out, t)
	case orb.MultiPolygon:
		out = append(out, t...)
	}
	return out
}

// edgesMeet reports whether an edge of g may cross box: whether the bound of one of its
// segments meets it.
func edgesMeet(g orb.Geometry, box orb.Bound) bool {
	for _, p := range appendPolygons(nil, g) {
		for _, r := range p {
			for i := 1; i < len(r); i++ {
				a, c := r[i-1], r[i]
				if max(a[0], c[0]) >= box.Min[0] && min(a[0], c[0]) <= box.Max[0] && max(a[1], c[1]) >= box.Min[1] && min(a[1], c[1]) <= box.Max[1] {
					return true
				}
			}
		}
	}
	return false
}

// sweepEdge is a non-vertical segment of a polygon's ring, x0 < x1.
type sweepEdge struct {
	x0, y0, x1, y1 float64
	shape          int32 // index among the shapes, or among the clips when clip
	clip           bool
}

func (e *sweepEdge) yAt(x float64) float64 { return e.y0 + (x-e.x0)*(e.y1-e.y0)/(e.x1-e.x0) }

// coverArea returns the area of (∪ shapes) ∩ (∪ clips) ∩ box; clips nil: no clip. Each
// polygon covers the points inside an odd number of its rings (its holes left out).
func coverArea(shapes, clips []orb.Polygon, box orb.Bound) float64 {
	var edges []sweepEdge
	add := func(polys []orb.Polygon, clip bool) {
		for s, p := range polys {
			for _, r := range p {
				for i := 1; i < len(r); i++ {
					a, c := r[i-1], r[i]
					if a[0] == c[0] {
						continue // vertical: the sweep's line never crosses it
					}
					if a[0] > c[0] {
						a, c = c, a
					}
					if c[0] <= box.Min[0] || a[0] >= box.Max[0] {
						continue
					}
					edges = append(edges, sweepEdge{a[0], a[1], c[0], c[1], int32(s), clip})
				}
			}
		}
	}
	add(shapes, false)
	add(clips, true)
	if len(edges) == 0 {
		return 0
	}
	// The slabs' borders.
	inside := func(x float64) bool { return x > box.Min[0] && x < box.Max[0] }
	xs := []float64{box.Min[0], box.Max[0]}
	var near []int // edges whose bound meets the box: only they can cross inside it
	for i := range edges {
		e := &edges[i]
		for _, x := range []float64{e.x0, e.x1} {
			if inside(x) {
				xs = append(xs, x)
			}
		}
		if max(e.y0, e.y1) < box.Min[1] || min(e.y0, e.y1) > box.Max[1] {
			continue
		}
		near = append(near, i)
		for _, y := range []float64{box.Min[1], box.Max[1]} {
			if (e.y0-y)*(e.y1-y) < 0 {
				if x := e.x0 + (y-e.y0)*(e.x1-e.x0)/(e.y1-e.y0); inside(x) {
					xs = append(xs, x)
				}
			}
		}
	}
	sort.Slice(near, func(i, j int) bool { return edges[near[i]].x0 < edges[near[j]].x0 })
	for a := range near {
		p := &edges[near[a]]
		for b := a + 1; b < len(near); b++ {
			q := &edges[near[b]]
			if q.x0 >= p.x1 {
				break
			}
			if x, ok := crossingX(p, q); ok && inside(x) {
				xs = append(xs, x)
			}
		}
	}
	slices.Sort(xs)
	xs = slices.Compact(xs)

	// Sweep: edges sorted by x0 enter the active list, leave it past x1.
	sort.Slice(edges, func(i, j int) bool { return edges[i].x0 < edges[j].x0 })
	type hit struct {
		y     float64
		shape int32
		clip  bool
	}
	var active []*sweepEdge
	var hits []hit
	inShape := make([]bool, len(shapes))
	inClip := make([]bool, len(clips))
	next, total := 0, 0.0
	for s := 1; s < len(xs); s++ {
		xa, xb := xs[s-1], xs[s]
		if xa < box.Min[0] || xb > box.Max[0] {
			continue
		}
		xm := (xa + xb) / 2
		for next < len(edges) && edges[next].x0 < xm {
			active = append(active, &edges[next])
			next++
		}
		hits = hits[:0]
		keep := active[:0]
		for _, e := range active {
			if e.x1 <= xm {
				continue
			}
			keep = append(keep, e)
			hits = append(hits, hit{e.yAt(xm), e.shape, e.clip})
		}
		active = keep
		sort.Slice(hits, func(i, j int) bool { return hits[i].y < hits[j].y })
		clear(inShape)
		clear(inClip)
		nShape, nClip := 0, 0
		length := 0.0
		for i, h := range hits {
			if i > 0 && nShape > 0 && (clips == nil || nClip > 0) {
				lo, hi := max(hits[i-1].y, box.Min[1]), min(h.y, box.Max[1])
				if hi > lo {
					length += hi - lo
				}
			}
			if h.clip {
				inClip[h.shape] = !inClip[h.shape]
				nClip += sign(inClip[h.shape])
			} else {
				inShape[h.shape] = !inShape[h.shape]
				nShape += sign(inShape[h.shape])
			}
		}
		total += length * (xb - xa)
	}
	return total
}

func sign(in bool) int {
	if in {
		return 1
	}
	return -1
}

// crossingX returns the x where two segments cross, strictly inside both.
func crossingX(p, q *sweepEdge) (float64, bool) {
	dx1, dy1 := p.x1-p.x0, p.y1-p.y0
	dx2, dy2 := q.x1-q.x0, q.y1-q.y0
	den := dx1*dy2 - dy1*dx2
	if den == 0 {
		return 0, false
	}
	t := ((q.x0-p.x0)*dy2 - (q.y0-p.y0)*dx2) / den
	u := ((q.x0-p.x0)*dy1 - (q.y0-p.y0)*dx1) / den
	if t <= 0 || t >= 1 || u <= 0 || u >= 1 {
		return 0, false
	}
	return p.x0 + t*dx1, true
}
