// Package tiles owns CityTwin's map tiles: tile coordinates read from requests, the Mapbox
// Vector Tile encoding of in-memory features (project, simplify, snap, clip, then marshal —
// each a step of its own, as in orb's encoding/mvt), the memory tile source over the spatial
// index, the tile cache with its byte budget, and TileJSON.
//
// Every tile, whichever source makes it, follows one set of rules so that the PostGIS and
// memory sources return the same features:
//
//   - extent 4096, buffer 64 pixels, features clipped to the buffered tile;
//   - a layer is in a tile only between its MinZoom and MaxZoom;
//   - below zoom layers.ThinBelowZoom on polygon layers, polygons whose envelope is smaller
//     than layers.ThinPixels tile pixels (a pixel is 40075016.69 / (4096·2^z) metres of Web
//     Mercator) in both dimensions are dropped and the rest simplified with a tolerance of
//     one pixel, never collapsing a ring (as PostGIS's ST_SimplifyPreserveTopology); from
//     that zoom on nothing is simplified or dropped;
//   - coordinates are rounded to whole pixels (half to even) before clipping, and a polygon
//     left without area is dropped, as ST_AsMVTGeom does;
//   - only public fields (layers.Feature.Props) are written; list fields are comma-joined;
//     the MVT feature id is layers.Feature.ID; features are in ascending id order.
package tiles

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

const (
	// Extent is the size of a tile in MVT coordinates.
	Extent = 4096
	// Buffer is how far, in MVT coordinates, features reach beyond the tile's edge so that
	// lines and fills join seamlessly across tiles.
	Buffer = 64
	// MaxZoom is the deepest zoom level a tile request may ask for.
	MaxZoom = 24
	// SimplifyBelowZoom is the first zoom at which polygons are neither simplified nor thinned.
	SimplifyBelowZoom = layers.ThinBelowZoom
)

// ErrBadTile marks tile coordinates that are malformed or out of range.
var ErrBadTile = errors.New("bad tile coordinates")

// CoordError says which tile coordinate was wrong and why.
type CoordError struct {
	Field   string // "z", "x" or "y"
	Value   string // as requested
	Message string
}

func (e *CoordError) Error() string { return e.Field + ": " + e.Message }

// Unwrap makes errors.Is(err, ErrBadTile) true.
func (e *CoordError) Unwrap() error { return ErrBadTile }

// ParseTile reads tile coordinates as they appear in a URL: z a whole number 0..24, x and y
// whole numbers 0..2^z−1, in plain decimal digits (no sign, no spaces, no leading zeros, so
// every tile has exactly one URL and one cache entry).
func ParseTile(z, x, y string) (maptile.Tile, error) {
	zv, err := parseCoord("z", z, MaxZoom, noZoom)
	if err != nil {
		return maptile.Tile{}, err
	}
	n := uint64(1)<<zv - 1
	xv, err := parseCoord("x", x, n, zv)
	if err != nil {
		return maptile.Tile{}, err
	}
	yv, err := parseCoord("y", y, n, zv)
	if err != nil {
		return maptile.Tile{}, err
	}
	return maptile.New(uint32(xv), uint32(yv), maptile.Zoom(zv)), nil
}

// parseCoord reads one coordinate; zoom is that of x and y (noZoom for z itself).
func parseCoord(field, s string, max uint64, zoom uint64) (uint64, error) {
	bad := func(msg string) error { return &CoordError{Field: field, Value: s, Message: msg} }
	if s == "" {
		return 0, bad("missing")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, bad(fmt.Sprintf("%q is not a whole number in decimal digits", s))
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, bad(fmt.Sprintf("%q has a leading zero; write %s", s, trimZeros(s)))
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > max {
		at := ""
		if zoom != noZoom {
			at = fmt.Sprintf(" at zoom %d", zoom)
		}
		return 0, bad(fmt.Sprintf("%s is outside 0..%d%s", s, max, at))
	}
	return v, nil
}

const noZoom = ^uint64(0)

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}

// InZoom reports whether layer l belongs in tiles of zoom z.
func InZoom(l *layers.Layer, z maptile.Zoom) bool {
	return int(z) >= l.MinZoom && int(z) <= l.MaxZoom
}

// QueryBound is the WGS84 bound of tile t grown by the buffer (and one pixel more, for the
// rounding of coordinates onto the pixel grid): every feature that can appear in the tile
// meets it. Sources query their index with it.
func QueryBound(t maptile.Tile) orb.Bound {
	n := float64(uint64(1) << t.Z)
	grow := float64(Buffer+1) / Extent
	west := (float64(t.X)-grow)/n*360 - 180
	east := (float64(t.X)+1+grow)/n*360 - 180
	north := tileLat(float64(t.Y)-grow, n)
	south := tileLat(float64(t.Y)+1+grow, n)
	return orb.Bound{Min: orb.Point{west, south}, Max: orb.Point{east, north}}
}

// tileLat is the latitude of the tile row edge y (fractional) at n tiles per side.
func tileLat(y, n float64) float64 {
	return math.Atan(math.Sinh(math.Pi*(1-2*y/n))) * 180 / math.Pi
}

// MercatorBound is the Web Mercator (EPSG:3857) envelope of tile t, as PostGIS's
// ST_TileEnvelope(z, x, y) computes it.
func MercatorBound(t maptile.Tile) orb.Bound {
	size := 2 * spatial.MercatorHalf / float64(uint64(1)<<t.Z)
	minX := -spatial.MercatorHalf + float64(t.X)*size
	maxY := spatial.MercatorHalf - float64(t.Y)*size
	return orb.Bound{Min: orb.Point{minX, maxY - size}, Max: orb.Point{minX + size, maxY}}
}

// PixelSize is the size of one tile pixel (1/Extent of a tile) at zoom z, in Web Mercator
// metres: the simplification tolerance below SimplifyBelowZoom.
func PixelSize(z maptile.Zoom) float64 {
	return 2 * spatial.MercatorHalf / (Extent * float64(uint64(1)<<z))
}
