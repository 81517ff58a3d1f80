package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/spatial"
	"github.com/citytwin/citytwin/tiles"
)

const (
	plannerToken = "planner-secret"
	viewerToken  = "viewer-secret" // a known token of the public role
)

// apiCity is a small city in metres around its centre: a district, a zone (max 20 m), two
// parcels (one with an owner's name, which must never leave the server), two buildings,
// two schools, a clinic and a park.
func apiCity(t testing.TB) *spatial.City {
	t.Helper()
	p := spatial.NewProjection(orb.Point{23.59, 46.77})
	pt := func(x, y float64) orb.Point { return p.ToWGS84(orb.Point{x, y}) }
	r := func(x0, y0, x1, y1 float64) orb.Polygon {
		return orb.Polygon{orb.Ring{pt(x0, y0), pt(x1, y0), pt(x1, y1), pt(x0, y1), pt(x0, y0)}}
	}
	type m = map[string]any
	fs := []layers.Feature{
		{Layer: "districts", ID: 1, Geometry: r(-1000, -1000, 1000, 1000), Props: m{"name": "Centre", "code": "C"}},
		{Layer: "zoning", ID: 1, Geometry: r(-1000, -1000, 1000, 1000), Props: m{"code": "Z", "max_height_m": 20.0}},
		{Layer: "parcels", ID: 1, Geometry: r(0, 0, 100, 100), Props: m{"cad_number": "100"}, Restricted: m{"owner_name": "Ion Popescu", "land_book": "LB-1"}},
		{Layer: "parcels", ID: 2, Geometry: r(-120, 0, -20, 100), Props: m{"cad_number": "101"}},
		{Layer: "buildings", ID: 1, Geometry: r(10, 10, 40, 40), Props: m{"use": "residential", "floors": int64(4), "height_m": 12.0, "dwellings": int64(20)}},
		{Layer: "buildings", ID: 2, Geometry: r(-110, 10, -80, 40), Props: m{"use": "office", "floors": int64(2), "height_m": 7.0}},
		{Layer: "facilities", ID: 1, Geometry: pt(0, 300), Props: m{"kind": "school", "name": "North school", "capacity": int64(100)}},
		{Layer: "facilities", ID: 2, Geometry: pt(0, -600), Props: m{"kind": "school", "name": "South school", "capacity": int64(100)}},
		{Layer: "facilities", ID: 3, Geometry: pt(400, 0), Props: m{"kind": "clinic", "name": "Clinic"}},
		{Layer: "green_spaces", ID: 1, Geometry: r(200, 200, 300, 300), Props: m{"kind": "park", "public": true}},
		{Layer: "green_spaces", ID: 2, Geometry: r(50, -60, 80, -30), Props: m{"kind": "park", "public": false}},
	}
	c, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func scenarioTestLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type apiFixture struct {
	srv   *Server
	h     http.Handler
	city  *spatial.City
	svc   *scenarios.Service
	model *citymodel.Model
	cache *tiles.Cache
}

func newAPIFixture(t *testing.T, wrap func(scenarios.Store) scenarios.Store) *apiFixture {
	t.Helper()
	c := apiCity(t)
	store, err := scenarios.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var st scenarios.Store = store
	if wrap != nil {
		st = wrap(st)
	}
	// The expectations are worked out with 2.5 residents a dwelling: 2.5 persons, every
	// dwelling occupied.
	params := scenarios.DefaultParameters()
	params.PersonsPerDwelling, params.OccupiedDwellingShare = 2.5, 1
	eng, err := scenarios.NewEngine(params)
	if err != nil {
		t.Fatal(err)
	}
	model := citymodel.Fixed(c)
	svc := scenarios.NewService(st, eng, model)
	cache := tiles.NewCache(8 << 20)
	srv := New(Options{Logger: scenarioTestLogger(), Model: model, TileCache: cache, Tokens: StaticTokens{NewStaticToken(plannerToken, RolePlanner), NewStaticToken(viewerToken, RolePublic)}, Scenarios: svc})
	return &apiFixture{srv: srv, h: srv.Handler(), city: c, svc: svc, model: model, cache: cache}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, a.body)
	}
	return m
}

// errorOf returns the code and field of a JSON error answer.
func (a answer) errorOf(t *testing.T) (code, field string) {
	t.Helper()
	e, ok := a.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("not an error answer: %s", a.body)
	}
	f, _ := e["field"].(string)
	if msg, _ := e["message"].(string); msg == "" {
		t.Fatalf("error without a message: %s", a.body)
	}
	return e["code"].(string), f
}

