package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/maptile/tilecover"

	"github.com/citytwin/citytwin/access"
	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/internal/pgtest"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/layers/postgis"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/scenarios/pgstore"
	"github.com/citytwin/citytwin/spatial"
	"github.com/citytwin/citytwin/tiles"
)

// The routes whose answers may hold restricted fields: a planner's, never the public's.
var mayShowRestricted = map[string]bool{"GET /api/parcels/{id}": true}

// leakScanner finds restricted field names and the restricted values of a data set in bytes.
// Values are found by their first four bytes through a map, so a body is scanned once
// whatever the number of values (the demo city has thousands).
type leakScanner struct {
	byPrefix map[string][]string
}

const scanPrefix = 4

func newLeakScanner(t *testing.T, fs []layers.Feature) *leakScanner {
	t.Helper()
	s := &leakScanner{byPrefix: map[string][]string{}}
	add := func(v string) {
		if len(v) < scanPrefix {
			return // too short to tell from any other text
		}
		k := v[:scanPrefix]
		s.byPrefix[k] = append(s.byPrefix[k], v)
	}
	for _, l := range layers.All() {
		for _, f := range l.Fields {
			if f.Restricted {
				add(f.Name)
			}
		}
	}
	values := 0
	for _, f := range fs {
		for _, v := range f.Restricted {
			add(fmt.Sprint(v))
			values++
		}
	}
	if values == 0 || len(s.byPrefix) < 2 {
		t.Fatal("the data holds no restricted values: the scan would prove nothing")
	}
	return s
}

// find returns the first restricted name or value in b, or "".
func (s *leakScanner) find(b []byte) string {
	for i := 0; i+scanPrefix <= len(b); i++ {
		for _, v := range s.byPrefix[string(b[i:i+scanPrefix])] {
			if bytes.HasPrefix(b[i:], []byte(v)) {
				return v
			}
		}
	}
	return ""
}

// demoFixture is a server on the embedded demo city with its restricted parcel data, a
// scenario store and a planner token, in one of the two modes the server runs in
// (demoSources).
type demoFixture struct {
	h       http.Handler
	srv     *Server
	city    *spatial.City
	scan    *leakScanner
	parcel  int64 // a parcel with restricted values
	planner string
}

var demoFeatures = sync.OnceValues(data.Demo)

// demoSources are the modes the restricted-field scans run in: "memory", the model and its
// tiles in memory with scenarios in a directory; "PostGIS", as `citytwin serve --database`
// runs: the demo city imported into PostGIS (a schema of its own), the model loaded back from
// it with the restricted fields, base-layer tiles made by PostGIS's ST_AsMVT, scenarios in
// PostGIS.
var demoSources = []string{"memory", "PostGIS"}

func newDemoFixture(t *testing.T, source string) *demoFixture {
	t.Helper()
	ctx := context.Background()
	fs, err := demoFeatures()
	if err != nil {
		t.Fatal(err)
	}
	fs = append([]layers.Feature(nil), fs...)
	f := &demoFixture{scan: newLeakScanner(t, fs), planner: "demo-planner-token"}
	for _, ft := range fs {
		if ft.Layer == "parcels" && len(ft.Restricted) > 0 {
			f.parcel = ft.ID
			break
		}
	}
	eng, err := scenarios.NewEngine(scenarios.DefaultParameters())
	if err != nil {
		t.Fatal(err)
	}
	v := access.NewVerifier(nil, 0, quietLogger)
	v.AddFixed(f.planner, access.RolePlanner)
	opts := Options{Logger: quietLogger, Tokens: v, TileCache: tiles.NewCache(32 << 20)}
	var scenarioStore scenarios.Store
	switch source {
	case "memory":
		if f.city, err = spatial.NewCity(fs); err != nil {
			t.Fatal(err)
		}
		if scenarioStore, err = scenarios.OpenDir(t.TempDir()); err != nil {
			t.Fatal(err)
		}
		opts.Mode = "memory"
	case "PostGIS":
		u, _ := pgtest.Schema(t, "web_restricted")
		store, err := postgis.Open(ctx, u)
		if err != nil {
			t.Fatalf("open PostGIS: %v", err)
		}
		t.Cleanup(store.Close)
		if err := postgis.Migrate(ctx, store.Pool()); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		if _, err := store.Import(ctx, fs); err != nil {
			t.Fatalf("import the demo city into PostGIS: %v", err)
		}
		if f.city, err = spatial.Load(ctx, store); err != nil {
			t.Fatalf("load the model from PostGIS: %v", err)
		}
		scenarioStore = pgstore.New(store.Pool())
		opts.Mode, opts.TileSource, opts.TileSourceName, opts.DatabaseCheck = "postgis", store, "postgis", store.Ping
	default:
		t.Fatalf("no demo fixture on %q", source)
	}
	opts.Model = citymodel.Fixed(f.city)
	opts.Scenarios = scenarios.NewService(scenarioStore, eng, opts.Model)
	f.srv = New(opts)
	f.h = f.srv.Handler()
	return f
}

