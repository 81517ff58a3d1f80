package scenarios

import (
	"context"
	"testing"

	"github.com/citytwin/citytwin/spatial"
)

// An indicator that reads an attribute some feature lists as estimated rests on a modelled
// input: B1's floors estimated make the floor area and the floor limits modelled, not its
// dwellings or heights; a school whose capacity the import defaulted makes the school
// capacity modelled.
func TestIndicatorsReadingEstimatedAttributesAreModelled(t *testing.T) {
	fs := tinyFeatures()
	for i := range fs {
		switch {
		case fs[i].Layer == "buildings" && fs[i].ID == 1:
			fs[i].Props["estimated"] = []string{"floors"}
		case fs[i].Layer == "facilities" && fs[i].ID == 1:
			fs[i].Props["estimated"] = []string{"capacity"}
		}
	}
	city, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	run, err := newEngine(t).Baseline(context.Background(), city)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"floor_area_m2":         SourceModelled,
		"floor_area_office_m2":  SourceModelled,
		"violations_max_floors": SourceModelled,
		"violations_max_cut":    SourceModelled,
		"school_capacity":       SourceModelled,
		"dwellings":             SourceSurveyed,
		"violations_max_height": SourceSurveyed,
		"violations_max_pot":    SourceSurveyed,
		"kindergarten_capacity": SourceSurveyed,
		"public_green_m2":       SourceSurveyed,
	} {
		if got := run.Sources[name]; got != want {
			t.Errorf("source of %s = %q, want %q", name, got, want)
		}
	}
}
