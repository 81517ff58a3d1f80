package spatial

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// Area returns the area of a metric geometry in square metres (holes subtracted).
func Area(g orb.Geometry) float64 { return math.Abs(planar.Area(g)) }

// Centroid returns the area-weighted centroid of a metric geometry (the point itself for a point).
func Centroid(g orb.Geometry) orb.Point {
	switch t := g.(type) {
	case orb.Point:
		return t
	case orb.Polygon, orb.MultiPolygon:
		c, a := planar.CentroidArea(g)
		if a != 0 {
			return c
		}
	}
	return g.Bound().Center()
}

// RingArea2 is twice the signed area of a closed ring (the surveyor's formula): positive when
// the ring turns counter-clockwise with y up (clockwise on a screen, y down), zero for a ring
// without area.
func RingArea2(r orb.Ring) float64 {
	var s float64
	for i := 0; i+1 < len(r); i++ {
		s += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return s
}

// Contains reports whether the metric polygon or multipolygon g contains point p, by the
// edge rule of RingContains.
func Contains(g orb.Geometry, p orb.Point) bool {
	switch t := g.(type) {
	case orb.Polygon:
		return PolygonContains(t, p)
	case orb.MultiPolygon:
		for _, poly := range t {
			if PolygonContains(poly, p) {
				return true
			}
		}
		return false
	case orb.Bound:
		return t.Contains(p)
	}
	return false
}

// PolygonContains reports whether p is in the outer ring of poly and in none of its holes.
func PolygonContains(poly orb.Polygon, p orb.Point) bool {
	if len(poly) == 0 || !RingContains(poly[0], p) {
		return false
	}
	for _, hole := range poly[1:] {
		if RingContains(hole, p) {
			return false
		}
	}
	return true
}

// RingContains reports whether p is inside ring r (closed or not) by the even-odd rule: the
// number of edges crossing the ray from p eastwards is odd. A point on an edge shared by two
// rings is in exactly one of them (crossesRay), so no building falls in two districts.
func RingContains(r orb.Ring, p orb.Point) bool {
	in := false
	// From the last point to the first too, in case the ring is not closed.
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		if crossesRay(r[j], r[i], p) {
			in = !in
		}
	}
	return in
}

// crossesRay is the one edge rule of the point-in-polygon tests: whether edge a–b crosses the
// ray from p eastwards. An edge counts its lower end and not its upper one, so a ray through a
// vertex crosses once, and a horizontal edge never counts. The crossing is computed from the
// lower end whichever way the edge runs: two rings sharing an edge traverse it in opposite
// directions, and must get the same x for a point on it to put it in only one of them.
func crossesRay(a, b, p orb.Point) bool {
	if (a[1] > p[1]) == (b[1] > p[1]) {
		return false
	}
	if a[1] > b[1] {
		a, b = b, a
	}
	return p[0] < (b[0]-a[0])*(p[1]-a[1])/(b[1]-a[1])+a[0]
}

// Distance returns the distance in metres from metric point p to metric geometry g: zero
// inside a polygon (or on its boundary), the distance to its nearest edge outside. It is the
// engine's innermost step, so a polygon is walked once for both the inside test and the
// nearest edge.
func Distance(g orb.Geometry, p orb.Point) float64 {
	switch t := g.(type) {
	case orb.Point:
		dx, dy := t[0]-p[0], t[1]-p[1]
		return math.Sqrt(dx*dx + dy*dy)
	case orb.Polygon:
		d, inside := polygonDistSq(t, p)
		if inside {
			return 0
		}
		return math.Sqrt(d)
	case orb.MultiPolygon:
		best := math.Inf(1)
		for _, poly := range t {
			d, inside := polygonDistSq(poly, p)
			if inside {
				return 0
			}
			best = math.Min(best, d)
		}
		return math.Sqrt(best)
	}
	return planar.DistanceFrom(g, p)
}

// polygonDistSq returns the squared distance from p to the nearest edge of poly and whether
// p is inside it (in the outer ring and in no hole, by RingContains's edge rule), walking each
// edge once for both. A point on an edge comes out at distance 0 either way.
func polygonDistSq(poly orb.Polygon, p orb.Point) (float64, bool) {
	best, inside := math.Inf(1), false
	for k, r := range poly {
		in := false
		// From the last point to the first too, in case the ring is not closed.
		for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
			a, b := r[j], r[i]
			best = math.Min(best, segmentDistSq(a, b, p))
			if crossesRay(a, b, p) {
				in = !in
			}
		}
		switch {
		case k == 0:
			inside = in
		case in:
			inside = false
		}
	}
	return best, inside
}

func segmentDistSq(a, b, p orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l))
	}
	ex, ey := a[0]+t*dx-p[0], a[1]+t*dy-p[1]
	return ex*ex + ey*ey
}
