package scenarios

import (
	"context"
	"math"
	"testing"

	"github.com/citytwin/citytwin/spatial"
)

// Values at a zoning limit must not break it because of floating point. POT = footprint /
// parcel area × 100 of a 7 m² footprint on a 1000 m² parcel is 0.7 % by hand, but
// 7.0 / 1000 * 100 is 0.7000000000000001 in float64; a parcel that measures 2 ulp under
// 1 ha (9999.999999999998 m²) with 20000 m² of floor area has CUT 2.0000000000000004; a
// height computed as floors × storey height can land one ulp above a round limit. At
// the limit is allowed, so values within a relative 1e-9 of the limit are at it. The
// just-above cases (0.701 %, 2.0001, 20.5 m, 7 floors) stay violations.
func TestValuesAHairAboveALimitFromRoundingAreAtTheLimit(t *testing.T) {
	fs := tinyFeatures()
	for i := range fs {
		if fs[i].Layer == "zoning" && fs[i].ID == 1 {
			fs[i].Props["max_pot_pct"] = 0.7 // Z1: POT 0.7 %, CUT 2, 20 m, 6 floors
		}
	}
	city, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t)
	b, err := e.baselineFor(context.Background(), city)
	if err != nil {
		t.Fatal(err)
	}
	p1 := *b.parcels[b.pIdx[1]] // P1, in Z1
	b1 := *b.buildings[b.bIdx[1]]
	withArea := func(a float64) *spatial.Item { it := p1; it.Area = a; return &it }
	parcelCases := []struct {
		name          string
		area, fp, gfa float64
		want          []uint8
	}{
		{"a POT of 7 m² on 1000 m² is at a 0.7 % limit", 1000, 7, 0, nil},
		{"a POT of 7.01 m² on 1000 m² (0.701 %) is above a 0.7 % limit", 1000, 7.01, 0, []uint8{rulePOT}},
		{"a CUT of 20000 m² on a hair under 1 ha is at a limit of 2", 9999.999999999998, 0, 20000, nil},
		{"a CUT of 20001 m² on 1 ha (2.0001) is above a limit of 2", 10000, 0, 20001, []uint8{ruleCUT}},
	}
	for _, tc := range parcelCases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.parcelRecord(b.env, withArea(tc.area), tc.fp, tc.gfa)
			var got []uint8
			for _, v := range r.viol {
				got = append(got, v.rule)
			}
			if len(got) != len(tc.want) || len(got) > 0 && got[0] != tc.want[0] {
				t.Errorf("violations %v (%+v), want rules %v", got, r.viol, tc.want)
			}
		})
	}
	buildingCases := []struct {
		name   string
		height float64
		floors int64
		want   []uint8
	}{
		{"a height one ulp above 20 m is at Z1's 20 m", math.Nextafter(20, 21), 6, nil},
		{"a height of 20.5 m is above Z1's 20 m", 20.5, 6, []uint8{ruleHeight}},
		{"7 floors are above Z1's 6", 20, 7, []uint8{ruleFloors}},
	}
	for _, tc := range buildingCases {
		t.Run(tc.name, func(t *testing.T) {
			it := b1
			f := *it.Feature
			f.Props = map[string]any{"use": "residential", "height_m": tc.height, "floors": tc.floors}
			it.Feature = &f
			got := e.buildingViolations(b.env, &it, it.Centroid, e.residentialIdx)
			if len(got) != len(tc.want) || len(got) > 0 && got[0].rule != tc.want[0] {
				t.Errorf("violations %+v, want rules %v", got, tc.want)
			}
		})
	}
}