func (f *apiFixture) do(t *testing.T, method, path, token string, body any, headers ...string) answer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if id, ok := scenarioWritten(method, path); ok {
		req.Header.Set("If-Match", f.currentETag(id))
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return answer{rec.Code, rec.Header(), rec.Body.Bytes()}
}

// scenarioWritten returns the scenario a request writes to, when it is a write to an existing
// scenario (which needs If-Match): PATCH, DELETE and POST under /api/scenarios/{id}, but for
// a clone.
func scenarioWritten(method, path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/api/scenarios/")
	if !ok || method == http.MethodGet || method == http.MethodHead || strings.HasSuffix(path, "/clone") {
		return "", false
	}
	id, _, _ := strings.Cut(rest, "/")
	return id, true
}

// currentETag is the ETag of a scenario's stored version, as a client that read it last
// sends in If-Match; "*" when it cannot be read (a missing scenario: the write is then 404).
// A test gives its own If-Match (or "" for none) in the headers of do.
func (f *apiFixture) currentETag(id string) string {
	svc := f.srv.opts.Scenarios
	if svc == nil {
		return "*"
	}
	sc, _, err := svc.Store.Scenario(context.Background(), id)
	if err != nil {
		return "*"
	}
	return fmt.Sprintf(`"%d"`, sc.Version)
}

func (f *apiFixture) planner(t *testing.T, method, path string, body any, headers ...string) answer {
	t.Helper()
	return f.do(t, method, path, plannerToken, body, headers...)
}

func (f *apiFixture) rect(x0, y0, x1, y1 float64) *geojson.Geometry {
	p := f.city.Proj
	pt := func(x, y float64) orb.Point { return p.ToWGS84(orb.Point{x, y}) }
	return geojson.NewGeometry(orb.Polygon{orb.Ring{pt(x0, y0), pt(x1, y0), pt(x1, y1), pt(x0, y1), pt(x0, y0)}})
}

func (f *apiFixture) create(t *testing.T, name string) string {
	t.Helper()
	a := f.planner(t, "POST", "/api/scenarios", map[string]any{"name": name})
	if a.status != http.StatusCreated {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	return a.json(t)["id"].(string)
}

func wantStatus(t *testing.T, what string, a answer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, a.status, status, a.body)
	}
}

func wantError(t *testing.T, what string, a answer, status int, code, field string) {
	t.Helper()
	wantStatus(t, what, a, status)
	gotCode, gotField := a.errorOf(t)
	if gotCode != code || gotField != field {
		t.Fatalf("%s: error %s on %q, want %s on %q: %s", what, gotCode, gotField, code, field, a.body)
	}
}

// Reads are open to the public for published scenarios (published_test.go); every write
// needs a planner.
func TestScenarioWritesNeedAPlanner(t *testing.T) {
	f := newAPIFixture(t, nil)
	for _, route := range []struct{ method, path string }{
		{"POST", "/api/scenarios"}, {"PATCH", "/api/scenarios/0123456789abcdef"},
		{"DELETE", "/api/scenarios/0123456789abcdef"}, {"POST", "/api/scenarios/0123456789abcdef/clone"},
		{"POST", "/api/scenarios/0123456789abcdef/changes"},
		{"DELETE", "/api/scenarios/0123456789abcdef/changes/c1"}, {"POST", "/api/scenarios/0123456789abcdef/run"},
	} {
		wantError(t, route.method+" "+route.path+" without a token", f.do(t, route.method, route.path, "", nil), 401, "unauthorized", "")
		// A known token of a role below planner is refused too (auth.go answers 401 for the
		// public role, 403 only between two token roles).
		wantError(t, route.method+" "+route.path+" as the public", f.do(t, route.method, route.path, viewerToken, nil), 401, "unauthorized", "")
	}
}

