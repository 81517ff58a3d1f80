package scenarios

import (
	"context"
	"encoding/json"
	"math"
	"sort"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/citymodel"
)

func geoJSON(g orb.Geometry) []byte {
	b, err := json.Marshal(geojson.NewGeometry(g))
	if err != nil {
		panic(err)
	}
	return b
}

func newEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := NewEngine(handParameters())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// R is the tiny city's residents: B1 20 dwellings × 2.5 = 50; B2 mixed without dwellings
// 1600 m² × 5 floors = 8000 m² × 0.5 / 35 = 800/7 = 114.2857; B4 4 × 2.5 = 10;
// 50 + 800/7 + 10 = 1220/7 = 174.2857.
const R = 1220.0 / 7

// The baseline of the tiny city, worked out by hand.
var tinyBaseline = map[string]float64{
	// 1, 2, 3
	"residents": R,
	"dwellings": 24, // B1 20 + B4 4
	// B1 900×4 = 3600, B2 8000, B3 gfa_m2 2500, B4 400×2 = 800, B5 400×1 = 400: 15300
	"floor_area_m2":             15300,
	"floor_area_residential_m2": 8400, // 3600 + 800 + 8000 × 0.5
	"floor_area_commercial_m2":  4000, // the other half of the mixed B2
	"floor_area_office_m2":      2500,
	"floor_area_industrial_m2":  400,
	"floor_area_education_m2":   0,
	"floor_area_health_m2":      0,
	"floor_area_culture_m2":     0,
	"floor_area_other_m2":       0,
	"jobs":                      1710.0 / 7, // B2 4000/35 = 800/7, B3 2500/20 = 125, B5 400/80 = 5: 800/7 + 130
	// 4: B5 (industrial) in Z1, which allows residential/mixed/education. Parcels: P1 POT
	// 900/10000 = 9 % ≤ 40, CUT 0.36 ≤ 2; P2 16 % ≤ 60, CUT 0.8 ≤ 3; P3 4 %, 0.08.
	"violations": 1, "violations_allowed_uses": 1, "violations_max_height": 0, "violations_max_floors": 0,
	"violations_max_pot": 0, "violations_max_cut": 0,
	// 5: straight-line distance × 1.25 against each radius.
	"access_school":         50 / R,                                                                // B1 → S1 500 m → 625 ≤ 800; B4 √(5²+905²) = 905.01 → 1131 > 800; B2 √(905²+495²) = 1031.5 → 1289
	"access_clinic":         (800.0 / 7) / R,                                                       // B2 → C1 300 m → 375 ≤ 1000; B1 √(905²+305²) = 955.0 → 1193.8 > 1000; B4 1154.2 → 1442.8
	"access_pharmacy":       50 / R,                                                                // B1 → F1 175 → 218.75 ≤ 600; B4 580.02 → 725 > 600
	"access_citizen_center": 1,                                                                     // CC (-100,100): B1 480.9 → 601, B2 435.7 → 544.6, B4 678.8 → 848.5, all ≤ 1500
	"access_kindergarten":   0, "access_high_school": 0, "access_hospital": 0, "access_library": 0, // none in the city
	// 6: B1 reaches school 625, clinic 1193.8, pharmacy 218.75, centre 601, park 175 × 1.25
	// = 218.75, all ≤ 1200; B4's clinic is 1442.8 away, B2's school 1289.
	"fifteen_minute_city": 50 / R,
	// 7: everyone's nearest school is S1: pupils 0.1 × R = 17.43 over capacity 10.
	"pupils": 0.1 * R, "school_capacity": 10, "school_load": 0.1 * R / 10, "schools_over_capacity": 1,
	"preschool_children": 0.04 * R, "kindergarten_capacity": 0, "kindergarten_load": 0, "kindergartens_over_capacity": 0,
	// 8: park edge from B1 175 m ≤ 300; from B4 √(180²+380²) = 420.5; from B2 630.
	"green_access": 50 / R,
	// 9
	"public_green_m2": 10000, "green_m2_per_resident": 10000 / R,
	// 10: B4's centroid (-580,-380) is in N1: band 60, Lnight 52 ≥ 50.
	"noise_lden_55": 0, "noise_lden_60": 10, "noise_lden_65": 0, "noise_lden_70": 0, "noise_lden_75": 0,
	"noise_lden_55_plus": 10, "noise_lnight_50_plus": 10,
	// 11: B4 in the 100-year zone, so also within the 1000-year one; no 10-year zone.
	"flood_10_residents": 0, "flood_10_buildings": 0, "flood_100_residents": 10, "flood_100_buildings": 1,
	"flood_1000_residents": 10, "flood_1000_buildings": 1,
	// 12: B1's 3 nearest stations are L1-L3 (100 m; H2 is 416 m): under every limit. B4's are
	// H1-H3 (100 m): no2 50 > EU 40 and > WHO 10. B2's are L2 (d² 648050), H2 (824200) and L1
	// (828050); IDW (1/d²): pm25 = (4/648050 + 8/824200 + 4/828050) / (1/648050 + 1/824200 +
	// 1/828050) = 5.224 > WHO 5; no2 20.86 and pm10 16.12 stay under the EU's 40.
	"air_eu_exceedance_residents": 10, "air_eu_exceedance_share": 10 / R,
	"air_who_exceedance_residents": 10 + 800.0/7, "air_who_exceedance_share": (10 + 800.0/7) / R,
	// 13: footprints 900+1600+1000+400+400 = 4300 m² over 400 ha; the park 10000 m².
	"built_share": 4300.0 / 4e6, "impervious_share": 4300.0 / 4e6, "green_share": 10000.0 / 4e6,
	// 14: fibre 1000 over West (B1, B4: 60 residents), dsl 50 over East; W1 76.5 m from B1;
	// CC within 1500 m of all.
	"broadband_fast_share": 60 / R, "broadband_gigabit_share": 60 / R, "wifi_access_share": 50 / R,
	"digital_help_access_share": 1,
	// 15
	"area_ha": 400, "residents_per_ha": R / 400, "dwellings_per_ha": 24.0 / 400,
}

