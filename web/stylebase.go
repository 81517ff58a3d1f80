package web

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/citytwin/citytwin/glyphs"
)

// layerFunc makes one style layer on the city's vector source (cityStyle's layer).
type layerFunc = func(id, typ, sourceLayer string, minZoom int, paint, extra map[string]any) map[string]any

// Label colours keep 4.5:1 contrast against their white halo and the light background.
const (
	labelColor      = "#2b2b2b"
	waterLabelColor = "#1f4e79"
	labelHalo       = "rgba(255,255,255,0.9)"
	waterColor      = "#a9cfe8"
)

// minorWays are the street kinds drawn thin and dashed: paths a pedestrian walks, not roads.
var minorWays = []any{"footway", "path", "steps", "pedestrian", "cycleway", "track", "bridleway", "corridor", "crossing"}

func concat(parts ...[]any) []any {
	var out []any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// baseMapLayers draw the ground the city stands on: water, then streets (roads as white
// lines with a casing, footpaths dashed).
func baseMapLayers(layer layerFunc) []any {
	minor := []any{"match", styleGet("kind"), minorWays, true, false}
	// roadWidth grows with zoom and the street's class; the casing is the same plus a rim
	// (zoom expressions cannot be nested in arithmetic, so the rim is added at each stop).
	roadWidth := func(rim float64) []any {
		return []any{"interpolate", []any{"exponential", 1.5}, []any{"zoom"}, 13, 1 + rim,
			16, styleMatch(styleGet("kind"), "primary", 8+rim, "secondary", 7+rim, "tertiary", 6+rim, 4.5+rim),
			19, styleMatch(styleGet("kind"), "primary", 28+rim, "secondary", 24+rim, "tertiary", 20+rim, 14+rim)}
	}
	return []any{
		layer("water-fill", "fill", "water", 0, map[string]any{"fill-color": waterColor}, nil),
		layer("streets-casing", "line", "streets", 13, map[string]any{
			"line-color": "#d3cbbb", "line-width": roadWidth(1.5),
		}, map[string]any{"filter": []any{"!", minor}, "layout": map[string]any{"line-join": "round", "line-cap": "round"}}),
		layer("streets-line", "line", "streets", 13, map[string]any{
			"line-color": "#ffffff", "line-width": roadWidth(0),
		}, map[string]any{"filter": []any{"!", minor}, "layout": map[string]any{"line-join": "round", "line-cap": "round"}}),
		layer("paths-line", "line", "streets", 15, map[string]any{
			"line-color": "#a0907a", "line-width": []any{"interpolate", []any{"linear"}, []any{"zoom"}, 15, 0.8, 19, 2.5},
			"line-dasharray": []any{2, 1.5},
		}, map[string]any{"filter": minor}),
	}
}

// labelLayers name streets along their lines, places (the city, its quarters and districts,
// squares) and water bodies, in the embedded font (fonts.go) so that ș and ț come out right.
// Districts are named through the places layer's points rather than over their areas: an area
// cut by tile edges would get a label in every tile it crosses.
func labelLayers(layer layerFunc) []any {
	font := []any{glyphs.DefaultFont}
	named := []any{"has", "name"}
	text := func(size any, extra map[string]any) map[string]any {
		l := map[string]any{"text-field": styleGet("name"), "text-font": font, "text-size": size}
		for k, v := range extra {
			l[k] = v
		}
		return l
	}
	halo := func(color string) map[string]any {
		return map[string]any{"text-color": color, "text-halo-color": labelHalo, "text-halo-width": 1.5}
	}
	return []any{
		layer("water-label", "symbol", "water", 14, halo(waterLabelColor), map[string]any{
			"filter": named, "layout": text(12, map[string]any{"text-max-width": 8}),
		}),
		layer("streets-label", "symbol", "streets", 15, halo(labelColor), map[string]any{
			"filter": named,
			"layout": text([]any{"interpolate", []any{"linear"}, []any{"zoom"}, 15, 11, 19, 15}, map[string]any{
				"symbol-placement": "line", "text-rotation-alignment": "map", "text-max-angle": 30,
			}),
		}),
		layer("places-label", "symbol", "places", 12, halo(labelColor), map[string]any{
			"filter": named,
			"layout": text(styleMatch(styleGet("kind"), "city", 18, "town", 16, "village", 14, "suburb", 14, "quarter", 13, "neighbourhood", 12, 11), map[string]any{
				"text-max-width": 8,
			}),
		}),
	}
}

// withBackgroundSource adds the raster background's source when one is configured.
func withBackgroundSource(sources map[string]any, bg *RasterBackground) map[string]any {
	if bg == nil {
		return sources
	}
	size, maxZoom := bg.TileSize, bg.MaxZoom
	if size == 0 {
		size = 256
	}
	if maxZoom == 0 {
		maxZoom = 19
	}
	src := map[string]any{"type": "raster", "tiles": []string{bg.TilesURL}, "tileSize": size, "maxzoom": maxZoom}
	if bg.Attribution != "" {
		src["attribution"] = bg.Attribution
	}
	sources["background"] = src
	return sources
}

// backgroundLayers draw the raster background, when one is configured, right above the
// background colour.
func backgroundLayers(bg *RasterBackground) []any {
	if bg == nil {
		return nil
	}
	return []any{map[string]any{"id": "background-raster", "type": "raster", "source": "background"}}
}

// CheckRasterTilesURL checks an XYZ tile URL template for a raster background: an absolute
// http(s) URL naming {z}, {x} and {y}.
func CheckRasterTilesURL(template string) error {
	u, err := url.Parse(strings.NewReplacer("{z}", "0", "{x}", "0", "{y}", "0").Replace(template))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", template)
	}
	for _, p := range []string{"{z}", "{x}", "{y}"} {
		if !strings.Contains(template, p) {
			return fmt.Errorf("%q has no %s: an XYZ template names {z}, {x} and {y}", template, p)
		}
	}
	return nil
}
