package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/citytwin/citytwin/internal/pgtest"
	"github.com/citytwin/citytwin/layers/postgis"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/scenarios/pgstore"
)

// scenarioStores are the stores the scenario API is tested over: the data directory's and
// PostGIS (its own schema, migrated).
var scenarioStores = []struct {
	name string
	wrap func(t *testing.T) func(scenarios.Store) scenarios.Store
}{
	{"in the data directory", func(*testing.T) func(scenarios.Store) scenarios.Store { return nil }},
	{"in PostGIS", func(t *testing.T) func(scenarios.Store) scenarios.Store {
		ctx := context.Background()
		u, _ := pgtest.Schema(t, "web_quota")
		store, err := postgis.Open(ctx, u)
		if err != nil {
			t.Fatalf("open PostGIS: %v", err)
		}
		t.Cleanup(store.Close)
		if err := postgis.Migrate(ctx, store.Pool()); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		return func(scenarios.Store) scenarios.Store { return pgstore.New(store.Pool()) }
	}},
}

// wantQuota checks a write refused over a quota: its status and the quota it names.
func wantQuota(t *testing.T, what string, a answer, status int, limit string, value int) {
	t.Helper()
	wantStatus(t, what, a, status)
	var body struct {
		Error struct {
			Limit string `json:"limit"`
			Value int    `json:"value"`
		} `json:"error"`
	}
	if err := json.Unmarshal(a.body, &body); err != nil {
		t.Fatalf("%s: %v: %s", what, err, a.body)
	}
	if body.Error.Limit != limit || body.Error.Value != value {
		t.Fatalf("%s: the error names %s = %d, want %s = %d: %s", what, body.Error.Limit, body.Error.Value, limit, value, a.body)
	}
}

func TestScenarioQuotasOverHTTP(t *testing.T) {
	for _, st := range scenarioStores {
		t.Run(st.name, func(t *testing.T) {
			f := newAPIFixture(t, st.wrap(t))
			f.svc.Quotas = scenarios.Quotas{MaxChanges: 3, MaxVertices: 12, KeepRuns: 2}
			id := f.create(t, "quotas")
			path := "/api/scenarios/" + id + "/changes"
			building := func(x float64) map[string]any {
				return map[string]any{"kind": "add_building", "geometry": f.rect(x, 10, x+10, 20), "properties": map[string]any{"use": "residential", "floors": 2}}
			}
			// Two rectangles: 2 changes of 5 positions each (4 corners and the closing one), 10.
			wantStatus(t, "two buildings", f.planner(t, "POST", path, map[string]any{"changes": []any{building(0), building(20)}}), http.StatusCreated)
			// Two more would make 4 changes, over 3.
			wantQuota(t, "a fourth change", f.planner(t, "POST", path, map[string]any{"changes": []any{building(40), building(60)}}),
				http.StatusTooManyRequests, "max_changes_per_scenario", 3)
			// One more is 3 changes but 10 + 5 = 15 positions, over 12.
			wantQuota(t, "a 15th position", f.planner(t, "POST", path, building(40)), http.StatusRequestEntityTooLarge, "max_vertices_per_scenario", 12)

			// Three runs: the first is dropped once the third is stored (2 kept).
			var runs []string
			for range 3 {
				a := f.planner(t, "POST", "/api/scenarios/"+id+"/run", nil)
				wantStatus(t, "a run", a, http.StatusCreated)
				runs = append(runs, a.json(t)["id"].(string))
			}
			wantStatus(t, "the first run", f.planner(t, "GET", "/api/scenarios/"+id+"/runs/"+runs[0], nil), http.StatusNotFound)
			for _, r := range runs[1:] {
				wantStatus(t, "a kept run", f.planner(t, "GET", "/api/scenarios/"+id+"/runs/"+r, nil), http.StatusOK)
			}
		})
	}
}

const (
	otherPlanner = "other-planner-secret"
	adminToken2  = "admin-secret-of-the-quota-tests"
)

