package scenarios

import (
	"context"
	"math"
	"testing"

	"github.com/citytwin/citytwin/internal/democity"
)

// Uncalibrated, the model's residents of the Monaco demo are within 25 % of the 2016 census
// (IMSEE: 38,350), with the default parameters (docs/domain.md, indicator 1: 2.2 persons
// in each occupied dwelling, 5 dwellings in 6 occupied). The import's dwellings are the
// model's own estimate; the census is not used.
func TestMonacoResidentsUncalibratedAreWithin25PercentOfTheCensus(t *testing.T) {
	const census = 38350
	city := democity.City(t)
	e, err := NewEngine(DefaultParameters())
	if err != nil {
		t.Fatal(err)
	}
	run, err := e.Baseline(context.Background(), city)
	if err != nil {
		t.Fatal(err)
	}
	got := run.Indicators["residents"].Baseline
	mapped := 0.0 // in the districts OSM maps (Monaco's quartiers), not the grid over France
	for _, d := range run.Districts {
		if it, ok := city.Layer("districts").Get(d.ID); ok && !isDerived(it) {
			mapped += d.Indicators["residents"].Baseline
		}
	}
	t.Logf("residents in the mapped districts %.1f, %+.1f %% against the census", mapped, (mapped/census-1)*100)
	t.Logf("residents %.1f from %.0f dwellings, %+.1f %% against the census's %d", got, run.Indicators["dwellings"].Baseline, (got/census-1)*100, census)
	if math.Abs(got/census-1) > 0.25 {
		t.Errorf("residents %.0f are %+.1f %% off the census's %d, want within 25 %%", got, (got/census-1)*100, census)
	}
}
