package scenarios

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// Zoning compliance worked out by hand. The rules (docs/domain.md): a building breaks
// max_height_m or max_floors when its value is above the limit (at the limit is allowed); a
// parcel breaks max_pot_pct when POT = footprint of the buildings whose centroid it holds /
// parcel area × 100 is above it, and max_cut when CUT = their gross floor area / parcel area
// is above it. The tiny city's zones (tinycity_test.go): Z1 (West) 20 m, 6 floors, POT 40 %,
// CUT 2; Z2 (East) 30 m, 10 floors, POT 60 %, CUT 3. Its parcels are 1 ha each.
//
// Values come back from the metric projection within about 1e-9 of the round numbers, so
// an exact-at-the-limit POT or CUT uses a building drawn on its parcel's very corners: its
// footprint is then the parcel's area to the bit, POT = a / a × 100 = 100 and, with two
// floors, CUT = 2a / a = 2 exactly.

// wantViolation is a violation of a numeric zoning rule as a run lists it.
type wantViolation struct {
	feature, rule string
	value, limit  float64
	zone          int64
}

func (w wantViolation) String() string {
	return fmt.Sprintf("%s %s %v > %v in zone %d", w.feature, w.rule, w.value, w.limit, w.zone)
}

// numericViolations returns the run's height, floors, POT and CUT violations (allowed_uses
// has no number to compare), keyed by feature and rule.
func numericViolations(t *testing.T, run *Run) map[string]Violation {
	t.Helper()
	out := map[string]Violation{}
	for _, v := range run.Violations {
		if v.Rule == "allowed_uses" {
			continue
		}
		k := v.Feature + " " + v.Rule
		if _, dup := out[k]; dup {
			t.Errorf("violation %s listed twice", k)
		}
		out[k] = v
	}
	return out
}

// checkViolations compares the run's numeric violations with want: the same features and
// rules, each with its value and limit (within 1e-6) and its zone. isNew is what every one's
// New flag must be.
func checkViolations(t *testing.T, run *Run, want []wantViolation, isNew bool) {
	t.Helper()
	got := numericViolations(t, run)
	for _, w := range want {
		k := w.feature + " " + w.rule
		v, ok := got[k]
		if !ok {
			t.Errorf("missing violation %s", w)
			continue
		}
		delete(got, k)
		value, vok := v.Value.(float64)
		limit, lok := v.Limit.(float64)
		if !vok || !lok || !approx(value, w.value) || !approx(limit, w.limit) || v.Zone != w.zone || v.New != isNew {
			t.Errorf("violation %s = value %v limit %v zone %d new %v, want %s (new %v)", k, v.Value, v.Limit, v.Zone, v.New, w, isNew)
		}
	}
	var extra []string
	for k, v := range got {
		extra = append(extra, fmt.Sprintf("%s (value %v, limit %v)", k, v.Value, v.Limit))
	}
	sort.Strings(extra)
	for _, e := range extra {
		t.Errorf("unexpected violation %s", e)
	}
}

// checkViolationCounts compares the variant's violation indicators with want (by rule name
// as in the indicators: height, floors, pot, cut).
func checkViolationCounts(t *testing.T, run *Run, want map[string]float64) {
	t.Helper()
	for rule, n := range want {
		name := "violations_max_" + rule
		if got := run.Indicators[name].Variant; got != n {
			t.Errorf("%s = %v, want %v", name, got, n)
		}
	}
}

