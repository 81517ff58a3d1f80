package web

import (
	"math"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/tiles"
)

// styles are the MapLibre styles GET /styles/{name}.json serves, by name.
var styles = map[string]func(styleParams) mapStyle{
	"city": cityStyle,
}

// styleParams are what a style needs from the server and the request.
type styleParams struct {
	TileJSONURL string // the TileJSON of every public layer
	GlyphsURL   string // the glyphs template, {fontstack} and {range} left in
	Center      [2]float64
	Zoom        int
	Background  *RasterBackground // nil: none
	Published   map[string]bool   // the layers the tiles hold; the style draws no other
}

// RasterBackground is an optional raster layer drawn under the city's own layers (an aerial
// photograph, a national base map), from an XYZ tile URL template.
type RasterBackground struct {
	TilesURL    string // https://…/{z}/{x}/{y}.png
	Attribution string // shown on the map; the provider's terms usually require it
	TileSize    int    // 256 when 0
	MaxZoom     int    // 19 when 0
}

// style serves GET|HEAD /styles/{name}.json: a MapLibre GL style whose one vector source is
// the TileJSON of every layer, at the address the client used, with labels drawn from the
// glyphs this server serves itself (fonts.go) and no sprite, so it works offline with the
// server alone.
func (s *Server) style(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	build, ok := styles[name]
	if !ok {
		writeFieldError(w, http.StatusNotFound, "unknown_style", "no style "+name+" (known: city)", "name")
		return
	}
	all := s.opts.Published.Base()
	b := s.cityBound()
	minZoom, maxZoom := 0, 22
	zoom := 13
	center := [2]float64{23.59, 46.77} // Cluj-Napoca, while the model loads
	if !b.IsZero() {
		c := b.Center()
		center = [2]float64{math.Round(c[0]*1e6) / 1e6, math.Round(c[1]*1e6) / 1e6}
		zoom = tiles.FitZoom(b, minZoom, maxZoom) + 1 // the first view shows streets, not the region
	}
	base := requestBaseURL(r)
	published := map[string]bool{}
	for _, l := range all {
		published[l.Name] = true
	}
	st := build(styleParams{
		TileJSONURL: base + "/tiles/" + layerNames(all) + ".json",
		GlyphsURL:   base + glyphsPath,
		Center:      center, Zoom: zoom,
		Background: s.opts.Background,
		Published:  published,
	})
	body, err := marshalJSON(st)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeRepresentation(w, r, jsonRepresentation(body, metaCacheControl, forwardedHeaders...))
}

// Colours shared by the style's layers.
var (
	buildingUseColors = []any{
		"residential", "#e8c07d", "mixed", "#e39b5c", "commercial", "#d9665b", "office", "#9b7bc8",
		"industrial", "#8d8d8d", "education", "#5fa8d3", "health", "#e377a8", "culture", "#b07cc6",
	}
	facilityKindColors = []any{
		"kindergarten", "#f4a261", "school", "#e76f51", "high_school", "#d62828", "university", "#9d0208",
		"hospital", "#c1121f", "clinic", "#e5383b", "pharmacy", "#2a9d8f", "library", "#6a4c93",
		"culture", "#8338ec", "sport", "#38b000", "citizen_center", "#1d3557", "public_wifi", "#0096c7",
	}
)

func styleMatch(input any, pairsAndDefault ...any) []any {
	return append([]any{"match", input}, pairsAndDefault...)
}

func styleGet(field string) []any { return []any{"get", field} }

// mapStyle is the root of a MapLibre style, its members in the order the spec lists them.
type mapStyle struct {
	Version  int            `json:"version"`
	Name     string         `json:"name"`
	Metadata map[string]any `json:"metadata,omitempty"`
	Center   [2]float64     `json:"center"`
	Zoom     int            `json:"zoom"`
	Pitch    int            `json:"pitch"`
	Glyphs   string         `json:"glyphs,omitempty"`
	Sources  map[string]any `json:"sources"`
	Layers   []any          `json:"layers"`
}

