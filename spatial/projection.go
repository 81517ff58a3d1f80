// Package spatial owns the in-memory city model: every layer held in an R-tree
// (tidwall/rtree) in a local metric projection, with the queries the rest of CityTwin needs —
// features in a bounding box, nearest-k, all within a distance, point-in-polygon — and the
// projections between WGS84, Web Mercator and local metres.
package spatial

import (
	"math"

	"github.com/paulmach/orb"
)

// The constants of the projections, in one place for every package that projects.
const (
	// EarthRadius is the mean Earth radius in metres (IUGG), the sphere of the local
	// projection.
	EarthRadius = 6371008.8
	// MetresPerDegree is the length of one degree of latitude on that sphere (about
	// 111,195 m); a degree of longitude is this times cos(latitude).
	MetresPerDegree = EarthRadius * math.Pi / 180
	// MercatorRadius is the WGS84 semi-major axis, the sphere of Web Mercator (EPSG:3857).
	MercatorRadius = 6378137.0
	// MercatorHalf is half the width of the Web Mercator world, π·MercatorRadius
	// (20037508.342789244 m): x and y run from −MercatorHalf to +MercatorHalf.
	MercatorHalf = math.Pi * MercatorRadius
	// MaxLatitude is the latitude at which Web Mercator's y reaches MercatorHalf, so that the
	// world is a square: atan(sinh(π)) in degrees. Web Mercator clamps latitudes to ±MaxLatitude.
	MaxLatitude = 85.0511287798066
)

// Projection is a local equirectangular projection centred on a city: x and y are metres east
// and north of the origin. Within a few tens of kilometres of the origin, distances and areas
// are true to better than 0.5 %, unlike raw Web Mercator units, which are stretched by
// 1/cos(latitude).
type Projection struct {
	Origin orb.Point // lon, lat
	kx, ky float64   // metres per degree
}

// NewProjection returns the local projection centred on origin (lon, lat).
func NewProjection(origin orb.Point) Projection {
	return Projection{Origin: origin, kx: MetresPerDegree * math.Cos(origin[1]*math.Pi/180), ky: MetresPerDegree}
}

// ToMetric projects a WGS84 point to local metres.
func (p Projection) ToMetric(q orb.Point) orb.Point {
	return orb.Point{(q[0] - p.Origin[0]) * p.kx, (q[1] - p.Origin[1]) * p.ky}
}

// ToWGS84 is the inverse of ToMetric.
func (p Projection) ToWGS84(q orb.Point) orb.Point {
	return orb.Point{q[0]/p.kx + p.Origin[0], q[1]/p.ky + p.Origin[1]}
}

// Geometry projects a WGS84 geometry to local metres (a new geometry).
func (p Projection) Geometry(g orb.Geometry) orb.Geometry { return mapPoints(g, p.ToMetric) }

// GeometryToWGS84 is the inverse of Geometry.
func (p Projection) GeometryToWGS84(g orb.Geometry) orb.Geometry { return mapPoints(g, p.ToWGS84) }

// Bound projects a WGS84 bound to local metres. The projection is monotonic on each axis, so
// the corners map to the corners.
func (p Projection) Bound(b orb.Bound) orb.Bound {
	return orb.Bound{Min: p.ToMetric(b.Min), Max: p.ToMetric(b.Max)}
}

// MetresToDegrees converts a distance to degrees of latitude and longitude at the origin.
func (p Projection) MetresToDegrees(m float64) (dlon, dlat float64) { return m / p.kx, m / p.ky }

func mapPoints(g orb.Geometry, f func(orb.Point) orb.Point) orb.Geometry {
	ring := func(r orb.Ring) orb.Ring {
		out := make(orb.Ring, len(r))
		for i, q := range r {
			out[i] = f(q)
		}
		return out
	}
	poly := func(p orb.Polygon) orb.Polygon {
		out := make(orb.Polygon, len(p))
		for i, r := range p {
			out[i] = ring(r)
		}
		return out
	}
	switch t := g.(type) {
	case orb.Point:
		return f(t)
	case orb.MultiPoint:
		out := make(orb.MultiPoint, len(t))
		for i, q := range t {
			out[i] = f(q)
		}
		return out
	case orb.LineString:
		return orb.LineString(ring(orb.Ring(t)))
	case orb.MultiLineString:
		out := make(orb.MultiLineString, len(t))
		for i, l := range t {
			out[i] = orb.LineString(ring(orb.Ring(l)))
		}
		return out
	case orb.Ring:
		return ring(t)
	case orb.Polygon:
		return poly(t)
	case orb.MultiPolygon:
		out := make(orb.MultiPolygon, len(t))
		for i, p := range t {
			out[i] = poly(p)
		}
		return out
	case orb.Bound:
		return orb.Bound{Min: f(t.Min), Max: f(t.Max)}
	}
	return g
}

// Mercator converts WGS84 to Web Mercator (EPSG:3857) metres.
func Mercator(q orb.Point) orb.Point {
	const r = MercatorRadius
	lat := math.Max(math.Min(q[1], MaxLatitude), -MaxLatitude)
	return orb.Point{r * q[0] * math.Pi / 180, r * math.Log(math.Tan(math.Pi/4+lat*math.Pi/360))}
}
