package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
	"github.com/citytwin/citytwin/tiles"
)

// OGC API Tiles: the WebMercatorQuad tile matrix set, the vector tilesets of each collection
// (/ogc/collections/{collectionId}/tiles/...) and of every layer together (/ogc/tiles/...).
// A tile is the tile of /tiles/{layers}/{z}/{x}/{y}.mvt — same bytes, cache and ETag
// (serveTile) — with tileMatrix = z, tileRow = y and tileCol = x.

// webMercatorQuad is the identifier of the one tile matrix set served.
const webMercatorQuad = "WebMercatorQuad"

const (
	webMercatorQuadURI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
	epsg3857           = "http://www.opengis.net/def/crs/EPSG/0/3857"
)

// tmsTileMatrix is one level of a tile matrix set (OGC 17-083r4, TMS 2.0 JSON).
type tmsTileMatrix struct {
	ID               string     `json:"id"`
	ScaleDenominator float64    `json:"scaleDenominator"`
	CellSize         float64    `json:"cellSize"`
	CornerOfOrigin   string     `json:"cornerOfOrigin"`
	PointOfOrigin    [2]float64 `json:"pointOfOrigin"`
	TileWidth        int        `json:"tileWidth"`
	TileHeight       int        `json:"tileHeight"`
	MatrixWidth      uint64     `json:"matrixWidth"`
	MatrixHeight     uint64     `json:"matrixHeight"`
}

// tms10TileMatrix is the same level in the JSON encoding of TMS 1.0 (OGC 17-083r2).
type tms10TileMatrix struct {
	Type             string     `json:"type"`
	Identifier       string     `json:"identifier"`
	ScaleDenominator float64    `json:"scaleDenominator"`
	TopLeftCorner    [2]float64 `json:"topLeftCorner"`
	TileWidth        int        `json:"tileWidth"`
	TileHeight       int        `json:"tileHeight"`
	MatrixWidth      uint64     `json:"matrixWidth"`
	MatrixHeight     uint64     `json:"matrixHeight"`
}

// webMercatorQuadDefinition is the standard WebMercatorQuad of OGC 17-083r4 annex D.1, zoom
// 0 to tiles.MaxZoom: 256-pixel tiles whose cell at zoom z is the equator
// (2·spatial.MercatorHalf = 40075016.69 m) over 256·2^z, and whose scale denominator is that
// cell over the standard 0.28 mm pixel (zoom 0: 156543.0339 m, 1:559082264.03).
//
// The document carries the TMS 2.0 members and, beside them, those of TMS 1.0 (type
// TileMatrixSetType, identifier, supportedCRS, tileMatrix): clients written for TMS 1.0,
// such as GDAL before 3.7 (Debian 12's), read only those, and TMS 2.0 clients ignore them.
func webMercatorQuadDefinition(base string) map[string]any {
	ms := make([]tmsTileMatrix, 0, tiles.MaxZoom+1)
	ms10 := make([]tms10TileMatrix, 0, tiles.MaxZoom+1)
	origin := [2]float64{-spatial.MercatorHalf, spatial.MercatorHalf}
	for z := 0; z <= tiles.MaxZoom; z++ {
		cell := 2 * spatial.MercatorHalf / (256 * math.Exp2(float64(z)))
		ms = append(ms, tmsTileMatrix{
			ID: strconv.Itoa(z), ScaleDenominator: cell / 0.00028, CellSize: cell,
			CornerOfOrigin: "topLeft", PointOfOrigin: origin,
			TileWidth: 256, TileHeight: 256, MatrixWidth: 1 << z, MatrixHeight: 1 << z,
		})
		ms10 = append(ms10, tms10TileMatrix{
			Type: "TileMatrixType", Identifier: strconv.Itoa(z), ScaleDenominator: cell / 0.00028,
			TopLeftCorner: origin, TileWidth: 256, TileHeight: 256, MatrixWidth: 1 << z, MatrixHeight: 1 << z,
		})
	}
	return map[string]any{
		"type":         "TileMatrixSetType",
		"identifier":   webMercatorQuad,
		"supportedCRS": epsg3857,
		"tileMatrix":   ms10,

		"id":                webMercatorQuad,
		"title":             "Google Maps Compatible for the World",
		"uri":               webMercatorQuadURI,
		"crs":               epsg3857,
		"orderedAxes":       []string{"X", "Y"},
		"wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
		"tileMatrices":      ms,
		"links": []ogcLink{
			{Href: base + "/tileMatrixSets/" + webMercatorQuad, Rel: "self", Type: jsonType, Title: "this tile matrix set"},
		},
	}
}

