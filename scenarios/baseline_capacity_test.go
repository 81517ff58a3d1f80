package scenarios

import (
	"context"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// A baseline facility without a capacity (imported with 0, unknown, or with none) is read
// with the default of its kind, marked estimated, as a scenario's new facility is: its
// children stay in the load. Before, it was left out of the loads and the pupils assigned
// to it vanished from them.
func TestBaselineFacilitiesWithoutACapacityTakeTheDefaultOfTheirKind(t *testing.T) {
	p := spatial.NewProjection(tinyOrigin)
	type m = map[string]any
	fs := append(tinyFeatures(),
		// S2 at (330,400), capacity 0 (unknown): B2's nearest school.
		layers.Feature{Layer: "facilities", ID: 11, Geometry: p.ToWGS84(orb.Point{330, 400}), Props: m{"kind": "school", "name": "S2", "capacity": int64(0)}},
		// K1 at (0,0), no capacity at all: the only kindergarten.
		layers.Feature{Layer: "facilities", ID: 12, Geometry: p.ToWGS84(orb.Point{0, 0}), Props: m{"kind": "kindergarten", "name": "K1"}},
	)
	city, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	params := handParameters()
	// 5 places for the kindergarten, so that it is overloaded and listed.
	params.DefaultCapacity = map[string]int64{"school": 600, "kindergarten": 5}
	e, err := NewEngine(params)
	if err != nil {
		t.Fatal(err)
	}
	run, err := e.Baseline(context.Background(), city)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{
		// S1 (10 places) keeps B1's and B4's pupils, 0.1 × (50 + 10) = 6; S2 takes B2's,
		// 0.1 × 800/7 = 80/7, at its default of 600: (6 + 80/7) / (10 + 600).
		"school_capacity": 610,
		"school_load":     (6 + 80.0/7) / 610,
		// Every pre-school child, 0.04 × R = 6.97, over K1's default 5 places.
		"kindergarten_capacity":       5,
		"kindergarten_load":           0.04 * R / 5,
		"kindergartens_over_capacity": 1,
	} {
		if got := run.Indicators[name].Baseline; !approx(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if len(run.Overloaded) != 1 || run.Overloaded[0].ID != 12 || !run.Overloaded[0].CapacityEstimated || run.Overloaded[0].Capacity != 5 {
		t.Errorf("overloaded = %+v, want K1 with its estimated 5 places", run.Overloaded)
	}
}
