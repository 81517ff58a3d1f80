package network

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/xy"
)

// Isochrone is the part of the network within a walking distance of one point.
//
// Lines is the authoritative answer: every stretch of network within Limit, whole edges and
// the reachable ends of partly reached edges, plus the source's stub. Hull is only a display
// outline: the convex hull of Lines, which also covers gaps the walker cannot cross (a river
// with no bridge nearby); no buffer or union of the lines is computed.
type Isochrone struct {
	Source Attachment
	Limit  float64             // metres
	Lines  orb.MultiLineString // lon/lat
	Hull   orb.Polygon         // lon/lat; nil when Lines spans no area
	Nodes  []NodeID            // the nodes within Limit, nearest first
	Length float64             // metres of network in Lines, the stub excluded
}

// Isochrone returns what a walker at source reaches within limit metres.
func (g *Graph) Isochrone(source Attachment, limit float64) *Isochrone {
	iso := &Isochrone{Source: source, Limit: limit}
	if source.Stub > limit {
		return iso
	}
	s := g.getScratch()
	d := &Distances{g: g, dist: s.dist, source: s.source}
	d.run([]Attachment{source}, limit, &s.heap)
	iso.Nodes = d.Reached()
	if source.Stub > 0 {
		iso.Lines = append(iso.Lines, orb.LineString{source.Point, source.At})
	}
	add := func(e EdgeID) {
		w, bit := e/64, uint64(1)<<(uint(e)%64)
		if s.seen[w]&bit != 0 {
			return
		}
		s.seen[w] |= bit
		s.edges = append(s.edges, e)
		s.iv = d.reach(e, s.iv[:0])
		for _, piece := range s.iv {
			iso.Length += piece[1] - piece[0]
			iso.Lines = append(iso.Lines, g.lonLatPart(e, piece[0], piece[1]))
		}
	}
	if source.Edge != NoEdge {
		add(source.Edge)
	}
	for _, n := range iso.Nodes {
		g.Edges(n, func(e EdgeID) bool { add(e); return true })
	}
	iso.Hull, s.flat = hull(iso.Lines, s.flat[:0])
	putScratch(s, d) // not deferred: a walk cut short by a panic would leave it dirty
	return iso
}

// reach appends to iv (empty, its capacity reused) the stretches of edge e, in metres along
// it from its From node, within the radius: from each end reached, and around the sources
// attached to it; merged, in order.
func (d *Distances) reach(e EdgeID, iv [][2]float64) [][2]float64 {
	ed := d.g.Edge(e)
	l := ed.Length
	if du := d.dist[ed.From]; d.within(du) {
		iv = append(iv, [2]float64{0, math.Min(l, d.radius-du)})
	}
	if dv := d.dist[ed.To]; d.within(dv) {
		iv = append(iv, [2]float64{math.Max(0, l-(d.radius-dv)), l})
	}
	for _, s := range d.onEdge[e] {
		if r := d.radius - s.stub; r >= 0 {
			iv = append(iv, [2]float64{math.Max(0, s.along-r), math.Min(l, s.along+r)})
		}
	}
	// By start (a handful of stretches: insertion sort, which does not allocate); stretches
	// starting together merge alike in either order.
	for i := 1; i < len(iv); i++ {
		for j := i; j > 0 && iv[j][0] < iv[j-1][0]; j-- {
			iv[j], iv[j-1] = iv[j-1], iv[j]
		}
	}
	out := iv[:0]
	for _, v := range iv {
		if n := len(out); n > 0 && v[0] <= out[n-1][1] {
			out[n-1][1] = math.Max(out[n-1][1], v[1])
			continue
		}
		out = append(out, v)
	}
	// A node reached at exactly the radius leaves a stretch of no length.
	kept := out[:0]
	for _, v := range out {
		if v[1] > v[0] {
			kept = append(kept, v)
		}
	}
	return kept
}

// lonLatPart returns the stretch of edge e from lo to hi metres along it, in lon/lat, with
// the edge's own coordinates at its ends when the stretch reaches them.
func (g *Graph) lonLatPart(e EdgeID, lo, hi float64) orb.LineString {
	ed := g.Edge(e)
	if lo <= 0 && hi >= ed.Length {
		return ed.LonLat()
	}
	part := g.proj.GeometryToWGS84(cut(ed.Line(), lo, hi)).(orb.LineString)
	if lo <= 0 {
		part[0] = g.Node(ed.From).Point
	}
	if hi >= ed.Length {
		part[len(part)-1] = g.Node(ed.To).Point
	}
	return part
}

