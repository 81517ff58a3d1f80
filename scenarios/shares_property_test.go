package scenarios

import (
	"fmt"
	"strings"
	"testing"

	"github.com/citytwin/citytwin/data/synthcity"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// On the generated city no share is above 1 or below 0, for the city and every district,
// in the baseline and in a variant that stacks polygons: every district drawn twice as a
// park, and copies of a hundred buildings on themselves. Shares of residents (access,
// exposure) are bounded by construction; the area shares of indicator 13 only when
// overlaps count once.
func TestNoShareOfTheGeneratedCityExceedsOne(t *testing.T) {
	var fs []layers.Feature
	if err := synthcity.Generate(synthcity.Options{Parcels: 8000, Seed: 5}, func(f layers.Feature) error {
		fs = append(fs, f)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	city, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	svc := serviceOn(t, city)
	var ins []ChangeInput
	for _, d := range city.Layer("districts").Items() {
		for range 2 {
			ins = append(ins, mustChange(t, AddGreenSpace, "", geoJSON(d.Feature.Geometry), map[string]any{"kind": "park"}))
		}
	}
	for i, b := range city.Layer("buildings").Items() {
		if i%50 == 0 && len(ins) < 200 {
			ins = append(ins, mustChange(t, AddBuilding, "", geoJSON(b.Feature.Geometry), map[string]any{"use": "office", "floors": 3.0}))
		}
	}
	run, _ := runWith(t, svc, ins...)
	check := func(group string, ind map[string]Value) {
		for name, v := range ind {
			if !strings.HasSuffix(name, "_share") && !strings.HasPrefix(name, "access_") && name != "fifteen_minute_city" && name != "green_access" {
				continue
			}
			for _, x := range []float64{v.Baseline, v.Variant} {
				if x < 0 || x > 1+1e-9 {
					t.Errorf("%s %s = %+v, outside 0..1", group, name, v)
				}
			}
		}
	}
	check("city", run.Indicators)
	for _, d := range run.Districts {
		check(fmt.Sprintf("district %s", d.Name), d.Indicators)
		// Each district is all park in the variant.
		if g := d.Indicators["green_share"].Variant; g < 1-1e-6 {
			t.Errorf("district %s green_share = %v, want 1: the district is a park", d.Name, g)
		}
	}
	if len(run.Districts) == 0 {
		t.Fatal("the generated city has no districts")
	}
}
