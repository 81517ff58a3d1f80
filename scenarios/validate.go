package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

type presence int

const (
	forbidden presence = iota
	optional
	required
)

// rule says what a change kind carries.
type rule struct {
	layer    string
	geometry presence
	target   presence
	allowed  []string // properties a client may set
	needed   []string // properties required when a new feature is made
	// oneOf: at least one of geometry or target (rezone, set_broadband).
	oneOf bool
}

var buildingProps = []string{"use", "floors", "height_m", "dwellings", "gfa_m2", "year_built", "cad_number"}

var rules = map[Kind]rule{
	AddBuilding:      {layer: "buildings", geometry: required, target: forbidden, allowed: buildingProps, needed: []string{"use", "floors"}},
	ModifyBuilding:   {layer: "buildings", geometry: optional, target: required, allowed: buildingProps},
	DemolishBuilding: {layer: "buildings", geometry: forbidden, target: required},
	Rezone: {layer: "zoning", geometry: optional, target: optional, oneOf: true,
		allowed: []string{"code", "name", "allowed_uses", "max_pot_pct", "max_cut", "max_height_m", "max_floors", "regulation_url"}},
	AddFacility:      {layer: "facilities", geometry: required, target: forbidden, allowed: []string{"kind", "name", "capacity", "capacity_unit"}, needed: []string{"kind"}},
	ModifyFacility:   {layer: "facilities", geometry: forbidden, target: required, allowed: []string{"name", "capacity", "capacity_unit"}},
	RemoveFacility:   {layer: "facilities", geometry: forbidden, target: required},
	AddGreenSpace:    {layer: "green_spaces", geometry: required, target: forbidden, allowed: []string{"kind", "public", "area_m2"}, needed: []string{"kind"}},
	RemoveGreenSpace: {layer: "green_spaces", geometry: forbidden, target: required},
	SetBroadband: {layer: "broadband", geometry: optional, target: optional, oneOf: true,
		allowed: []string{"technology", "max_down_mbps"}, needed: []string{"technology", "max_down_mbps"}},
}

// fieldErr is a validation error naming the wrong field.
func fieldErr(field, format string, args ...any) error {
	return &layers.FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// DecodeChange turns a client's change into a Change, checking only its syntax: the kind is
// known, the target is a feature id, the geometry is GeoJSON. Validate checks the rest.
func DecodeChange(in ChangeInput) (Change, error) {
	c := Change{Kind: in.Kind, Properties: in.Properties}
	if in.Kind == "" {
		return c, fieldErr("kind", "missing; one of %s", kindList())
	}
	if _, ok := rules[in.Kind]; !ok {
		return c, fieldErr("kind", "unknown change kind %q; one of %s", in.Kind, kindList())
	}
	if t := bytes.TrimSpace(in.Target); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			var n json.Number
			if err := json.Unmarshal(t, &n); err != nil {
				return c, fieldErr("target", "want a feature id as a string, e.g. \"123\"")
			}
			s = n.String()
		}
		if _, err := parseTarget(s); err != nil {
			return c, err
		}
		c.Target = s
	}
	if g := bytes.TrimSpace(in.Geometry); len(g) > 0 && !bytes.Equal(g, []byte("null")) {
		geom, err := geojson.UnmarshalGeometry(g)
		if err != nil {
			return c, fieldErr("geometry", "not a GeoJSON geometry: %v", strings.TrimPrefix(err.Error(), "geojson: "))
		}
		if geom.Coordinates == nil {
			return c, fieldErr("geometry", "a %s is not supported; send a Polygon, MultiPolygon or Point", geom.Type)
		}
		var raw struct{ Coordinates json.RawMessage }
		if err := json.Unmarshal(g, &raw); err == nil {
			if err := checkPositions(raw.Coordinates, "geometry.coordinates"); err != nil {
				return c, err
			}
		}
		c.Geometry = geom
	}
	return c, nil
}

// checkPositions walks a GeoJSON coordinates array and refuses a position that is not
// exactly longitude and latitude: the decoder would read [7.42] as (7.42, 0) and drop a
// third coordinate without a word.
func checkPositions(raw json.RawMessage, field string) error {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil // not an array: the geometry decoder has said what is wrong
	}
	if len(items) > 0 && bytes.HasPrefix(bytes.TrimSpace(items[0]), []byte("[")) {
		for i, it := range items {
			if err := checkPositions(it, fmt.Sprintf("%s[%d]", field, i)); err != nil {
				return err
			}
		}
		return nil
	}
	switch {
	case len(items) < 2:
		return fieldErr(field, "a position needs longitude and latitude, got %d number(s)", len(items))
	case len(items) > 2:
		return fieldErr(field, "a position is longitude and latitude; a third coordinate (height) is not supported, got %d numbers", len(items))
	}
	return nil
}

func kindList() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func parseTarget(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fieldErr("target", "%q is not a feature id (a whole number)", s)
	}
	return id, nil
}

// op is a validated change, ready to apply to a variant.
type op struct {
	layer   string
	id      int64
	feature *layers.Feature // the new version; nil removes the feature
}

