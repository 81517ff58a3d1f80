package data

import (
	"fmt"
	"math"
	"sort"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/spatial"
)

// Parcel rules (docs/import-rules.md, "Parcels").
const (
	parcelReachM = 15.0 // a parcel reaches at most this far beyond its building's bounding box
	streetCellM  = 50.0 // bucket size of the street index
)

// streetDivides lists the highway=* values whose ways divide the land into blocks: roads
// and pedestrian streets; service roads, footways and paths often run inside a plot.
var streetDivides = map[string]bool{
	"motorway": true, "trunk": true, "primary": true, "secondary": true, "tertiary": true,
	"motorway_link": true, "trunk_link": true, "primary_link": true, "secondary_link": true,
	"tertiary_link": true, "residential": true, "unclassified": true, "living_street": true,
	"pedestrian": true,
}

// halfPlane is the set of points p with n·p <= c.
type halfPlane struct {
	n orb.Point
	c float64
}

func (h halfPlane) flip() halfPlane { return halfPlane{orb.Point{-h.n[0], -h.n[1]}, -h.c} }

func dot(a, b orb.Point) float64 { return a[0]*b[0] + a[1]*b[1] }

// deriveParcels gives every building a modelled parcel of its own. The parcels part the land
// and never overlap: a building's parcel is its bounding box grown by parcelReachM, cut by a
// line between it and every neighbour whose box meets it (the line in the middle of the gap
// between their convex hulls, so each footprint stays whole on its own parcel; the
// perpendicular bisector of their centroids when the hulls interlock), and by the streets
// that run past it. Numbered 1, 2… in building id order.
func (c *city) deriveParcels() {
	hulls := make([][]orb.Point, len(c.buildings))
	index := newAreaIndex(c.proj)
	for i, b := range c.buildings {
		hulls[i] = convexHull(outerPoints(b.metric))
		index.add(b.geom)
	}
	streets := c.streetSegments()
	for i, b := range c.buildings {
		region := grow(b.bound, parcelReachM)
		poly := openRing(rectangle(region)[0])
		var near []int
		index.ix.Search(grow(b.bound, 2*parcelReachM), func(it *spatial.Item) bool {
			if j := int(it.Feature.ID - 1); j != i {
				near = append(near, j)
			}
			return true
		})
		sort.Ints(near)
		for _, j := range near {
			// The line is computed once for the pair, lower index first, so both buildings
			// are cut by exactly the same line and their parcels cannot overlap.
			var h halfPlane
			if i < j {
				h = separate(hulls[i], hulls[j], b.centroid, c.buildings[j].centroid)
			} else {
				h = separate(hulls[j], hulls[i], c.buildings[j].centroid, b.centroid).flip()
			}
			poly = clipConvex(poly, h)
		}
		for _, h := range streets.facing(region, hulls[i], b.centroid) {
			poly = clipConvex(poly, h)
		}
		c.emitParcel(b, poly)
	}
}

// emitParcel writes a building's parcel from its metric convex polygon (open ring).
func (c *city) emitParcel(b *building, poly []orb.Point) {
	ring := append(orb.Ring(append([]orb.Point(nil), poly...)), poly[0])
	b.parcelArea = spatial.Area(orb.Polygon{ring})
	g := c.wgs84(orb.Polygon{ring}).(orb.Polygon)
	g[0] = dedupeRing(g[0])
	if len(g[0]) < 4 {
		// Nothing left of the box (a building inside another): its footprint's box.
		g = c.wgs84(rectangle(b.bound)).(orb.Polygon)
		b.parcelArea = (b.bound.Max[0] - b.bound.Min[0]) * (b.bound.Max[1] - b.bound.Min[1])
	}
	props := map[string]any{
		"cad_number": b.cadNumber,
		"area_m2":    round1(b.parcelArea),
		"land_use":   parcelLandUse(b),
		"intravilan": true,
		"ownership":  ownership(b),
		"derived":    true,
	}
	if a := address(b.e.tags); a != "" {
		props["address"] = a
	}
	restricted := map[string]any{
		"owner_name": fmt.Sprintf("Owner %d", 1+int64(hash01("owner", b.parcelID)*99999)),
		"land_book":  fmt.Sprintf("LB-%06d", b.parcelID),
	}
	c.emit("parcels", b.parcelID, g, props, restricted)
}

