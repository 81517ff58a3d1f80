package scenarios

import (
	"testing"

	"github.com/citytwin/citytwin/spatial"
)

// Built, impervious and green shares are the area of the union of the polygons within a
// district over its area (docs/domain.md, indicator 13): overlaps count once and a polygon
// across a district's edge counts in each district for its part, so no share exceeds 1.
// The tiny city: West and East are 2e6 m² each; West has 1700 m² built (B1 900, B4 400, B5
// 400) and the 1 ha park G1; East 2600 m² (B2 1600, B3 1000). No layer models paved
// surfaces, so the impervious share is the built share.
func TestSharesCountTheUnionOfPolygonsWithinEachDistrict(t *testing.T) {
	type shares map[string][3]float64 // group → built, green, impervious
	cases := []struct {
		name    string
		changes func(c *spatial.City) []ChangeInput
		want    shares
	}{
		{
			name: "a park drawn twice over all of West makes its green share 1, not 2",
			changes: func(c *spatial.City) []ChangeInput {
				west := rectGeoJSON(c, -1000, -1000, 0, 1000)
				return []ChangeInput{
					mustChange(t, AddGreenSpace, "", west, map[string]any{"kind": "park"}),
					mustChange(t, AddGreenSpace, "", west, map[string]any{"kind": "park"}),
				}
			},
			// West: G1 and both new parks are all of West: 2e6 / 2e6. City: 2e6 / 4e6.
			want: shares{"West": {1700 / 2e6, 1, 1700 / 2e6}, "city": {4300 / 4e6, 0.5, 4300 / 4e6}},
		},
		{
			name: "a building drawn over B1 counts B1's footprint once",
			changes: func(c *spatial.City) []ChangeInput {
				return []ChangeInput{mustChange(t, AddBuilding, "", rectGeoJSON(c, -590, 10, -560, 40),
					map[string]any{"use": "residential", "floors": 4.0})}
			},
			want: shares{"West": {1700 / 2e6, 10000 / 2e6, 1700 / 2e6}, "city": {4300 / 4e6, 10000 / 4e6, 4300 / 4e6}},
		},
		{
			name: "a building across the district border counts half in each district",
			changes: func(c *spatial.City) []ChangeInput {
				return []ChangeInput{mustChange(t, AddBuilding, "", rectGeoJSON(c, -50, -500, 50, -450),
					map[string]any{"use": "office", "floors": 2.0})}
			},
			// 100 × 50 = 5000 m², 2500 on each side of x = 0.
			want: shares{"West": {4200 / 2e6, 10000 / 2e6, 4200 / 2e6}, "East": {5100 / 2e6, 0, 5100 / 2e6},
				"city": {9300 / 4e6, 10000 / 4e6, 9300 / 4e6}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc := newService(t)
			run, _ := runWith(t, svc, tc.changes(svc.Model.City())...)
			groups := map[string]map[string]Value{"city": run.Indicators}
			for _, d := range run.Districts {
				groups[d.Name] = d.Indicators
			}
			for g, w := range tc.want {
				for i, name := range []string{"built_share", "green_share", "impervious_share"} {
					got, ok := groups[g][name]
					if !ok {
						t.Errorf("%s has no %s", g, name)
						continue
					}
					if !approx(got.Variant, w[i]) {
						t.Errorf("%s %s = %v, want %v", g, name, got.Variant, w[i])
					}
				}
			}
		})
	}
}
