package web

import (
	"net/http"
	"testing"
)

// TestAChangeInAPublicParkIsAcceptedWithAWarning adds buildings to apiCity: one in the public
// park (green space 1, [200,300]×[200,300]) is stored and answered with an in_public_park
// warning; one in the private park (green space 2) is stored without warnings.
func TestAChangeInAPublicParkIsAcceptedWithAWarning(t *testing.T) {
	f := newAPIFixture(t, nil)
	id := f.create(t, "Park")
	building := func(x0, y0, x1, y1 float64) map[string]any {
		return map[string]any{"kind": "add_building", "geometry": f.rect(x0, y0, x1, y1), "properties": map[string]any{"use": "residential", "floors": 3}}
	}
	a := f.planner(t, "POST", "/api/scenarios/"+id+"/changes", building(240, 240, 260, 260), "If-Match", `"1"`)
	wantStatus(t, "a building in the public park", a, http.StatusCreated)
	ws, _ := a.json(t)["warnings"].([]any)
	if len(ws) != 1 {
		t.Fatalf("warnings %v, want one", a.json(t)["warnings"])
	}
	w := ws[0].(map[string]any)
	if w["code"] != "in_public_park" || w["feature_id"] != 1.0 || w["change_id"] != "c1" {
		t.Errorf("warning %v, want in_public_park of green space 1 for change c1", w)
	}

	a = f.planner(t, "POST", "/api/scenarios/"+id+"/changes", building(60, -50, 70, -40), "If-Match", `"2"`)
	wantStatus(t, "a building in the private park", a, http.StatusCreated)
	if ws, ok := a.json(t)["warnings"].([]any); !ok || len(ws) != 0 {
		t.Errorf("warnings %v, want an empty list", a.json(t)["warnings"])
	}
}
