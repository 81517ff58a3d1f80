package data

import (
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/osm"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// Feature ids of OSM elements: one id space per element type, kept apart so a node and a way
// with the same number never collide in a layer that takes both (facilities).
const (
	wayIDBase      int64 = 0
	relationIDBase int64 = 1_000_000_000_000
	nodeIDBase     int64 = 2_000_000_000_000
	// wifiIDOffset gives the public Wi-Fi facility of an element its own id.
	wifiIDOffset int64 = 5_000_000_000_000
)

// element is one OSM element the import may map, with its geometry in WGS84: a point for a
// node, the line of a way (and its polygon when it is closed), the polygons of a relation.
type element struct {
	id   int64 // feature id: type base + OSM id
	tags osm.Tags
	refs []osm.NodeID     // ways only
	pt   orb.Point        // nodes only
	line orb.LineString   // ways only
	area orb.MultiPolygon // closed ways and relations; nil otherwise
}

func (e *element) isNode() bool { return e.id >= nodeIDBase }

// areaGeom is the element's area as a Polygon when it has one ring set, else a MultiPolygon.
func (e *element) areaGeom() orb.Geometry {
	if len(e.area) == 1 {
		return e.area[0]
	}
	return e.area
}

// city is the working state of one OSM import.
type city struct {
	d      *osmData
	proj   spatial.Projection
	elems  []*element // nodes, ways, relations, each by ascending id
	extent orb.Bound  // metric bound of the buildings (of every element when there are none)

	buildings []*building
	landuse   []*landArea
	landIndex *areaIndex
	districts []*district
	out       []layers.Feature
}

// deriveCity maps an extract's elements to the catalog layers and derives the rest.
func deriveCity(d *osmData) ([]layers.Feature, error) {
	c := &city{d: d}
	c.collectElements()
	c.setProjection()
	c.collectLandUse()
	c.mapBuildings()
	c.mapFacilities()
	c.mapGreenSpaces()
	c.mapDistricts()
	c.deriveParcels()
	c.deriveZoning()
	c.deriveNoise()
	c.deriveFlood()
	c.deriveAirStations()
	c.deriveBroadband()
	c.mapStreets()
	c.mapWater()
	c.mapPlaces()
	sortFeatures(c.out)
	if err := checkFeatures(c.out); err != nil {
		return nil, err
	}
	return c.out, nil
}

func (c *city) collectElements() {
	nodes := append([]*osm.Node(nil), c.d.nodes...)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].ID < nodes[j].ID })
	for _, n := range nodes {
		p, ok := c.d.coords.point(n.ID)
		if !ok {
			p = orb.Point{math.Round(n.Lon*1e7) / 1e7, math.Round(n.Lat*1e7) / 1e7}
		}
		c.elems = append(c.elems, &element{id: nodeIDBase + int64(n.ID), tags: n.Tags, pt: p})
	}
	wayIDs := make([]osm.WayID, 0, len(c.d.ways))
	for id := range c.d.ways {
		wayIDs = append(wayIDs, id)
	}
	sort.Slice(wayIDs, func(i, j int) bool { return wayIDs[i] < wayIDs[j] })
	for _, id := range wayIDs {
		w := c.d.ways[id]
		if len(w.Tags) == 0 {
			continue // only a part of a relation
		}
		refs := wayRefs(w)
		line, ok := c.d.coords.line(refs)
		if !ok || len(line) < 2 {
			continue
		}
		e := &element{id: wayIDBase + int64(id), tags: w.Tags, refs: refs, line: line}
		if p := c.d.wayArea(w); p != nil {
			e.area = orb.MultiPolygon{p}
		}
		c.elems = append(c.elems, e)
	}
	rels := append([]*osm.Relation(nil), c.d.rels...)
	sort.Slice(rels, func(i, j int) bool { return rels[i].ID < rels[j].ID })
	for _, r := range rels {
		if a := c.d.relationArea(r); len(a) > 0 {
			c.elems = append(c.elems, &element{id: relationIDBase + int64(r.ID), tags: r.Tags, area: a})
		}
	}
}

// setProjection centres the local metric projection on the buildings (on every element when
// there are none), so areas and distances are true to a fraction of a percent.
func (c *city) setProjection() {
	var b orb.Bound
	first := true
	add := func(g orb.Bound) {
		if first {
			b, first = g, false
		} else {
			b = b.Union(g)
		}
	}
	for _, e := range c.elems {
		if isBuilding(e) {
			add(e.area.Bound())
		}
	}
	if first {
		for _, e := range c.elems {
			add(elementBound(e))
		}
	}
	c.proj = spatial.NewProjection(b.Center())
	c.extent = c.proj.Bound(b)
}

func elementBound(e *element) orb.Bound {
	switch {
	case e.area != nil:
		return e.area.Bound()
	case e.line != nil:
		return e.line.Bound()
	}
	return e.pt.Bound()
}

// metric projects a WGS84 geometry to the local metric projection.
func (c *city) metric(g orb.Geometry) orb.Geometry { return c.proj.Geometry(g) }

