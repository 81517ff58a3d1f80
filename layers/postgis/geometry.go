package postgis

import (
	"encoding/binary"
	"fmt"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/ewkb"
)

// srid is the SRID of every geometry column: the data's native WGS84 longitude/latitude.
const srid = 4326

// encodeEWKB returns g as little-endian EWKB with SRID 4326, the form binary COPY hands to
// PostGIS's geometry_recv.
func encodeEWKB(g orb.Geometry) ([]byte, error) {
	t, err := toGeom(g)
	if err != nil {
		return nil, err
	}
	return ewkb.Marshal(t, binary.LittleEndian)
}

// decodeEWKB parses (E)WKB as PostGIS sends it into an orb geometry.
func decodeEWKB(b []byte) (orb.Geometry, error) {
	t, err := ewkb.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	return fromGeom(t)
}

// toGeom converts an orb point, line, multiline, polygon or multipolygon to go-geom, copying the coordinates
// into go-geom's flat layout.
func toGeom(g orb.Geometry) (geom.T, error) {
	switch t := g.(type) {
	case orb.Point:
		p, err := geom.NewPoint(geom.XY).SetCoords(geom.Coord{t[0], t[1]})
		if err != nil {
			return nil, err
		}
		return p.SetSRID(srid), nil
	case orb.LineString:
		flat := make([]float64, 0, 2*len(t))
		for _, q := range t {
			flat = append(flat, q[0], q[1])
		}
		return geom.NewLineStringFlat(geom.XY, flat).SetSRID(srid), nil
	case orb.MultiLineString:
		var flat []float64
		ends := make([]int, len(t))
		for i, ls := range t {
			for _, q := range ls {
				flat = append(flat, q[0], q[1])
			}
			ends[i] = len(flat)
		}
		return geom.NewMultiLineStringFlat(geom.XY, flat, ends).SetSRID(srid), nil
	case orb.Polygon:
		flat, ends := flattenPolygon(nil, nil, t)
		return geom.NewPolygonFlat(geom.XY, flat, ends).SetSRID(srid), nil
	case orb.MultiPolygon:
		n := 0
		for _, p := range t {
			for _, r := range p {
				n += 2 * len(r)
			}
		}
		flat := make([]float64, 0, n)
		endss := make([][]int, len(t))
		for i, p := range t {
			flat, endss[i] = flattenPolygon(flat, nil, p)
		}
		return geom.NewMultiPolygonFlat(geom.XY, flat, endss).SetSRID(srid), nil
	case nil:
		return nil, fmt.Errorf("missing geometry")
	}
	return nil, fmt.Errorf("geometry type %s is not stored (want Point, LineString, MultiLineString, Polygon or MultiPolygon)", g.GeoJSONType())
}

func flattenPolygon(flat []float64, ends []int, p orb.Polygon) ([]float64, []int) {
	if flat == nil {
		n := 0
		for _, r := range p {
			n += 2 * len(r)
		}
		flat = make([]float64, 0, n)
	}
	for _, r := range p {
		for _, q := range r {
			flat = append(flat, q[0], q[1])
		}
		ends = append(ends, len(flat))
	}
	return flat, ends
}

// fromGeom converts a go-geom point, line, multiline, polygon or multipolygon to orb.
func fromGeom(t geom.T) (orb.Geometry, error) {
	if t.Layout() != geom.XY {
		return nil, fmt.Errorf("geometry layout %v: want 2D (XY)", t.Layout())
	}
	switch g := t.(type) {
	case *geom.Point:
		c := g.FlatCoords()
		if len(c) < 2 {
			return nil, fmt.Errorf("empty point")
		}
		return orb.Point{c[0], c[1]}, nil
	case *geom.LineString:
		return lineFromFlat(g.FlatCoords()), nil
	case *geom.MultiLineString:
		flat := g.FlatCoords()
		out := make(orb.MultiLineString, len(g.Ends()))
		start := 0
		for i, end := range g.Ends() {
			out[i] = lineFromFlat(flat[start:end])
			start = end
		}
		return out, nil
	case *geom.Polygon:
		return polygonFromFlat(g.FlatCoords(), 0, g.Ends()), nil
	case *geom.MultiPolygon:
		flat := g.FlatCoords()
		endss := g.Endss()
		out := make(orb.MultiPolygon, len(endss))
		start := 0
		for i, ends := range endss {
			out[i] = polygonFromFlat(flat, start, ends)
			if len(ends) > 0 {
				start = ends[len(ends)-1]
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("geometry type %T is not a layer geometry", t)
}

// lineFromFlat builds a line of the points of flat (x, y, x, y...).
func lineFromFlat(flat []float64) orb.LineString {
	ls := make(orb.LineString, 0, len(flat)/2)
	for j := 0; j+1 < len(flat); j += 2 {
		ls = append(ls, orb.Point{flat[j], flat[j+1]})
	}
	return ls
}

// polygonFromFlat builds the rings ending at ends (offsets into flat), the first starting at
// start. All rings share one backing array.
func polygonFromFlat(flat []float64, start int, ends []int) orb.Polygon {
	pts := make([]orb.Point, 0, (lastEnd(ends, start)-start)/2)
	p := make(orb.Polygon, len(ends))
	for i, end := range ends {
		first := len(pts)
		for j := start; j < end; j += 2 {
			pts = append(pts, orb.Point{flat[j], flat[j+1]})
		}
		p[i] = orb.Ring(pts[first:len(pts):len(pts)])
		start = end
	}
	return p
}

func lastEnd(ends []int, start int) int {
	if len(ends) == 0 {
		return start
	}
	return ends[len(ends)-1]
}
