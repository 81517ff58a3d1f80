package web

import (
	"net/http"
	"strings"
	"testing"
)

// A scenario's routes as the public reads them, with {sid} and {rid} standing for a scenario
// and one of its runs.
var publicScenarioReads = []string{
	"/api/scenarios/{sid}",
	"/api/scenarios/{sid}/changes",
	"/api/scenarios/{sid}/runs/{rid}",
	"/api/scenarios/{sid}/runs/{rid}/export.csv",
	"/api/scenarios/{sid}/runs/{rid}/export.geojson",
	"/api/scenarios/compare?ids={sid}",
}

// scenarioWithRun makes a scenario of the planner's with one building and a run, of the given
// visibility; it returns the scenario's and the run's ids.
func (f *apiFixture) scenarioWithRun(t *testing.T, name, visibility string) (sid, rid string) {
	t.Helper()
	sid = f.create(t, name)
	path := "/api/scenarios/" + sid
	wantStatus(t, name+": a building", f.planner(t, "POST", path+"/changes", map[string]any{
		"kind": "add_building", "geometry": f.rect(0, 10, 10, 20), "properties": map[string]any{"use": "residential", "floors": 2}}), http.StatusCreated)
	a := f.planner(t, "POST", path+"/run", nil)
	wantStatus(t, name+": a run", a, http.StatusCreated)
	rid = a.json(t)["id"].(string)
	if visibility != "team" {
		wantStatus(t, name+": "+visibility, f.planner(t, "PATCH", path, map[string]any{"visibility": visibility}), http.StatusOK)
	}
	return sid, rid
}

// listed returns the ids of a listing's scenarios.
func listed(t *testing.T, a answer) []string {
	t.Helper()
	wantStatus(t, "a listing", a, http.StatusOK)
	var ids []string
	for _, sc := range a.json(t)["scenarios"].([]any) {
		ids = append(ids, sc.(map[string]any)["id"].(string))
	}
	return ids
}

func TestPublishedScenariosAreReadByThePublic(t *testing.T) {
	for _, st := range scenarioStores {
		t.Run(st.name, func(t *testing.T) {
			f := newAPIFixture(t, st.wrap(t))
			pub, pubRun := f.scenarioWithRun(t, "published", "published")
			team, teamRun := f.scenarioWithRun(t, "team", "team")
			priv, privRun := f.scenarioWithRun(t, "private", "private")
			paths := func(sid, rid string) []string {
				var out []string
				for _, p := range publicScenarioReads {
					out = append(out, replaceIDs(p, sid, rid))
				}
				return append(out, f.variantTilePath(sid, 0)) // a tile holding the building
			}
			// Without a token and with a token of the public role alike.
			for _, token := range []string{"", viewerToken} {
				who := map[string]string{"": "without a token", viewerToken: "with a public token"}[token]
				for _, p := range paths(pub, pubRun) {
					a := f.do(t, "GET", p, token, nil)
					wantStatus(t, who+": "+p+" of a published scenario", a, http.StatusOK)
					if strings.Contains(string(a.body), `"owner"`) {
						t.Fatalf("%s: %s names the owner's token id to the public: %s", who, p, a.body)
					}
				}
				// A team's or private scenario is answered as one that does not exist: 404.
				for _, p := range append(append(paths(team, teamRun), paths(priv, privRun)...),
					paths("0123456789abcdef", "0123456789abcdef")...) {
					wantError(t, who+": "+p, f.do(t, "GET", p, token, nil), http.StatusNotFound, "not_found", "")
				}
				wantError(t, who+": a comparison of a published and a team's scenario",
					f.do(t, "GET", "/api/scenarios/compare?ids="+pub+","+team, token, nil), http.StatusNotFound, "not_found", "")
				if got := listed(t, f.do(t, "GET", "/api/scenarios", token, nil)); len(got) != 1 || got[0] != pub {
					t.Fatalf("%s: the listing holds %v, want the published scenario %s only", who, got, pub)
				}
				if got := listed(t, f.do(t, "GET", "/api/scenarios?visibility=published", token, nil)); len(got) != 1 || got[0] != pub {
					t.Fatalf("%s: the listing of published scenarios holds %v, want %s", who, got, pub)
				}
				if got := listed(t, f.do(t, "GET", "/api/scenarios?visibility=team", token, nil)); len(got) != 0 {
					t.Fatalf("%s: the listing of team scenarios holds %v, want none", who, got)
				}
				// Every write still needs a planner, with or without If-Match.
				for _, w := range []struct{ method, path string }{
					{"PATCH", "/api/scenarios/" + pub}, {"DELETE", "/api/scenarios/" + pub},
					{"POST", "/api/scenarios/" + pub + "/changes"}, {"DELETE", "/api/scenarios/" + pub + "/changes/c1"},
					{"POST", "/api/scenarios/" + pub + "/run"}, {"POST", "/api/scenarios/" + pub + "/clone"},
				} {
					wantError(t, who+": "+w.method+" "+w.path, f.do(t, w.method, w.path, token, map[string]any{"name": "x"}, "If-Match", `"4"`),
						http.StatusUnauthorized, "unauthorized", "")
				}
			}
			// A planner lists by visibility too; an unknown one is refused.
			if got := listed(t, f.planner(t, "GET", "/api/scenarios?visibility=team", nil)); len(got) != 1 || got[0] != team {
				t.Fatalf("the planner's team scenarios: %v, want %s", got, team)
			}
			wantError(t, "a listing of an unknown visibility", f.planner(t, "GET", "/api/scenarios?visibility=secret", nil),
				http.StatusBadRequest, "invalid_parameter", "visibility")
			// Taken back to the team, the scenario is the public's no more.
			wantStatus(t, "unpublish", f.planner(t, "PATCH", "/api/scenarios/"+pub, map[string]any{"visibility": "team"}), http.StatusOK)
			wantError(t, "an unpublished scenario", f.do(t, "GET", "/api/scenarios/"+pub, "", nil), http.StatusNotFound, "not_found", "")
		})
	}
}

func replaceIDs(p, sid, rid string) string {
	return strings.NewReplacer("{sid}", sid, "{rid}", rid).Replace(p)
}
