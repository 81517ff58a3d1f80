package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
	"github.com/citytwin/citytwin/tiles"
)

var tileOrigin = orb.Point{23.59, 46.77}

var quietLogger = slog.New(slog.DiscardHandler)

// tileTestCity is a small city with every layer and restricted parcel data.
func tileTestCity(t testing.TB) *spatial.City {
	t.Helper()
	p := spatial.NewProjection(tileOrigin)
	sq := func(x, y, side float64) orb.Polygon {
		c := func(dx, dy float64) orb.Point { return p.ToWGS84(orb.Point{x + dx, y + dy}) }
		return orb.Polygon{{c(0, 0), c(side, 0), c(side, side), c(0, side), c(0, 0)}}
	}
	var fs []layers.Feature
	add := func(layer string, g orb.Geometry, props, restricted map[string]any) {
		fs = append(fs, layers.Feature{Layer: layer, ID: int64(len(fs) + 1), Geometry: g, Props: props, Restricted: restricted})
	}
	for i := range 10 {
		for j := range 10 {
			x, y := float64(i*40-200), float64(j*40-200)
			add("parcels", sq(x, y, 40), map[string]any{"cad_number": fmt.Sprintf("CJ-%d", i*10+j), "intravilan": true, "area_m2": 1600.0},
				map[string]any{"owner_name": "SECRET-OWNER", "land_book": "SECRET-BOOK"})
			add("buildings", sq(x+10, y+10, 20), map[string]any{"use": "residential", "floors": int64(4), "height_m": 12.0, "derived": false}, nil)
		}
	}
	add("zoning", sq(-200, -200, 400), map[string]any{"code": "L1", "allowed_uses": []string{"residential", "mixed"}, "max_floors": int64(5)}, nil)
	add("facilities", p.ToWGS84(orb.Point{5, 5}), map[string]any{"kind": "school", "name": "Liceul 1", "capacity": int64(800)}, nil)
	add("districts", sq(-200, -200, 400), map[string]any{"name": "Centru", "code": "C"}, nil)
	c, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type tileFixture struct {
	srv   *Server
	model *citymodel.Model
	h     http.Handler
	cache *tiles.Cache
}

func newTileFixture(t testing.TB, origins ...string) *tileFixture {
	t.Helper()
	return newTileFixtureWith(t, func(o *Options) { o.CORSOrigins = origins })
}

// newTileFixtureWith is newTileFixture with options of the test's own.
func newTileFixtureWith(t testing.TB, set func(o *Options)) *tileFixture {
	t.Helper()
	cache := tiles.NewCache(8 << 20)
	model := citymodel.Fixed(tileTestCity(t))
	o := Options{Logger: quietLogger, Model: model, TileCache: cache, TileMaxAge: time.Hour}
	set(&o)
	srv := New(o)
	return &tileFixture{srv: srv, model: model, h: srv.Handler(), cache: cache}
}

// behindProxy is a server behind a proxy that sets X-Forwarded-*.
func behindProxy(o *Options) { o.TrustProxy = true }

func (f *tileFixture) do(method, path string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// centreTile is the tile of the test city's centre at zoom z, as a path under /tiles/{layers}/.
func centreTile(z maptile.Zoom) string {
	t := maptile.At(tileOrigin, z)
	return fmt.Sprintf("%d/%d/%d", t.Z, t.X, t.Y)
}

func TestTileRequestsAreValidated(t *testing.T) {
	f := newTileFixture(t)
	tests := []struct {
		name, path string
		status     int
		code       string
		field      string
	}{
		{"zoom beyond 24", "/tiles/buildings/25/0/0.mvt", 400, "bad_tile", "z"},
		{"zoom in words", "/tiles/buildings/abc/0/0.mvt", 400, "bad_tile", "z"},
		{"zoom with a leading zero", "/tiles/buildings/02/0/1.mvt", 400, "bad_tile", "z"},
		{"x past the edge of its zoom", "/tiles/buildings/2/4/0.mvt", 400, "bad_tile", "x"},
		{"negative x", "/tiles/buildings/2/-1/0.mvt", 400, "bad_tile", "x"},
		{"y past the edge of its zoom", "/tiles/buildings/2/0/4.pbf", 400, "bad_tile", "y"},
		{"fractional y", "/tiles/buildings/2/0/1.5.mvt", 400, "bad_tile", "y"},
		{"a coordinate missing", "/tiles/buildings/15/0.mvt", 400, "bad_tile", "path"},
		{"another format", "/tiles/buildings/15/0/0.png", 400, "bad_tile", "path"},
		{"an unknown layer", "/tiles/roads/15/0/0.mvt", 404, "unknown_layer", "layers"},
		{"an unknown layer in a list", "/tiles/buildings,roads/15/0/0.mvt", 404, "unknown_layer", "layers"},
		{"a layer twice", "/tiles/buildings,buildings/15/0/0.mvt", 400, "invalid", "layers"},
		{"TileJSON of an unknown layer", "/tiles/roads.json", 404, "unknown_layer", "layers"},
		{"an unknown style", "/styles/night.json", 404, "unknown_style", "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do("GET", tt.path)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d (%s)", w.Code, tt.status, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("Content-Type %q, want JSON", ct)
			}
			var body struct {
				Error struct{ Code, Message, Field string }
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q is not the JSON error: %v", w.Body, err)
			}
			if body.Error.Code != tt.code || body.Error.Field != tt.field || body.Error.Message == "" {
				t.Fatalf("error %+v, want code %s field %s", body.Error, tt.code, tt.field)
			}
			if w.Header().Get("ETag") != "" || w.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("an error carries ETag %q, Cache-Control %q", w.Header().Get("ETag"), w.Header().Get("Cache-Control"))
			}
		})
	}
	if w := f.do("POST", "/tiles/buildings/"+centreTile(16)+".mvt"); w.Code != 405 {
		t.Errorf("POST a tile: %d, want 405", w.Code)
	}
}

