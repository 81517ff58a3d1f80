package web

import (
	"net/http"
	"testing"
)

// TestScenarioWritesNeedIfMatch makes every write to an existing scenario without If-Match
// (428, the scenario unchanged), with a stale one (412) and with the ETag the last answer
// gave (done, with the next ETag), in both stores.
func TestScenarioWritesNeedIfMatch(t *testing.T) {
	for _, st := range scenarioStores {
		t.Run(st.name, func(t *testing.T) {
			f := newAPIFixture(t, st.wrap(t))
			id := f.create(t, "conditional")
			path := "/api/scenarios/" + id
			building := map[string]any{"kind": "add_building", "geometry": f.rect(0, 10, 10, 20), "properties": map[string]any{"use": "residential", "floors": 2}}
			etag := f.planner(t, "GET", path, nil).header.Get("ETag")
			if etag != `"1"` {
				t.Fatalf("a new scenario's ETag: %q, want \"1\"", etag)
			}
			for _, w := range []struct {
				what, method, path string
				body               any
				status             int
				next               string // the ETag after the write; "" for a write without one
			}{
				{"a change added", "POST", path + "/changes", building, http.StatusCreated, `"2"`},
				{"a run", "POST", path + "/run", nil, http.StatusCreated, `"2"`}, // a run leaves the version
				{"a rename", "PATCH", path, map[string]any{"name": "renamed"}, http.StatusOK, `"3"`},
				{"a visibility", "PATCH", path, map[string]any{"visibility": "private"}, http.StatusOK, `"4"`},
				{"a change removed", "DELETE", path + "/changes/c1", nil, http.StatusOK, `"5"`},
				{"the scenario deleted", "DELETE", path, nil, http.StatusNoContent, ""},
			} {
				before := f.planner(t, "GET", path+"/changes", nil)
				wantError(t, w.what+" without If-Match", f.planner(t, w.method, w.path, w.body, "If-Match", ""),
					http.StatusPreconditionRequired, "precondition_required", "")
				wantError(t, w.what+" with a stale If-Match", f.planner(t, w.method, w.path, w.body, "If-Match", `"0"`),
					http.StatusPreconditionFailed, "precondition_failed", "")
				if after := f.planner(t, "GET", path+"/changes", nil); string(after.body) != string(before.body) || after.header.Get("ETag") != etag {
					t.Fatalf("%s refused changed the scenario:\nbefore %s %s\nafter  %s %s", w.what, etag, before.body, after.header.Get("ETag"), after.body)
				}
				a := f.planner(t, w.method, w.path, w.body, "If-Match", etag)
				wantStatus(t, w.what+" with the ETag", a, w.status)
				if got := a.header.Get("ETag"); got != w.next {
					t.Fatalf("%s: ETag %q, want %q", w.what, got, w.next)
				}
				etag = w.next
			}
			wantError(t, "the deleted scenario", f.planner(t, "GET", path, nil), http.StatusNotFound, "not_found", "")
			// A clone writes a new scenario, not the one it copies: no If-Match needed.
			orig := f.create(t, "original")
			wantStatus(t, "a clone without If-Match", f.planner(t, "POST", "/api/scenarios/"+orig+"/clone", nil, "If-Match", ""), http.StatusCreated)
		})
	}
}