// prepare validates c against v (the baseline with the scenario's earlier changes applied)
// and returns the operation that applies it. Errors are *layers.FieldError naming the field:
// "kind", "target", "geometry", "geometry.coordinates[0]", "properties.floors"...
//
// fresh says c is being added now: only then are its polygons checked for self-intersection
// (quadratic in their vertices). A stored change passed that check when it was added and its
// geometry never changes, so rebuilding a scenario costs time linear in its vertices.
func prepare(v *Variant, c *Change, fresh bool) (op, error) {
	r, ok := rules[c.Kind]
	if !ok {
		return op{}, fieldErr("kind", "unknown change kind %q; one of %s", c.Kind, kindList())
	}
	layer, _ := layers.Lookup(r.layer)
	hasGeom, hasTarget := c.Geometry != nil && c.Geometry.Coordinates != nil, c.Target != ""
	switch {
	case r.oneOf && !hasGeom && !hasTarget:
		return op{}, fieldErr("target", "%s needs a target (an existing feature) or a geometry (a new polygon)", c.Kind)
	case r.geometry == required && !hasGeom:
		return op{}, fieldErr("geometry", "%s needs a geometry", c.Kind)
	case r.geometry == forbidden && hasGeom:
		return op{}, fieldErr("geometry", "%s takes no geometry", c.Kind)
	case r.target == required && !hasTarget:
		return op{}, fieldErr("target", "%s needs the id of the feature it changes", c.Kind)
	case r.target == forbidden && hasTarget:
		return op{}, fieldErr("target", "%s takes no target: it makes a new feature", c.Kind)
	}

	// Properties: allowed for the kind, then typed and range-checked by the catalog.
	for name := range c.Properties {
		if !slices.Contains(r.allowed, name) {
			if len(r.allowed) == 0 {
				return op{}, fieldErr("properties."+name, "%s takes no properties", c.Kind)
			}
			return op{}, fieldErr("properties."+name, "%s may set only %s", c.Kind, strings.Join(r.allowed, ", "))
		}
	}
	props, _, err := layer.Normalize(c.Properties)
	if err != nil {
		return op{}, err
	}

	var geom orb.Geometry
	if hasGeom {
		geom = c.Geometry.Coordinates
		if err := checkGeometry(layer, geom, v.City.Bound, fresh); err != nil {
			return op{}, err
		}
	}

	lv := v.Layer(r.layer)
	if hasTarget {
		id, err := parseTarget(c.Target)
		if err != nil {
			return op{}, err
		}
		cur, ok := lv.Get(id)
		if !ok {
			if lv.Hidden[id] {
				return op{}, fieldErr("target", "%s %d was removed by an earlier change of this scenario", r.layer, id)
			}
			return op{}, fieldErr("target", "no feature %d in layer %s, neither in the city nor added by an earlier change", id, r.layer)
		}
		if c.Kind == ModifyFacility || c.Kind == RemoveFacility {
			if str(cur.Feature.Props, "kind") == "" {
				return op{}, fieldErr("target", "facility %d has no kind", id)
			}
		}
		switch c.Kind {
		case DemolishBuilding, RemoveFacility, RemoveGreenSpace:
			return op{layer: r.layer, id: id}, nil
		}
		if len(props) == 0 && geom == nil {
			return op{}, fieldErr("properties", "%s changes nothing: give properties to set", c.Kind)
		}
		if c.Kind == ModifyFacility {
			estimateCapacity(&v.Params, str(cur.Feature.Props, "kind"), cur.Feature.Props, props)
		}
		switch c.Kind {
		case ModifyBuilding:
			newFootprint := cur.Area
			if geom != nil {
				newFootprint = spatial.Area(v.City.Proj.Geometry(geom))
			}
			deriveBuilding(&v.Params, cur.Feature.Props, cur.Area, props, newFootprint, geom != nil)
		case Rezone:
			deriveZone(&v.Params, cur.Feature.Props, props)
		}
		return op{layer: r.layer, id: id, feature: withProps(cur.Feature, props, geom)}, nil
	}

	// A new feature.
	for _, name := range r.needed {
		if _, ok := props[name]; !ok {
			return op{}, fieldErr("properties."+name, "%s needs properties.%s", c.Kind, name)
		}
	}
	if c.Kind == Rezone && len(props) == 0 {
		return op{}, fieldErr("properties", "rezone of a new polygon needs its rules, e.g. max_height_m")
	}
	if c.FeatureID < AddedIDBase {
		return op{}, fmt.Errorf("change %s has no feature id", c.ID)
	}
	f := &layers.Feature{Layer: r.layer, ID: c.FeatureID, Geometry: geom, Props: props}
	switch c.Kind {
	case AddBuilding:
		deriveBuilding(&v.Params, nil, 0, props, 0, false)
	case AddGreenSpace:
		if _, ok := props["public"]; !ok {
			props["public"] = true
		}
		if _, ok := props["area_m2"]; !ok {
			props["area_m2"] = spatial.Area(v.City.Proj.Geometry(geom))
		}
	case AddFacility:
		estimateCapacity(&v.Params, str(props, "kind"), nil, props)
	}
	return op{layer: r.layer, id: f.ID, feature: f}, nil
}