type scanAnswer struct {
	status int
	ctype  string
	body   []byte // decoded from gzip when it was sent so
}

func (f *demoFixture) do(t *testing.T, method, path, token, acceptEncoding, body string) scanAnswer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	if acceptEncoding != "" {
		r.Header.Set("Accept-Encoding", acceptEncoding)
	}
	if id, ok := scenarioWritten(method, path); ok && token != "" {
		etag := "*"
		if sc, _, err := f.srv.opts.Scenarios.Store.Scenario(context.Background(), id); err == nil {
			etag = fmt.Sprintf(`"%d"`, sc.Version)
		}
		r.Header.Set("If-Match", etag)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	b := w.Body.Bytes()
	if w.Header().Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s %s: gzip: %v", method, path, err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s %s: gzip: %v", method, path, err)
		}
	}
	return scanAnswer{w.Code, w.Header().Get("Content-Type"), b}
}

// check scans an answer and, for a tile, its decoded features; it returns how many parcel
// features a tile held.
func (f *demoFixture) check(t *testing.T, what string, a scanAnswer) int {
	t.Helper()
	if v := f.scan.find(a.body); v != "" {
		t.Errorf("%s (%d) holds the restricted %q", what, a.status, v)
	}
	if a.status != http.StatusOK || !strings.HasPrefix(a.ctype, mvtContentType) {
		return 0
	}
	ls, err := mvt.Unmarshal(a.body)
	if err != nil {
		t.Errorf("%s: not an MVT: %v", what, err)
		return 0
	}
	parcels := 0
	for _, l := range ls {
		for _, ft := range l.Features {
			for k, v := range ft.Properties {
				if f.scan.find([]byte(k)) != "" || f.scan.find([]byte(fmt.Sprint(v))) != "" {
					t.Errorf("%s: layer %s has the restricted property %s=%v", what, l.Name, k, v)
				}
			}
			if l.Name == "parcels" {
				parcels++
			}
		}
	}
	return parcels
}

// routeKey names a route as "METHOD template", with {name:pattern} written {name}.
func routeKey(method, tpl string) string {
	return method + " " + routeVar.ReplaceAllString(tpl, "{$1}")
}