// complianceFeatures is the tiny city with parcels and buildings at and around its zones'
// limits, all well inside the districts so the projection stays the tiny city's.
//
//	P11 [-950,-850]×[600,700] Z1: B11 [-940,-880]×[610,690] 60 × 80 = 4800 m², 3 floors, 10 m
//	P12 [-950,-850]×[400,500] Z1: B12 on P12's corners, 2 floors, 7 m
//	P13 [-950,-850]×[200,300] Z1: B13 [-940,-900]×[210,295] 40 × 85 = 3400 m², 6 floors, 19 m
//	P21 [700,800]×[-800,-700] Z2: B21 [710,790]×[-790,-720] 80 × 70 = 5600 m², 6 floors, 20 m
//	off every parcel: B31 Z1 [-950,-930]×[-700,-680] 20 m, 6 floors (both at Z1's limit)
//	                  B32 Z1 [-900,-880]×[-700,-680] 20.5 m, 7 floors
//	                  B33 Z2 [800,820]×[600,620] office 30 m, 10 floors (both at Z2's limit)
//	                  B34 Z2 [850,870]×[600,620] office 30.1 m, 11 floors
func complianceFeatures() []layers.Feature {
	p := spatial.NewProjection(tinyOrigin)
	type m = map[string]any
	parcel := func(id int64, x0, y0, x1, y1 float64) layers.Feature {
		return layers.Feature{Layer: "parcels", ID: id, Geometry: rect(p, x0, y0, x1, y1), Props: m{"cad_number": fmt.Sprintf("P%d", id)}}
	}
	building := func(id int64, x0, y0, x1, y1 float64, use string, floors int64, height float64) layers.Feature {
		return layers.Feature{Layer: "buildings", ID: id, Geometry: rect(p, x0, y0, x1, y1),
			Props: m{"use": use, "floors": floors, "height_m": height}}
	}
	return append(tinyFeatures(),
		parcel(11, -950, 600, -850, 700), building(11, -940, 610, -880, 690, "residential", 3, 10),
		parcel(12, -950, 400, -850, 500), building(12, -950, 400, -850, 500, "residential", 2, 7),
		parcel(13, -950, 200, -850, 300), building(13, -940, 210, -900, 295, "residential", 6, 19),
		parcel(21, 700, -800, 800, -700), building(21, 710, -790, 790, -720, "residential", 6, 20),
		building(31, -950, -700, -930, -680, "residential", 6, 20),
		building(32, -900, -700, -880, -680, "residential", 7, 20.5),
		building(33, 800, 600, 820, 620, "office", 10, 30),
		building(34, 850, 600, 870, 620, "office", 11, 30.1),
	)
}

func TestZoningViolationsOfTheBaselineMatchHandComputedValues(t *testing.T) {
	city, err := spatial.NewCity(complianceFeatures())
	if err != nil {
		t.Fatal(err)
	}
	run, err := newEngine(t).Baseline(context.Background(), city)
	if err != nil {
		t.Fatalf("baseline of the compliance city: %v", err)
	}
	checkViolations(t, run, []wantViolation{
		// P11: 4800 / 10000 × 100 = 48 % > 40; CUT 4800 × 3 / 10000 = 1.44 ≤ 2.
		{"parcels/11", "max_pot_pct", 48, 40, 1},
		// P12: its building covers it, POT a / a × 100 = 100 > 40; CUT 2a / a = 2, at the
		// limit 2: no CUT violation.
		{"parcels/12", "max_pot_pct", 100, 40, 1},
		// P13: POT 3400 / 10000 = 34 % ≤ 40; CUT 3400 × 6 / 10000 = 2.04, just above 2.
		{"parcels/13", "max_cut", 2.04, 2, 1},
		// P21: POT 5600 / 10000 = 56 % ≤ 60; CUT 5600 × 6 / 10000 = 3.36 > 3.
		{"parcels/21", "max_cut", 3.36, 3, 2},
		// B31 and B33 stand exactly at their zone's height and floors: no violation. B32 and
		// B34 are just above them.
		{"buildings/32", "max_height_m", 20.5, 20, 1},
		{"buildings/32", "max_floors", 7, 6, 1},
		{"buildings/34", "max_height_m", 30.1, 30, 2},
		{"buildings/34", "max_floors", 11, 10, 2},
		// B1-B4 and B11-B21 are within 20/30 m and 6/10 floors; P1-P3 within their POT and CUT
		// (P1 9 %, 0.36; P2 16 %, 0.8; P3 4 %, 0.08).
	}, false)
	checkViolationCounts(t, run, map[string]float64{"height": 2, "floors": 2, "pot": 2, "cut": 2})
	// With B5's use in Z1: 2 + 2 + 2 + 2 + 1.
	if got := run.Indicators["violations"].Baseline; got != 9 {
		t.Errorf("violations = %v, want 9", got)
	}
}

// scenarioCase is one scenario of the tiny city with the numeric violations its run lists.
type scenarioCase struct {
	name    string
	changes func(c *spatial.City) []ChangeInput
	// want gets the features the changes added, in order, for their ids.
	want   func(added []Change) []wantViolation
	counts map[string]float64
}

