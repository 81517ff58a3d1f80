package scenarios

import (
	"testing"

	"github.com/citytwin/citytwin/spatial"
)

// A change to a building's floors, height or floor area carries through to what derives from
// them (docs/domain.md, "Derived values of a change"): height = floors × 3 m
// (floor_height_m), floors = height / 3 m rounded, floor area = footprint × floors, and
// known dwellings in proportion to the residential floor area, so residents and jobs follow;
// a value the change sets itself always wins. A rezone that moves one of a zone's height
// and floor limits moves the other the same way. Before, a building raised from 4 to 8
// floors kept its 20 dwellings (+0 residents) and its 13 m (no height violation).
//
// The tiny city (tinycity_test.go): B1 residential 900 m², 4 floors, 13 m, 20 dwellings
// (3600 m², 50 residents) in Z1 (20 m, 6 floors); B3 office 1000 m², 3 floors, 10 m,
// gfa_m2 2500 (125 jobs at 20 m² a job); B4 residential 400 m², 2 floors, 7 m, 4
// dwellings (10 residents). R = 1220/7 residents, 24 dwellings in the city.
func TestChangesToFloorsHeightOrFloorAreaCarryThroughToWhatDerivesFromThem(t *testing.T) {
	modify := func(target string, props map[string]any) func(*spatial.City) []ChangeInput {
		return func(*spatial.City) []ChangeInput {
			return []ChangeInput{mustChange(t, ModifyBuilding, target, nil, props)}
		}
	}
	rezone := func(props map[string]any) func(*spatial.City) []ChangeInput {
		return func(*spatial.City) []ChangeInput {
			return []ChangeInput{mustChange(t, Rezone, "1", nil, props)}
		}
	}
	cases := []struct {
		name    string
		changes func(*spatial.City) []ChangeInput
		diff    map[string]float64 // indicator → variant − baseline
		props   map[string]any     // the changed feature's properties (buildings/target)
		target  int64              // 0: no feature to check
		want    []wantViolation    // the numeric violations, all new
	}{
		{
			name:    "B1 raised from 4 to 8 floors gets 24 m, 7200 m² and 40 dwellings",
			changes: modify("1", map[string]any{"floors": 8.0}),
			// height 8 × 3 = 24; floor area 900 × 8 = 7200 (+3600); dwellings 20 × 7200 /
			// 3600 = 40 (+20), residents 40 × 2.5 = 100 (+50).
			diff:   map[string]float64{"floor_area_m2": 3600, "dwellings": 20, "residents": 50},
			props:  map[string]any{"floors": int64(8), "height_m": 24.0, "dwellings": int64(40)},
			target: 1,
			want:   []wantViolation{{"buildings/1", "max_height_m", 24, 20, 1}, {"buildings/1", "max_floors", 8, 6, 1}},
		},
		{
			name:    "B1 given 30 m gets 10 floors, 9000 m² and 50 dwellings",
			changes: modify("1", map[string]any{"height_m": 30.0}),
			// floors 30 / 3 = 10; floor area 900 × 10 = 9000 (+5400); dwellings 20 × 9000 /
			// 3600 = 50 (+30), residents +75.
			diff:   map[string]float64{"floor_area_m2": 5400, "dwellings": 30, "residents": 75},
			props:  map[string]any{"floors": int64(10), "height_m": 30.0, "dwellings": int64(50)},
			target: 1,
			want:   []wantViolation{{"buildings/1", "max_height_m", 30, 20, 1}, {"buildings/1", "max_floors", 10, 6, 1}},
		},
		{
			name:    "values the change sets itself win over the derived ones",
			changes: modify("1", map[string]any{"floors": 8.0, "height_m": 19.0, "dwellings": 25.0, "gfa_m2": 5000.0}),
			// 5000 − 3600 = +1400 m²; 25 − 20 = +5 dwellings, +12.5 residents; 19 m ≤ 20.
			diff:   map[string]float64{"floor_area_m2": 1400, "dwellings": 5, "residents": 12.5},
			props:  map[string]any{"floors": int64(8), "height_m": 19.0, "dwellings": int64(25), "gfa_m2": 5000.0},
			target: 1,
			want:   []wantViolation{{"buildings/1", "max_floors", 8, 6, 1}},
		},
		{
			name:    "B3 given 18 m gets 6 floors and 6000 m², so 175 more jobs",
			changes: modify("3", map[string]any{"height_m": 18.0}),
			// floors 18 / 3 = 6; its gfa_m2 2500 gives way to 1000 × 6 = 6000 (+3500); jobs
			// 6000 / 20 = 300 (+175). Z2 allows 30 m and 10 floors.
			diff:   map[string]float64{"floor_area_m2": 3500, "jobs": 175},
			props:  map[string]any{"floors": int64(6), "height_m": 18.0},
			target: 3,
		},
		{
			name:    "B4 turned into offices loses its dwellings",
			changes: modify("4", map[string]any{"use": "office"}),
			// No residential floor area left: dwellings 4 → 0, residents −10; 800 m² of
			// offices make 800 / 20 = 40 jobs.
			diff:   map[string]float64{"dwellings": -4, "residents": -10, "jobs": 40},
			props:  map[string]any{"use": "office", "dwellings": int64(0)},
			target: 4,
		},
		{
			name: "a building added with 7 floors and no height is 21 m high",
			changes: func(c *spatial.City) []ChangeInput {
				return []ChangeInput{mustChange(t, AddBuilding, "", rectGeoJSON(c, -950, -700, -930, -680),
					map[string]any{"use": "residential", "floors": 7.0})}
			},
			// Off every parcel in Z1: 7 × 3 = 21 m > 20, 7 floors > 6; 400 m² × 7 = 2800 m²,
			// 2800 / 35 = 80 residents (dwellings unknown).
			diff: map[string]float64{"floor_area_m2": 2800, "residents": 80, "dwellings": 0},
			want: []wantViolation{{"buildings/" + itoa(AddedIDBase+1), "max_height_m", 21, 20, 1}, {"buildings/" + itoa(AddedIDBase+1), "max_floors", 7, 6, 1}},
		},
		{
			name:    "Z1 lowered to 3 floors is lowered to 9 m too",
			changes: rezone(map[string]any{"max_floors": 3.0}),
			// 3 × 3 = 9 m: B1 13 m > 9 and 4 floors > 3; B4 (7 m, 2) and B5 (4 m, 1) stay within.
			want: []wantViolation{{"buildings/1", "max_height_m", 13, 9, 1}, {"buildings/1", "max_floors", 4, 3, 1}},
		},
		{
			name:    "Z1 lowered to 10 m is lowered to 3 floors too",
			changes: rezone(map[string]any{"max_height_m": 10.0}),
			// A limit of 10 m holds 10 / 3 = 3.33, so 3 whole floors: B1 13 m > 10 and 4 > 3.
			want: []wantViolation{{"buildings/1", "max_height_m", 13, 10, 1}, {"buildings/1", "max_floors", 4, 3, 1}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc := newService(t)
			run, _ := runWith(t, svc, tc.changes(svc.Model.City())...)
			for name, d := range tc.diff {
				if got := run.Indicators[name].Diff; !approx(got, d) {
					t.Errorf("%s diff = %v, want %v", name, got, d)
				}
			}
			if tc.target != 0 {
				p := changedProps(t, run, "buildings", tc.target)
				for k, want := range tc.props {
					if p[k] != want {
						t.Errorf("buildings/%d %s = %v (%T), want %v", tc.target, k, p[k], p[k], want)
					}
				}
				if _, explicit := tc.props["gfa_m2"]; !explicit && p["gfa_m2"] != nil {
					t.Errorf("buildings/%d gfa_m2 = %v, want none (footprint × floors)", tc.target, p["gfa_m2"])
				}
			}
			checkViolations(t, run, tc.want, true)
		})
	}
}