// routedKeys walks the router for every route and method but HEAD (the GET handler answers
// it).
func routedKeys(t *testing.T, srv *Server) []string {
	t.Helper()
	var keys []string
	err := srv.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			t.Errorf("route %s has no methods", tpl)
			return nil
		}
		for _, m := range methods {
			if m != http.MethodHead {
				keys = append(keys, routeKey(m, tpl))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	return keys
}

// samples are the requests made of each route: paths with their query, in which {sid},
// {rid} and {cid} stand for a scenario, run and change of the planner's. Good requests
// (every tile of the city at several zooms, every layer's features) and bad ones (whose
// error messages must not leak either). No request names a restricted field itself: an error
// message may repeat what the client sent.
func (f *demoFixture) samples(t *testing.T) map[string][]string {
	t.Helper()
	b := f.city.Bound
	bbox := func(b orb.Bound) string {
		return fmt.Sprintf("%f,%f,%f,%f", b.Min[0], b.Min[1], b.Max[0], b.Max[1])
	}
	c := b.Center()
	quarters := []orb.Bound{
		{Min: b.Min, Max: c}, {Min: c, Max: b.Max},
		{Min: orb.Point{b.Min[0], c[1]}, Max: orb.Point{c[0], b.Max[1]}},
		{Min: orb.Point{c[0], b.Min[1]}, Max: orb.Point{b.Max[0], c[1]}},
	}
	all := layerNames(layers.All())
	var tilePaths, variantTiles []string
	for z := maptile.Zoom(13); z <= 16; z++ {
		set, err := tilecover.Geometry(b.ToPolygon(), z)
		if err != nil {
			t.Fatal(err)
		}
		var ts []maptile.Tile
		for tl := range set {
			ts = append(ts, tl)
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i].X < ts[j].X || ts[i].X == ts[j].X && ts[i].Y < ts[j].Y })
		for _, tl := range ts {
			zxy := fmt.Sprintf("%d/%d/%d", tl.Z, tl.X, tl.Y)
			tilePaths = append(tilePaths, "/tiles/parcels/"+zxy+".mvt")
			if z <= 14 {
				tilePaths = append(tilePaths, "/tiles/"+all+"/"+zxy+".pbf")
			}
		}
	}
	for z := maptile.Zoom(14); z <= 18; z++ {
		tl := maptile.At(c, z)
		variantTiles = append(variantTiles, fmt.Sprintf("/api/scenarios/{sid}/tiles/parcels,buildings/%d/%d/%d.mvt", tl.Z, tl.X, tl.Y))
	}
	tilePaths = append(tilePaths, "/tiles/parcels/99/0/0.mvt", "/tiles/parcels/13/0/0.mvt", "/tiles/owner/13/0/0.mvt")

	var featurePaths []string
	for _, l := range layers.All() {
		featurePaths = append(featurePaths, "/api/features/"+l.Name+"?limit=1000&bbox="+bbox(b))
		if l.Name == "parcels" {
			for _, q := range quarters {
				featurePaths = append(featurePaths, "/api/features/parcels?limit=1000&bbox="+bbox(q))
			}
		}
	}
	featurePaths = append(featurePaths, "/api/features/parcels?bbox=1,2,3", "/api/features/parcels?bbox="+bbox(b)+"&limit=0", "/api/features/nope?bbox="+bbox(b))
	nearest := []string{fmt.Sprintf("/api/nearest?lon=%f&lat=%f&k=50", c[0], c[1]), "/api/nearest?lon=x&lat=1", "/api/nearest?lon=1&lat=1&kind=owner"}
	for _, k := range layers.FacilityKinds {
		nearest = append(nearest, fmt.Sprintf("/api/nearest?lon=%f&lat=%f&k=5&kind=%s", c[0], c[1], k))
	}
	var staticPaths []string
	site, err := static()
	if err != nil {
		t.Fatal(err)
	}
	for p := range site.assets {
		staticPaths = append(staticPaths, "/static/"+p)
	}
	sort.Strings(staticPaths)

	ogc := f.ogcSamples(t)

	var downloads []string
	for _, l := range layers.All() {
		for _, d := range downloadFormats {
			downloads = append(downloads, "/downloads/"+l.Name+"."+d.ext)
		}
	}
	downloads = append(downloads, "/downloads/nope.csv", "/downloads/parcels,buildings.gpkg")

	// Searches: a prefix of every owner's name and of every land book number would find them
	// were they indexed; good and bad queries.
	searches := []string{"/api/search?q=Owner&limit=50", "/api/search?q=LB-0000&limit=50", "/api/search?q=MC-0000&limit=50",
		"/api/search?q=Boulevard+des+Moulins", "/api/search?q=scoala", "/api/search?q=a&limit=50", "/api/search?q=",
		"/api/search?q=" + strings.Repeat("x", MaxSearchQuery+1)}

	run := "/api/scenarios/{sid}/runs/{rid}"
	out := map[string][]string{
		"GET /metrics":     {"/metrics"},
		"GET /healthz":     {"/healthz"},
		"GET /readyz":      {"/readyz"},
		"GET /catalog":     {"/catalog"},
		"GET /api/quality": {"/api/quality"},
		"GET /tiles/{layers}/{z}/{x}/{y}.{format}":               tilePaths,
		"GET /tiles/{layers}.json":                               {"/tiles/" + all + ".json", "/tiles/parcels.json", "/tiles/owners.json"},
		"GET /tiles/{rest}":                                      {"/tiles/parcels/1/2", "/tiles/parcels/a/b/c.mvt"},
		"GET /styles/{name}.json":                                {"/styles/city.json", "/styles/cadastre.json"},
		"GET /fonts/{fontstack}/{range}.pbf":                     {"/fonts/DejaVu%20Sans/0-255.pbf", "/fonts/Nope/0-255.pbf", "/fonts/DejaVu%20Sans/1-2.pbf"},
		"GET /":                                                  {"/"},
		"GET /planner":                                           {"/planner"},
		"GET /docs":                                              {"/docs"},
		"GET /favicon.ico":                                       {"/favicon.ico"},
		"GET /static/":                                           staticPaths,
		"GET /openapi.json":                                      {"/openapi.json"},
		"GET /api/nearest":                                       nearest,
		"GET /api/isochrone":                                     {fmt.Sprintf("/api/isochrone?lon=%f&lat=%f&minutes=15", c[0], c[1]), "/api/isochrone?lon=x&lat=1&minutes=5"},
		"GET /api/features/{layer}":                              featurePaths,
		"GET /api/search":                                        searches,
		"GET /api/parcels/{id}":                                  {fmt.Sprintf("/api/parcels/%d", f.parcel), "/api/parcels/x"},
		"GET /api/admin/tokens":                                  {"/api/admin/tokens"},
		"POST /api/admin/tokens":                                 {"/api/admin/tokens"},
		"DELETE /api/admin/tokens/{id}":                          {"/api/admin/tokens/nobody"},
		"GET /api/admin/audit":                                   {"/api/admin/audit"},
		"GET /admin/import":                                      {"/admin/import"},
		"POST /api/admin/import":                                 {"/api/admin/import"},
		"GET /api/scenarios":                                     {"/api/scenarios"},
		"POST /api/scenarios":                                    {"/api/scenarios"},
		"GET /api/scenarios/compare":                             {"/api/scenarios/compare?ids={sid}"},
		"GET /api/scenarios/{id}":                                {"/api/scenarios/{sid}"},
		"PATCH /api/scenarios/{id}":                              {"/api/scenarios/{sid}"},
		"DELETE /api/scenarios/{id}":                             {"/api/scenarios/{sid}"},
		"POST /api/scenarios/{id}/clone":                         {"/api/scenarios/{sid}/clone"},
		"GET /api/scenarios/{id}/changes":                        {"/api/scenarios/{sid}/changes"},
		"POST /api/scenarios/{id}/changes":                       {"/api/scenarios/{sid}/changes"},
		"DELETE /api/scenarios/{id}/changes/{cid}":               {"/api/scenarios/{sid}/changes/{cid}"},
		"POST /api/scenarios/{id}/run":                           {"/api/scenarios/{sid}/run"},
		"GET /api/scenarios/{id}/runs":                           {"/api/scenarios/{sid}/runs"},
		"GET /api/scenarios/{id}/runs/{rid}":                     {run},
		"GET /api/scenarios/{id}/runs/{rid}/export.csv":          {run + "/export.csv"},
		"GET /api/scenarios/{id}/runs/{rid}/export.geojson":      {run + "/export.geojson"},
		"GET /api/scenarios/{id}/tiles/{layers}/{z}/{x}/{y}.mvt": variantTiles,
		"GET /api/scenarios/{id}/isochrone":                      {fmt.Sprintf("/api/scenarios/{sid}/isochrone?lon=%f&lat=%f&minutes=15", c[0], c[1])},
		"GET /downloads/{layer}.{format}":                        downloads,
		"GET /catalog.dcat.jsonld":                               {"/catalog.dcat.jsonld"},
	}
	for k, v := range ogc {
		out[k] = v
	}
	return out
}