func runScenarioCases(t *testing.T, cases []scenarioCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc := newService(t)
			run, added := runWith(t, svc, tc.changes(svc.Model.City())...)
			checkViolations(t, run, tc.want(added), true)
			checkViolationCounts(t, run, tc.counts)
		})
	}
}

func noViolations([]Change) []wantViolation { return nil }

// addedFeature names the feature the i-th change added, as violations name it.
func addedFeature(cs []Change, i int, layer string) string {
	return layer + "/" + itoa(cs[i].FeatureID)
}

func TestZoningOfAddedBuildingsAsComputedByHand(t *testing.T) {
	bldg := func(c *spatial.City, x0, y0, x1, y1 float64, props map[string]any) ChangeInput {
		return mustChange(t, AddBuilding, "", rectGeoJSON(c, x0, y0, x1, y1), props)
	}
	runScenarioCases(t, []scenarioCase{
		{
			name: "a building that takes P2 just over its POT breaks max_pot_pct only",
			// On P2 (Z2: POT 60, CUT 3) beside B2 (1600 m², 5 floors, 8000 m²): 46 × 96 =
			// 4416 m², 2 floors. POT (1600 + 4416) / 10000 × 100 = 60.16 > 60; CUT (8000 +
			// 8832) / 10000 = 1.6832 ≤ 3.
			changes: func(c *spatial.City) []ChangeInput {
				return []ChangeInput{bldg(c, 352, 2, 398, 98, map[string]any{"use": "residential", "floors": 2.0, "height_m": 7.0})}
			},
			want: func([]Change) []wantViolation {
				return []wantViolation{{"parcels/2", "max_pot_pct", 60.16, 60, 2}}
			},
			counts: map[string]float64{"pot": 1, "cut": 0, "height": 0, "floors": 0},
		},
		{
			name: "a building at Z2's height and floor limits that takes P2 over its CUT breaks max_cut only",
			// 40 × 60 = 2400 m², 10 floors (= 10), 30 m (= 30): no building violation. P2: POT
			// (1600 + 2400) / 10000 = 40 % ≤ 60; CUT (8000 + 24000) / 10000 = 3.2 > 3.
			changes: func(c *spatial.City) []ChangeInput {
				return []ChangeInput{bldg(c, 355, 35, 395, 95, map[string]any{"use": "residential", "floors": 10.0, "height_m": 30.0})}
			},
			want: func([]Change) []wantViolation {
				return []wantViolation{{"parcels/2", "max_cut", 3.2, 3, 2}}
			},
			counts: map[string]float64{"pot": 0, "cut": 1, "height": 0, "floors": 0},
		},
		{
			name: "a building just above Z2's height and floors breaks both",
			// Off every parcel in Z2: 30.5 m > 30, 11 floors > 10.
			changes: func(c *spatial.City) []ChangeInput {
				return []ChangeInput{bldg(c, 500, -500, 520, -480, map[string]any{"use": "office", "floors": 11.0, "height_m": 30.5})}
			},
			want: func(cs []Change) []wantViolation {
				b := addedFeature(cs, 0, "buildings")
				return []wantViolation{{b, "max_height_m", 30.5, 30, 2}, {b, "max_floors", 11, 10, 2}}
			},
			counts: map[string]float64{"pot": 0, "cut": 0, "height": 1, "floors": 1},
		},
		{
			name: "a building exactly at Z1's height and floors breaks nothing",
			// Off every parcel in Z1: 20 m = 20, 6 floors = 6.
			changes: func(c *spatial.City) []ChangeInput {
				return []ChangeInput{bldg(c, -950, -700, -930, -680, map[string]any{"use": "residential", "floors": 6.0, "height_m": 20.0})}
			},
			want:   noViolations,
			counts: map[string]float64{"pot": 0, "cut": 0, "height": 0, "floors": 0},
		},
	})
}