func approx(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

func TestTinyCityBaselineMatchesHandComputedValues(t *testing.T) {
	c := tinyCity(t)
	e := newEngine(t)
	run, err := e.Baseline(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	names := e.IndicatorNames()
	if len(names) != len(tinyBaseline) {
		var missing []string
		for _, n := range names {
			if _, ok := tinyBaseline[n]; !ok {
				missing = append(missing, n)
			}
		}
		t.Fatalf("%d indicators, %d expected; not worked out: %v", len(names), len(tinyBaseline), missing)
	}
	for _, n := range names {
		got, ok := run.Indicators[n]
		if !ok {
			t.Errorf("indicator %s missing", n)
			continue
		}
		if want := tinyBaseline[n]; !approx(got.Baseline, want) || got.Variant != got.Baseline || got.Diff != 0 {
			t.Errorf("%s = %+v, want baseline %v", n, got, want)
		}
	}
	if len(run.Violations) != 1 || run.Violations[0].Feature != "buildings/5" || run.Violations[0].Rule != "allowed_uses" {
		t.Errorf("violations = %+v, want B5 allowed_uses", run.Violations)
	}
	if len(run.Overloaded) != 1 || run.Overloaded[0].ID != 1 || !approx(run.Overloaded[0].Load, 0.1*R/10) {
		t.Errorf("overloaded = %+v, want S1 at %.4f", run.Overloaded, 0.1*R/10)
	}

	// Per district: West holds B1, B4, B5 (60 residents), S1, the park, F1, W1 and CC; East
	// holds B2, B3 and C1.
	west, east := run.Districts[0], run.Districts[1]
	if west.Name != "West" || east.Name != "East" {
		t.Fatalf("districts = %s, %s", west.Name, east.Name)
	}
	for name, want := range map[string]float64{
		"residents": 60, "dwellings": 24, "floor_area_m2": 4800, "jobs": 5, "violations": 1,
		"access_school": 50.0 / 60, "access_clinic": 0, "fifteen_minute_city": 50.0 / 60, "green_access": 50.0 / 60,
		"pupils": 6, "school_capacity": 10, "school_load": 0.1 * R / 10, // S1 takes every pupil of the city
		"public_green_m2": 10000, "green_m2_per_resident": 10000.0 / 60,
		"noise_lden_60": 10, "flood_100_buildings": 1, "air_eu_exceedance_share": 10.0 / 60, "air_who_exceedance_share": 10.0 / 60,
		"built_share": 1700.0 / 2e6, "green_share": 10000.0 / 2e6, "broadband_gigabit_share": 1, "wifi_access_share": 50.0 / 60,
		"area_ha": 200, "residents_per_ha": 60.0 / 200, "dwellings_per_ha": 24.0 / 200,
	} {
		if got := west.Indicators[name].Baseline; !approx(got, want) {
			t.Errorf("West %s = %v, want %v", name, got, want)
		}
	}
	for name, want := range map[string]float64{
		"residents": 800.0 / 7, "dwellings": 0, "floor_area_m2": 10500, "jobs": 800.0/7 + 125,
		"access_school": 0, "access_clinic": 1, "school_capacity": 0, "school_load": 0, "pupils": 80.0 / 7,
		"air_who_exceedance_share": 1, "broadband_fast_share": 0, "built_share": 2600.0 / 2e6, "green_share": 0,
	} {
		if got := east.Indicators[name].Baseline; !approx(got, want) {
			t.Errorf("East %s = %v, want %v", name, got, want)
		}
	}
}

func mustChange(t testing.TB, kind Kind, target string, geom []byte, props map[string]any) ChangeInput {
	t.Helper()
	in := ChangeInput{Kind: kind, Geometry: geom, Properties: props}
	if target != "" {
		in.Target, _ = json.Marshal(target)
	}
	return in
}

// runWith applies changes to a fresh scenario and runs it.
func runWith(t *testing.T, svc *Service, ins ...ChangeInput) (*Run, []Change) {
	t.Helper()
	ctx := context.Background()
	sc, err := svc.Create(ctx, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	_, added, err := svc.AddChanges(ctx, sc.ID, nil, ins)
	if err != nil {
		t.Fatal(err)
	}
	run, err := svc.Run(ctx, sc.ID, nil, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return run, added
}

func newService(t testing.TB) *Service {
	t.Helper()
	c := tinyCity(t)
	st, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return NewService(st, newEngine(t), citymodel.Fixed(c))
}

func TestBuildingOverTheHeightLimitIsExactlyOneNewViolation(t *testing.T) {
	svc := newService(t)
	c := svc.Model.City()
	// On P2 in Z2 (max 30 m, 10 floors, POT 60, CUT 3): 30 × 30 m, 8 floors, 35 m. P2 then
	// has 1600 + 900 = 2500 m² built (POT 25 %) and 8000 + 7200 = 15200 m² of floors (CUT
	// 1.52): within its limits; 8 floors ≤ 10. Only the height breaks a rule.
	run, added := runWith(t, svc, mustChange(t, AddBuilding, "", rectGeoJSON(c, 360, 60, 390, 90),
		map[string]any{"use": "residential", "floors": 8.0, "height_m": 35.0, "dwellings": 30.0}))
	var fresh []Violation
	for _, v := range run.Violations {
		if v.New {
			fresh = append(fresh, v)
		}
	}
	id := added[0].FeatureID
	if len(fresh) != 1 {
		t.Fatalf("new violations = %+v, want exactly one", fresh)
	}
	v := fresh[0]
	if v.Feature != "buildings/"+itoa(id) || v.Rule != "max_height_m" || v.Value != 35.0 || v.Limit != 30.0 || v.Zone != 2 {
		t.Fatalf("violation = %+v, want buildings/%d max_height_m 35 > 30 in zone 2", v, id)
	}
	if got := run.Indicators["violations_max_height"]; got.Baseline != 0 || got.Variant != 1 || got.Diff != 1 {
		t.Fatalf("violations_max_height = %+v", got)
	}
	if got := run.Indicators["violations"]; got.Baseline != 1 || got.Variant != 2 {
		t.Fatalf("violations = %+v, want 1 → 2", got)
	}
	// 30 dwellings × 2.5 = 75 more residents.
	if got := run.Indicators["residents"]; !approx(got.Variant, R+75) || !approx(got.Diff, 75) {
		t.Fatalf("residents = %+v, want +75", got)
	}
}

func TestAddingASchoolChangesAccessAndLoadAsComputedByHand(t *testing.T) {
	svc := newService(t)
	c := svc.Model.City()
	// S2 at (330,400), capacity 20. B2 (330,30) is 370 m away → 462.5 m walking ≤ 800, and
	// S2 is nearer than S1 (1031.5 m). B1 stays with S1 (500 m against √(905²+375²) = 979.6),
	// B4 too (905.0 against √(910²+780²) = 1198.5).
	run, _ := runWith(t, svc, mustChange(t, AddFacility, "", geoJSON(wgs(c, 330, 400)),
		map[string]any{"kind": "school", "name": "S2", "capacity": 20.0}))
	want := map[string]Value{
		// (50 + 800/7) / R = 1150/1220
		"access_school": {Baseline: 50 / R, Variant: 1150.0 / 1220},
		// S1: 0.1 × (50 + 10) = 6 pupils; S2: 0.1 × 800/7 = 11.43; (6 + 11.43) / (10 + 20)
		"school_load":           {Baseline: 0.1 * R / 10, Variant: 0.1 * R / 30},
		"school_capacity":       {Baseline: 10, Variant: 30},
		"schools_over_capacity": {Baseline: 1, Variant: 0},
		"pupils":                {Baseline: 0.1 * R, Variant: 0.1 * R},
		// B2 had everything but a school within 1200 m walking: clinic 300 × 1.25 = 375,
		// pharmacy √(905²+170²) = 920.8 × 1.25 = 1151, centre 544.6, park 630 × 1.25 = 787.5;
		// now S2 at 462.5 completes it: (50 + 800/7) / R.
		"fifteen_minute_city": {Baseline: 50 / R, Variant: 1150.0 / 1220},
	}
	for name, w := range want {
		got := run.Indicators[name]
		if !approx(got.Baseline, w.Baseline) || !approx(got.Variant, w.Variant) || !approx(got.Diff, w.Variant-w.Baseline) {
			t.Errorf("%s = %+v, want %v → %v", name, got, w.Baseline, w.Variant)
		}
	}
	if len(run.Overloaded) != 0 {
		t.Errorf("overloaded = %+v, want none", run.Overloaded)
	}
	// East now has S2: 80/7 pupils of B2 over 20 places.
	east := run.Districts[1]
	if got := east.Indicators["school_load"]; !approx(got.Variant, (80.0/7)/20) || got.Baseline != 0 {
		t.Errorf("East school_load = %+v, want 0 → %v", got, (80.0/7)/20)
	}
	west := run.Districts[0]
	if got := west.Indicators["school_load"]; !approx(got.Variant, 0.6) {
		t.Errorf("West school_load = %+v, want 6/10", got)
	}
}

// sortedViolations gives a comparable form of a run's violations.
func sortedViolations(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		b, _ := json.Marshal(v)
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}
