package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// TestBadInputChangesNothing sends every kind of bad input the server must refuse to the
// whole handler (middleware included) and checks the status, the error code, and that the
// scenario it aimed at kept its version and its changes.
func TestBadInputChangesNothing(t *testing.T) {
	f := newAPIFixture(t, nil)
	id := f.create(t, "Target")
	// One change already there, so that "nothing changed" covers a non-empty list.
	wantStatus(t, "a first change", f.planner(t, "POST", "/api/scenarios/"+id+"/changes",
		map[string]any{"kind": "demolish_building", "target": "2"}), http.StatusCreated)
	before := f.snapshot(t, id)

	changes := "/api/scenarios/" + id + "/changes"
	building := func(geom any) string {
		b, err := json.Marshal(map[string]any{"kind": "add_building", "geometry": geom,
			"properties": map[string]any{"use": "residential", "floors": 3}})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	circle := func(cx, cy, r float64, n int) orb.Polygon {
		ring := make(orb.Ring, 0, n+1)
		for i := range n {
			a := 2 * math.Pi * float64(i) / float64(n)
			ring = append(ring, f.city.Proj.ToWGS84(orb.Point{cx + r*math.Cos(a), cy + r*math.Sin(a)}))
		}
		return orb.Polygon{append(ring, ring[0])}
	}
	var fiveCircles orb.MultiPolygon // 5 × 4001 positions: each polygon allowed, not all together
	for i := range 5 {
		fiveCircles = append(fiveCircles, circle(-600+float64(i)*250, -600, 100, 4000))
	}
	deep := func(n int) string {
		return `{"kind": "add_building", "properties": {"use": ` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}}`
	}
	many := make([]any, 1001)
	for i := range many {
		many[i] = map[string]any{"kind": "demolish_building", "target": "1"}
	}
	manyJSON, _ := json.Marshal(map[string]any{"changes": many})
	o := f.city.Proj.ToWGS84(orb.Point{0, 0})
	sw, ne := f.city.Proj.ToWGS84(orb.Point{-500, -500}), f.city.Proj.ToWGS84(orb.Point{500, 500})
	bow := f.city.Proj
	bowTie := orb.Polygon{orb.Ring{bow.ToWGS84(orb.Point{50, 50}), bow.ToWGS84(orb.Point{80, 80}),
		bow.ToWGS84(orb.Point{80, 50}), bow.ToWGS84(orb.Point{50, 80}), bow.ToWGS84(orb.Point{50, 50})}}

	for _, tc := range []struct {
		name          string
		method, path  string
		body          io.Reader
		status        int
		code, field   string
		publicRequest bool
	}{
		// Size and shape of the body.
		{name: "a body announced beyond the limit", method: "POST", path: changes,
			body: bytes.NewReader(make([]byte, MaxBodyBytes+1)), status: 413, code: "too_large"},
		{name: "a body sent in chunks beyond the limit", method: "POST", path: changes,
			body:   io.MultiReader(strings.NewReader(`{"kind": "add_building", "properties": {"use": "`), strings.NewReader(strings.Repeat("x", MaxBodyBytes))),
			status: 413, code: "too_large"},
		{name: "JSON nested deeper than allowed", method: "POST", path: changes, body: strings.NewReader(deep(MaxJSONDepth)), status: 400, code: "too_deep"},
		{name: "JSON nested deeper than the decoder copes with", method: "POST", path: changes, body: strings.NewReader(deep(20000)), status: 400, code: "too_deep"},
		{name: "a body that is not JSON", method: "POST", path: changes, body: strings.NewReader(`kind=add_building`), status: 400, code: "bad_json"},
		{name: "an empty body", method: "POST", path: changes, body: strings.NewReader(""), status: 400, code: "bad_json"},
		{name: "two JSON values", method: "POST", path: changes, body: strings.NewReader(`{"kind": "demolish_building", "target": "1"} {}`), status: 400, code: "bad_json"},
		{name: "a field of the wrong type", method: "POST", path: changes, body: strings.NewReader(`{"kind": "demolish_building", "properties": 3}`), status: 400, code: "bad_json", field: "properties"},
		{name: "NaN is not a JSON number", method: "POST", path: changes,
			body: strings.NewReader(`{"kind": "add_facility", "geometry": {"type": "Point", "coordinates": [NaN, 46.77]}, "properties": {"kind": "school"}}`), status: 400, code: "bad_json"},
		{name: "a name beyond its length", method: "PATCH", path: "/api/scenarios/" + id,
			body: strings.NewReader(`{"name": "` + strings.Repeat("n", 201) + `"}`), status: 422, code: "invalid", field: "name"},

		// Counts and kinds of changes.
		{name: "too many changes in one request", method: "POST", path: changes, body: bytes.NewReader(manyJSON), status: 413, code: "too_large", field: "changes"},
		{name: "an unknown change kind", method: "POST", path: changes, body: strings.NewReader(`{"kind": "teleport", "target": "1"}`), status: 422, code: "invalid_change", field: "kind"},
		{name: "an unknown change kind in a batch", method: "POST", path: changes,
			body: strings.NewReader(`{"changes": [{"kind": "demolish_building", "target": "1"}, {"kind": "raze_city"}]}`), status: 422, code: "invalid_change", field: "changes[1].kind"},
		{name: "a target that is not a feature id", method: "POST", path: changes, body: strings.NewReader(`{"kind": "demolish_building", "target": "1; DROP TABLE"}`), status: 422, code: "invalid_change", field: "target"},

		// Coordinates and geometry.
		{name: "a coordinate beyond a float64", method: "POST", path: changes,
			body:   strings.NewReader(`{"kind": "add_facility", "geometry": {"type": "Point", "coordinates": [1e400, 46.77]}, "properties": {"kind": "school"}}`),
			status: 422, code: "invalid_change", field: "geometry"},
		{name: "a longitude beyond 180", method: "POST", path: changes,
			body:   strings.NewReader(`{"kind": "add_facility", "geometry": {"type": "Point", "coordinates": [200, 46.77]}, "properties": {"kind": "school"}}`),
			status: 422, code: "invalid_change", field: "geometry.coordinates"},
		{name: "a point outside the city", method: "POST", path: changes,
			body:   strings.NewReader(`{"kind": "add_facility", "geometry": {"type": "Point", "coordinates": [0, 0]}, "properties": {"kind": "school"}}`),
			status: 422, code: "invalid_change", field: "geometry.coordinates"},
		{name: "a self-intersecting polygon", method: "POST", path: changes, body: strings.NewReader(building(geojson.NewGeometry(bowTie))),
			status: 422, code: "invalid_change", field: "geometry.coordinates[0]"},
		{name: "a polygon larger than the city", method: "POST", path: changes, body: strings.NewReader(building(f.rect(-5000, -5000, 5000, 5000))),
			status: 422, code: "invalid_change", field: "geometry.coordinates[0][0]"},
		{name: "a polygon with too many vertices", method: "POST", path: changes, body: strings.NewReader(building(geojson.NewGeometry(circle(0, -500, 100, 5000)))),
			status: 422, code: "invalid_change", field: "geometry.coordinates"},
		{name: "a multipolygon with too many vertices in all", method: "POST", path: changes, body: strings.NewReader(building(geojson.NewGeometry(fiveCircles))),
			status: 422, code: "invalid_change", field: "geometry.coordinates[4]"},
		{name: "a point where a polygon belongs", method: "POST", path: changes, body: strings.NewReader(building(geojson.NewGeometry(o))),
			status: 422, code: "invalid_change", field: "geometry"},
		{name: "a geometry that is not GeoJSON", method: "POST", path: changes, body: strings.NewReader(building(map[string]any{"type": "Circle", "radius": 5})),
			status: 422, code: "invalid_change", field: "geometry"},

		// Query parameters of the public lookups.
		{name: "a bbox with NaN", method: "GET", path: fmt.Sprintf("/api/features/buildings?bbox=NaN,%v,%v,%v", sw[1], ne[0], ne[1]), status: 400, code: "invalid_parameter", field: "bbox", publicRequest: true},
		{name: "a bbox with Inf", method: "GET", path: fmt.Sprintf("/api/features/buildings?bbox=%v,%v,Inf,%v", sw[0], sw[1], ne[1]), status: 400, code: "invalid_parameter", field: "bbox", publicRequest: true},
		{name: "a bbox beyond the poles", method: "GET", path: fmt.Sprintf("/api/features/buildings?bbox=%v,-91,%v,%v", sw[0], ne[0], ne[1]), status: 400, code: "invalid_parameter", field: "bbox", publicRequest: true},
		{name: "a bbox turned inside out", method: "GET", path: fmt.Sprintf("/api/features/buildings?bbox=%v,%v,%v,%v", ne[0], sw[1], sw[0], ne[1]), status: 400, code: "invalid_parameter", field: "bbox", publicRequest: true},
		{name: "a bbox of five numbers", method: "GET", path: "/api/features/buildings?bbox=1,2,3,4,5", status: 400, code: "invalid_parameter", field: "bbox", publicRequest: true},
		{name: "features of an unknown layer", method: "GET", path: "/api/features/secrets?bbox=1,2,3,4", status: 404, code: "unknown_layer", field: "layer", publicRequest: true},
		{name: "a nearest point at infinite latitude", method: "GET", path: fmt.Sprintf("/api/nearest?lon=%v&lat=Inf", o[0]), status: 400, code: "invalid_parameter", field: "lat", publicRequest: true},

		// Tile paths.
		{name: "a zoom beyond the deepest", method: "GET", path: "/tiles/buildings/25/0/0.mvt", status: 400, code: "bad_tile", field: "z", publicRequest: true},
		{name: "a column outside its zoom", method: "GET", path: "/tiles/buildings/2/4/0.mvt", status: 400, code: "bad_tile", field: "x", publicRequest: true},
		{name: "a row with a sign", method: "GET", path: "/tiles/buildings/2/0/-1.mvt", status: 400, code: "bad_tile", field: "y", publicRequest: true},
		{name: "a variant tile beyond the deepest zoom", method: "GET", path: "/api/scenarios/" + id + "/tiles/buildings/99/0/0.mvt", status: 400, code: "bad_tile", field: "z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, tc.body)
			if !tc.publicRequest {
				req.Header.Set("Authorization", "Bearer "+plannerToken)
			}
			if id, ok := scenarioWritten(tc.method, tc.path); ok {
				req.Header.Set("If-Match", f.currentETag(id))
			}
			rec := httptest.NewRecorder()
			f.h.ServeHTTP(rec, req)
			wantError(t, tc.name, answer{rec.Code, rec.Header(), rec.Body.Bytes()}, tc.status, tc.code, tc.field)
			if after := f.snapshot(t, id); after != before {
				t.Fatalf("the scenario changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// snapshot is a scenario's version and changes as the API lists them.
func (f *apiFixture) snapshot(t *testing.T, id string) string {
	t.Helper()
	a := f.planner(t, "GET", "/api/scenarios/"+id+"/changes", nil)
	wantStatus(t, "list changes", a, http.StatusOK)
	return string(a.body)
}
