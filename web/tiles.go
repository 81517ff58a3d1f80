package web

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/tiles"
)

// Vector tiles of the base layers: GET /tiles/{layers}/{z}/{x}/{y}.mvt (.pbf) and TileJSON at
// GET /tiles/{layers}.json. {layers} is one layer or a comma-separated list made into one
// tile of several MVT layers.

const mvtContentType = "application/vnd.mapbox-vector-tile"

// metaCacheControl is the Cache-Control of the catalog, TileJSON and styles: short, since they
// follow the data's extent, and revalidated cheaply by ETag.
const metaCacheControl = "public, max-age=60"

// forwardedHeaders are the request headers TileJSON and styles build their URLs from (with
// Options.TrustProxy only: dropUntrustedForwarding removes them otherwise).
var forwardedHeaders = forwardingHeaders

// tileState is the server's tile machinery, set up by New from Options.
type tileState struct {
	service      *tiles.Service
	memory       *tiles.MemorySource
	cacheControl string

	lists     sync.Map // raw {layers} → []*layers.Layer in canonical order, for valid lists only
	listCount atomic.Int32
	rank      map[string]int              // a published layer's place in the canonical order (canonicalOrder)
	meta      atomic.Pointer[catalogMeta] // catalog.go
}

// maxCachedLists bounds the parsed-list memo: there are many orderings of the layers.
const maxCachedLists = 1024

// initTiles sets up the tile sources: Options.TileSource (PostGIS when a database is
// configured) for the base layers, else the memory source over the server's model.
func (s *Server) initTiles() {
	o := &s.opts
	ts := &s.tileState
	ts.memory = o.MemoryTiles
	if ts.memory == nil {
		ts.memory = tiles.NewMemorySource(s.model)
	}
	src, name := o.TileSource, o.TileSourceName
	if src == nil {
		src, name = ts.memory, "memory"
	}
	if name == "" {
		name = "base"
	}
	ts.rank = map[string]int{}
	for _, l := range o.Published.Base() {
		ts.rank[l.Name] = len(ts.rank)
	}
	for _, e := range o.Published.Extras() {
		ts.rank[e.Name] = len(ts.rank)
	}
	ts.service = tiles.NewService(name, src, o.TileCache, s.model.Version)
	ts.cacheControl = "no-cache"
	if age := int64(o.TileMaxAge / time.Second); age > 0 {
		ts.cacheControl = "public, max-age=" + strconv.FormatInt(age, 10)
	}
}

// MemoryTiles is the tile source over the in-memory model.
func (s *Server) MemoryTiles() *tiles.MemorySource { return s.tileState.memory }

// tile serves one vector tile: GET|HEAD /tiles/{layers}/{z}/{x}/{y}.mvt (or .pbf).
//
// A tile with no feature in it — outside the data, or a zoom outside every requested layer's
// range — is answered 204 No Content with the same caching headers as any tile, rather than
// 200 with an empty body: MapLibre, OpenLayers and Leaflet treat both as an empty tile, and
// 204 says plainly in logs and CDN statistics that there is nothing there.
func (s *Server) tile(w http.ResponseWriter, r *http.Request) {
	if s.tileFile(w, r) {
		return
	}
	ls, t, ok := s.parseTile(w, r)
	if !ok {
		return
	}
	s.serveTile(w, r, ls, t)
}

// serveTile answers with the tile t of the layers ls, through the tile service and its
// cache; the OGC API tiles (ogctiles.go) are served by it too.
func (s *Server) serveTile(w http.ResponseWriter, r *http.Request, ls []*layers.Layer, t maptile.Tile) {
	tile, err := s.tileState.service.Tile(r.Context(), t, ls)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.observeTile(ls, t.Z, len(tile.Data))
	writeRepresentation(w, r, representation{
		contentType: mvtContentType, cacheControl: s.tileState.cacheControl,
		body: tile.Data, etag: tile.ETag, gzip: tile.Gzip,
	})
}

// badTilePath answers paths under /tiles/ that are not a tile or a TileJSON.
func (s *Server) badTilePath(w http.ResponseWriter, r *http.Request) {
	writeFieldError(w, http.StatusBadRequest, "bad_tile",
		"a tile's path is /tiles/{layers}/{z}/{x}/{y}.mvt (or .pbf), TileJSON's /tiles/{layers}.json", "path")
}