func TestScenarioLifecycleOverHTTP(t *testing.T) {
	f := newAPIFixture(t, nil)

	// Create: 201, Location, ETag of version 1.
	a := f.planner(t, "POST", "/api/scenarios", map[string]any{"name": "Towers", "description": "two towers"})
	wantStatus(t, "create", a, 201)
	sc := a.json(t)
	id := sc["id"].(string)
	if a.header.Get("ETag") != `"1"` || a.header.Get("Location") != "/api/scenarios/"+id || sc["version"] != 1.0 {
		t.Fatalf("create: headers %v, body %v", a.header, sc)
	}
	wantError(t, "create without a name", f.planner(t, "POST", "/api/scenarios", map[string]any{"description": "x"}), 422, "invalid", "name")
	wantError(t, "create with bad JSON", f.planner(t, "POST", "/api/scenarios", `{"name": `), 400, "bad_json", "")
	wantError(t, "create with an unknown field", f.planner(t, "POST", "/api/scenarios", map[string]any{"name": "a", "colour": "red"}), 400, "bad_json", "")
	wantError(t, "create with a wrong type", f.planner(t, "POST", "/api/scenarios", map[string]any{"name": 3}), 400, "bad_json", "name")
	wantError(t, "create with an empty body", f.planner(t, "POST", "/api/scenarios", ""), 400, "bad_json", "")
	huge := `{"name": "` + strings.Repeat("x", MaxBodyBytes) + `"}`
	wantError(t, "a body over 1 MiB", f.planner(t, "POST", "/api/scenarios", huge), 413, "too_large", "")

	// List and get.
	a = f.planner(t, "GET", "/api/scenarios", nil)
	wantStatus(t, "list", a, 200)
	if list := a.json(t)["scenarios"].([]any); len(list) != 1 {
		t.Fatalf("list: %s", a.body)
	}
	a = f.planner(t, "GET", "/api/scenarios/"+id, nil)
	wantStatus(t, "get", a, 200)
	if a.header.Get("ETag") != `"1"` || a.header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("get headers: %v", a.header)
	}
	wantError(t, "get a missing scenario", f.planner(t, "GET", "/api/scenarios/0123456789abcdef", nil), 404, "not_found", "")
	wantError(t, "get a malformed id", f.planner(t, "GET", "/api/scenarios/..bad..id", nil), 404, "not_found", "")

	// Patch with If-Match.
	wantError(t, "patch with a stale If-Match", f.planner(t, "PATCH", "/api/scenarios/"+id, map[string]any{"name": "T2"}, "If-Match", `"7"`), 412, "precondition_failed", "")
	wantError(t, "patch with a garbage If-Match", f.planner(t, "PATCH", "/api/scenarios/"+id, map[string]any{"name": "T2"}, "If-Match", `"abc"`), 412, "precondition_failed", "")
	wantError(t, "patch to an empty name", f.planner(t, "PATCH", "/api/scenarios/"+id, map[string]any{"name": ""}), 422, "invalid", "name")
	a = f.planner(t, "PATCH", "/api/scenarios/"+id, map[string]any{"name": "Tall towers"}, "If-Match", `"1"`)
	wantStatus(t, "patch", a, 200)
	if a.header.Get("ETag") != `"2"` || a.json(t)["name"] != "Tall towers" || a.json(t)["description"] != "two towers" {
		t.Fatalf("patch: %v %s", a.header, a.body)
	}

	// Changes: one, then a batch that refers to the first one's building.
	tower := map[string]any{"kind": "add_building", "geometry": f.rect(50, 50, 80, 80),
		"properties": map[string]any{"use": "residential", "floors": 10, "height_m": 31, "dwellings": 40}}
	wantError(t, "a change on a stale version", f.planner(t, "POST", "/api/scenarios/"+id+"/changes", tower, "If-Match", `"1"`), 412, "precondition_failed", "")
	a = f.planner(t, "POST", "/api/scenarios/"+id+"/changes", tower, "If-Match", `"2"`)
	wantStatus(t, "add a change", a, 201)
	added := a.json(t)["changes"].([]any)[0].(map[string]any)
	towerID := fmt.Sprintf("%.0f", added["feature_id"].(float64))
	if added["id"] != "c1" || a.header.Get("ETag") != `"3"` {
		t.Fatalf("added %v, ETag %s", added, a.header.Get("ETag"))
	}
	batch := map[string]any{"changes": []any{
		map[string]any{"kind": "modify_building", "target": towerID, "properties": map[string]any{"floors": 12}},
		map[string]any{"kind": "demolish_building", "target": "2"},
		map[string]any{"kind": "add_facility", "geometry": geojson.NewGeometry(f.city.Proj.ToWGS84(orb.Point{500, 500})),
			"properties": map[string]any{"kind": "school", "capacity": 300}},
	}}
	a = f.planner(t, "POST", "/api/scenarios/"+id+"/changes", batch)
	wantStatus(t, "add a batch", a, 201)
	if len(a.json(t)["changes"].([]any)) != 3 || a.header.Get("ETag") != `"4"` {
		t.Fatalf("batch: %s", a.body)
	}
	wantError(t, "an invalid change", f.planner(t, "POST", "/api/scenarios/"+id+"/changes",
		map[string]any{"kind": "add_building", "geometry": f.rect(50, 50, 80, 80), "properties": map[string]any{"use": "residential", "floors": 500}}),
		422, "invalid_change", "properties.floors")
	wantError(t, "an unknown kind", f.planner(t, "POST", "/api/scenarios/"+id+"/changes", map[string]any{"kind": "teleport"}), 422, "invalid_change", "kind")
	wantError(t, "an invalid change in a batch", f.planner(t, "POST", "/api/scenarios/"+id+"/changes",
		map[string]any{"changes": []any{tower, map[string]any{"kind": "remove_facility", "target": "99"}}}), 422, "invalid_change", "changes[1].target")
	wantError(t, "a polygon outside the city", f.planner(t, "POST", "/api/scenarios/"+id+"/changes",
		map[string]any{"kind": "add_green_space", "geometry": f.rect(900, 900, 1200, 950), "properties": map[string]any{"kind": "park"}}), 422, "invalid_change", "geometry.coordinates[0][1]")
	wantError(t, "both one change and a list", f.planner(t, "POST", "/api/scenarios/"+id+"/changes",
		map[string]any{"kind": "add_building", "changes": []any{}}), 400, "bad_json", "kind")
	wantError(t, "an empty list", f.planner(t, "POST", "/api/scenarios/"+id+"/changes", map[string]any{"changes": []any{}}), 422, "invalid_change", "changes")
	many := make([]any, scenarios.MaxChangesPerRequest+1)
	for i := range many {
		many[i] = map[string]any{"kind": "demolish_building", "target": "1"}
	}
	wantError(t, "too many changes", f.planner(t, "POST", "/api/scenarios/"+id+"/changes", map[string]any{"changes": many}), 413, "too_large", "changes")
	wantError(t, "changes of a missing scenario", f.planner(t, "POST", "/api/scenarios/0123456789abcdef/changes", tower), 404, "not_found", "")
	wantError(t, "a geometry that is not GeoJSON", f.planner(t, "POST", "/api/scenarios/"+id+"/changes",
		`{"kind": "add_building", "geometry": {"type": "Polygon", "coordinates": 5}, "properties": {"use": "office", "floors": 1}}`), 422, "invalid_change", "geometry")

	a = f.planner(t, "GET", "/api/scenarios/"+id+"/changes", nil)
	wantStatus(t, "list changes", a, 200)
	if n := len(a.json(t)["changes"].([]any)); n != 4 || a.header.Get("ETag") != `"4"` {
		t.Fatalf("%d changes: %s", n, a.body)
	}
	wantError(t, "changes of a missing scenario", f.planner(t, "GET", "/api/scenarios/0123456789abcdef/changes", nil), 404, "not_found", "")

	// Removing the tower would orphan its modification: 409. A missing change: 404.
	wantError(t, "remove a change in use", f.planner(t, "DELETE", "/api/scenarios/"+id+"/changes/c1", nil), 409, "change_in_use", "")
	wantError(t, "remove a missing change", f.planner(t, "DELETE", "/api/scenarios/"+id+"/changes/c99", nil), 404, "not_found", "")
	wantError(t, "remove on a stale version", f.planner(t, "DELETE", "/api/scenarios/"+id+"/changes/c3", nil, "If-Match", `"3"`), 412, "precondition_failed", "")

	// Run: the tower raised to 12 floors is 12 × 3 = 36 m high (its height follows the floors,
	// docs/domain.md "Derived values of a change") and breaks the 20 m limit.
	a = f.planner(t, "POST", "/api/scenarios/"+id+"/run", nil)
	wantStatus(t, "run", a, 201)
	run := a.json(t)
	for _, k := range []string{"id", "scenario_id", "scenario_version", "duration_ms", "parameters", "indicators", "districts", "violations"} {
		if _, ok := run[k]; !ok {
			t.Errorf("run has no %q", k)
		}
	}
	if run["scenario_version"] != 4.0 {
		t.Errorf("scenario_version = %v", run["scenario_version"])
	}
	res := run["indicators"].(map[string]any)["residents"].(map[string]any)
	// Baseline: 20 dwellings × 2.5 = 50; the tower's 40 dwellings grow with its floor area to
	// 40 × 12 / 10 = 48, adding 48 × 2.5 = 120.
	if res["baseline"] != 50.0 || res["variant"] != 170.0 || res["diff"] != 120.0 {
		t.Errorf("residents = %v", res)
	}
	if share := run["indicators"].(map[string]any)["access_school"].(map[string]any)["variant"].(float64); share < 0 || share > 1 {
		t.Errorf("a share outside 0..1: %v", share)
	}
	viol := run["violations"].([]any)
	if len(viol) != 1 || viol[0].(map[string]any)["rule"] != "max_height_m" || viol[0].(map[string]any)["feature"] != "buildings/"+towerID {
		t.Errorf("violations = %v", viol)
	}
	if d := run["districts"].([]any); len(d) != 1 || d[0].(map[string]any)["name"] != "Centre" {
		t.Errorf("districts = %v", d)
	}
	runURL := a.header.Get("Location")
	rid := run["id"].(string)
	if runURL != "/api/scenarios/"+id+"/runs/"+rid {
		t.Fatalf("run Location %q", runURL)
	}
	wantError(t, "run with a stale If-Match", f.planner(t, "POST", "/api/scenarios/"+id+"/run", nil, "If-Match", `"1"`), 412, "precondition_failed", "")
	wantError(t, "run a missing scenario", f.planner(t, "POST", "/api/scenarios/0123456789abcdef/run", nil), 404, "not_found", "")
	wantError(t, "run with a bad full", f.planner(t, "POST", "/api/scenarios/"+id+"/run?full=maybe", nil), 400, "invalid", "full")
	a = f.planner(t, "POST", "/api/scenarios/"+id+"/run?full=true", nil)
	wantStatus(t, "full run", a, 201)
	if a.json(t)["incremental"] != false {
		t.Fatalf("a full run says incremental")
	}

	a = f.planner(t, "GET", runURL, nil)
	wantStatus(t, "get run", a, 200)
	if a.json(t)["id"] != rid {
		t.Fatalf("get run: %s", a.body)
	}
	wantError(t, "a missing run", f.planner(t, "GET", "/api/scenarios/"+id+"/runs/0123456789abcdef", nil), 404, "not_found", "")

	// Exports.
	a = f.planner(t, "GET", runURL+"/export.csv", nil)
	wantStatus(t, "csv", a, 200)
	rows, err := csv.NewReader(bytes.NewReader(a.body)).ReadAll()
	if err != nil || !strings.HasPrefix(a.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %v %v", err, a.header)
	}
	foundResidents, foundViolation := false, false
	for _, r := range rows {
		if len(r) == 6 && r[0] == "indicator" && r[1] == "city" && r[2] == "residents" && r[3] == "50" && r[4] == "170" && r[5] == "120" {
			foundResidents = true
		}
		if r[0] == "violation" && r[1] == "buildings/"+towerID && r[2] == "max_height_m" && r[3] == "36" && r[4] == "20" {
			foundViolation = true
		}
	}
	if !foundResidents || !foundViolation {
		t.Fatalf("csv lacks the residents row or the violation:\n%s", a.body)
	}
	wantError(t, "csv of a missing run", f.planner(t, "GET", "/api/scenarios/"+id+"/runs/0123456789abcdef/export.csv", nil), 404, "not_found", "")
	a = f.planner(t, "GET", runURL+"/export.geojson", nil)
	wantStatus(t, "geojson", a, 200)
	fc, err := geojson.UnmarshalFeatureCollection(a.body)
	if err != nil || a.header.Get("Content-Type") != "application/geo+json" {
		t.Fatalf("geojson: %v %v", err, a.header)
	}
	changes := map[string]int{}
	violations := 0
	for _, ft := range fc.Features {
		if c, ok := ft.Properties["change"].(string); ok {
			changes[c]++
		}
		if ft.Properties["violation"] == true {
			violations++
		}
	}
	if changes["added"] != 2 || changes["demolished"] != 1 || violations != 1 {
		t.Fatalf("geojson: changes %v, %d violations", changes, violations)
	}
	wantError(t, "geojson of a missing run", f.planner(t, "GET", "/api/scenarios/"+id+"/runs/0123456789abcdef/export.geojson", nil), 404, "not_found", "")

	// Clone, compare.
	a = f.planner(t, "POST", "/api/scenarios/"+id+"/clone", map[string]any{"name": "Towers B"})
	wantStatus(t, "clone", a, 201)
	clone := a.json(t)
	if clone["parent"] != id || clone["changes"] != 4.0 || clone["version"] != 1.0 {
		t.Fatalf("clone: %s", a.body)
	}
	wantError(t, "clone a missing scenario", f.planner(t, "POST", "/api/scenarios/0123456789abcdef/clone", nil), 404, "not_found", "")
	cid := clone["id"].(string)
	f.planner(t, "DELETE", "/api/scenarios/"+cid+"/changes/c4", nil)
	a = f.planner(t, "GET", "/api/scenarios/compare?ids="+id+","+cid, nil)
	wantStatus(t, "compare", a, 200)
	cmp := a.json(t)
	r := cmp["indicators"].(map[string]any)["residents"].(map[string]any)
	if r["baseline"] != 50.0 || r[id] != 170.0 || r[cid] != 170.0 || // 50 + 120, as above
		len(cmp["scenarios"].([]any)) != 2 {
		t.Fatalf("compare: %v", r)
	}
	wantError(t, "compare without ids", f.planner(t, "GET", "/api/scenarios/compare", nil), 400, "invalid", "ids")
	wantError(t, "compare a scenario twice", f.planner(t, "GET", "/api/scenarios/compare?ids="+id+","+id, nil), 400, "invalid", "ids")
	wantError(t, "compare too many", f.planner(t, "GET", "/api/scenarios/compare?ids="+strings.Repeat("a,", 10)+"b", nil), 400, "invalid", "ids")
	wantError(t, "compare a missing scenario", f.planner(t, "GET", "/api/scenarios/compare?ids="+id+",0123456789abcdef", nil), 404, "not_found", "")

	// Remove a change that nothing depends on.
	a = f.planner(t, "DELETE", "/api/scenarios/"+id+"/changes/c3", nil, "If-Match", `"4"`)
	wantStatus(t, "remove a change", a, 200)
	if a.header.Get("ETag") != `"5"` {
		t.Fatalf("remove: ETag %s", a.header.Get("ETag"))
	}

	// Delete.
	wantError(t, "delete on a stale version", f.planner(t, "DELETE", "/api/scenarios/"+id, nil, "If-Match", `"4"`), 412, "precondition_failed", "")
	wantStatus(t, "delete", f.planner(t, "DELETE", "/api/scenarios/"+id, nil, "If-Match", `"5"`), 204)
	wantError(t, "get after delete", f.planner(t, "GET", "/api/scenarios/"+id, nil), 404, "not_found", "")
	wantError(t, "delete twice", f.planner(t, "DELETE", "/api/scenarios/"+id, nil), 404, "not_found", "")
	wantError(t, "a run of a deleted scenario", f.planner(t, "GET", runURL, nil), 404, "not_found", "")
}