// TestRestrictedFieldsNeverReachThePublic requests every route of the router without a
// token — every GET with and without gzip, every other method expecting 401 — on the demo
// city, in memory and on PostGIS (demoSources), and scans each answer (tiles decoded as MVT
// too) for the names of the restricted fields and for every restricted value of the demo
// data. A route added without sample requests here fails the test.
func TestRestrictedFieldsNeverReachThePublic(t *testing.T) {
	for _, source := range demoSources {
		t.Run(source, func(t *testing.T) { scanAsThePublic(t, newDemoFixture(t, source)) })
	}
}

func scanAsThePublic(t *testing.T, f *demoFixture) {
	samples := f.samples(t)
	fake := strings.NewReplacer("{sid}", "0123456789abcdef", "{rid}", "0123456789abcdef", "{cid}", "c1")
	parcels := 0
	for _, key := range routedKeys(t, f.srv) {
		paths, ok := samples[key]
		if !ok || len(paths) == 0 {
			t.Errorf("route %s has no sample requests in the restricted-field scan: add them to samples", key)
			continue
		}
		method, _, _ := strings.Cut(key, " ")
		for _, p := range paths {
			p = fake.Replace(p)
			if method != http.MethodGet {
				a := f.do(t, method, p, "", "", "{}")
				f.check(t, key+" "+p, a)
				if a.status != http.StatusUnauthorized {
					t.Errorf("%s %s without a token: %d, want 401 (the public role only reads)", method, p, a.status)
				}
				continue
			}
			for _, enc := range []string{"", "gzip"} {
				parcels += f.check(t, fmt.Sprintf("%s (Accept-Encoding %q)", p, enc), f.do(t, method, p, "", enc, ""))
			}
		}
	}
	if parcels == 0 {
		t.Fatal("no public tile held a parcel: the scan looked at nothing that could leak")
	}
	// The scan can fail: a planner's parcel answer holds restricted values, and it finds them.
	if a := f.do(t, "GET", fmt.Sprintf("/api/parcels/%d", f.parcel), f.planner, "", ""); a.status != 200 || f.scan.find(a.body) == "" {
		t.Fatalf("a planner's parcel answer: %d, restricted values found: %q", a.status, f.scan.find(a.body))
	}
}