// ogcTileMatrixSets: GET /ogc/tileMatrixSets.
func (s *Server) ogcTileMatrixSets(w http.ResponseWriter, r *http.Request) {
	base := ogcBase(r)
	s.writeOGC(w, r, jsonType, map[string]any{
		"tileMatrixSets": []map[string]any{{
			"id": webMercatorQuad, "title": "Google Maps Compatible for the World", "uri": webMercatorQuadURI, "crs": epsg3857,
			"links": []ogcLink{{Href: base + "/tileMatrixSets/" + webMercatorQuad, Rel: relTilingScheme, Type: jsonType, Title: webMercatorQuad}},
		}},
		"links": []ogcLink{{Href: base + "/tileMatrixSets", Rel: "self", Type: jsonType, Title: "tile matrix sets"}},
	})
}

// ogcTileMatrixSet: GET /ogc/tileMatrixSets/{tileMatrixSetId}.
func (s *Server) ogcTileMatrixSet(w http.ResponseWriter, r *http.Request) {
	if !s.ogcTMS(w, r) {
		return
	}
	s.writeOGC(w, r, jsonType, webMercatorQuadDefinition(ogcBase(r)))
}

// ogcTMS checks the {tileMatrixSetId} of a path: WebMercatorQuad, else 404.
func (s *Server) ogcTMS(w http.ResponseWriter, r *http.Request) bool {
	if id := mux.Vars(r)["tileMatrixSetId"]; id != webMercatorQuad {
		writeFieldError(w, http.StatusNotFound, "not_found",
			fmt.Sprintf("no tile matrix set %q; the one served is %s", id, webMercatorQuad), "tileMatrixSetId")
		return false
	}
	return true
}

// tilesetsList is the list of a set of layers' tilesets (one: WebMercatorQuad) at path.
func tilesetsList(base, path, title string) map[string]any {
	return map[string]any{
		"tilesets": []map[string]any{{
			"title": title, "dataType": "vector", "crs": epsg3857, "tileMatrixSetURI": webMercatorQuadURI,
			"links": []ogcLink{
				{Href: path + "/" + webMercatorQuad, Rel: "self", Type: jsonType, Title: title + " in " + webMercatorQuad},
				{Href: base + "/tileMatrixSets/" + webMercatorQuad, Rel: relTilingScheme, Type: jsonType, Title: webMercatorQuad},
			},
		}},
		"links": []ogcLink{{Href: path, Rel: "self", Type: jsonType, Title: "tilesets"}},
	}
}

// tileset is the TileSet metadata of the layers ls in WebMercatorQuad, its tiles at path
// (with query after the tile's coordinates):
// the zooms and the tiles of each zoom that hold the layers' features
// (tileMatrixSetLimits, from the model's extent of the layers; none while it loads).
func (s *Server) tileset(r *http.Request, path, query, title string, ls []*layers.Layer, geodata []ogcLink) map[string]any {
	base := ogcBase(r)
	links := append([]ogcLink{
		{Href: path, Rel: "self", Type: jsonType, Title: title},
		{Href: base + "/tileMatrixSets/" + webMercatorQuad, Rel: relTilingScheme, Type: jsonType, Title: webMercatorQuad},
		{Href: path + "/{tileMatrix}/{tileRow}/{tileCol}" + query, Rel: "item", Type: mvtContentType, Title: "a tile", Templated: true},
	}, geodata...)
	minZ, maxZ := tiles.MaxZoom, 0
	vls := make([]map[string]any, 0, len(ls))
	for _, l := range ls {
		lo, hi := max(l.MinZoom, 0), min(l.MaxZoom, tiles.MaxZoom)
		minZ, maxZ = min(minZ, lo), max(maxZ, hi)
		dim := 2
		switch l.Geometry {
		case layers.Point:
			dim = 0
		case layers.LineString:
			dim = 1
		}
		vls = append(vls, map[string]any{
			"id": l.Name, "title": l.Title, "description": l.Description, "dataType": "vector",
			"geometryDimension": dim, "minTileMatrix": strconv.Itoa(lo), "maxTileMatrix": strconv.Itoa(hi),
		})
	}
	ts := map[string]any{
		"title": title, "dataType": "vector", "crs": epsg3857, "tileMatrixSetURI": webMercatorQuadURI,
		"links": links, "layers": vls,
	}
	b := s.layersBound(ls)
	if b.IsZero() || minZ > maxZ {
		return ts
	}
	limits := make([]map[string]any, 0, maxZ-minZ+1)
	for z := minZ; z <= maxZ; z++ {
		nw := maptile.At(orb.Point{b.Min[0], b.Max[1]}, maptile.Zoom(z))
		se := maptile.At(orb.Point{b.Max[0], b.Min[1]}, maptile.Zoom(z))
		limits = append(limits, map[string]any{
			"tileMatrix": strconv.Itoa(z), "minTileRow": nw.Y, "maxTileRow": se.Y, "minTileCol": nw.X, "maxTileCol": se.X,
		})
	}
	ts["tileMatrixSetLimits"] = limits
	rb := roundBound(b)
	ts["boundingBox"] = map[string]any{"lowerLeft": []float64{rb[0], rb[1]}, "upperRight": []float64{rb[2], rb[3]}, "crs": crs84}
	return ts
}

