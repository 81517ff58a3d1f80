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

// Contains reports whether the metric polygon or multipolygon g contains point p.
func Contains(g orb.Geometry, p orb.Point) bool {
	switch t := g.(type) {
	case orb.Polygon:
		return planar.PolygonContains(t, p)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(t, p)
	case orb.Bound:
		return t.Contains(p)
	}
	return false
}

// Distance returns the distance in metres from metric point p to metric geometry g: zero
// inside a polygon, the distance to its nearest edge outside.
func Distance(g orb.Geometry, p orb.Point) float64 {
	switch t := g.(type) {
	case orb.Point:
		return math.Hypot(t[0]-p[0], t[1]-p[1])
	case orb.Polygon:
		if planar.PolygonContains(t, p) {
			return 0
		}
		return math.Sqrt(ringsDistSq(t, p))
	case orb.MultiPolygon:
		best := math.Inf(1)
		for _, poly := range t {
			if planar.PolygonContains(poly, p) {
				return 0
			}
			best = math.Min(best, ringsDistSq(poly, p))
		}
		return math.Sqrt(best)
	}
	return planar.DistanceFrom(g, p)
}

func ringsDistSq(poly orb.Polygon, p orb.Point) float64 {
	best := math.Inf(1)
	for _, r := range poly {
		for i := 1; i < len(r); i++ {
			best = math.Min(best, segmentDistSq(r[i-1], r[i], p))
		}
	}
	return best
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