// hull returns the convex hull of the lines' points, or nil when they span no area. Lon/lat
// and the local metric projection differ by an affine map, which keeps convex hulls. flat is a
// buffer to reuse (emptied); hull returns it grown.
func hull(lines orb.MultiLineString, flat []float64) (orb.Polygon, []float64) {
	for _, l := range lines {
		for _, p := range l {
			flat = append(flat, p[0], p[1])
		}
	}
	if len(flat) < 6 {
		return nil, flat
	}
	poly, ok := xy.ConvexHullFlat(geom.XY, hullCandidates(flat)).(*geom.Polygon)
	if !ok || poly.NumLinearRings() == 0 {
		return nil, flat
	}
	ring := poly.LinearRing(0)
	out := make(orb.Ring, ring.NumCoords())
	for i := range out {
		c := ring.Coord(i)
		out[i] = orb.Point{c[0], c[1]}
	}
	return orb.Polygon{out}, flat
}

// hullCandidates drops from flat, in place and keeping the order, the points that
// xy.ConvexHullFlat would drop itself before its scan, so that it gives the same hull without
// first putting every point in a sorted tree (which it does and then discards). Over 50
// points, it keeps only the extreme points of 8 directions (the "octagon": least x, x - y, ...)
// and the points outside the octagon's ring, the reduction it makes; it reduces the points
// kept again and finds the same octagon, hence the same points in the same sorted order. What
// it keeps is padded with copies of a point kept to over 50 points, so that it takes that same
// path. The octagon is found as it finds it: the first point of each extreme, in order.
func hullCandidates(flat []float64) []float64 {
	const reduceOver = 50 // points: xy.ConvexHullFlat reduces only above this
	if len(flat)/2 <= reduceOver {
		return flat
	}
	var oct [16]float64
	for j := 0; j < 16; j += 2 {
		oct[j], oct[j+1] = flat[0], flat[1]
	}
	for i := 2; i < len(flat); i += 2 {
		x, y := flat[i], flat[i+1]
		if x < oct[0] {
			oct[0], oct[1] = x, y
		}
		if x-y < oct[2]-oct[3] {
			oct[2], oct[3] = x, y
		}
		if y > oct[5] {
			oct[4], oct[5] = x, y
		}
		if x+y > oct[6]+oct[7] {
			oct[6], oct[7] = x, y
		}
		if x > oct[8] {
			oct[8], oct[9] = x, y
		}
		if x-y > oct[10]-oct[11] {
			oct[10], oct[11] = x, y
		}
		if y < oct[13] {
			oct[12], oct[13] = x, y
		}
		if x+y < oct[14]+oct[15] {
			oct[14], oct[15] = x, y
		}
	}
	var rb [16]float64
	ring := append(rb[:0], oct[0], oct[1])
	for j := 2; j < 16; j += 2 {
		if oct[j] != oct[j-2] || oct[j+1] != oct[j-1] {
			ring = append(ring, oct[j], oct[j+1])
		}
	}
	if len(ring) < 6 {
		return flat // no octagon: it takes every point
	}
	isOct := func(x, y float64) bool {
		for j := 0; j < 16; j += 2 {
			if x == oct[j] && y == oct[j+1] {
				return true
			}
		}
		return false
	}
	out := flat[:0]
	for i := 0; i < len(flat); i += 2 {
		x, y := flat[i], flat[i+1]
		if isOct(x, y) || !xy.IsPointInRing(geom.XY, geom.Coord(flat[i:i+2]), ring) {
			out = append(out, x, y)
		}
	}
	for len(out)/2 <= reduceOver {
		out = append(out, out[0], out[1])
	}
	return out
}

// FeatureCollection returns the isochrone as GeoJSON: a "reach" feature with Lines and, when
// there is one, a "hull" feature with Hull; both carry the limit and source in properties.
func (iso *Isochrone) FeatureCollection() *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	props := func(kind string) geojson.Properties {
		return geojson.Properties{
			"kind": kind, "limit_m": iso.Limit, "length_m": iso.Length, "nodes": len(iso.Nodes),
			"source": []float64{iso.Source.Point[0], iso.Source.Point[1]},
		}
	}
	reach := geojson.NewFeature(iso.Lines)
	reach.Properties = props("reach")
	fc.Append(reach)
	if iso.Hull != nil {
		h := geojson.NewFeature(iso.Hull)
		h.Properties = props("hull")
		fc.Append(h)
	}
	return fc
}