func TestATileIsServedWithItsHeaders(t *testing.T) {
	f := newTileFixture(t)
	path := "/tiles/buildings/" + centreTile(16) + ".mvt"
	w := f.do("GET", path)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	h := w.Header()
	want := map[string]string{
		"Content-Type":   "application/vnd.mapbox-vector-tile",
		"Cache-Control":  "public, max-age=3600",
		"Vary":           "Accept-Encoding",
		"Content-Length": fmt.Sprint(w.Body.Len()),
	}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
	if etag := h.Get("ETag"); len(etag) < 3 || etag[0] != '"' || strings.HasPrefix(etag, "W/") {
		t.Errorf("ETag %q is not a strong tag", etag)
	}
	ls, err := mvt.Unmarshal(w.Body.Bytes())
	if err != nil || len(ls) != 1 || ls[0].Name != "buildings" || len(ls[0].Features) == 0 {
		t.Fatalf("the body is not a buildings tile: %v %v", ls, err)
	}

	pbf := f.do("GET", strings.TrimSuffix(path, ".mvt")+".pbf")
	if pbf.Code != 200 || !bytes.Equal(pbf.Body.Bytes(), w.Body.Bytes()) || pbf.Header().Get("ETag") != h.Get("ETag") {
		t.Errorf(".pbf answers %d with other bytes than .mvt", pbf.Code)
	}

	head := f.do("HEAD", path)
	if head.Code != 200 || head.Body.Len() != 0 || head.Header().Get("ETag") != h.Get("ETag") || head.Header().Get("Content-Length") != h.Get("Content-Length") {
		t.Errorf("HEAD: %d, %d bytes, headers %v", head.Code, head.Body.Len(), head.Header())
	}
}