func TestZoningOfModifiedBuildingsAsComputedByHand(t *testing.T) {
	modify := func(target string, geom []byte, props map[string]any) ChangeInput {
		return mustChange(t, ModifyBuilding, target, geom, props)
	}
	runScenarioCases(t, []scenarioCase{
		{
			name: "B1 raised to exactly 6 floors and 20 m stays within Z1",
			// 6 = 6 floors, 20 = 20 m; P1 CUT 900 × 6 / 10000 = 0.54 ≤ 2.
			changes: func(*spatial.City) []ChangeInput {
				return []ChangeInput{modify("1", nil, map[string]any{"floors": 6.0, "height_m": 20.0})}
			},
			want:   noViolations,
			counts: map[string]float64{"pot": 0, "cut": 0, "height": 0, "floors": 0},
		},
		{
			name: "B1 raised to 7 floors and 20.5 m breaks Z1's height and floors",
			// 7 > 6, 20.5 > 20; P1 CUT 900 × 7 / 10000 = 0.63 ≤ 2.
			changes: func(*spatial.City) []ChangeInput {
				return []ChangeInput{modify("1", nil, map[string]any{"floors": 7.0, "height_m": 20.5})}
			},
			want: func([]Change) []wantViolation {
				return []wantViolation{{"buildings/1", "max_height_m", 20.5, 20, 1}, {"buildings/1", "max_floors", 7, 6, 1}}
			},
			counts: map[string]float64{"pot": 0, "cut": 0, "height": 1, "floors": 1},
		},
		{
			name: "B4 redrawn over all of P3 with 2 floors breaks POT and sits at the CUT limit",
			// POT a / a × 100 = 100 > 40; CUT 2a / a = 2, at Z1's limit 2.
			changes: func(c *spatial.City) []ChangeInput {
				return []ChangeInput{modify("4", rectGeoJSON(c, -600, -400, -500, -300), map[string]any{"floors": 2.0})}
			},
			want: func([]Change) []wantViolation {
				return []wantViolation{{"parcels/3", "max_pot_pct", 100, 40, 1}}
			},
			counts: map[string]float64{"pot": 1, "cut": 0, "height": 0, "floors": 0},
		},
		{
			name: "B4 redrawn over all of P3 with 3 floors breaks POT and CUT",
			// POT 100 > 40; CUT 3a / a = 3 > 2.
			changes: func(c *spatial.City) []ChangeInput {
				return []ChangeInput{modify("4", rectGeoJSON(c, -600, -400, -500, -300), map[string]any{"floors": 3.0, "height_m": 10.0})}
			},
			want: func([]Change) []wantViolation {
				return []wantViolation{{"parcels/3", "max_pot_pct", 100, 40, 1}, {"parcels/3", "max_cut", 3, 2, 1}}
			},
			counts: map[string]float64{"pot": 1, "cut": 1, "height": 0, "floors": 0},
		},
		{
			name: "B2 widened to 100 × 60.5 m takes P2 just over both POT and CUT",
			// 6050 m², 5 floors: POT 6050 / 10000 × 100 = 60.5 > 60; CUT 30250 / 10000 =
			// 3.025 > 3. 17 m and 5 floors stay within Z2.
			changes: func(c *spatial.City) []ChangeInput {
				return []ChangeInput{modify("2", rectGeoJSON(c, 300, 0, 400, 60.5), nil)}
			},
			want: func([]Change) []wantViolation {
				return []wantViolation{{"parcels/2", "max_pot_pct", 60.5, 60, 2}, {"parcels/2", "max_cut", 3.025, 3, 2}}
			},
			counts: map[string]float64{"pot": 1, "cut": 1, "height": 0, "floors": 0},
		},
	})
}

