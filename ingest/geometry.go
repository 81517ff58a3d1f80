package ingest

import (
	"fmt"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/citytwin/citytwin/layers"
)

// Repair rules, as the report names them.
const (
	RepairSinglePoint    = "single-point MultiPoint taken as a Point"
	RepairRepeated       = "repeated consecutive positions removed"
	RepairClosed         = "ring closed by repeating its first position"
	RepairDegenerateHole = "hole of fewer than 3 distinct positions or no area dropped"
	RepairDegeneratePart = "part of a MultiPolygon with no area dropped"
)

// layerGeometry takes the geometry a layer can hold from a record's: a MultiPoint of one
// point becomes a Point; anything else of the wrong type is an error.
func layerGeometry(g orb.Geometry, l *layers.Layer, note func(string)) (orb.Geometry, error) {
	if g == nil {
		return nil, fmt.Errorf("geometry: missing")
	}
	switch t := g.(type) {
	case orb.Point:
		if l.Geometry == layers.Point {
			return t, nil
		}
	case orb.MultiPoint:
		if l.Geometry == layers.Point && len(t) == 1 {
			note(RepairSinglePoint)
			return t[0], nil
		}
	case orb.LineString, orb.MultiLineString:
		if l.Geometry == layers.LineString {
			return t, nil
		}
	case orb.Polygon, orb.MultiPolygon:
		if l.Geometry == layers.Polygon {
			return t, nil
		}
	}
	return nil, fmt.Errorf("geometry: layer %s holds %ss, got a %s", l.Name, l.Geometry, g.GeoJSONType())
}

// repair applies the repair rules to a reprojected polygon and orients its rings as
// GeoJSON does (outer counter-clockwise, holes clockwise). What cannot be repaired is an
// error: an outer ring of fewer than three distinct positions or without area.
func repair(g orb.Geometry, note func(string)) (orb.Geometry, error) {
	switch t := g.(type) {
	case orb.Polygon:
		p, err := repairPolygon(t, note)
		if err != nil {
			return g, err
		}
		return p, nil
	case orb.MultiPolygon:
		var out orb.MultiPolygon
		var firstErr error
		for i, p := range t {
			q, err := repairPolygon(p, note)
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("polygon %d: %w", i, err)
				}
				continue
			}
			out = append(out, q)
		}
		if len(out) == 0 {
			return g, firstErr
		}
		if len(out) < len(t) {
			note(RepairDegeneratePart)
		}
		return out, nil
	}
	return g, nil
}

func repairPolygon(p orb.Polygon, note func(string)) (orb.Polygon, error) {
	if len(p) == 0 {
		return nil, fmt.Errorf("geometry: polygon has no ring")
	}
	out := p[:0:0]
	for i, r := range p {
		r = repairRing(r, note)
		if len(r) < 4 || planar.Area(r) == 0 {
			if i == 0 {
				return nil, fmt.Errorf("geometry: outer ring has %d distinct positions and an area of %g: not a polygon", max(len(r)-1, 0), planar.Area(r))
			}
			note(RepairDegenerateHole)
			continue
		}
		want := orb.CCW
		if i > 0 {
			want = orb.CW
		}
		if r.Orientation() != want {
			r.Reverse()
		}
		out = append(out, r)
	}
	return out, nil
}

// repairRing removes repeated consecutive positions and closes the ring.
func repairRing(r orb.Ring, note func(string)) orb.Ring {
	if len(r) == 0 {
		return r
	}
	out := r[:1]
	for _, pt := range r[1:] {
		if pt != out[len(out)-1] {
			out = append(out, pt)
		}
	}
	if len(out) < len(r) {
		note(RepairRepeated)
	}
	if len(out) > 1 && out[0] != out[len(out)-1] {
		note(RepairClosed)
		out = append(out, out[0])
	}
	return out
}