func TestConditionalTileRequests(t *testing.T) {
	f := newTileFixture(t)
	path := "/tiles/buildings/" + centreTile(16) + ".mvt"
	first := f.do("GET", path)
	etag := first.Header().Get("ETag")
	gz := f.do("GET", path, "Accept-Encoding", "gzip")
	gzTag := gz.Header().Get("ETag")
	for _, tt := range []struct {
		name   string
		header []string
		status int
	}{
		{"the tile's ETag answers 304", []string{"If-None-Match", etag}, 304},
		{"the ETag weakened by a proxy answers 304", []string{"If-None-Match", "W/" + etag}, 304},
		{"the ETag among others answers 304", []string{"If-None-Match", `"nope", ` + etag}, 304},
		{"a star answers 304", []string{"If-None-Match", "*"}, 304},
		{"another ETag answers 200", []string{"If-None-Match", `"0000000000000000"`}, 200},
		{"the gzip ETag answers 304 to a gzip request", []string{"If-None-Match", gzTag, "Accept-Encoding", "gzip"}, 304},
		{"the gzip ETag answers 200 to an identity request", []string{"If-None-Match", gzTag}, 200},
		{"the identity ETag answers 200 to a gzip request", []string{"If-None-Match", etag, "Accept-Encoding", "gzip"}, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do("GET", path, tt.header...)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d", w.Code, tt.status)
			}
			if tt.status == 304 {
				if w.Body.Len() != 0 || w.Header().Get("ETag") == "" || w.Header().Get("Cache-Control") == "" {
					t.Fatalf("304 with %d bytes, headers %v", w.Body.Len(), w.Header())
				}
			}
		})
	}
}

func TestTilesAreGzippedWhenAccepted(t *testing.T) {
	f := newTileFixture(t)
	path := "/tiles/parcels,buildings/" + centreTile(16) + ".mvt"
	plain := f.do("GET", path)
	for _, tt := range []struct {
		accept string
		gzip   bool
	}{
		{"gzip", true},
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.8", true},
		{"*", true},
		{"gzip;q=0", false},
		{"br", false},
		{"identity", false},
	} {
		t.Run(tt.accept, func(t *testing.T) {
			w := f.do("GET", path, "Accept-Encoding", tt.accept)
			if got := w.Header().Get("Content-Encoding") == "gzip"; got != tt.gzip {
				t.Fatalf("gzipped: %v, want %v", got, tt.gzip)
			}
			if w.Header().Get("Vary") != "Accept-Encoding" {
				t.Fatalf("Vary %q", w.Header().Get("Vary"))
			}
			if !tt.gzip {
				return
			}
			if w.Header().Get("ETag") == plain.Header().Get("ETag") {
				t.Fatal("the gzip coding has the identity's ETag")
			}
			if w.Header().Get("Content-Length") != fmt.Sprint(w.Body.Len()) {
				t.Fatal("Content-Length is not the gzipped length")
			}
			r, err := gzip.NewReader(w.Body)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(r)
			if !bytes.Equal(raw, plain.Body.Bytes()) {
				t.Fatal("the gzipped tile does not inflate to the tile")
			}
		})
	}
}

func TestEmptyTileIs204(t *testing.T) {
	f := newTileFixture(t)
	for _, path := range []string{
		"/tiles/buildings/10/100/100.mvt",                // far from the city
		"/tiles/buildings/" + centreTile(12) + ".mvt",    // below the buildings' minzoom
		"/tiles/air_stations/" + centreTile(16) + ".mvt", // a layer with no data
	} {
		w := f.do("GET", path, "Accept-Encoding", "gzip")
		if w.Code != 204 || w.Body.Len() != 0 {
			t.Errorf("%s: %d with %d bytes, want 204 and none", path, w.Code, w.Body.Len())
		}
		if w.Header().Get("ETag") == "" || w.Header().Get("Cache-Control") != "public, max-age=3600" || w.Header().Get("Content-Encoding") != "" {
			t.Errorf("%s: headers %v", path, w.Header())
		}
	}
}