// dedupeRing drops positions equal to the one before (rounding to 1e-7 degrees may merge
// close corners) and keeps the ring closed.
func dedupeRing(r orb.Ring) orb.Ring {
	out := orb.Ring{}
	for _, p := range r {
		if len(out) == 0 || p != out[len(out)-1] {
			out = append(out, p)
		}
	}
	if len(out) > 1 && out[0] != out[len(out)-1] {
		out = append(out, out[0])
	}
	return out
}

func grow(b orb.Bound, m float64) orb.Bound {
	return orb.Bound{Min: orb.Point{b.Min[0] - m, b.Min[1] - m}, Max: orb.Point{b.Max[0] + m, b.Max[1] + m}}
}

// openRing is a closed ring without its repeated last position.
func openRing(r orb.Ring) []orb.Point {
	if len(r) > 1 && r[0] == r[len(r)-1] {
		return append([]orb.Point(nil), r[:len(r)-1]...)
	}
	return append([]orb.Point(nil), r...)
}

// outerPoints are the positions of a polygon's (or multipolygon's) outer rings.
func outerPoints(g orb.Geometry) []orb.Point {
	var out []orb.Point
	switch t := g.(type) {
	case orb.Polygon:
		out = append(out, t[0]...)
	case orb.MultiPolygon:
		for _, p := range t {
			out = append(out, p[0]...)
		}
	}
	return out
}

// convexHull is the counter-clockwise convex hull of the points (Andrew's monotone chain),
// as an open ring.
func convexHull(pts []orb.Point) []orb.Point {
	ps := append([]orb.Point(nil), pts...)
	sort.Slice(ps, func(i, j int) bool {
		if ps[i][0] != ps[j][0] {
			return ps[i][0] < ps[j][0]
		}
		return ps[i][1] < ps[j][1]
	})
	if len(ps) < 3 {
		return ps
	}
	cross := func(o, a, b orb.Point) float64 { return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0]) }
	hull := make([]orb.Point, 0, 2*len(ps))
	for _, p := range ps { // lower chain
		for len(hull) >= 2 && cross(hull[len(hull)-2], hull[len(hull)-1], p) <= 0 {
			hull = hull[:len(hull)-1]
		}
		hull = append(hull, p)
	}
	for i, t := len(ps)-2, len(hull)+1; i >= 0; i-- { // upper chain
		for len(hull) >= t && cross(hull[len(hull)-2], hull[len(hull)-1], ps[i]) <= 0 {
			hull = hull[:len(hull)-1]
		}
		hull = append(hull, ps[i])
	}
	return hull[:len(hull)-1]
}

// separate returns the line between two buildings, a's side first (n·p <= c), given their
// convex hulls and centroids. Of the axes normal to the edges of the two hulls, it takes the
// one along which they lie farthest apart and puts the line in the middle of that gap; two
// hulls that do not overlap always have such an axis (the separating axis theorem), and then
// each footprint stays whole on its side. Hulls that overlap (a building in the L or U of
// another) are parted along the axis, the line between the centroids among them, where they
// overlap least, in the middle of that overlap but never past a centroid, so each centroid
// stays on its own side.
func separate(a, b []orb.Point, ca, cb orb.Point) halfPlane {
	best, bestGap := halfPlane{}, math.Inf(-1)
	consider := func(n orb.Point) {
		for _, n := range []orb.Point{n, {-n[0], -n[1]}} {
			ka, kb := dot(n, ca), dot(n, cb)
			if ka >= kb {
				continue // a's centroid must lie below b's along n
			}
			_, maxA := project(a, n)
			minB, _ := project(b, n)
			if g := minB - maxA; g > bestGap {
				c := (maxA + minB) / 2
				if g < 0 { // overlapping: keep the line strictly between the centroids
					m := (kb - ka) / 4
					c = math.Min(math.Max(c, ka+m), kb-m)
				}
				best, bestGap = halfPlane{n, c}, g
			}
		}
	}
	for _, hull := range [][]orb.Point{a, b} {
		for k := range hull {
			p, q := hull[k], hull[(k+1)%len(hull)]
			if l := math.Hypot(q[0]-p[0], q[1]-p[1]); l > 0 {
				consider(orb.Point{(q[1] - p[1]) / l, -(q[0] - p[0]) / l})
			}
		}
	}
	if l := math.Hypot(cb[0]-ca[0], cb[1]-ca[1]); l > 0 {
		consider(orb.Point{(cb[0] - ca[0]) / l, (cb[1] - ca[1]) / l})
	}
	if math.IsInf(bestGap, -1) {
		return halfPlane{orb.Point{1, 0}, ca[0]} // the same centroid: split along x
	}
	return best
}