// withTokens serves f's scenarios to two planners and an admin.
func withTokens(f *apiFixture) {
	f.srv = New(Options{Logger: scenarioTestLogger(), Model: f.model, TileCache: f.cache, Scenarios: f.svc,
		Tokens: StaticTokens{NewStaticToken(plannerToken, RolePlanner), NewStaticToken(otherPlanner, RolePlanner), NewStaticToken(adminToken2, RoleAdmin)}})
	f.h = f.srv.Handler()
}

func TestScenarioOwnersAndVisibilityOverHTTP(t *testing.T) {
	for _, st := range scenarioStores {
		t.Run(st.name, func(t *testing.T) {
			f := newAPIFixture(t, st.wrap(t))
			withTokens(f)
			f.svc.Quotas = scenarios.Quotas{MaxScenarios: 2}
			id := f.create(t, "owned")
			path := "/api/scenarios/" + id
			sc := f.planner(t, "GET", path, nil).json(t)
			if sc["owner"] == "" || sc["owner"] == nil || sc["visibility"] != "team" {
				t.Fatalf("a new scenario: owner %v, visibility %v; want its token's id and team", sc["owner"], sc["visibility"])
			}
			change := map[string]any{"kind": "add_building", "geometry": f.rect(0, 10, 10, 20), "properties": map[string]any{"use": "residential", "floors": 2}}
			wantStatus(t, "another planner adds to a team scenario", f.do(t, "POST", path+"/changes", otherPlanner, change), http.StatusCreated)

			wantStatus(t, "the owner makes it private", f.planner(t, "PATCH", path, map[string]any{"visibility": "private"}), http.StatusOK)
			wantStatus(t, "another planner reads a private scenario", f.do(t, "GET", path, otherPlanner, nil), http.StatusNotFound)
			if list := f.do(t, "GET", "/api/scenarios", otherPlanner, nil); len(list.json(t)["scenarios"].([]any)) != 0 {
				t.Fatalf("another planner lists a private scenario: %s", list.body)
			}
			wantStatus(t, "an admin reads a private scenario", f.do(t, "GET", path, adminToken2, nil), http.StatusOK)

			wantStatus(t, "the owner publishes it", f.planner(t, "PATCH", path, map[string]any{"visibility": "published"}), http.StatusOK)
			wantStatus(t, "another planner reads a published scenario", f.do(t, "GET", path, otherPlanner, nil), http.StatusOK)
			wantStatus(t, "another planner adds to a published scenario", f.do(t, "POST", path+"/changes", otherPlanner, change), http.StatusForbidden)
			wantStatus(t, "another planner makes it a team's", f.do(t, "PATCH", path, otherPlanner, map[string]any{"visibility": "team"}), http.StatusForbidden)
			wantStatus(t, "an admin adds to a published scenario", f.do(t, "POST", path+"/changes", adminToken2, change), http.StatusCreated)

			// MaxScenarios 2: the owner's second is made, the third refused; others are not concerned.
			f.create(t, "second")
			wantQuota(t, "a third scenario of one token", f.planner(t, "POST", "/api/scenarios", map[string]any{"name": "third"}),
				http.StatusTooManyRequests, "max_scenarios_per_token", 2)
			wantStatus(t, "another planner's first", f.do(t, "POST", "/api/scenarios", otherPlanner, map[string]any{"name": "theirs"}), http.StatusCreated)

			// Every write is in the audit log, most recent first, readable by admins only.
			wantStatus(t, "a planner reads the audit log", f.planner(t, "GET", "/api/admin/audit", nil), http.StatusForbidden)
			a := f.do(t, "GET", "/api/admin/audit", adminToken2, nil)
			wantStatus(t, "an admin reads the audit log", a, http.StatusOK)
			var log struct {
				Entries []scenarios.AuditEntry `json:"entries"`
			}
			if err := json.Unmarshal(a.body, &log); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range log.Entries {
				if e.ScenarioID == id {
					got = append(got, fmt.Sprintf("%s v%d by %s", e.Action, e.Version, map[bool]string{true: "owner", false: "other"}[e.Who == sc["owner"]]))
				}
			}
			want := []string{"add 1 changes v5 by other", "update v4 by owner", "update v3 by owner", "add 1 changes v2 by other", "create v1 by owner"}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("the audit of %s:\n%q\nwant\n%q", id, got, want)
			}
		})
	}
}