func TestCompositeTileHasEveryRequestedLayer(t *testing.T) {
	f := newTileFixture(t)
	w := f.do("GET", "/tiles/parcels,buildings,facilities,districts/"+centreTile(16)+".mvt")
	ls, err := mvt.Unmarshal(w.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range ls {
		names = append(names, l.Name)
	}
	if strings.Join(names, ",") != "parcels,buildings,facilities,districts" {
		t.Fatalf("layers %v, want parcels, buildings, facilities, districts in that order", names)
	}
}

func TestEveryOrderingOfTheLayersIsOneCachedTile(t *testing.T) {
	f := newTileFixture(t)
	var etag string
	for _, list := range []string{"buildings,parcels,districts", "districts,buildings,parcels", "parcels,districts,buildings"} {
		w := f.do("GET", "/tiles/"+list+"/"+centreTile(16)+".mvt")
		if w.Code != 200 {
			t.Fatalf("%s: status %d", list, w.Code)
		}
		ls, err := mvt.Unmarshal(w.Body.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, l := range ls {
			names = append(names, l.Name)
		}
		if got := strings.Join(names, ","); got != "parcels,buildings,districts" {
			t.Errorf("%s: layers %s, want the requested ones in catalog order", list, got)
		}
		if etag == "" {
			etag = w.Header().Get("ETag")
		} else if w.Header().Get("ETag") != etag {
			t.Errorf("%s: ETag %s, the first ordering's was %s", list, w.Header().Get("ETag"), etag)
		}
	}
	if s := f.cache.Stats(); s.Computations != 1 || s.Entries != 1 {
		t.Fatalf("three orderings of one set of layers: %+v, want 1 computation and 1 entry", s)
	}
	var tj tiles.TileJSON
	w := f.do("GET", "/tiles/districts,buildings.json")
	if err := json.Unmarshal(w.Body.Bytes(), &tj); err != nil || tj.Tiles[0] != "http://example.com/tiles/buildings,districts/{z}/{x}/{y}.mvt" {
		t.Fatalf("TileJSON of districts,buildings: tiles %v (%v), want the URL of the canonical order", tj.Tiles, err)
	}
}

func TestTilesAreCachedAndInvalidated(t *testing.T) {
	f := newTileFixture(t)
	path := "/tiles/buildings/" + centreTile(15) + ".mvt"
	f.do("GET", path)
	f.do("GET", path, "Accept-Encoding", "gzip")
	if s := f.cache.Stats(); s.Computations != 1 || s.Hits != 1 {
		t.Fatalf("after two requests: %+v, want 1 computation and 1 hit", s)
	}
	f.model.Invalidate()
	f.do("GET", path)
	if s := f.cache.Stats(); s.Computations != 2 {
		t.Fatalf("after invalidation: %+v, want a second computation", s)
	}
}

func TestTilesWaitForTheModel(t *testing.T) {
	srv := New(Options{Logger: quietLogger})
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/tiles/buildings/"+centreTile(15)+".mvt", nil))
	if w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("a tile before the model: %d %v", w.Code, w.Header())
	}
}

func TestCORS(t *testing.T) {
	t.Run("a preflight from an allowed origin", func(t *testing.T) {
		f := newTileFixture(t, "https://map.example")
		w := f.do("OPTIONS", "/tiles/buildings/"+centreTile(16)+".mvt",
			"Origin", "https://map.example", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "if-none-match")
		h := w.Header()
		if w.Code != 204 || h.Get("Access-Control-Allow-Origin") != "https://map.example" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "GET") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "If-None-Match") ||
			!strings.Contains(h.Get("Vary"), "Origin") || h.Get("Access-Control-Max-Age") == "" {
			t.Fatalf("%d %v", w.Code, h)
		}
	})
	t.Run("a preflight from another origin gets no permission", func(t *testing.T) {
		f := newTileFixture(t, "https://map.example")
		w := f.do("OPTIONS", "/catalog", "Origin", "https://evil.example", "Access-Control-Request-Method", "GET")
		if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("%d %v", w.Code, w.Header())
		}
	})
	t.Run("a tile from an allowed origin exposes its ETag", func(t *testing.T) {
		f := newTileFixture(t, "https://map.example")
		w := f.do("GET", "/tiles/buildings/"+centreTile(16)+".mvt", "Origin", "https://map.example")
		if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != "https://map.example" ||
			!strings.Contains(w.Header().Get("Access-Control-Expose-Headers"), "ETag") {
			t.Fatalf("%d %v", w.Code, w.Header())
		}
	})
	t.Run("any origin", func(t *testing.T) {
		f := newTileFixture(t, "*")
		w := f.do("GET", "/tiles/roads/16/0/0.mvt", "Origin", "https://anywhere.example")
		if w.Code != 404 || w.Header().Get("Access-Control-Allow-Origin") != "*" || strings.Contains(w.Header().Get("Vary"), "Origin") {
			t.Fatalf("an error answer to any origin: %d %v", w.Code, w.Header())
		}
	})
	t.Run("no origins configured", func(t *testing.T) {
		f := newTileFixture(t)
		w := f.do("GET", "/catalog", "Origin", "https://map.example")
		if w.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("CORS headers without configured origins: %v", w.Header())
		}
	})
}