// racyStore lets another writer in between every read and write of AddChanges.
type racyStore struct{ scenarios.Store }

func (s racyStore) AddChanges(ctx context.Context, sc scenarios.Scenario, expected int64, cs []scenarios.Change) error {
	cur, _, err := s.Store.Scenario(ctx, sc.ID)
	if err != nil {
		return err
	}
	cur.Version++
	if err := s.Store.UpdateScenario(ctx, cur, cur.Version-1); err != nil {
		return err
	}
	return s.Store.AddChanges(ctx, sc, expected, cs)
}

func TestAConcurrentWriteIsAConflict(t *testing.T) {
	f := newAPIFixture(t, func(s scenarios.Store) scenarios.Store { return racyStore{s} })
	id := f.create(t, "race")
	a := f.planner(t, "POST", "/api/scenarios/"+id+"/changes", map[string]any{"kind": "demolish_building", "target": "1"})
	wantError(t, "a write that lost a race", a, 409, "conflict", "")
}

func TestScenariosWithoutAStoreOrACity(t *testing.T) {
	srv := New(Options{Logger: scenarioTestLogger(), Tokens: StaticTokens{NewStaticToken(plannerToken, RolePlanner)}})
	f := &apiFixture{srv: srv, h: srv.Handler()}
	wantError(t, "no scenario store", f.planner(t, "GET", "/api/scenarios", nil), 503, "no_scenarios", "")
	wantError(t, "nearest while loading", f.do(t, "GET", "/api/nearest?lon=23.59&lat=46.77", "", nil), 503, "loading", "")
	wantError(t, "features while loading", f.do(t, "GET", "/api/features/buildings?bbox=23,46,24,47", "", nil), 503, "loading", "")

	store, _ := scenarios.OpenDir(t.TempDir())
	eng, _ := scenarios.NewEngine(scenarios.DefaultParameters())
	model := citymodel.New(citymodel.Options{})
	svc := scenarios.NewService(store, eng, model)
	srv = New(Options{Logger: scenarioTestLogger(), Model: model, Tokens: StaticTokens{NewStaticToken(plannerToken, RolePlanner)}, Scenarios: svc})
	f = &apiFixture{srv: srv, h: srv.Handler()}
	id := f.create(t, "early")
	wantError(t, "a change before the city is loaded", f.planner(t, "POST", "/api/scenarios/"+id+"/changes", map[string]any{"kind": "demolish_building", "target": "1"}), 503, "loading", "")
	wantError(t, "a run before the city is loaded", f.planner(t, "POST", "/api/scenarios/"+id+"/run", nil), 503, "loading", "")
}