// wgs84 projects a metric geometry back to WGS84, rounded to 1e-7 degrees (about 1 cm), the
// precision of OSM itself: it keeps the data files short and the coordinates exact in JSON.
func (c *city) wgs84(g orb.Geometry) orb.Geometry {
	return roundGeometry(c.proj.GeometryToWGS84(g))
}

func roundGeometry(g orb.Geometry) orb.Geometry {
	round := func(p orb.Point) orb.Point {
		return orb.Point{math.Round(p[0]*1e7) / 1e7, math.Round(p[1]*1e7) / 1e7}
	}
	switch t := g.(type) {
	case orb.Point:
		return round(t)
	case orb.Polygon:
		for _, r := range t {
			for i := range r {
				r[i] = round(r[i])
			}
		}
	case orb.MultiPolygon:
		for _, p := range t {
			roundGeometry(p)
		}
	}
	return g
}

// emit adds a feature to the output. Its geometry is a copy: one OSM area may become
// features of several layers (a landuse=grass is a green space and a zone), and no two
// features may share coordinates that a consumer could change.
func (c *city) emit(layer string, id int64, g orb.Geometry, props map[string]any, restricted map[string]any) {
	c.out = append(c.out, layers.Feature{Layer: layer, ID: id, Geometry: orb.Clone(g), Props: props, Restricted: restricted})
}

// sortFeatures puts features in catalog order, each layer by ascending id.
func sortFeatures(fs []layers.Feature) {
	rank := map[string]int{}
	for i, n := range layers.Names() {
		rank[n] = i
	}
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Layer != fs[j].Layer {
			return rank[fs[i].Layer] < rank[fs[j].Layer]
		}
		return fs[i].ID < fs[j].ID
	})
}

// checkFeatures runs every derived feature through the catalog's own checks, so the import
// never hands a store a feature that a GeoJSON round trip would reject.
func checkFeatures(fs []layers.Feature) error {
	seen := map[string]map[int64]bool{}
	for i, f := range fs {
		l, err := layers.Lookup(f.Layer)
		if err != nil {
			return err
		}
		if err := l.CheckGeometry(f.Geometry); err != nil {
			return fmt.Errorf("feature %d (id %d, layer %s): %w", i, f.ID, f.Layer, err)
		}
		all := map[string]any{}
		for k, v := range f.Props {
			all[k] = v
		}
		for k, v := range f.Restricted {
			all[k] = v
		}
		if _, _, err := l.Normalize(all); err != nil {
			return fmt.Errorf("feature %d (id %d, layer %s): %w", i, f.ID, f.Layer, err)
		}
		if seen[f.Layer] == nil {
			seen[f.Layer] = map[int64]bool{}
		}
		if seen[f.Layer][f.ID] {
			return fmt.Errorf("feature %d (id %d, layer %s): duplicate id", i, f.ID, f.Layer)
		}
		seen[f.Layer][f.ID] = true
	}
	return nil
}

// hash01 maps a key to a deterministic number in [0, 1): the modelled attributes that
// depend on chance (ownership, fake owner names) depend on the id instead.
func hash01(key string, id int64) float64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	z := h.Sum64() ^ uint64(id)
	// splitmix64's finaliser: every bit of the id reaches the top bits used below.
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}

// parseNumber reads the leading decimal number of an OSM value ("12", "12.5 m", "12,5"),
// false when there is none.
func parseNumber(s string) (float64, bool) {
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || s[end] == ',') {
		end++
	}
	if end == 0 {
		return 0, false
	}
	num := []byte(s[:end])
	for i, b := range num {
		if b == ',' {
			num[i] = '.'
		}
	}
	x, err := strconv.ParseFloat(string(num), 64)
	return x, err == nil
}

// round1 rounds to one decimal, as the derived values are published.
func round1(x float64) float64 { return math.Round(x*10) / 10 }

// rectangle is the closed counter-clockwise ring of a metric bound.
func rectangle(b orb.Bound) orb.Polygon {
	return orb.Polygon{orb.Ring{b.Min, {b.Max[0], b.Min[1]}, b.Max, {b.Min[0], b.Max[1]}, b.Min}}
}

// areaIndex indexes polygons by their position in a slice, for point-in-polygon queries.
type areaIndex struct {
	ix *spatial.Index
	n  int64
}

func newAreaIndex(p spatial.Projection) *areaIndex {
	return &areaIndex{ix: spatial.NewIndex("areas", p)}
}

// add indexes a WGS84 polygon as number len-so-far and returns its metric item.
func (a *areaIndex) add(g orb.Geometry) *spatial.Item {
	a.n++
	return a.ix.Insert(&layers.Feature{ID: a.n, Geometry: g})
}

// containing returns the indices of the polygons containing the metric point p, ascending.
func (a *areaIndex) containing(p orb.Point) []int {
	var out []int
	for _, it := range a.ix.Containing(p) {
		out = append(out, int(it.Feature.ID-1))
	}
	return out
}

// smallestContaining returns the index of the smallest polygon containing p, -1 when none.
func (a *areaIndex) smallestContaining(p orb.Point) int {
	best, bestArea := -1, math.Inf(1)
	for _, it := range a.ix.Containing(p) {
		if it.Area < bestArea {
			best, bestArea = int(it.Feature.ID-1), it.Area
		}
	}
	return best
}