func TestCORSOfPersonalDataAndAdministrationIsSeparate(t *testing.T) {
	const ops = "https://ops.example"
	cases := []struct {
		name         string
		admin        []string
		origin, path string
		method       string
		want         string // Access-Control-Allow-Origin
	}{
		{"tiles answer any origin", nil, "https://anywhere.example", "/catalog", "GET", "*"},
		{"token administration answers no origin by default", nil, "https://anywhere.example", "/api/admin/tokens", "GET", ""},
		{"nor does its preflight", nil, "https://anywhere.example", "/api/admin/tokens", "OPTIONS", ""},
		{"a parcel's owner answers no origin by default", nil, "https://anywhere.example", "/api/parcels/1", "GET", ""},
		{"nor does an unclean path to it", nil, "https://anywhere.example", "/api/./parcels/1", "GET", ""},
		{"a configured admin origin is answered", []string{ops}, ops, "/api/admin/tokens", "OPTIONS", ops},
		{"another origin is not, though tiles allow any", []string{ops}, "https://anywhere.example", "/api/parcels/1", "GET", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newTileFixtureWith(t, func(o *Options) { o.CORSOrigins, o.CORSAdminOrigins = []string{"*"}, c.admin })
			w := f.do(c.method, c.path, "Origin", c.origin, "Access-Control-Request-Method", "GET")
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != c.want {
				t.Errorf("%s %s from %s: Access-Control-Allow-Origin %q, want %q", c.method, c.path, c.origin, got, c.want)
			}
		})
	}
}