func TestVariantTiles(t *testing.T) {
	f := newAPIFixture(t, nil)
	id := f.create(t, "tiles")
	a := f.planner(t, "POST", "/api/scenarios/"+id+"/changes", map[string]any{"changes": []any{
		map[string]any{"kind": "add_building", "geometry": f.rect(50, 50, 80, 80), "properties": map[string]any{"use": "office", "floors": 3}},
		map[string]any{"kind": "modify_building", "target": "1", "properties": map[string]any{"floors": 6}},
		map[string]any{"kind": "demolish_building", "target": "2"},
	}})
	wantStatus(t, "changes", a, 201)
	newID := uint64(a.json(t)["changes"].([]any)[0].(map[string]any)["feature_id"].(float64))

	tile := maptile.At(f.city.Proj.ToWGS84(orb.Point{0, 0}), 14)
	path := fmt.Sprintf("/api/scenarios/%s/tiles/buildings,parcels/%d/%d/%d.mvt", id, tile.Z, tile.X, tile.Y)
	a = f.planner(t, "GET", path, nil)
	wantStatus(t, "variant tile", a, 200)
	if a.header.Get("Content-Type") != "application/vnd.mapbox-vector-tile" || a.header.Get("ETag") == "" {
		t.Fatalf("tile headers %v", a.header)
	}
	ls, err := mvt.Unmarshal(a.body)
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint64]any{}
	for _, l := range ls {
		for _, ft := range l.Features {
			if l.Name == "parcels" {
				if _, leak := ft.Properties["owner_name"]; leak {
					t.Fatal("a variant tile leaks owner_name")
				}
				continue
			}
			got[uint64(ft.ID.(float64))] = ft.Properties["change"]
		}
	}
	if got[newID] != "added" || got[1] != "modified" || got[2] != "demolished" {
		t.Fatalf("change fields by id: %v", got)
	}
	// The same tile again: 304 with its ETag.
	wantStatus(t, "conditional tile", f.planner(t, "GET", path, nil, "If-None-Match", a.header.Get("ETag")), 304)
	gz := f.planner(t, "GET", path, nil, "Accept-Encoding", "gzip")
	if len(a.body) >= 256 && gz.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("no gzip: %v", gz.header)
	}

	far := maptile.At(orb.Point{0, 0}, 14)
	wantStatus(t, "an empty tile", f.planner(t, "GET", fmt.Sprintf("/api/scenarios/%s/tiles/buildings/14/%d/%d.mvt", id, far.X, far.Y), nil), 204)
	wantError(t, "a bad zoom", f.planner(t, "GET", "/api/scenarios/"+id+"/tiles/buildings/99/1/1.mvt", nil), 400, "bad_tile", "z")
	wantError(t, "x out of range", f.planner(t, "GET", "/api/scenarios/"+id+"/tiles/buildings/2/9/1.mvt", nil), 400, "bad_tile", "x")
	wantError(t, "an unknown layer", f.planner(t, "GET", "/api/scenarios/"+id+"/tiles/roads/14/1/1.mvt", nil), 404, "unknown_layer", "layers")
	wantError(t, "a layer twice", f.planner(t, "GET", "/api/scenarios/"+id+"/tiles/buildings,buildings/14/1/1.mvt", nil), 400, "invalid", "layers")
	wantError(t, "tiles of a missing scenario", f.planner(t, "GET", "/api/scenarios/0123456789abcdef/tiles/buildings/14/1/1.mvt", nil), 404, "not_found", "")
}

