package layers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// Feature is one feature of a layer. Geometry is in WGS84 longitude/latitude (EPSG:4326):
// an orb.Point for point layers, an orb.LineString or orb.MultiLineString for line layers, an
// orb.Polygon or orb.MultiPolygon for polygon layers.
type Feature struct {
	Layer    string
	ID       int64
	Geometry orb.Geometry
	// Props holds the public fields: string, float64, int64, bool or []string values.
	Props map[string]any
	// Restricted holds personal data (see Field.Restricted); it never reaches public output.
	Restricted map[string]any
}

// ErrInvalid marks a feature or value that breaks the catalog's rules.
var ErrInvalid = errors.New("invalid")

// FieldError says which field of which feature is wrong.
type FieldError struct {
	Field   string // e.g. "properties.floors" or "geometry"
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Normalize checks raw properties (as decoded from JSON: float64 numbers) against the layer's
// fields and returns them typed and split into public and restricted maps. Unknown
// properties, wrong types, values out of range or outside the enum are errors naming the field.
// "id" is not a property and must be removed by the caller.
func (l *Layer) Normalize(raw map[string]any) (public, restricted map[string]any, err error) {
	public = make(map[string]any, len(raw))
	for name, v := range raw {
		f, ok := l.Field(name)
		if !ok {
			return nil, nil, &FieldError{"properties." + name, fmt.Sprintf("unknown property for layer %s", l.Name)}
		}
		if v == nil {
			continue
		}
		tv, err := f.Convert(v)
		if err != nil {
			return nil, nil, &FieldError{"properties." + name, err.Error()}
		}
		if f.Restricted {
			if restricted == nil {
				restricted = map[string]any{}
			}
			restricted[name] = tv
		} else {
			public[name] = tv
		}
	}
	return public, restricted, nil
}

// Convert converts a value to the field's Go type (string, float64, int64, bool or []string)
// and checks it against the field's rules: enum, range, finite and whole numbers. It accepts
// what JSON decoding gives (float64 numbers, []any lists) and Go's own types (int64, int,
// int32, []string), so that every store checks values by the same rules. A nil value is the
// caller's to handle (an absent property).
func (f Field) Convert(v any) (any, error) {
	switch f.Type {
	case String:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a string, got %T", v)
		}
		if len(f.Enum) > 0 && !slices.Contains(f.Enum, s) {
			return nil, fmt.Errorf("%q is not one of %v", s, f.Enum)
		}
		return s, nil
	case Boolean:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want true or false, got %T", v)
		}
		return b, nil
	case Number, Integer:
		var x float64
		switch n := v.(type) {
		case float64:
			x = n
		case int64:
			x = float64(n)
		case int:
			x = float64(n)
		case int32:
			x = float64(n)
		default:
			return nil, fmt.Errorf("want a number, got %T", v)
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("want a finite number")
		}
		if f.Max > f.Min && (x < f.Min || x > f.Max) {
			return nil, fmt.Errorf("%v is outside %v..%v", x, f.Min, f.Max)
		}
		if f.Type == Integer {
			if x != math.Trunc(x) {
				return nil, fmt.Errorf("want a whole number, got %v", x)
			}
			return int64(x), nil
		}
		return x, nil
	case List:
		var out []string
		switch l := v.(type) {
		case []string:
			out = append(out, l...)
		case []any:
			for _, e := range l {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("want a list of strings, found %T", e)
				}
				out = append(out, s)
			}
		default:
			return nil, fmt.Errorf("want a list of strings, got %T", v)
		}
		for _, s := range out {
			if len(f.Enum) > 0 && !slices.Contains(f.Enum, s) {
				return nil, fmt.Errorf("%q is not one of %v", s, f.Enum)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("field type %s is not supported", f.Type)
}

// CheckGeometry verifies that g is of the layer's geometry type, with finite WGS84
// coordinates, lines of at least two points and closed rings of at least four points.
func (l *Layer) CheckGeometry(g orb.Geometry) error {
	if g == nil {
		return &FieldError{"geometry", "missing"}
	}
	switch t := g.(type) {
	case orb.Point:
		if l.Geometry != Point {
			return &FieldError{"geometry", fmt.Sprintf("layer %s holds %ss, got a Point", l.Name, l.Geometry)}
		}
		return checkCoord(t, "geometry.coordinates")
	case orb.Polygon:
		if l.Geometry != Polygon {
			return &FieldError{"geometry", fmt.Sprintf("layer %s holds %ss, got a Polygon", l.Name, l.Geometry)}
		}
		return checkPolygon(t, "geometry.coordinates")
	case orb.LineString:
		if l.Geometry != LineString {
			return &FieldError{"geometry", fmt.Sprintf("layer %s holds %ss, got a LineString", l.Name, l.Geometry)}
		}
		return checkLine(t, "geometry.coordinates")
	case orb.MultiLineString:
		if l.Geometry != LineString {
			return &FieldError{"geometry", fmt.Sprintf("layer %s holds %ss, got a MultiLineString", l.Name, l.Geometry)}
		}
		return checkParts(t, "MultiLineString", checkLine)
	case orb.MultiPolygon:
		if l.Geometry != Polygon {
			return &FieldError{"geometry", fmt.Sprintf("layer %s holds %ss, got a MultiPolygon", l.Name, l.Geometry)}
		}
		return checkParts(t, "MultiPolygon", checkPolygon)
	}
	return &FieldError{"geometry", fmt.Sprintf("layer %s holds %ss, got a %s", l.Name, l.Geometry, g.GeoJSONType())}
}

func checkLine(ls orb.LineString, field string) error {
	if len(ls) < 2 {
		return &FieldError{field, fmt.Sprintf("line has %d positions, needs at least 2", len(ls))}
	}
	for j, c := range ls {
		if err := checkCoord(c, fmt.Sprintf("%s[%d]", field, j)); err != nil {
			return err
		}
	}
	return nil
}

func checkPolygon(p orb.Polygon, field string) error {
	if len(p) == 0 {
		return &FieldError{field, "polygon has no ring"}
	}
	for i, r := range p {
		f := fmt.Sprintf("%s[%d]", field, i)
		if len(r) < 4 {
			return &FieldError{f, fmt.Sprintf("ring has %d positions, needs at least 4", len(r))}
		}
		if !r.Closed() {
			return &FieldError{f, "ring is not closed: its first and last positions differ"}
		}
		for j, c := range r {
			if err := checkCoord(c, fmt.Sprintf("%s[%d]", f, j)); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkCoord(p orb.Point, field string) error {
	lon, lat := p[0], p[1]
	if math.IsNaN(lon) || math.IsNaN(lat) || math.IsInf(lon, 0) || math.IsInf(lat, 0) {
		return &FieldError{field, "coordinate is not a finite number"}
	}
	if lon < -180 || lon > 180 || lat < -90 || lat > 90 {
		return &FieldError{field, fmt.Sprintf("(%g, %g) is not a WGS84 longitude/latitude; reproject to EPSG:4326", lon, lat)}
	}
	return nil
}

// Source makes MVT tiles of catalog layers.
type Source interface {
	// Tile returns the uncompressed MVT of the given layers in one tile, with the public
	// fields only; nil or empty bytes when no feature meets the tile.
	Tile(ctx context.Context, t maptile.Tile, ls []*Layer) ([]byte, error)
}

// Counts maps a layer name to a number of features.
type Counts map[string]int

// Store keeps the base layers.
type Store interface {
	// Import writes features, all or nothing, and reports how many went to each layer.
	Import(ctx context.Context, features []Feature) (Counts, error)
	// Load streams every feature of every layer to fn.
	Load(ctx context.Context, fn func(Feature) error) error
	// Counts reports the number of features per layer.
	Counts(ctx context.Context) (Counts, error)
}

// checkParts checks each part of a multi-geometry with check, naming the part's path; an
// empty multi-geometry is an error.
func checkParts[T any](parts []T, typ string, check func(T, string) error) error {
	if len(parts) == 0 {
		return &FieldError{"geometry.coordinates", "empty " + typ}
	}
	for i, p := range parts {
		if err := check(p, fmt.Sprintf("geometry.coordinates[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}