func TestTileJSON(t *testing.T) {
	f := newTileFixtureWith(t, behindProxy)
	w := f.do("GET", "/tiles/buildings,parcels.json",
		"X-Forwarded-Proto", "https", "X-Forwarded-Host", "maps.example.org", "X-Forwarded-Prefix", "/city/")
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var tj tiles.TileJSON
	if err := json.Unmarshal(w.Body.Bytes(), &tj); err != nil {
		t.Fatal(err)
	}
	// The layers in catalog order (parcels first), as the tiles are made.
	if tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 || tj.Tiles[0] != "https://maps.example.org/city/tiles/parcels,buildings/{z}/{x}/{y}.mvt" {
		t.Fatalf("tilejson %s, tiles %v", tj.TileJSON, tj.Tiles)
	}
	if tj.MinZoom != 13 || tj.MaxZoom != 22 || tj.Attribution != layers.Attribution {
		t.Fatalf("zooms %d..%d, attribution %q", tj.MinZoom, tj.MaxZoom, tj.Attribution)
	}
	if len(tj.VectorLayers) != 2 || tj.VectorLayers[0].ID != "parcels" || tj.VectorLayers[0].Fields["intravilan"] != "Boolean" ||
		tj.VectorLayers[1].Fields["floors"] != "Number" || tj.VectorLayers[0].Fields["cad_number"] != "String" {
		t.Fatalf("vector_layers %+v", tj.VectorLayers)
	}
	if _, leak := tj.VectorLayers[0].Fields["owner_name"]; leak {
		t.Fatal("a restricted field is listed")
	}
	b := f.model.City().Bound
	if tj.Bounds[0] > b.Min[0] || tj.Bounds[2] < b.Max[0]-1e-6 || tj.Center[0] < b.Min[0] || tj.Center[0] > b.Max[0] || tj.Center[2] < 13 {
		t.Fatalf("bounds %v center %v for a city %v", tj.Bounds, tj.Center, b)
	}
	if !strings.Contains(strings.Join(w.Header().Values("Vary"), ","), "X-Forwarded-Host") {
		t.Fatalf("Vary %v", w.Header().Values("Vary"))
	}

	// Without a proxy: the request's own host; a forged, malformed host is ignored.
	w = f.do("GET", "/tiles/buildings.json", "X-Forwarded-Host", "evil.example/<script>")
	if err := json.Unmarshal(w.Body.Bytes(), &tj); err != nil || tj.Tiles[0] != "http://example.com/tiles/buildings/{z}/{x}/{y}.mvt" {
		t.Fatalf("tiles %v (%v)", tj.Tiles, err)
	}
	// ETag and 304.
	if again := f.do("GET", "/tiles/buildings.json", "If-None-Match", w.Header().Get("ETag")); again.Code != 304 {
		t.Fatalf("revalidating TileJSON: %d", again.Code)
	}
}

