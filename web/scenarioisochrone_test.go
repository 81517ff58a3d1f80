package web

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/tiles"
)

// riverTownFixture serves riverTown (isochrone_test.go) with a scenario store (wrap as in
// scenarioStores) and the default parameters, which walk the network.
func riverTownFixture(t *testing.T, wrap func(scenarios.Store) scenarios.Store) (*apiFixture, func(x, y float64) orb.Point) {
	t.Helper()
	c, pt := riverTown(t)
	dir, err := scenarios.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var st scenarios.Store = dir
	if wrap != nil {
		st = wrap(st)
	}
	eng, err := scenarios.NewEngine(scenarios.DefaultParameters())
	if err != nil {
		t.Fatal(err)
	}
	model := citymodel.Fixed(c)
	svc := scenarios.NewService(st, eng, model)
	srv := New(Options{Logger: scenarioTestLogger(), Model: model, TileCache: tiles.NewCache(1 << 20),
		Tokens: StaticTokens{NewStaticToken(plannerToken, RolePlanner), NewStaticToken(viewerToken, RolePublic)}, Scenarios: svc})
	return &apiFixture{srv: srv, h: srv.Handler(), city: c, svc: svc, model: model}, pt
}

// walksOf returns the walk in metres to the nearest facility of each kind an isochrone
// answer lists.
func walksOf(t *testing.T, a answer) map[string]float64 {
	t.Helper()
	wantStatus(t, "an isochrone", a, http.StatusOK)
	fc, err := geojson.UnmarshalFeatureCollection(a.body)
	if err != nil {
		t.Fatalf("not GeoJSON: %v: %s", err, a.body)
	}
	out := map[string]float64{}
	for _, f := range fc.Features {
		k, _ := f.Properties["kind"].(string)
		if w, ok := f.Properties["walk_m"].(float64); ok {
			if _, seen := out[k]; !seen { // nearest first by kind
				out[k] = w
			}
		}
	}
	return out
}

func near(got, want float64) bool { return got > want-0.15 && got < want+0.15 }

// In both stores: the scenario's footpaths and closed streets are kept by each.
func TestScenarioIsochroneWalksTheScenarioNetwork(t *testing.T) {
	for _, st := range scenarioStores {
		t.Run(st.name, func(t *testing.T) {
			f, pt := riverTownFixture(t, st.wrap(t))
			start := pt(100, 0) // on the south street: no stub
			iso := func(sid string, minutes int, token string) answer {
				path := "/api/isochrone"
				if sid != "" {
					path = "/api/scenarios/" + sid + "/isochrone"
				}
				return f.do(t, "GET", fmt.Sprintf("%s?lon=%v&lat=%v&minutes=%d", path, start[0], start[1], minutes), token, nil)
			}
			line := func(ps ...orb.Point) *geojson.Geometry { return geojson.NewGeometry(orb.LineString(ps)) }

			// A footbridge straight across the river at x = 100, its ends on the two streets;
			// a clinic added 10 m south of the south street at x = 300; the pharmacy removed.
			bridge := f.create(t, "footbridge")
			for _, c := range []map[string]any{
				{"kind": "add_footpath", "geometry": line(pt(100, 0), pt(100, 200)), "properties": map[string]any{"name": "Footbridge"}},
				{"kind": "add_facility", "geometry": geojson.NewGeometry(pt(300, -10)), "properties": map[string]any{"kind": "clinic", "name": "New clinic"}},
				{"kind": "remove_facility", "target": 1},
			} {
				wantStatus(t, fmt.Sprintf("add %v", c["kind"]), f.planner(t, "POST", "/api/scenarios/"+bridge+"/changes", c), http.StatusCreated)
			}
			// The far bridge (street 3, at x = 1000) closed.
			closed := f.create(t, "far bridge closed")
			wantStatus(t, "close street 3", f.planner(t, "POST", "/api/scenarios/"+closed+"/changes", map[string]any{"kind": "close_street", "target": 3}), http.StatusCreated)

			tests := []struct {
				name  string
				got   answer
				walks map[string]float64
			}{
				{"five minutes in the city reach the pharmacy beside the street, not the school across the river",
					iso("", 5, ""),                      // 5 min × 4.8 km/h = 400 m
					map[string]float64{"pharmacy": 10}}, // the 10 m stub
				{"five minutes with the footbridge reach the school across it and the added clinic, not the removed pharmacy",
					iso(bridge, 5, plannerToken),
					map[string]float64{
						"school": 210, // 200 m over the footbridge + the 10 m stub north of the north street
						"clinic": 210, // 200 m east along the south street + the 10 m stub
					}},
				{"thirty minutes in the city reach the school over the far bridge",
					iso("", 30, ""), // 2400 m
					map[string]float64{
						"pharmacy": 10,
						"school":   2010, // 900 m east + 200 m over the bridge + 900 m west + the 10 m stub
					}},
				{"thirty minutes with the far bridge closed no longer reach the school",
					iso(closed, 30, plannerToken),
					map[string]float64{"pharmacy": 10}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got := walksOf(t, tt.got)
					if len(got) != len(tt.walks) {
						t.Fatalf("facilities reached %v, want %v", got, tt.walks)
					}
					for k, w := range tt.walks {
						if g, ok := got[k]; !ok || !near(g, w) {
							t.Fatalf("facilities reached %v, want %s at %v m", got, k, w)
						}
					}
				})
			}

			t.Run("the public reads a published scenario's walk, not a team's", func(t *testing.T) {
				wantError(t, "a team scenario's walk for the public", iso(bridge, 5, ""), http.StatusNotFound, "not_found", "")
				wantError(t, "a missing scenario's walk", iso("0123456789abcdef", 5, plannerToken), http.StatusNotFound, "not_found", "")
				wantStatus(t, "publish", f.planner(t, "PATCH", "/api/scenarios/"+bridge, map[string]any{"visibility": "published"}), http.StatusOK)
				if got := walksOf(t, iso(bridge, 5, "")); !near(got["school"], 210) { // as above
					t.Fatalf("the public's walk reaches %v, want the school at 210 m", got)
				}
			})
			t.Run("bad parameters are refused as the city's walk refuses them", func(t *testing.T) {
				wantError(t, "thirty-one minutes", iso(closed, 31, plannerToken), http.StatusBadRequest, "invalid_parameter", "minutes")
				far := pt(500, 1000) // 800 m north of the north street
				a := f.planner(t, "GET", fmt.Sprintf("/api/scenarios/%s/isochrone?lon=%v&lat=%v&minutes=5", closed, far[0], far[1]), nil)
				wantError(t, "a point off the network", a, http.StatusBadRequest, "invalid_parameter", "lon")
			})
		})
	}
}
