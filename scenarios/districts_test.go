package scenarios

import (
	"context"
	"testing"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// A districts layer the city brings itself (imported, none of them derived) wins over the
// grid districts an OpenStreetMap conversion models: a derived district holding a building
// that one of the city's districts holds is not used, and one holding only buildings the
// city's layer leaves out still is. Before, the grid square, with the lowest id, took the
// buildings of West and East, and was reported beside them.
func TestTheCitysOwnDistrictsWinOverDerivedGridDistricts(t *testing.T) {
	p := spatial.NewProjection(tinyOrigin)
	var fs []layers.Feature
	for _, f := range tinyFeatures() {
		if f.Layer == "districts" {
			f.ID += 10 // West 11, East 12: the grid square below has the lowest id
		}
		fs = append(fs, f)
	}
	type m = map[string]any
	fs = append(fs,
		// A grid square over the whole tiny city, derived, as an OSM import makes one.
		layers.Feature{Layer: "districts", ID: 1, Geometry: rect(p, -1000, -1000, 1000, 1000), Props: m{"name": "Grid A1", "code": "G-A1", "derived": true}},
		// A grid square east of the city's districts, over a building they leave out.
		layers.Feature{Layer: "districts", ID: 2, Geometry: rect(p, 1000, -1000, 2000, 1000), Props: m{"name": "Grid B1", "code": "G-B1", "derived": true}},
		layers.Feature{Layer: "buildings", ID: 61, Geometry: rect(p, 1100, 0, 1110, 10), Props: m{"use": "residential", "floors": int64(1), "dwellings": int64(2)}},
	)
	city, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	run, err := newEngine(t).Baseline(context.Background(), city)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"West":    60,        // B1 20 × 2.5 + B4 4 × 2.5
		"East":    800.0 / 7, // B2 mixed: 8000 m² × 0.5 / 35
		"Grid B1": 5,         // B61 2 × 2.5
	}
	got := map[string]float64{}
	for _, d := range run.Districts {
		got[d.Name] = d.Indicators["residents"].Baseline
	}
	if len(got) != len(want) {
		t.Errorf("districts %v, want West, East and Grid B1 only", got)
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || !approx(g, w) {
			t.Errorf("%s residents = %v (listed %v), want %v", name, g, ok, w)
		}
	}
	// Residents: R + 5; the districts the indicators use include a derived one (Grid B1), so
	// residents stay modelled.
	if r := run.Indicators["residents"].Baseline; !approx(r, R+5) {
		t.Errorf("residents = %v, want %v", r, R+5)
	}
}

// Once the city's own districts hold every building, no derived district is used, and the
// indicators that read districts no longer count as modelled on their account.
func TestNoDerivedDistrictIsUsedWhenTheCitysOwnCoverEveryBuilding(t *testing.T) {
	p := spatial.NewProjection(tinyOrigin)
	fs := append(tinyFeatures(), layers.Feature{Layer: "districts", ID: 3, Geometry: rect(p, -1000, -1000, 1000, 1000),
		Props: map[string]any{"name": "Grid A1", "code": "G-A1", "derived": true}})
	city, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	run, err := newEngine(t).Baseline(context.Background(), city)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Districts) != 2 {
		t.Errorf("%d districts, want West and East", len(run.Districts))
	}
	// The tiny city's zoning, parcels and the rest are all surveyed: its area is the two
	// districts' 2 × 2 km², and residents per hectare read districts and buildings only.
	if got := run.Indicators["area_ha"].Baseline; !approx(got, 400) {
		t.Errorf("area_ha = %v, want 400 (2 × 200 ha, the grid square not counted)", got)
	}
	if src := run.Sources["area_ha"]; src != SourceSurveyed {
		t.Errorf("source of area_ha = %q, want %q", src, SourceSurveyed)
	}
}