// TestRestrictedFieldsNeverReachPlannersByAccident makes a scenario with a change and a run,
// then requests every GET route as a planner and scans the answers, exports and variant tiles
// included, in memory and on PostGIS (demoSources): only the routes in mayShowRestricted may
// hold restricted data.
func TestRestrictedFieldsNeverReachPlannersByAccident(t *testing.T) {
	for _, source := range demoSources {
		t.Run(source, func(t *testing.T) { scanAsAPlanner(t, newDemoFixture(t, source)) })
	}
}

func scanAsAPlanner(t *testing.T, f *demoFixture) {
	samples := f.samples(t)
	ids := f.scenarioWithARun(t)
	for _, key := range routedKeys(t, f.srv) {
		method, _, _ := strings.Cut(key, " ")
		if method != http.MethodGet || mayShowRestricted[key] {
			continue
		}
		for _, path := range samples[key] {
			path = ids.Replace(path)
			f.check(t, "a planner's "+path, f.do(t, method, path, f.planner, "gzip", ""))
		}
	}
}

// TestRestrictedFieldsNeverReachThePublicFromAPublishedScenario publishes a scenario with a
// change and a run, then requests every GET route of scenarios without a token, in memory
// and on PostGIS (demoSources): each answers (the published scenario is the public's to read)
// and no answer holds restricted data.
func TestRestrictedFieldsNeverReachThePublicFromAPublishedScenario(t *testing.T) {
	for _, source := range demoSources {
		t.Run(source, func(t *testing.T) {
			f := newDemoFixture(t, source)
			samples := f.samples(t)
			ids := f.scenarioWithARun(t)
			sid := ids.Replace("{sid}")
			if a := f.do(t, "PATCH", "/api/scenarios/"+sid, f.planner, "", `{"visibility": "published"}`); a.status != http.StatusOK {
				t.Fatalf("publish: %d %s", a.status, a.body)
			}
			routes := 0
			for _, key := range routedKeys(t, f.srv) {
				method, tpl, _ := strings.Cut(key, " ")
				if method != http.MethodGet || !strings.HasPrefix(tpl, "/api/scenarios") {
					continue
				}
				routes++
				for _, path := range samples[key] {
					path = ids.Replace(path)
					a := f.do(t, method, path, "", "gzip", "")
					f.check(t, "the public's "+path, a)
					if a.status != http.StatusOK {
						t.Errorf("the public's %s of a published scenario: %d, want 200: %.300s", path, a.status, a.body)
					}
				}
			}
			if routes < 8 {
				t.Fatalf("only %d scenario routes read: the scan misses some", routes)
			}
		})
	}
}

// scenarioWithARun makes a planner's scenario with a change (a tower in the city's middle)
// and a run; it returns the replacer of {sid}, {cid} and {rid} in sample paths.
func (f *demoFixture) scenarioWithARun(t *testing.T) *strings.Replacer {
	t.Helper()
	post := func(path, body string) map[string]any {
		t.Helper()
		a := f.do(t, "POST", path, f.planner, "", body)
		f.check(t, "POST "+path, a)
		if a.status != http.StatusCreated {
			t.Fatalf("POST %s: %d %s", path, a.status, a.body)
		}
		var m map[string]any
		if err := json.Unmarshal(a.body, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	sid := post("/api/scenarios", `{"name": "Leak check"}`)["id"].(string)
	p := f.city.Proj
	c := p.ToMetric(f.city.Bound.Center())
	pt := func(dx, dy float64) orb.Point { return p.ToWGS84(orb.Point{c[0] + dx, c[1] + dy}) }
	tower := geojson.NewGeometry(orb.Polygon{{pt(0, 0), pt(20, 0), pt(20, 20), pt(0, 20), pt(0, 0)}})
	gj, err := tower.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	changes := post("/api/scenarios/"+sid+"/changes", `{"kind": "add_building", "geometry": `+string(gj)+
		`, "properties": {"use": "residential", "floors": 8, "height_m": 25, "dwellings": 30}}`)
	cid := changes["changes"].([]any)[0].(map[string]any)["id"].(string)
	rid := post("/api/scenarios/"+sid+"/run", "")["id"].(string)
	return strings.NewReplacer("{sid}", sid, "{rid}", rid, "{cid}", cid)
}
