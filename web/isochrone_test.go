package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// riverTown: two streets along the banks of a river (y = 0 south, y = 200 north, x 0..1000)
// joined by one bridge at x = 1000; a pharmacy 10 m south of the south street at x = 100 and
// a school 10 m north of the north street at x = 100. Coordinates in metres of the town's own
// projection; the city's projection is centred on its extent, so lengths agree to a few
// centimetres.
func riverTown(t *testing.T) (*spatial.City, func(x, y float64) orb.Point) {
	t.Helper()
	p := spatial.NewProjection(orb.Point{23.59, 46.77})
	pt := func(x, y float64) orb.Point { return p.ToWGS84(orb.Point{x, y}) }
	c, err := spatial.NewCity([]layers.Feature{
		{Layer: "facilities", ID: 1, Geometry: pt(100, -10), Props: map[string]any{"kind": "pharmacy", "name": "South"}},
		{Layer: "facilities", ID: 2, Geometry: pt(100, 210), Props: map[string]any{"kind": "school", "name": "North"}},
		{Layer: "districts", ID: 1, Geometry: orb.Polygon{orb.Ring{pt(-100, -100), pt(1100, -100), pt(1100, 300), pt(-100, 300), pt(-100, -100)}}, Props: map[string]any{"name": "Town"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range []orb.LineString{{pt(0, 0), pt(1000, 0)}, {pt(0, 200), pt(1000, 200)}, {pt(1000, 0), pt(1000, 200)}} {
		c.Streets = append(c.Streets, layers.Feature{Layer: "streets", ID: int64(i + 1), Geometry: l})
	}
	return c, pt
}

func TestIsochroneReachesWhatTheWalkReaches(t *testing.T) {
	c, pt := riverTown(t)
	h := New(Options{Logger: scenarioTestLogger(), Model: citymodel.Fixed(c)}).Handler()
	start := pt(100, 0) // on the south street: no stub
	get := func(minutes int) *geojson.FeatureCollection {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", fmt.Sprintf("/api/isochrone?lon=%v&lat=%v&minutes=%d", start[0], start[1], minutes), nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		fc, err := geojson.UnmarshalFeatureCollection(rec.Body.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		return fc
	}
	walks := func(fc *geojson.FeatureCollection) map[string]float64 {
		out := map[string]float64{}
		for _, f := range fc.Features {
			if w, ok := f.Properties["walk_m"].(float64); ok {
				out[f.Properties["kind"].(string)] = w
			}
		}
		return out
	}
	t.Run("five minutes reach the pharmacy beside the street but not the school across the river", func(t *testing.T) {
		fc := get(5) // 5 min × 4.8 km/h = 400 m
		w := walks(fc)
		if len(w) != 1 || w["pharmacy"] < 9.9 || w["pharmacy"] > 10.1 { // the 10 m stub
			t.Fatalf("facilities reached %v, want the pharmacy only at 10 m", w)
		}
		reach := fc.Features[0]
		if reach.Properties["kind"] != "reach" || reach.Properties["limit_m"].(float64) != 400 {
			t.Fatalf("first feature %v, want the reach of 400 m", reach.Properties)
		}
		// Along the south street from x = 100: 100 m west to its end + 400 m east = 500 m.
		if l := reach.Properties["length_m"].(float64); l < 499.9 || l > 500.1 {
			t.Fatalf("length of the reach %v m, want 100 + 400 = 500 m", l)
		}
		if len(fc.Features) != 2 {
			t.Fatalf("%d features, want the reach and the pharmacy (a reach along one straight street has no hull)", len(fc.Features))
		}
	})
	t.Run("thirty minutes cross the far bridge to the school", func(t *testing.T) {
		fc := get(30) // 2400 m
		if fc.Features[1].Properties["kind"] != "hull" {
			t.Fatalf("second feature %v, want the hull", fc.Features[1].Properties)
		}
		w := walks(fc)
		// 900 m east + 200 m over the bridge + 900 m west + the 10 m stub = 2010 m.
		if w["school"] < 2009.9 || w["school"] > 2010.1 {
			t.Fatalf("facilities reached %v, want the school at 2010 m", w)
		}
	})
}

func TestIsochroneRefusesBadInput(t *testing.T) {
	c, pt := riverTown(t)
	h := New(Options{Logger: scenarioTestLogger(), Model: citymodel.Fixed(c)}).Handler()
	on, far := pt(100, 0), pt(500, 1000) // far: 800 m north of the north street
	at := func(p orb.Point, rest string) string {
		return fmt.Sprintf("/api/isochrone?lon=%v&lat=%v%s", p[0], p[1], rest)
	}
	tests := []struct {
		name, path, field string
	}{
		{"minutes are required", at(on, ""), "minutes"},
		{"no walk of zero minutes", at(on, "&minutes=0"), "minutes"},
		{"no walk longer than thirty minutes", at(on, "&minutes=31"), "minutes"},
		{"minutes are whole", at(on, "&minutes=5.5"), "minutes"},
		{"no crawl below 1 km/h", at(on, "&minutes=5&speed_kmh=0.5"), "speed_kmh"},
		{"no run above 20 km/h", at(on, "&minutes=5&speed_kmh=25"), "speed_kmh"},
		{"a point far from every street is outside the network", at(far, "&minutes=5"), "lon"},
		{"a latitude must be a number", "/api/isochrone?lon=23.59&lat=north&minutes=5", "lat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body)
			}
			var body struct {
				Error apiError `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("not a JSON error: %s", rec.Body)
			}
			if body.Error.Code != "invalid_parameter" || body.Error.Field != tt.field {
				t.Fatalf("error %+v, want invalid_parameter on %s", body.Error, tt.field)
			}
		})
	}
}
