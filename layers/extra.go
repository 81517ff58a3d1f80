package layers

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/paulmach/orb"
)

// AnyGeometry is a geometry type only extra layers have: a city's own tables may hold several
// types at once.
const AnyGeometry GeometryType = "Geometry"

// Column aliases the extra layers' tile statements use for the geometry and the feature id;
// a published field cannot take these names.
const (
	ExtraGeometryAlias = "mvt_geom"
	ExtraIDAlias       = "mvt_id"
)

// Extra is a layer published straight from one of the city's own PostGIS tables or views,
// beside the catalog's base layers, as pg_tileserv and Martin publish tables: as tiles only,
// from PostGIS only. It is never part of the in-memory model or of scenarios.
//
// Layer.Fields are the published columns, typed from the table once the PostGIS store has
// resolved the layer (Columns names them before that); every one is public.
type Extra struct {
	Layer
	Table          string   // schema-qualified table or view, "schema.table"
	GeometryColumn string   // the geometry column
	IDColumn       string   // integer column made the MVT feature id; "": features have none
	SRID           int      // the geometry's SRID; 0: read from geometry_columns
	Columns        []string // the columns published as fields, in order
	Attribution    string   // shown with maps of this layer; "": the catalog's attribution

	// Features and Bounds (WGS84) are measured when the store resolves the layer.
	Features int
	Bounds   orb.Bound
}

// layerName is what a layer name may be: it appears in URLs and in comma-separated lists.
var layerName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// Check verifies what can be verified without the database: the name (a new one, usable in
// URLs), the table's form, the columns and the zoom range. Errors name the offending setting.
func (e *Extra) Check() error {
	if !layerName.MatchString(e.Name) {
		return &FieldError{Field: "name", Message: fmt.Sprintf("%q: want lower-case letters, digits and _, starting with a letter (at most 63)", e.Name)}
	}
	if _, ok := byName[e.Name]; ok {
		return &FieldError{Field: "name", Message: fmt.Sprintf("%q is a base layer's name", e.Name)}
	}
	schema, table, ok := strings.Cut(e.Table, ".")
	if !ok || schema == "" || table == "" || strings.Contains(table, ".") {
		return &FieldError{Field: "table", Message: fmt.Sprintf("%q: want schema.table", e.Table)}
	}
	if e.GeometryColumn == "" {
		return &FieldError{Field: "geometry_column", Message: "missing"}
	}
	if e.SRID < 0 {
		return &FieldError{Field: "srid", Message: fmt.Sprintf("%d: want a positive SRID, or 0 to read it from geometry_columns", e.SRID)}
	}
	for i, c := range e.Columns {
		switch {
		case c == "":
			return &FieldError{Field: fmt.Sprintf("fields[%d]", i), Message: "empty column name"}
		case c == ExtraGeometryAlias || c == ExtraIDAlias:
			return &FieldError{Field: fmt.Sprintf("fields[%d]", i), Message: fmt.Sprintf("%q is reserved for the tile statement", c)}
		case c == e.GeometryColumn:
			return &FieldError{Field: fmt.Sprintf("fields[%d]", i), Message: fmt.Sprintf("%q is the geometry column", c)}
		case slices.Index(e.Columns, c) != i:
			return &FieldError{Field: fmt.Sprintf("fields[%d]", i), Message: fmt.Sprintf("%q is listed twice", c)}
		}
	}
	if e.MinZoom < 0 || e.MaxZoom < e.MinZoom {
		return &FieldError{Field: "minzoom", Message: fmt.Sprintf("zoom range %d..%d: want 0 <= minzoom <= maxzoom", e.MinZoom, e.MaxZoom)}
	}
	return nil
}

// SplitTable returns the schema and table of Table.
func (e *Extra) SplitTable() (schema, table string) {
	schema, table, _ = strings.Cut(e.Table, ".")
	return schema, table
}

// Published is every layer the server publishes as tiles: the catalog's base layers, with the
// zoom ranges a city's configuration gives some of them, and a city's extra layers. It is a
// value handed to what serves tiles; the catalog itself never changes. The nil Published
// publishes the base layers alone, with the catalog's zoom ranges.
type Published struct {
	extras []*Extra
	byName map[string]*Extra
	zoomed map[string]*Layer // base layers with a configured zoom range: copies of the catalog's
}

