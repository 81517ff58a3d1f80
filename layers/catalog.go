// Package layers owns the catalog of the city's layers (names, geometry types, fields and
// which of them are public, zoom ranges), the Feature type every store and engine exchanges,
// and the interfaces the stores implement.
package layers

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrUnknownLayer is returned for a layer name that is not in the catalog.
var ErrUnknownLayer = errors.New("unknown layer")

// GeometryType is the single geometry type a layer holds.
type GeometryType string

const (
	Point      GeometryType = "Point"
	LineString GeometryType = "LineString" // linestrings and multilinestrings
	Polygon    GeometryType = "Polygon"    // polygons and multipolygons
)

// FieldType is the type of an attribute value, as named in TileJSON vector_layers.
type FieldType string

const (
	String  FieldType = "String"
	Number  FieldType = "Number"  // float64
	Integer FieldType = "Integer" // int64
	Boolean FieldType = "Boolean"
	List    FieldType = "List" // []string; comma-joined in tiles
)

// Field is one attribute of a layer.
type Field struct {
	Name        string    `json:"name"`
	Type        FieldType `json:"type"`
	Description string    `json:"description"`
	// Restricted fields are personal data: kept in Feature.Restricted, never in Props, so no
	// public encoder can emit them by accident.
	Restricted bool `json:"-"`
	// Min and Max bound numeric values when set (Max > Min).
	Min, Max float64 `json:"-"`
	// Enum lists the allowed values of a string or list field when set.
	Enum []string `json:"-"`
}

// Layer describes one layer of the city model.
type Layer struct {
	Name        string       `json:"name"`
	Title       string       `json:"title"`
	Description string       `json:"description"`
	Geometry    GeometryType `json:"geometry_type"`
	Fields      []Field      `json:"-"`
	MinZoom     int          `json:"minzoom"`
	MaxZoom     int          `json:"maxzoom"`
}

// PublicFields are the fields that may leave the server without a planner's token.
func (l *Layer) PublicFields() []Field {
	var out []Field
	for _, f := range l.Fields {
		if !f.Restricted {
			out = append(out, f)
		}
	}
	return out
}