// cityStyle styles every public layer: the base map (water, streets) under thematic overlays,
// buildings extruded by height_m and coloured by use, points, then the labels of streets,
// places, water and districts on top.
func cityStyle(p styleParams) mapStyle {
	const src = "city"
	layer := func(id, typ, sourceLayer string, minZoom int, paint map[string]any, extra map[string]any) map[string]any {
		l := map[string]any{"id": id, "type": typ, "source": src, "source-layer": sourceLayer, "paint": paint}
		if minZoom > 0 {
			l["minzoom"] = minZoom
		}
		for k, v := range extra {
			l[k] = v
		}
		return l
	}
	hidden := map[string]any{"layout": map[string]any{"visibility": "none"}}
	height := []any{"coalesce", styleGet("height_m"), []any{"*", 3, []any{"coalesce", styleGet("floors"), 1}}}
	return onlyPublished(mapStyle{
		Version: 8,
		Name:    "CityTwin city",
		Metadata: map[string]any{
			"citytwin:attribution": layers.Attribution,
			"citytwin:hidden":      "noise and broadband start hidden: set their layout visibility to visible",
		},
		Center: p.Center,
		Zoom:   p.Zoom,
		Pitch:  40,
		Glyphs: p.GlyphsURL,
		Sources: withBackgroundSource(map[string]any{
			src: map[string]any{"type": "vector", "url": p.TileJSONURL},
		}, p.Background),
		Layers: concat(
			[]any{map[string]any{"id": "background", "type": "background", "paint": map[string]any{"background-color": "#f4f1ea"}}},
			backgroundLayers(p.Background),
			baseMapLayers(layer),
			[]any{
				layer("zoning-fill", "fill", "zoning", 0, map[string]any{
					"fill-color": styleMatch([]any{"upcase", []any{"slice", []any{"coalesce", styleGet("code"), ""}, 0, 1}},
						"L", "#f6e39c", "M", "#f4b183", "C", "#e98f8f", "A", "#c9a3d9", "I", "#c9a3d9",
						"V", "#b5dca0", "S", "#9ec9e8", "T", "#cfcfcf", "#e0dccf"),
					"fill-opacity": 0.35,
				}, nil),
				layer("zoning-line", "line", "zoning", 0, map[string]any{"line-color": "#b3a57a", "line-width": 0.6}, nil),
				layer("flood-fill", "fill", "flood", 0, map[string]any{
					"fill-color":   styleMatch(styleGet("return_period_years"), 10, "#08519c", 100, "#3182bd", 1000, "#9ecae1", "#6baed6"),
					"fill-opacity": 0.35,
				}, nil),
				layer("noise-fill", "fill", "noise", 0, map[string]any{
					"fill-color":   []any{"step", []any{"coalesce", styleGet("lden_db"), 0}, "#ffffbf", 60, "#fdae61", 65, "#f46d43", 70, "#d73027", 75, "#a50026"},
					"fill-opacity": 0.35,
				}, hidden),
				layer("broadband-fill", "fill", "broadband", 0, map[string]any{
					"fill-color":   []any{"step", []any{"coalesce", styleGet("max_down_mbps"), 0}, "#d7191c", 30, "#fdae61", 100, "#a6d96a", 1000, "#1a9641"},
					"fill-opacity": 0.3,
				}, hidden),
				layer("green-spaces-fill", "fill", "green_spaces", 0, map[string]any{
					"fill-color":   styleMatch(styleGet("kind"), "forest", "#6a9f58", "playground", "#c5e1a5", "#9cc98a"),
					"fill-opacity": 0.8,
				}, nil),
				layer("parcels-line", "line", "parcels", 15, map[string]any{
					"line-color": styleMatch(styleGet("ownership"), "public", "#7a9cc6", "#b8a98f"),
					"line-width": []any{"interpolate", []any{"linear"}, []any{"zoom"}, 15, 0.3, 18, 1.2},
				}, nil),
				layer("buildings-3d", "fill-extrusion", "buildings", 13, map[string]any{
					"fill-extrusion-color":   styleMatch(styleGet("use"), append(append([]any{}, buildingUseColors...), "#bfb8ab")...),
					"fill-extrusion-height":  []any{"interpolate", []any{"linear"}, []any{"zoom"}, 13, 0, 14.5, height},
					"fill-extrusion-base":    0,
					"fill-extrusion-opacity": 0.9,
				}, nil),
				layer("districts-line", "line", "districts", 0, map[string]any{
					"line-color": "#444444", "line-width": 1.5, "line-dasharray": []any{3, 2},
				}, nil),
				layer("facilities-circle", "circle", "facilities", 0, map[string]any{
					"circle-color":        styleMatch(styleGet("kind"), append(append([]any{}, facilityKindColors...), "#555555")...),
					"circle-radius":       []any{"interpolate", []any{"linear"}, []any{"zoom"}, 10, 2, 16, 6},
					"circle-stroke-color": "#ffffff",
					"circle-stroke-width": 1,
				}, nil),
				layer("air-stations-circle", "circle", "air_stations", 0, map[string]any{
					// WHO 2021 guideline 5 µg/m³, interim targets 10 and 15, EU limit 25.
					"circle-color":        []any{"step", []any{"coalesce", styleGet("pm25"), 0}, "#1a9850", 5, "#91cf60", 10, "#fee08b", 15, "#fc8d59", 25, "#d73027"},
					"circle-radius":       []any{"interpolate", []any{"linear"}, []any{"zoom"}, 8, 4, 16, 9},
					"circle-stroke-color": "#333333",
					"circle-stroke-width": 1.5,
				}, nil),
			},
			labelLayers(layer),
		),
	}, p.Published)
}

// onlyPublished drops the layers drawing a source-layer the tiles do not hold (MapLibre
// refuses them), so that a city without, say, a water layer still gets a valid style.
func onlyPublished(st mapStyle, published map[string]bool) mapStyle {
	kept := st.Layers[:0]
	for _, l := range st.Layers {
		if sl, ok := l.(map[string]any)["source-layer"].(string); ok && !published[sl] {
			continue
		}
		kept = append(kept, l)
	}
	st.Layers = kept
	return st
}
