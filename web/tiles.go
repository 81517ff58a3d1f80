package web

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/cql2"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/tiles"
)

// Vector tiles of the base layers: GET /tiles/{layers}/{z}/{x}/{y}.mvt (.pbf) and TileJSON at
// GET /tiles/{layers}.json. {layers} is one layer or a comma-separated list made into one
// tile of several MVT layers. ?filter= (CQL2, tileFilter) keeps a one-layer tile's features
// that the filter selects.

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
	if r.URL.Query().Has("filter") {
		if _, ok := s.opts.TileFiles[mux.Vars(r)["layers"]]; ok {
			s.writeErr(w, r, badParam("filter", "invalid_parameter", errors.New("a tile file's tiles are made already: they cannot be filtered")))
			return
		}
	}
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
// cache; the OGC API tiles (ogctiles.go) are served by it too. With ?filter= (tileFilter)
// the tile keeps only the features the filter selects, cached under the filter's canonical
// text.
func (s *Server) serveTile(w http.ResponseWriter, r *http.Request, ls []*layers.Layer, t maptile.Tile) {
	f, err := s.tileFilter(r.URL.Query(), ls)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	var tile *tiles.Tile
	if f == nil {
		tile, err = s.tileState.service.Tile(r.Context(), t, ls)
	} else {
		tile, err = s.tileState.service.FilteredTile(r.Context(), t, ls[0], f)
		if errors.Is(err, tiles.ErrFilterUnsupported) {
			err = badParam("filter", "invalid_parameter", err)
		}
	}
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

// MaxTileFilter is the longest filter a tile request may carry, in bytes: enough for any
// filter a map's controls make, and a bound on what one request makes the server parse,
// check, match and keep in the cache key.
const MaxTileFilter = 4 << 10

// tileFilter reads the filter of a tile or TileJSON request: filter in filter-lang (cql2-text,
// the default, or cql2-json; filter-crs, if given, CRS84), parsed and checked as the OGC API
// items route does (parseFilter; errors 400 "invalid_filter" with the line and column),
// against the queryables of the tile's one layer (cql2.QueryablesOf: restricted fields are
// unknown properties). nil without a filter.
//
// A filter needs a tile of one base layer: a filter names one layer's properties, and
// the layers of a composite tile have different ones, so a filter with several layers is
// 400 rather than a guess at which layer it meant; an extra layer (PostGIS tables
// published as they are) cannot be filtered.
func (s *Server) tileFilter(q url.Values, ls []*layers.Layer) (*cql2.Filter, error) {
	text := q.Get("filter")
	if text == "" {
		if q.Has("filter-lang") {
			return nil, badParam("filter-lang", "invalid_parameter", errors.New("filter-lang without a filter"))
		}
		return nil, nil
	}
	if len(text) > MaxTileFilter {
		return nil, badParam("filter", "invalid_filter", fmt.Errorf("the filter is %d bytes long; a tile's filter has at most %d", len(text), MaxTileFilter))
	}
	if v := q.Get("filter-crs"); v != "" && v != crs84 {
		return nil, badParam("filter-crs", "invalid_parameter", fmt.Errorf("%q is not supported; the only CRS is %s", v, crs84))
	}
	if len(ls) != 1 {
		return nil, badParam("filter", "invalid_parameter", fmt.Errorf("a filter applies to a tile of one layer, and this tile has %d (%s): ask for each layer's tile with its own filter", len(ls), layerNames(ls)))
	}
	l := ls[0]
	if s.opts.Published.Extra(l.Name) != nil {
		return nil, badParam("filter", "invalid_parameter", fmt.Errorf("%s is an extra layer: filters apply to the base layers", l.Name))
	}
	e, err := parseFilter(text, q.Get("filter-lang"))
	if err != nil {
		return nil, err
	}
	f, err := cql2.Check(e, cql2.QueryablesOf(l))
	if err != nil {
		return nil, badParam("filter", "invalid_filter", err)
	}
	return f, nil
}

// badTilePath answers paths under /tiles/ that are not a tile or a TileJSON.
func (s *Server) badTilePath(w http.ResponseWriter, r *http.Request) {
	writeFieldError(w, http.StatusBadRequest, "bad_tile",
		"a tile's path is /tiles/{layers}/{z}/{x}/{y}.mvt (or .pbf), TileJSON's /tiles/{layers}.json", "path")
}

// tileJSON serves GET|HEAD /tiles/{layers}.json: TileJSON 3.0.0 of the layers' tiles, with the
// tile URL built from the address the client used (X-Forwarded-Proto, -Host and -Prefix
// honoured with Options.TrustProxy, for a server behind a proxy). With ?filter= (checked as
// for a tile) the tile URL carries the filter's canonical text.
func (s *Server) tileJSON(w http.ResponseWriter, r *http.Request) {
	if s.tileFile(w, r) {
		return
	}
	ls, ok := s.parseLayers(w, r)
	if !ok {
		return
	}
	f, err := s.tileFilter(r.URL.Query(), ls)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	names := layerNames(ls)
	tileURL := tileURLTemplate(requestBaseURL(r), names)
	if f != nil {
		// The canonical text, in the default language: every spelling of one filter gives
		// one tile URL, hence one entry in the server's and in shared caches.
		tileURL += "?" + url.Values{"filter": {f.String()}}.Encode()
	}
	tj := tiles.NewTileJSON("citytwin "+names, tileURL, ls, s.layersBound(ls))
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