// Field returns the named field.
func (l *Layer) Field(name string) (Field, bool) {
	for _, f := range l.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// The low-zoom rule every tile source follows, so that PostGIS and memory tiles hold the same
// features: below ThinBelowZoom, a polygon whose Web Mercator envelope is smaller than
// ThinPixels tile pixels (of 4096 across a tile) in both dimensions is left out, and every
// other polygon is simplified with a tolerance of one pixel. 32 of 4096 pixels are 2–4 screen
// pixels, too small to see: at zoom 14 that is 19 m, at zoom 13 38 m. With parcels drawn from
// zoom 15, this keeps every tile of a generated 200,000-building city near 200 KiB at most.
const (
	ThinBelowZoom = 15
	ThinPixels    = 32
)

// Attribution is shown with every map made from the catalog's data.
const Attribution = `© OpenStreetMap contributors (ODbL); derived layers marked "derived" are modelled, not surveyed`

// Common fields.
var derivedField = Field{Name: "derived", Type: Boolean, Description: "true when the feature was modelled from other data rather than surveyed"}

var buildingUses = []string{"residential", "mixed", "commercial", "office", "industrial", "education", "health", "culture", "other"}

// FacilityKinds are the kinds of public facility the model knows.
var FacilityKinds = []string{"kindergarten", "school", "high_school", "university", "hospital", "clinic", "pharmacy", "library", "culture", "sport", "citizen_center", "public_wifi"}

// WaterKinds are the kinds of water body of the water layer.
var WaterKinds = []string{"sea", "lake", "pond", "river", "canal", "reservoir", "basin", "lagoon", "harbour", "water"}

// PlaceKinds are the kinds of named place of the places layer, largest first.
var PlaceKinds = []string{"city", "town", "village", "suburb", "quarter", "neighbourhood", "square", "locality"}

// BuildingUses are the uses a building can have.
var BuildingUses = buildingUses

var catalog = []*Layer{
	{
		Name: "parcels", Title: "Cadastre parcels", Geometry: Polygon, MinZoom: 15, MaxZoom: 22,
		Description: "Cadastral parcels with land use and ownership category.",
		Fields: []Field{
			{Name: "cad_number", Type: String, Description: "cadastral number, unique"},
			{Name: "area_m2", Type: Number, Description: "parcel area in square metres", Min: 0, Max: 1e8},
			{Name: "land_use", Type: String, Description: "land-use category (categorie de folosință)"},
			{Name: "intravilan", Type: Boolean, Description: "inside the built-up limit"},
			{Name: "ownership", Type: String, Description: "public, private or unknown", Enum: []string{"public", "private", "unknown"}},
			{Name: "address", Type: String, Description: "postal address"},
			derivedField,
			{Name: "owner_name", Type: String, Restricted: true, Description: "owner's name (personal data)"},
			{Name: "land_book", Type: String, Restricted: true, Description: "land book number, carte funciară (personal data)"},
		},
	},
	{
		Name: "buildings", Title: "Buildings", Geometry: Polygon, MinZoom: 13, MaxZoom: 22,
		Description: "Building footprints with use, floors, height and dwellings.",
		Fields: []Field{
			{Name: "cad_number", Type: String, Description: "cadastral number of the parcel"},
			{Name: "use", Type: String, Description: "main use", Enum: buildingUses},
			{Name: "floors", Type: Integer, Description: "floors above ground", Min: 0, Max: 200},
			{Name: "height_m", Type: Number, Description: "height in metres", Min: 0, Max: 1000},
			{Name: "dwellings", Type: Integer, Description: "number of dwellings", Min: 0, Max: 100000},
			{Name: "year_built", Type: Integer, Description: "year of construction, 0 when unknown", Min: 0, Max: 2200},
			{Name: "gfa_m2", Type: Number, Description: "gross floor area above ground in square metres", Min: 0, Max: 1e7},
			{Name: "estimated", Type: List, Description: "attributes whose value is a default or an estimate, not surveyed", Enum: []string{"use", "floors", "height_m", "dwellings"}},
			derivedField,
		},
	},
	{
		Name: "zoning", Title: "Zoning (PUG/PUZ)", Geometry: Polygon, MinZoom: 10, MaxZoom: 22,
		Description: "Zoning units (UTR) with their urbanism rules: allowed uses, POT, CUT, height.",
		Fields: []Field{
			{Name: "code", Type: String, Description: "zoning unit code (UTR)"},
			{Name: "name", Type: String, Description: "zone name"},
			{Name: "allowed_uses", Type: List, Description: "building uses allowed in the zone", Enum: buildingUses},
			{Name: "max_pot_pct", Type: Number, Description: "maximum POT, percent of parcel area built", Min: 0, Max: 100},
			{Name: "max_cut", Type: Number, Description: "maximum CUT, floor area over parcel area", Min: 0, Max: 20},
			{Name: "max_height_m", Type: Number, Description: "maximum height in metres", Min: 0, Max: 1000},
			{Name: "max_floors", Type: Integer, Description: "maximum floors above ground", Min: 0, Max: 200},
			{Name: "regulation_url", Type: String, Description: "link to the local urbanism regulation"},
			derivedField,
		},
	},
	{
		Name: "facilities", Title: "Public facilities", Geometry: Point, MinZoom: 10, MaxZoom: 22,
		Description: "Schools, clinics, pharmacies, libraries, citizen centres, public Wi-Fi and more.",
		Fields: []Field{
			{Name: "kind", Type: String, Description: "facility kind", Enum: FacilityKinds},
			{Name: "name", Type: String, Description: "name"},
			{Name: "capacity", Type: Integer, Description: "capacity, 0 when unknown", Min: 0, Max: 1e6},
			{Name: "capacity_unit", Type: String, Description: "unit of capacity (pupils, beds, seats...)"},
			{Name: "estimated", Type: List, Description: "attributes whose value is a default or an estimate, not surveyed", Enum: []string{"capacity"}},
			derivedField,
		},
	},
	{
		Name: "green_spaces", Title: "Green spaces", Geometry: Polygon, MinZoom: 10, MaxZoom: 22,
		Description: "Parks, gardens, forests, playgrounds and squares.",
		Fields: []Field{
			{Name: "kind", Type: String, Description: "kind of green space", Enum: []string{"park", "garden", "forest", "playground", "square"}},
			{Name: "public", Type: Boolean, Description: "open to the public"},
			{Name: "area_m2", Type: Number, Description: "area in square metres", Min: 0, Max: 1e9},
			derivedField,
		},
	},
	{
		Name: "noise", Title: "Noise (Lden bands)", Geometry: Polygon, MinZoom: 10, MaxZoom: 22,
		Description: "Strategic noise map bands by source.",
		Fields: []Field{
			{Name: "source", Type: String, Description: "noise source", Enum: []string{"road", "rail", "air", "industry"}},
			{Name: "lden_db", Type: Number, Description: "band floor of day-evening-night level, dB", Min: 0, Max: 150},
			{Name: "lnight_db", Type: Number, Description: "night level, dB", Min: 0, Max: 150},
			derivedField,
		},
	},
	{
		Name: "flood", Title: "Flood zones", Geometry: Polygon, MinZoom: 10, MaxZoom: 22,
		Description: "Areas flooded with a given return period.",
		Fields: []Field{
			{Name: "return_period_years", Type: Integer, Description: "return period in years (10, 100, 1000)", Min: 1, Max: 100000},
			derivedField,
		},
	},
	{
		Name: "air_stations", Title: "Air quality stations", Geometry: Point, MinZoom: 8, MaxZoom: 22,
		Description: "Annual mean concentrations of PM2.5, PM10 and NO2.",
		Fields: []Field{
			{Name: "name", Type: String, Description: "station name"},
			{Name: "pm25", Type: Number, Description: "PM2.5 annual mean, µg/m³", Min: 0, Max: 1000},
			{Name: "pm10", Type: Number, Description: "PM10 annual mean, µg/m³", Min: 0, Max: 1000},
			{Name: "no2", Type: Number, Description: "NO2 annual mean, µg/m³", Min: 0, Max: 1000},
			{Name: "year", Type: Integer, Description: "year of measurement", Min: 1900, Max: 2200},
			derivedField,
		},
	},
	{
		Name: "broadband", Title: "Broadband coverage", Geometry: Polygon, MinZoom: 10, MaxZoom: 22,
		Description: "Fixed and mobile broadband coverage with the best available speed.",
		Fields: []Field{
			{Name: "technology", Type: String, Description: "technology", Enum: []string{"fibre", "cable", "dsl", "5g", "4g"}},
			{Name: "max_down_mbps", Type: Number, Description: "best download speed, Mbit/s", Min: 0, Max: 100000},
			derivedField,
		},
	},
	{
		Name: "districts", Title: "Districts", Geometry: Polygon, MinZoom: 8, MaxZoom: 22,
		Description: "Districts for which indicators are reported.",
		Fields: []Field{
			{Name: "name", Type: String, Description: "district name"},
			{Name: "code", Type: String, Description: "district code"},
			derivedField,
		},
	},
	{
		Name: "streets", Title: "Streets", Geometry: LineString, MinZoom: 13, MaxZoom: 22,
		Description: "Street and path centrelines with their names; the walking network is built from those open to pedestrians.",
		Fields: []Field{
			{Name: "name", Type: String, Description: "street name"},
			{Name: "kind", Type: String, Description: "class of way: the OSM highway value (primary, residential, footway, steps...)"},
			{Name: "foot", Type: Boolean, Description: "open to pedestrians: part of the walking network (absent: open)"},
			derivedField,
		},
	},
	{
		Name: "water", Title: "Water", Geometry: Polygon, MinZoom: 8, MaxZoom: 22,
		Description: "The sea, lakes, rivers, reservoirs and basins.",
		Fields: []Field{
			{Name: "name", Type: String, Description: "name of the water body"},
			{Name: "kind", Type: String, Description: "kind of water body", Enum: WaterKinds},
			derivedField,
		},
	},
	{
		Name: "places", Title: "Places", Geometry: Point, MinZoom: 8, MaxZoom: 22,
		Description: "Named places for map labels: the city, its quarters and neighbourhoods, squares.",
		Fields: []Field{
			{Name: "name", Type: String, Description: "place name"},
			{Name: "kind", Type: String, Description: "kind of place, largest first: city, town, village, suburb, quarter, neighbourhood, square, locality", Enum: PlaceKinds},
			derivedField,
		},
	},
}

// StreetsLayer is the layer of street centrelines, from which the walking network is built.
const StreetsLayer = "streets"

// WalkingNetwork returns the features of fs that make up the walking network: those of the
// streets layer not marked closed to pedestrians (foot = false), in the order given.
func WalkingNetwork(fs []Feature) []Feature {
	var out []Feature
	for i := range fs {
		if fs[i].Layer == StreetsLayer && fs[i].Props["foot"] != false {
			out = append(out, fs[i])
		}
	}
	return out
}

var byName = func() map[string]*Layer {
	m := make(map[string]*Layer, len(catalog))
	for _, l := range catalog {
		m[l.Name] = l
	}
	return m
}()

// All returns every layer in catalog order.
func All() []*Layer { return append([]*Layer(nil), catalog...) }

// Names returns every layer name in catalog order.
func Names() []string {
	out := make([]string, len(catalog))
	for i, l := range catalog {
		out[i] = l.Name
	}
	return out
}

// Lookup returns the named layer or ErrUnknownLayer.
func Lookup(name string) (*Layer, error) {
	if l, ok := byName[name]; ok {
		return l, nil
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownLayer, name, strings.Join(Names(), ", "))
}

// ParseList parses a comma-separated list of layer names, rejecting unknown and repeated ones.
func ParseList(s string) ([]*Layer, error) { return parseList(s, Lookup) }

// SortedFieldNames returns the public field names of l in alphabetical order.
func SortedFieldNames(l *Layer) []string {
	var out []string
	for _, f := range l.PublicFields() {
		out = append(out, f.Name)
	}
	sort.Strings(out)
	return out
}