// ogcCollectionTilesets: GET /ogc/collections/{collectionId}/tiles.
func (s *Server) ogcCollectionTilesets(w http.ResponseWriter, r *http.Request) {
	l, ok := s.ogcLayer(w, r)
	if !ok {
		return
	}
	base := ogcBase(r)
	s.writeOGC(w, r, jsonType, tilesetsList(base, base+"/collections/"+l.Name+"/tiles", l.Title))
}

// ogcCollectionTileset: GET /ogc/collections/{collectionId}/tiles/{tileMatrixSetId}.
func (s *Server) ogcCollectionTileset(w http.ResponseWriter, r *http.Request) {
	l, ok := s.ogcLayer(w, r)
	if !ok || !s.ogcTMS(w, r) {
		return
	}
	c := ogcBase(r) + "/collections/" + l.Name
	s.writeOGC(w, r, jsonType, s.tileset(r, c+"/tiles/"+webMercatorQuad, "", l.Title, []*layers.Layer{l},
		[]ogcLink{{Href: c, Rel: relGeodata, Type: jsonType, Title: l.Title}}))
}

// ogcCollectionTile: GET /ogc/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}.
func (s *Server) ogcCollectionTile(w http.ResponseWriter, r *http.Request) {
	l, ok := s.ogcLayer(w, r)
	if !ok || !s.ogcTMS(w, r) {
		return
	}
	if t, ok := s.ogcTile(w, r); ok {
		s.serveTile(w, r, []*layers.Layer{l}, t)
	}
}

// ogcTile reads {tileMatrix}, {tileRow} and {tileCol}: z, y and x.
func (s *Server) ogcTile(w http.ResponseWriter, r *http.Request) (maptile.Tile, bool) {
	v := mux.Vars(r)
	t, err := tiles.ParseTile(v["tileMatrix"], v["tileCol"], v["tileRow"])
	var ce *tiles.CoordError
	if errors.As(err, &ce) {
		// Name the coordinate as the path does.
		named := *ce
		named.Field = map[string]string{"z": "tileMatrix", "x": "tileCol", "y": "tileRow"}[ce.Field]
		err = &named
	}
	if err != nil {
		s.writeErr(w, r, err)
		return maptile.Tile{}, false
	}
	return t, true
}

// ogcDatasetLayers reads ?collections=a,b of the dataset tiles: those base layers, in that
// order; every published base layer without it.
func (s *Server) ogcDatasetLayers(w http.ResponseWriter, r *http.Request) ([]*layers.Layer, bool) {
	c := r.URL.Query().Get("collections")
	if c == "" {
		return s.opts.Published.Base(), true
	}
	ls, err := s.opts.Published.ParseBaseList(c)
	if err != nil {
		s.writeErr(w, r, badParam("collections", "invalid", err))
		return nil, false
	}
	return ls, true
}

// ogcDatasetTilesets: GET /ogc/tiles.
func (s *Server) ogcDatasetTilesets(w http.ResponseWriter, r *http.Request) {
	base := ogcBase(r)
	s.writeOGC(w, r, jsonType, tilesetsList(base, base+"/tiles", "CityTwin"))
}

// ogcDatasetTileset: GET /ogc/tiles/{tileMatrixSetId}.
func (s *Server) ogcDatasetTileset(w http.ResponseWriter, r *http.Request) {
	if !s.ogcTMS(w, r) {
		return
	}
	ls, ok := s.ogcDatasetLayers(w, r)
	if !ok {
		return
	}
	base := ogcBase(r)
	geodata := make([]ogcLink, len(ls))
	for i, l := range ls {
		geodata[i] = ogcLink{Href: base + "/collections/" + l.Name, Rel: relGeodata, Type: jsonType, Title: l.Title}
	}
	query := ""
	if c := r.URL.Query().Get("collections"); c != "" {
		query = "?collections=" + layerNames(ls)
	}
	s.writeOGC(w, r, jsonType, s.tileset(r, base+"/tiles/"+webMercatorQuad, query, "CityTwin", ls, geodata))
}

// ogcDatasetTile: GET /ogc/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}[?collections=a,b]
// — one tile of several layers, as /tiles/{a,b}/{z}/{x}/{y}.mvt.
func (s *Server) ogcDatasetTile(w http.ResponseWriter, r *http.Request) {
	if !s.ogcTMS(w, r) {
		return
	}
	ls, ok := s.ogcDatasetLayers(w, r)
	if !ok {
		return
	}
	if t, ok := s.ogcTile(w, r); ok {
		s.serveTile(w, r, ls, t)
	}
}