// ZoomRange is the zoom range a configuration gives a base layer in place of the catalog's.
type ZoomRange struct {
	Layer            string
	MinZoom, MaxZoom int
}

// NewPublished returns the base layers, with the zoom ranges given (one at most per base
// layer), and the extras, which must have distinct names that are not base layers' names.
func NewPublished(extras []*Extra, zooms ...ZoomRange) (*Published, error) {
	p := &Published{byName: map[string]*Extra{}, zoomed: map[string]*Layer{}}
	for _, z := range zooms {
		l, err := Lookup(z.Layer)
		if err != nil {
			return nil, err
		}
		if z.MinZoom < 0 || z.MaxZoom < z.MinZoom {
			return nil, fmt.Errorf("layer %s: zoom range %d..%d: want 0 <= minzoom <= maxzoom", z.Layer, z.MinZoom, z.MaxZoom)
		}
		if _, dup := p.zoomed[z.Layer]; dup {
			return nil, fmt.Errorf("layer %s: two zoom ranges", z.Layer)
		}
		c := *l
		c.MinZoom, c.MaxZoom = z.MinZoom, z.MaxZoom
		p.zoomed[z.Layer] = &c
	}
	for i, e := range extras {
		if err := e.Check(); err != nil {
			return nil, fmt.Errorf("extra layer %d (%s): %w", i, e.Name, err)
		}
		if _, dup := p.byName[e.Name]; dup {
			return nil, fmt.Errorf("extra layer %d: name %q is used twice", i, e.Name)
		}
		p.byName[e.Name] = e
		p.extras = append(p.extras, e)
	}
	return p, nil
}

// Base returns the base layers in catalog order, with their published zoom ranges.
func (p *Published) Base() []*Layer {
	out := All()
	if p == nil {
		return out
	}
	for i, l := range out {
		if z, ok := p.zoomed[l.Name]; ok {
			out[i] = z
		}
	}
	return out
}

// lookupBase returns the named base layer with its published zoom range, or ErrUnknownLayer.
func (p *Published) lookupBase(name string) (*Layer, error) {
	if p != nil {
		if z, ok := p.zoomed[name]; ok {
			return z, nil
		}
	}
	return Lookup(name)
}

// ParseBaseList parses a comma-separated list of base layer names (no extra layers), with
// their published zoom ranges, rejecting unknown and repeated ones.
func (p *Published) ParseBaseList(s string) ([]*Layer, error) { return parseList(s, p.lookupBase) }

// Extras returns the extra layers in configuration order.
func (p *Published) Extras() []*Extra {
	if p == nil {
		return nil
	}
	return p.extras
}

// Extra returns the named extra layer, nil when name is not one.
func (p *Published) Extra(name string) *Extra {
	if p == nil {
		return nil
	}
	return p.byName[name]
}

// Lookup returns the named base or extra layer, or ErrUnknownLayer.
func (p *Published) Lookup(name string) (*Layer, error) {
	if e := p.Extra(name); e != nil {
		return &e.Layer, nil
	}
	l, err := p.lookupBase(name)
	if err != nil && len(p.Extras()) > 0 {
		names := Names()
		for _, e := range p.extras {
			names = append(names, e.Name)
		}
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownLayer, name, strings.Join(names, ", "))
	}
	return l, err
}

// ParseList parses a comma-separated list of base and extra layer names, rejecting unknown
// and repeated ones.
func (p *Published) ParseList(s string) ([]*Layer, error) { return parseList(s, p.Lookup) }

// parseList parses a comma-separated list of layer names resolved by lookup, rejecting
// unknown and repeated ones.
func parseList(s string, lookup func(string) (*Layer, error)) ([]*Layer, error) {
	parts := strings.Split(s, ",")
	seen := map[string]bool{}
	out := make([]*Layer, 0, len(parts))
	for _, p := range parts {
		l, err := lookup(p)
		if err != nil {
			return nil, err
		}
		if seen[p] {
			return nil, fmt.Errorf("layer %q listed twice", p)
		}
		seen[p] = true
		out = append(out, l)
	}
	return out, nil
}