// estimateCapacity completes the properties a change sets on a facility of kind (cur: its
// properties before the change, nil for a new one). An explicit capacity above 0 wins and
// clears an earlier estimate; otherwise a facility whose capacity is missing or 0 (unknown)
// takes the default of its kind, marked capacity_estimated, with the default unit when it
// has none. A kind without a default keeps capacity 0.
func estimateCapacity(p *Parameters, kind string, cur, props map[string]any) {
	if c, ok := num(props, "capacity"); ok && c > 0 {
		if cur != nil {
			props["capacity_estimated"] = nil
			if l, _ := cur["estimated"].([]string); slices.Contains(l, "capacity") {
				props["estimated"] = nil // the import's default capacity, replaced
			}
		}
		return
	}
	_, set := props["capacity"]
	if c, ok := num(cur, "capacity"); ok && c > 0 && !set {
		return // the capacity it has stays
	}
	def, ok := p.DefaultCapacity[kind]
	if !ok {
		if !set && cur == nil {
			props["capacity"] = int64(0)
		}
		return
	}
	props["capacity"] = def
	props["capacity_estimated"] = true
	if _, ok := props["capacity_unit"]; !ok && str(cur, "capacity_unit") == "" {
		if u := p.DefaultCapacityUnit[kind]; u != "" {
			props["capacity_unit"] = u
		}
	}
}

// MaxVerticesPerGeometry bounds the positions of one change's geometry, all polygons of a
// MultiPolygon together: the crossing test of each polygon is quadratic in its positions.
const MaxVerticesPerGeometry = 4 * MaxVerticesPerPolygon

// checkGeometry checks a change's geometry: the layer's type, closed rings, a bounded
// number of vertices, every position inside the city's extent and, when simple is set (a
// change being added), no self-intersection.
func checkGeometry(layer *layers.Layer, g orb.Geometry, extent orb.Bound, simple bool) error {
	if err := layer.CheckGeometry(g); err != nil {
		return err
	}
	var polys []orb.Polygon
	var fields []string
	switch t := g.(type) {
	case orb.Point:
		if !extent.Contains(t) {
			return fieldErr("geometry.coordinates", "(%g, %g) is outside the city's extent %s", t[0], t[1], boundString(extent))
		}
		return nil
	case orb.Polygon:
		polys, fields = []orb.Polygon{t}, []string{"geometry.coordinates"}
	case orb.MultiPolygon:
		for i, p := range t {
			polys = append(polys, p)
			fields = append(fields, fmt.Sprintf("geometry.coordinates[%d]", i))
		}
	}
	total := 0
	for i, p := range polys {
		n := 0
		for _, r := range p {
			n += len(r)
		}
		if total += n; total > MaxVerticesPerGeometry {
			return fieldErr(fields[i], "the geometry has %d positions or more; at most %d are allowed", total, MaxVerticesPerGeometry)
		}
		if n > MaxVerticesPerPolygon {
			return fieldErr(fields[i], "polygon has %d positions; at most %d are allowed", n, MaxVerticesPerPolygon)
		}
		for ri, r := range p {
			for j, q := range r {
				if !extent.Contains(q) {
					return fieldErr(fmt.Sprintf("%s[%d][%d]", fields[i], ri, j), "(%g, %g) is outside the city's extent %s", q[0], q[1], boundString(extent))
				}
			}
		}
		if !simple {
			continue
		}
		if err := checkSimplePolygon(p, fields[i]); err != nil {
			return err
		}
	}
	return nil
}

func boundString(b orb.Bound) string {
	return fmt.Sprintf("[%g, %g, %g, %g]", b.Min[0], b.Min[1], b.Max[0], b.Max[1])
}

// Validate checks changes against the city with the scenario's existing changes applied and
// returns the variant with all of them applied, their derived values made with p. All or
// nothing: the first error stops it, naming the field, prefixed with "changes[i]." when there
// are several. Only the added changes' polygons are checked for self-intersection (the
// existing ones were when they were added); it stops with ctx's error once ctx ends.
func Validate(ctx context.Context, city *spatial.City, p Parameters, existing, added []Change) (*Variant, error) {
	v, err := BuildContext(ctx, city, p, existing)
	if err != nil {
		return nil, err
	}
	for i := range added {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("validate the changes: %w", err)
		}
		o, err := prepare(v, &added[i], true)
		if err != nil {
			if len(added) > 1 {
				return nil, prefixField(err, fmt.Sprintf("changes[%d].", i))
			}
			return nil, err
		}
		v.apply(o)
	}
	return v, nil
}

func prefixField(err error, prefix string) error {
	if fe, ok := err.(*layers.FieldError); ok {
		return &layers.FieldError{Field: prefix + fe.Field, Message: fe.Message}
	}
	return err
}

func (v *Variant) apply(o op) {
	if o.feature == nil {
		v.remove(o.layer, o.id)
		return
	}
	v.put(o.feature)
}