func TestNearest(t *testing.T) {
	f := newAPIFixture(t, nil)
	o := f.city.Proj.ToWGS84(orb.Point{0, 0})
	q := fmt.Sprintf("/api/nearest?lon=%v&lat=%v", o[0], o[1])
	a := f.do(t, "GET", q+"&kind=school&k=3", "", nil)
	wantStatus(t, "nearest", a, 200)
	fc, err := geojson.UnmarshalFeatureCollection(a.body)
	if err != nil {
		t.Fatal(err)
	}
	// North school 300 m, South school 600 m; only two schools.
	if len(fc.Features) != 2 || fc.Features[0].Properties["name"] != "North school" || fc.Features[0].Properties["distance_m"] != 300.0 ||
		fc.Features[1].Properties["distance_m"] != 600.0 {
		t.Fatalf("nearest schools: %s", a.body)
	}
	a = f.do(t, "GET", q, "", nil) // any kind, k = 1
	fc, _ = geojson.UnmarshalFeatureCollection(a.body)
	if len(fc.Features) != 1 || fc.Features[0].Properties["name"] != "North school" {
		t.Fatalf("nearest facility: %s", a.body)
	}
	// The public park's nearest corner (200, 200) is 282.8 m away; the closer private one
	// (58.3 m) is left out.
	a = f.do(t, "GET", q+"&kind=park&k=5", "", nil)
	wantStatus(t, "nearest park", a, 200)
	fc, _ = geojson.UnmarshalFeatureCollection(a.body)
	if len(fc.Features) != 1 || fc.Features[0].Properties["distance_m"] != 282.8 {
		t.Fatalf("nearest park: %s", a.body)
	}
	for _, tc := range []struct{ query, field string }{
		{"/api/nearest?lat=46.77", "lon"},
		{"/api/nearest?lon=abc&lat=46.77", "lon"},
		{"/api/nearest?lon=200&lat=46.77", "lon"},
		{"/api/nearest?lon=23.59", "lat"},
		{"/api/nearest?lon=23.59&lat=-91", "lat"},
		{"/api/nearest?lon=23.59&lat=NaN", "lat"},
		{q + "&kind=castle", "kind"},
		{q + "&k=0", "k"},
		{q + "&k=51", "k"},
		{q + "&k=two", "k"},
	} {
		wantError(t, tc.query, f.do(t, "GET", tc.query, "", nil), 400, "invalid_parameter", tc.field)
	}
}