func project(pts []orb.Point, n orb.Point) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		v := dot(n, p)
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

// clipConvex keeps the part of a convex polygon (open ring) on the half-plane's side
// (Sutherland–Hodgman against one edge); the result is convex too, possibly empty.
func clipConvex(poly []orb.Point, h halfPlane) []orb.Point {
	var out []orb.Point
	for k := range poly {
		p, q := poly[k], poly[(k+1)%len(poly)]
		dp, dq := dot(h.n, p)-h.c, dot(h.n, q)-h.c
		if dp <= 0 {
			out = append(out, p)
		}
		if (dp < 0 && dq > 0) || (dp > 0 && dq < 0) {
			t := dp / (dp - dq)
			out = append(out, orb.Point{p[0] + t*(q[0]-p[0]), p[1] + t*(q[1]-p[1])})
		}
	}
	return out
}

// streetIndex holds the segments of the streets that divide blocks, bucketed by a coarse grid.
type streetIndex struct {
	cells map[[2]int][][2]orb.Point
}

func (c *city) streetSegments() *streetIndex {
	s := &streetIndex{cells: map[[2]int][][2]orb.Point{}}
	for _, e := range c.elems {
		if !streetDivides[e.tags.Find("highway")] || e.line == nil || inTunnel(e.tags) {
			continue
		}
		line := c.metric(e.line).(orb.LineString)
		for k := 0; k+1 < len(line); k++ {
			seg := [2]orb.Point{line[k], line[k+1]}
			b := orb.Bound{Min: seg[0], Max: seg[0]}.Extend(seg[1])
			for _, key := range bucketKeys(b) {
				s.cells[key] = append(s.cells[key], seg)
			}
		}
	}
	return s
}

func bucketKeys(b orb.Bound) [][2]int {
	var out [][2]int
	for i := int(math.Floor(b.Min[0] / streetCellM)); i <= int(math.Floor(b.Max[0]/streetCellM)); i++ {
		for j := int(math.Floor(b.Min[1] / streetCellM)); j <= int(math.Floor(b.Max[1]/streetCellM)); j++ {
			out = append(out, [2]int{i, j})
		}
	}
	return out
}

// facing returns, for every street segment in the region that runs past the building (the
// foot of the perpendicular from its centroid falls on the segment) with the whole hull on
// one side, the half-plane on the building's side of the segment's line: the parcel ends
// at the street. A street passing through a building (an arcade) cuts nothing.
func (s *streetIndex) facing(region orb.Bound, hull []orb.Point, centroid orb.Point) []halfPlane {
	seen := map[[2]orb.Point]bool{}
	var out []halfPlane
	for _, key := range bucketKeys(region) {
		for _, seg := range s.cells[key] {
			if seen[seg] {
				continue
			}
			seen[seg] = true
			a, b := seg[0], seg[1]
			d := orb.Point{b[0] - a[0], b[1] - a[1]}
			l2 := dot(d, d)
			if l2 == 0 {
				continue
			}
			if t := dot(orb.Point{centroid[0] - a[0], centroid[1] - a[1]}, d) / l2; t < 0 || t > 1 {
				continue
			}
			l := math.Sqrt(l2)
			n := orb.Point{d[1] / l, -d[0] / l}
			lo, hi := project(hull, n)
			switch c := dot(n, a); {
			case hi <= c:
				out = append(out, halfPlane{n, c})
			case lo >= c:
				out = append(out, halfPlane{n, c}.flip())
			}
		}
	}
	return out
}