func TestZoningAfterRezoningAsComputedByHand(t *testing.T) {
	rezone := func(target string, geom []byte, props map[string]any) ChangeInput {
		return mustChange(t, Rezone, target, geom, props)
	}
	runScenarioCases(t, []scenarioCase{
		{
			name: "Z1's POT lowered to 8 % puts P1 over it",
			// P1 900 / 10000 × 100 = 9 % > 8; P3 400 / 10000 = 4 % ≤ 8.
			changes: func(*spatial.City) []ChangeInput {
				return []ChangeInput{rezone("1", nil, map[string]any{"max_pot_pct": 8.0})}
			},
			want: func([]Change) []wantViolation {
				return []wantViolation{{"parcels/1", "max_pot_pct", 9, 8, 1}}
			},
			counts: map[string]float64{"pot": 1, "cut": 0, "height": 0, "floors": 0},
		},
		{
			name: "Z1's CUT lowered to 0.3 puts P1 over it",
			// P1 900 × 4 / 10000 = 0.36 > 0.3; P3 400 × 2 / 10000 = 0.08 ≤ 0.3.
			changes: func(*spatial.City) []ChangeInput {
				return []ChangeInput{rezone("1", nil, map[string]any{"max_cut": 0.3})}
			},
			want: func([]Change) []wantViolation {
				return []wantViolation{{"parcels/1", "max_cut", 0.36, 0.3, 1}}
			},
			counts: map[string]float64{"pot": 0, "cut": 1, "height": 0, "floors": 0},
		},
		{
			name: "Z1 lowered to exactly B1's 13 m and 4 floors breaks nothing",
			// B1 13 = 13, 4 = 4; B4 7 m, 2 floors; B5 4 m, 1 floor.
			changes: func(*spatial.City) []ChangeInput {
				return []ChangeInput{rezone("1", nil, map[string]any{"max_height_m": 13.0, "max_floors": 4.0})}
			},
			want:   noViolations,
			counts: map[string]float64{"pot": 0, "cut": 0, "height": 0, "floors": 0},
		},
		{
			name: "Z1 lowered to 12.5 m and 3 floors puts B1 just over both",
			// B1 13 > 12.5, 4 > 3; B4 and B5 stay under.
			changes: func(*spatial.City) []ChangeInput {
				return []ChangeInput{rezone("1", nil, map[string]any{"max_height_m": 12.5, "max_floors": 3.0})}
			},
			want: func([]Change) []wantViolation {
				return []wantViolation{{"buildings/1", "max_height_m", 13, 12.5, 1}, {"buildings/1", "max_floors", 4, 3, 1}}
			},
			counts: map[string]float64{"pot": 0, "cut": 0, "height": 1, "floors": 1},
		},
		{
			name: "a new zone over P1 and B1 applies its own limits",
			// [-700,-450]×[-50,150] holds P1's centroid (-550,50) and B1's (-575,25), nothing
			// else built. Its rules: B1 13 m > 12; 4 floors = 4, at the limit; P1 POT 9 % > 8.5.
			// It sets no CUT and no uses.
			changes: func(c *spatial.City) []ChangeInput {
				return []ChangeInput{rezone("", rectGeoJSON(c, -700, -50, -450, 150),
					map[string]any{"code": "Z9", "max_height_m": 12.0, "max_floors": 4.0, "max_pot_pct": 8.5})}
			},
			want: func(cs []Change) []wantViolation {
				z := cs[0].FeatureID
				return []wantViolation{{"buildings/1", "max_height_m", 13, 12, z}, {"parcels/1", "max_pot_pct", 9, 8.5, z}}
			},
			counts: map[string]float64{"pot": 1, "cut": 0, "height": 1, "floors": 0},
		},
		{
			name: "a parcel built over entirely is at a POT limit of 100 %",
			// B4 over all of P3 (POT a / a × 100 = 100, CUT 2a / a = 2), Z1 allowed 100 %:
			// 100 = 100 and 2 = 2, both at the limit.
			changes: func(c *spatial.City) []ChangeInput {
				return []ChangeInput{
					mustChange(t, ModifyBuilding, "4", rectGeoJSON(c, -600, -400, -500, -300), nil),
					rezone("1", nil, map[string]any{"max_pot_pct": 100.0}),
				}
			},
			want:   noViolations,
			counts: map[string]float64{"pot": 0, "cut": 0, "height": 0, "floors": 0},
		},
		{
			name: "a parcel built over entirely breaks a POT limit of 99.5 %",
			changes: func(c *spatial.City) []ChangeInput {
				return []ChangeInput{
					mustChange(t, ModifyBuilding, "4", rectGeoJSON(c, -600, -400, -500, -300), nil),
					rezone("1", nil, map[string]any{"max_pot_pct": 99.5}),
				}
			},
			want: func([]Change) []wantViolation {
				return []wantViolation{{"parcels/3", "max_pot_pct", 100, 99.5, 1}}
			},
			counts: map[string]float64{"pot": 1, "cut": 0, "height": 0, "floors": 0},
		},
	})
}