func TestForwardedAddressesNeedATrustedProxy(t *testing.T) {
	forwarded := []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil.example", "X-Forwarded-Prefix", "/phish"}
	cases := []struct {
		name  string
		set   func(o *Options)
		proxy bool
	}{
		{"without --trust-proxy the client's X-Forwarded-* are ignored", func(o *Options) {}, false},
		{"with --trust-proxy the proxy's X-Forwarded-* give the address", behindProxy, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newTileFixtureWith(t, c.set)
			base := "http://example.com" // httptest.NewRequest's host
			if c.proxy {
				base = "https://evil.example/phish"
			}
			for path, want := range map[string]string{
				"/tiles/buildings.json": `"` + base + `/tiles/buildings/{z}/{x}/{y}.mvt"`,
				"/catalog":              `"` + base + `/tiles/buildings/{z}/{x}/{y}.mvt"`,
				"/styles/city.json":     `"` + base + `/tiles/`,
			} {
				w := f.do("GET", path, forwarded...)
				if w.Code != 200 || !strings.Contains(w.Body.String(), want) {
					t.Errorf("%s: %d, want a URL %s in\n%.400s", path, w.Code, want, w.Body)
				}
				if !c.proxy && strings.Contains(w.Body.String(), "evil.example") {
					t.Errorf("%s names the client's forwarded host", path)
				}
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	f := newTileFixture(t)
	w := f.do("GET", "/catalog")
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	var cat catalogAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &cat); err != nil {
		t.Fatal(err)
	}
	if len(cat.Layers) != len(layers.All()) || cat.Bounds == nil || cat.Attribution == "" {
		t.Fatalf("catalog with %d layers, bounds %v", len(cat.Layers), cat.Bounds)
	}
	for _, l := range cat.Layers {
		cl, _ := layers.Lookup(l.Name)
		if l.Title == "" || l.Description == "" || l.GeometryType != string(cl.Geometry) || l.MinZoom != cl.MinZoom || l.MaxZoom != cl.MaxZoom ||
			l.DerivedNote == "" || l.Attribution == "" || !strings.HasSuffix(l.Tiles, "/tiles/"+l.Name+"/{z}/{x}/{y}.mvt") {
			t.Errorf("layer %+v", l)
		}
		if len(l.Fields) != len(cl.PublicFields()) {
			t.Errorf("layer %s lists %d fields, has %d public ones", l.Name, len(l.Fields), len(cl.PublicFields()))
		}
		for _, fd := range l.Fields {
			if fd.Type == "" || fd.Description == "" || fd.TileType == "" {
				t.Errorf("layer %s field %+v", l.Name, fd)
			}
		}
	}
	var parcels catalogLayer
	for _, l := range cat.Layers {
		if l.Name == "parcels" {
			parcels = l
		}
	}
	if parcels.Features != 100 || parcels.Bounds == nil {
		t.Fatalf("parcels: %d features, bounds %v", parcels.Features, parcels.Bounds)
	}
}

func TestStyle(t *testing.T) {
	f := newTileFixtureWith(t, behindProxy)
	w := f.do("GET", "/styles/city.json", "X-Forwarded-Host", "maps.example.org")
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var st struct {
		Version int
		Glyphs  string
		Sprite  any
		Sources map[string]struct{ Type, URL string }
		Layers  []struct {
			ID          string
			Type        string
			SourceLayer string `json:"source-layer"`
			Layout      struct {
				TextFont []string `json:"text-font"`
			}
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	// Glyphs come from this server itself (no third-party font server), no sprite: the style
	// works with the server alone.
	if st.Version != 8 || st.Glyphs != "http://maps.example.org/fonts/{fontstack}/{range}.pbf" || st.Sprite != nil {
		t.Fatalf("version %d, glyphs %q, sprite %v: the style must work with this server alone", st.Version, st.Glyphs, st.Sprite)
	}
	src := st.Sources["city"]
	if src.Type != "vector" || src.URL != "http://maps.example.org/tiles/"+layerNames(layers.All())+".json" {
		t.Fatalf("source %+v", src)
	}
	styled := map[string]string{}
	labelled := map[string]bool{}
	for _, l := range st.Layers {
		if l.Type == "symbol" {
			labelled[l.SourceLayer] = true
			// Every font a label names is one this server draws: MapLibre asks for the stack as
			// one path segment, comma-separated.
			path := strings.NewReplacer("http://maps.example.org", "", "{fontstack}", url.PathEscape(strings.Join(l.Layout.TextFont, ",")), "{range}", "512-767").Replace(st.Glyphs)
			if g := f.do("GET", path); g.Code != 200 || g.Header().Get("Content-Type") != "application/x-protobuf" {
				t.Errorf("layer %s: %s answered %d %s", l.ID, path, g.Code, g.Header().Get("Content-Type"))
			}
		}
		if styled[l.SourceLayer] == "" {
			styled[l.SourceLayer] = l.Type
		}
	}
	for _, l := range layers.All() {
		if styled[l.Name] == "" {
			t.Errorf("layer %s is not styled", l.Name)
		}
	}
	if styled["buildings"] != "fill-extrusion" {
		t.Errorf("buildings are drawn as %s, want fill-extrusion", styled["buildings"])
	}
	for _, name := range []string{"streets", "places", "water"} {
		if !labelled[name] {
			t.Errorf("no labels on %s", name)
		}
	}
	if last := st.Layers[len(st.Layers)-1]; last.Type != "symbol" {
		t.Errorf("the top layer is %s (%s): labels must be drawn over everything", last.ID, last.Type)
	}
}

func TestStyleDrawsAConfiguredRasterBackgroundFirst(t *testing.T) {
	bg := &RasterBackground{TilesURL: "https://tiles.example.org/ortho/{z}/{x}/{y}.jpg", Attribution: "© Ortho provider"}
	f := newTileFixtureWith(t, func(o *Options) { o.Background = bg })
	var st struct {
		Sources map[string]map[string]any
		Layers  []struct{ ID, Type, Source string }
	}
	if err := json.Unmarshal(f.do("GET", "/styles/city.json").Body.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	raster := st.Sources["background"]
	if raster["type"] != "raster" || fmt.Sprint(raster["tiles"]) != "["+bg.TilesURL+"]" || raster["attribution"] != bg.Attribution {
		t.Fatalf("background source %v", raster)
	}
	if len(st.Layers) < 2 || st.Layers[1].Type != "raster" || st.Layers[1].Source != "background" {
		t.Fatalf("layers start %+v, want the background colour then the raster", st.Layers[:2])
	}
	// Without the option, no raster at all.
	plain := newTileFixture(t)
	if strings.Contains(plain.do("GET", "/styles/city.json").Body.String(), `"raster"`) {
		t.Error("a style without a configured background has a raster layer")
	}
}

func TestCheckRasterTilesURL(t *testing.T) {
	for tmpl, ok := range map[string]bool{
		"https://tiles.example.org/{z}/{x}/{y}.png": true,
		"http://127.0.0.1:8081/ortho/{z}/{y}/{x}":   true,
		"https://tiles.example.org/{z}/{x}.png":     false, // no {y}
		"tiles.example.org/{z}/{x}/{y}.png":         false, // not absolute
		"file:///etc/{z}/{x}/{y}":                   false,
	} {
		if err := CheckRasterTilesURL(tmpl); (err == nil) != ok {
			t.Errorf("CheckRasterTilesURL(%q) = %v, want ok=%v", tmpl, err, ok)
		}
	}
}

func TestRestrictedFieldsNeverLeaveThroughTilesOrMetadata(t *testing.T) {
	f := newTileFixture(t)
	all := layerNames(layers.All())
	paths := []string{"/catalog", "/tiles/" + all + ".json", "/tiles/parcels.json", "/styles/city.json"}
	for z := maptile.Zoom(12); z <= 17; z++ {
		paths = append(paths, "/tiles/"+all+"/"+centreTile(z)+".mvt", "/tiles/parcels/"+centreTile(z)+".pbf")
	}
	for _, p := range paths {
		for _, accept := range []string{"", "gzip"} {
			w := f.do("GET", p, "Accept-Encoding", accept)
			body := w.Body.Bytes()
			if w.Header().Get("Content-Encoding") == "gzip" {
				r, err := gzip.NewReader(w.Body)
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(r)
			}
			for _, secret := range []string{"owner_name", "land_book", "SECRET"} {
				if bytes.Contains(body, []byte(secret)) {
					t.Errorf("%s (Accept-Encoding %q) holds %q", p, accept, secret)
				}
			}
		}
	}
}

// TestStyleIsValidMapLibre checks the city style with MapLibre's own style validator, in Node.
func TestStyleIsValidMapLibre(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: the style check needs Node.js 20+ and the e2e modules (run `npm ci --prefix e2e`)")
	}
	if _, err := os.Stat(filepath.Join(root, "e2e", "node_modules", "@maplibre", "maplibre-gl-style-spec", "package.json")); err != nil {
		t.Fatal("the Node module @maplibre/maplibre-gl-style-spec is missing: run `npm ci --prefix e2e`")
	}
	// With a raster background, so that its source and layer are checked too.
	f := newTileFixtureWith(t, func(o *Options) {
		o.Background = &RasterBackground{TilesURL: "https://tiles.example.org/{z}/{x}/{y}.png", Attribution: "© example"}
	})
	w := f.do("GET", "/styles/city.json")
	file := filepath.Join(t.TempDir(), "city.json")
	if err := os.WriteFile(file, w.Body.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, filepath.Join(root, "e2e", "validate-style.mjs"), file).CombinedOutput()
	if err != nil {
		t.Fatalf("the style is not valid MapLibre: %v\n%s", err, out)
	}
}

// BenchmarkCachedTileHTTP is a cache hit through the whole handler chain: routing,
// middleware, the cache and the answer's headers.
func BenchmarkCachedTileHTTP(b *testing.B) {
	f := newTileFixture(b, "*")
	path := "/tiles/buildings/" + centreTile(16) + ".mvt"
	f.do("GET", path)
	r := httptest.NewRequest("GET", path, nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
