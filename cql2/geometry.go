package cql2

import (
	"fmt"
	"math"

	"github.com/citytwin/citytwin/spatial"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// checkGeometry returns what makes g unusable as a filter geometry (PostGIS would reject
// it, or it has no point), or "".
func checkGeometry(g orb.Geometry) string {
	switch g := g.(type) {
	case orb.Point:
		return checkPoints(g)
	case orb.MultiPoint:
		if len(g) == 0 {
			return "empty MULTIPOINT"
		}
		return checkPoints(g...)
	case orb.LineString:
		if len(g) < 2 {
			return fmt.Sprintf("a line needs at least 2 positions, found %d", len(g))
		}
		return checkPoints(g...)
	case orb.MultiLineString:
		if len(g) == 0 {
			return "empty MULTILINESTRING"
		}
		for _, l := range g {
			if msg := checkGeometry(l); msg != "" {
				return msg
			}
		}
	case orb.Polygon:
		if len(g) == 0 {
			return "a polygon needs at least one ring"
		}
		for _, r := range g {
			if len(r) < 4 {
				return fmt.Sprintf("a polygon ring needs at least 4 positions, found %d", len(r))
			}
			if !r.Closed() {
				return "a polygon ring must end where it starts"
			}
			if msg := checkPoints(r...); msg != "" {
				return msg
			}
		}
	case orb.MultiPolygon:
		if len(g) == 0 {
			return "empty MULTIPOLYGON"
		}
		for _, p := range g {
			if msg := checkGeometry(p); msg != "" {
				return msg
			}
		}
	case orb.Collection:
		if len(g) == 0 {
			return "empty GEOMETRYCOLLECTION"
		}
		for _, m := range g {
			if msg := checkGeometry(m); msg != "" {
				return msg
			}
		}
	case orb.Bound:
		return checkPoints(g.Min, g.Max)
	case nil:
		return "no geometry"
	default:
		return fmt.Sprintf("unsupported geometry %T", g)
	}
	return ""
}

func checkPoints(ps ...orb.Point) string {
	for _, p := range ps {
		for _, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return "coordinates must be finite numbers"
			}
		}
	}
	return ""
}

// shape is a geometry taken apart for intersection tests: its vertices, its segments
// (polygon rings included) and its polygons.
type shape struct {
	vertices []orb.Point
	segments [][2]orb.Point
	polygons []orb.Polygon
}

func (s *shape) add(g orb.Geometry) {
	switch g := g.(type) {
	case orb.Point:
		s.vertices = append(s.vertices, g)
	case orb.MultiPoint:
		s.vertices = append(s.vertices, g...)
	case orb.LineString:
		s.line(g)
	case orb.MultiLineString:
		for _, l := range g {
			s.line(l)
		}
	case orb.Ring:
		s.line(orb.LineString(g))
	case orb.Polygon:
		if len(g) == 0 {
			return
		}
		s.polygons = append(s.polygons, g)
		for _, r := range g {
			s.line(orb.LineString(r))
		}
	case orb.MultiPolygon:
		for _, p := range g {
			s.add(p)
		}
	case orb.Collection:
		for _, m := range g {
			s.add(m)
		}
	case orb.Bound:
		s.add(g.ToPolygon())
	}
}

func (s *shape) line(l orb.LineString) {
	s.vertices = append(s.vertices, l...)
	for i := 1; i < len(l); i++ {
		s.segments = append(s.segments, [2]orb.Point{l[i-1], l[i]})
	}
}

// covers reports whether point p lies on or inside the shape.
func (s *shape) covers(p orb.Point) bool {
	for _, v := range s.vertices {
		if v == p {
			return true
		}
	}
	for _, sg := range s.segments {
		if spatial.Orient(sg[0], sg[1], p) == 0 && spatial.OnSegment(sg[0], sg[1], p) {
			return true
		}
	}
	// Boundaries were tested above, so planar's handling of points on a hole's ring does
	// not matter here.
	for _, pg := range s.polygons {
		if planar.PolygonContains(pg, p) {
			return true
		}
	}
	return false
}

// intersects reports whether two geometries share at least one point, boundaries included
// (the planar S_INTERSECTS of PostGIS's ST_Intersects on EPSG:4326 geometries). Two
// geometries meet if and only if a vertex of one lies on or in the other, or a segment of
// one meets a segment of the other: when no segments meet and no vertex is inside, the
// shapes are apart (a shape in a hole of a polygon has its vertices in the hole).
func intersects(a, b orb.Geometry) bool {
	if a == nil || b == nil || !a.Bound().Intersects(b.Bound()) {
		return false
	}
	var sa, sb shape
	sa.add(a)
	sb.add(b)
	for _, v := range sa.vertices {
		if sb.covers(v) {
			return true
		}
	}
	for _, v := range sb.vertices {
		if sa.covers(v) {
			return true
		}
	}
	for _, x := range sa.segments {
		for _, y := range sb.segments {
			if spatial.SegmentsIntersect(x[0], x[1], y[0], y[1]) {
				return true
			}
		}
	}
	return false
}
