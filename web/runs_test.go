package web

import (
	"net/http"
	"testing"
)

// TestTheRunsOfAScenarioAreListedWithTheirVersions runs a scenario, adds a change and runs it
// again: GET /api/scenarios/{id}/runs lists both, the newest first, each with the version it
// ran (1, then 2), so a client can tell that the first is out of date.
func TestTheRunsOfAScenarioAreListedWithTheirVersions(t *testing.T) {
	f := newAPIFixture(t, nil)
	id := f.create(t, "Runs")
	list := func() []any {
		a := f.planner(t, "GET", "/api/scenarios/"+id+"/runs", nil)
		wantStatus(t, "list the runs", a, http.StatusOK)
		runs, ok := a.json(t)["runs"].([]any)
		if !ok {
			t.Fatalf("no list of runs: %s", a.body)
		}
		return runs
	}
	if runs := list(); len(runs) != 0 {
		t.Fatalf("a new scenario has runs: %v", runs)
	}
	run := func() string {
		a := f.planner(t, "POST", "/api/scenarios/"+id+"/run", nil)
		wantStatus(t, "run", a, http.StatusCreated)
		return a.json(t)["id"].(string)
	}
	first := run()
	change := map[string]any{"kind": "add_building", "geometry": f.rect(500, 500, 520, 520), "properties": map[string]any{"use": "residential", "floors": 3}}
	wantStatus(t, "add a change", f.planner(t, "POST", "/api/scenarios/"+id+"/changes", change, "If-Match", `"1"`), http.StatusCreated)
	second := run()
	runs := list()
	if len(runs) != 2 {
		t.Fatalf("%d runs listed, want 2: %v", len(runs), runs)
	}
	for i, want := range []struct {
		id      string
		version float64
	}{{second, 2}, {first, 1}} {
		r := runs[i].(map[string]any)
		if r["id"] != want.id || r["scenario_version"] != want.version || r["scenario_id"] != id {
			t.Errorf("run %d: %v, want %s of version %v", i, r, want.id, want.version)
		}
	}
	wantError(t, "the runs of a missing scenario", f.planner(t, "GET", "/api/scenarios/0123456789abcdef/runs", nil), http.StatusNotFound, "not_found", "")
}