// tileJSON serves GET|HEAD /tiles/{layers}.json: TileJSON 3.0.0 of the layers' tiles, with the
// tile URL built from the address the client used (X-Forwarded-Proto, -Host and -Prefix
// honoured with Options.TrustProxy, for a server behind a proxy).
func (s *Server) tileJSON(w http.ResponseWriter, r *http.Request) {
	if s.tileFile(w, r) {
		return
	}
	ls, ok := s.parseLayers(w, r)
	if !ok {
		return
	}
	names := layerNames(ls)
	tj := tiles.NewTileJSON("citytwin "+names, tileURLTemplate(requestBaseURL(r), names), ls, s.layersBound(ls))
	tj.Attribution = s.attribution(ls)
	body, err := marshalJSON(tj)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeRepresentation(w, r, jsonRepresentation(body, metaCacheControl, forwardedHeaders...))
}

func tileURLTemplate(base, names string) string {
	return base + "/tiles/" + names + "/{z}/{x}/{y}.mvt"
}

// parseTile reads the {layers}, {z}, {x} and {y} of a tile's path, answering the request
// when they are wrong.
func (s *Server) parseTile(w http.ResponseWriter, r *http.Request) ([]*layers.Layer, maptile.Tile, bool) {
	ls, ok := s.parseLayers(w, r)
	if !ok {
		return nil, maptile.Tile{}, false
	}
	v := mux.Vars(r)
	t, err := tiles.ParseTile(v["z"], v["x"], v["y"])
	if err != nil {
		s.writeErr(w, r, err)
		return nil, maptile.Tile{}, false
	}
	return ls, t, true
}

// parseLayers reads the {layers} of a path, among the published layers: 404 for an unknown
// layer, 400 for a malformed list (a name twice, an empty name). The layers come back in the
// canonical order (canonicalOrder), whatever the order of the path.
func (s *Server) parseLayers(w http.ResponseWriter, r *http.Request) ([]*layers.Layer, bool) {
	raw := mux.Vars(r)["layers"]
	ts := &s.tileState
	if v, ok := ts.lists.Load(raw); ok {
		return v.([]*layers.Layer), true
	}
	ls, err := s.opts.Published.ParseList(raw)
	if err != nil {
		s.writeErr(w, r, badParam("layers", "invalid", err))
		return nil, false
	}
	ts.canonicalOrder(ls)
	if ts.listCount.Load() < maxCachedLists {
		if _, loaded := ts.lists.LoadOrStore(raw, ls); !loaded {
			ts.listCount.Add(1)
		}
	}
	return ls, true
}

// canonicalOrder sorts a list of layers into the order of the catalog, then of the extra
// layers' configuration, the order in which the tile sources write them (postgis.Store.Tile
// does the same). Every ordering of one set of layers is then one tile: one tile cache entry,
// one ETag, one URL in TileJSON, rather than one per ordering (10 layers have 3,628,800),
// which a client could otherwise use to fill the cache with copies and miss it every time.
// The order of an MVT's layers means nothing to its readers: MapLibre, OpenLayers and
// Leaflet look layers up by name.
func (ts *tileState) canonicalOrder(ls []*layers.Layer) {
	slices.SortFunc(ls, func(a, b *layers.Layer) int { return cmp.Compare(ts.rank[a.Name], ts.rank[b.Name]) })
}

// cityBound is the WGS84 extent of the model; empty while it loads.
func (s *Server) cityBound() orb.Bound {
	if c := s.model.City(); c != nil {
		return c.Bound
	}
	return orb.Bound{}
}

func layerNames(ls []*layers.Layer) string {
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = l.Name
	}
	return strings.Join(names, ",")
}

// requestBaseURL is the scheme, host and path prefix the client reached the server at:
// X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Prefix (their first values) when a proxy
// set them and they are well formed, else the request's own. Those headers reach a handler
// only when Options.TrustProxy is set (dropUntrustedForwarding).
func requestBaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := strings.ToLower(firstValue(r.Header.Get("X-Forwarded-Proto"))); p == "http" || p == "https" {
		scheme = p
	}
	host := r.Host
	if h := firstValue(r.Header.Get("X-Forwarded-Host")); validHost(h) {
		host = h
	}
	if !validHost(host) {
		host = "localhost"
	}
	prefix := ""
	if p := firstValue(r.Header.Get("X-Forwarded-Prefix")); validPrefix(p) {
		prefix = strings.TrimRight(p, "/")
	}
	return scheme + "://" + host + prefix
}

func firstValue(h string) string {
	v, _, _ := strings.Cut(h, ",")
	return strings.TrimSpace(v)
}

// validHost accepts a host[:port] of letters, digits, '.', '-', '_', ':' and IPv6 brackets.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-_:[]", c) >= 0) {
			return false
		}
	}
	return true
}

// validPrefix accepts an absolute path of URL-safe characters.
func validPrefix(p string) bool {
	if p == "" || p[0] != '/' || len(p) > 200 || strings.Contains(p, "//") {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("/-._~", c) >= 0) {
			return false
		}
	}
	return true
}

// marshalJSON encodes v as writeJSON does (no HTML escaping), with a final newline.
func marshalJSON(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}