func TestFeatures(t *testing.T) {
	f := newAPIFixture(t, nil)
	sw, ne := f.city.Proj.ToWGS84(orb.Point{-1000, -1000}), f.city.Proj.ToWGS84(orb.Point{1000, 1000})
	bbox := fmt.Sprintf("%v,%v,%v,%v", sw[0], sw[1], ne[0], ne[1])
	a := f.do(t, "GET", "/api/features/parcels?bbox="+bbox, "", nil)
	wantStatus(t, "features", a, 200)
	if strings.Contains(string(a.body), "Popescu") || strings.Contains(string(a.body), "owner_name") || strings.Contains(string(a.body), "land_book") {
		t.Fatalf("restricted fields in a public answer: %s", a.body)
	}
	fc, err := geojson.UnmarshalFeatureCollection(a.body)
	if err != nil || len(fc.Features) != 2 || fc.Features[0].Properties["cad_number"] != "100" || fc.ExtraMembers["truncated"] != false {
		t.Fatalf("parcels: %v %s", err, a.body)
	}
	a = f.do(t, "GET", "/api/features/buildings?limit=1&bbox="+bbox, "", nil)
	fc, _ = geojson.UnmarshalFeatureCollection(a.body)
	if len(fc.Features) != 1 || fc.Features[0].ID != 1.0 || fc.ExtraMembers["truncated"] != true {
		t.Fatalf("limit 1: %s", a.body)
	}
	wantError(t, "unknown layer", f.do(t, "GET", "/api/features/roads?bbox="+bbox, "", nil), 404, "unknown_layer", "layer")
	for _, tc := range []struct{ query, field string }{
		{"/api/features/buildings", "bbox"},
		{"/api/features/buildings?bbox=1,2,3", "bbox"},
		{"/api/features/buildings?bbox=a,2,3,4", "bbox"},
		{"/api/features/buildings?bbox=3,2,1,4", "bbox"},
		{"/api/features/buildings?bbox=1,4,3,2", "bbox"},
		{"/api/features/buildings?bbox=1,2,181,4", "bbox"},
		{"/api/features/buildings?bbox=" + bbox + "&limit=0", "limit"},
		{"/api/features/buildings?bbox=" + bbox + "&limit=1001", "limit"},
		{"/api/features/buildings?bbox=" + bbox + "&limit=x", "limit"},
	} {
		wantError(t, tc.query, f.do(t, "GET", tc.query, "", nil), 400, "invalid_parameter", tc.field)
	}
}
