package web

import (
	"math"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/tiles"
)

// styles are the MapLibre styles GET /styles/{name}.json serves, by name.
var styles = map[string]func(tileJSONURL string, center [2]float64, zoom int) mapStyle{
	"city": cityStyle,
}

// style serves GET|HEAD /styles/{name}.json: a MapLibre GL style whose one vector source is
// the TileJSON of every layer, at the address the client used. It references no glyphs and
// no sprite, so it works offline with the server alone: it has no text labels.
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
	st := build(requestBaseURL(r)+"/tiles/"+layerNames(all)+".json", center, zoom)
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
	Sources  map[string]any `json:"sources"`
	Layers   []any          `json:"layers"`
}

// cityStyle styles every public layer: thematic overlays under the built fabric, buildings
// extruded by height_m and coloured by use, points on top.
func cityStyle(tileJSONURL string, center [2]float64, zoom int) mapStyle {
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
	return mapStyle{
		Version: 8,
		Name:    "CityTwin city",
		Metadata: map[string]any{
			"citytwin:attribution": layers.Attribution,
			"citytwin:hidden":      "noise, broadband and places start hidden: set their layout visibility to visible",
		},
		Center: center,
		Zoom:   zoom,
		Pitch:  40,
		Sources: map[string]any{
			src: map[string]any{"type": "vector", "url": tileJSONURL},
		},
		Layers: []any{
			map[string]any{"id": "background", "type": "background", "paint": map[string]any{"background-color": "#f4f1ea"}},
			layer("water-fill", "fill", "water", 0, map[string]any{"fill-color": "#a9cfe8"}, nil),
			layer("streets-line", "line", "streets", 13, map[string]any{
				"line-color": styleMatch(styleGet("kind"), "footway", "#d8cfc0", "path", "#d8cfc0", "steps", "#d8cfc0", "#ffffff"),
				"line-width": []any{"interpolate", []any{"linear"}, []any{"zoom"}, 13, 0.5, 18, 6},
			}, nil),
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
			// Place names are labels; without glyphs the style keeps their points hidden.
			layer("places-circle", "circle", "places", 0, map[string]any{"circle-color": "#333333", "circle-radius": 2}, hidden),
			layer("air-stations-circle", "circle", "air_stations", 0, map[string]any{
				// WHO 2021 guideline 5 µg/m³, interim targets 10 and 15, EU limit 25.
				"circle-color":        []any{"step", []any{"coalesce", styleGet("pm25"), 0}, "#1a9850", 5, "#91cf60", 10, "#fee08b", 15, "#fc8d59", 25, "#d73027"},
				"circle-radius":       []any{"interpolate", []any{"linear"}, []any{"zoom"}, 8, 4, 16, 9},
				"circle-stroke-color": "#333333",
				"circle-stroke-width": 1.5,
			}, nil),
		},
	}
}
