package tiles

import (
	"math"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// TileJSON is a TileJSON 3.0.0 document (https://github.com/mapbox/tilejson-spec).
type TileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name"`
	Description  string        `json:"description,omitempty"`
	Version      string        `json:"version"`
	Attribution  string        `json:"attribution"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       [4]float64    `json:"bounds"`
	Center       [3]float64    `json:"center"`
	VectorLayers []VectorLayer `json:"vector_layers"`
}

// VectorLayer describes one layer of the tiles: its public fields, by name, with their type
// as the tile holds it ("String", "Number" or "Boolean"; lists are comma-joined strings).
type VectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

// world is the extent of Web Mercator tiles.
var world = orb.Bound{Min: orb.Point{-180, -spatial.MaxLatitude}, Max: orb.Point{180, spatial.MaxLatitude}}

// NewTileJSON describes the tiles of ls served at tilesURL (a template with {z}, {x}, {y}),
// whose data covers bound (WGS84; an empty or zero bound means the whole world).
func NewTileJSON(name, tilesURL string, ls []*layers.Layer, bound orb.Bound) TileJSON {
	tj := TileJSON{
		TileJSON:    "3.0.0",
		Name:        name,
		Version:     "1.0.0",
		Attribution: layers.Attribution,
		Scheme:      "xyz",
		Tiles:       []string{tilesURL},
		MinZoom:     MaxZoom,
	}
	for _, l := range ls {
		tj.MinZoom = min(tj.MinZoom, l.MinZoom)
		tj.MaxZoom = max(tj.MaxZoom, l.MaxZoom)
		vl := VectorLayer{ID: l.Name, Description: l.Description, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, Fields: map[string]string{}}
		for _, f := range publicFields(l) {
			vl.Fields[f.Name] = TileFieldType(f.Type)
		}
		tj.VectorLayers = append(tj.VectorLayers, vl)
	}
	if len(ls) == 1 {
		tj.Description = ls[0].Description
	}
	if bound == (orb.Bound{}) || bound.Max[0] < bound.Min[0] || bound.Max[1] < bound.Min[1] {
		bound = world
	}
	tj.Bounds = RoundBound(bound)
	c := bound.Center()
	round := func(v float64) float64 { return math.Round(v*1e6) / 1e6 }
	tj.Center = [3]float64{round(c[0]), round(c[1]), float64(FitZoom(bound, tj.MinZoom, tj.MaxZoom))}
	return tj
}

// RoundBound writes a WGS84 bound as [west, south, east, north] to 6 decimals (about 0.1 m),
// rounded outwards so that it still holds every feature.
func RoundBound(b orb.Bound) [4]float64 {
	down := func(v float64) float64 { return math.Floor(v*1e6) / 1e6 }
	up := func(v float64) float64 { return math.Ceil(v*1e6) / 1e6 }
	return [4]float64{down(b.Min[0]), down(b.Min[1]), up(b.Max[0]), up(b.Max[1])}
}

// FitZoom is the zoom at which bound fills about two 256-pixel tiles across, kept within
// minZoom..maxZoom: a sensible first view of the data.
func FitZoom(bound orb.Bound, minZoom, maxZoom int) int {
	w := math.Max(bound.Max[0]-bound.Min[0], (bound.Max[1]-bound.Min[1])*1.5)
	z := maxZoom
	if w > 0 {
		z = int(math.Floor(math.Log2(360/w))) + 1
	}
	return max(minZoom, min(maxZoom, z))
}

// TileFieldType is the type a field's values have in a tile.
func TileFieldType(t layers.FieldType) string {
	switch t {
	case layers.Number, layers.Integer:
		return "Number"
	case layers.Boolean:
		return "Boolean"
	}
	return "String"
}
