package scenarios

import (
	"testing"
)

// changedProps returns the properties of a changed feature of a run.
func changedProps(t *testing.T, run *Run, layer string, id int64) map[string]any {
	t.Helper()
	for _, f := range run.Changed {
		if f.Layer == layer && f.ID == id {
			return f.Properties
		}
	}
	t.Fatalf("%s/%d is not among the run's changed features", layer, id)
	return nil
}

// A facility a scenario adds or changes without a capacity takes the default of its kind
// (Parameters.DefaultCapacity: school 600 pupils, kindergarten 100 children, clinic 150
// visits a day), marked capacity_estimated, so that the children assigned to it still count
// in the load. Without it a school added with no capacity was left out of the load and the
// pupils it took from S1 vanished: the city's school load fell.
func TestFacilitiesWithoutACapacityTakeTheEstimatedDefaultOfTheirKind(t *testing.T) {
	t.Run("a school added without a capacity takes 600 pupils and keeps its pupils in the load", func(t *testing.T) {
		svc := newService(t)
		c := svc.Model.City()
		// S2 at (330,400) is B2's nearest school (370 m against S1's 1031.5 m, see
		// TestAddingASchoolChangesAccessAndLoadAsComputedByHand): S1 keeps 0.1 × 60 = 6
		// pupils, S2 takes 0.1 × 800/7 = 80/7. Load (6 + 80/7) / (10 + 600) = 122/(7 × 610).
		run, added := runWith(t, svc, mustChange(t, AddFacility, "", geoJSON(wgs(c, 330, 400)),
			map[string]any{"kind": "school", "name": "S2"}))
		for name, want := range map[string]Value{
			"school_capacity": {Baseline: 10, Variant: 610},
			"school_load":     {Baseline: 0.1 * R / 10, Variant: (6 + 80.0/7) / 610},
		} {
			got := run.Indicators[name]
			if !approx(got.Baseline, want.Baseline) || !approx(got.Variant, want.Variant) {
				t.Errorf("%s = %+v, want %v → %v", name, got, want.Baseline, want.Variant)
			}
		}
		p := changedProps(t, run, "facilities", added[0].FeatureID)
		if p["capacity"] != int64(600) || p["capacity_estimated"] != true || p["capacity_unit"] != "pupils" {
			t.Errorf("S2 = %v, want capacity 600 pupils, estimated", p)
		}
	})
	t.Run("a kindergarten added with capacity 0 (unknown) takes 100 children", func(t *testing.T) {
		svc := newService(t)
		c := svc.Model.City()
		// The only kindergarten: every pre-school child, 0.04 × R, over 100 places.
		run, added := runWith(t, svc, mustChange(t, AddFacility, "", geoJSON(wgs(c, 0, 0)),
			map[string]any{"kind": "kindergarten", "capacity": 0.0}))
		if got := run.Indicators["kindergarten_load"]; !approx(got.Variant, 0.04*R/100) {
			t.Errorf("kindergarten_load = %+v, want %v", got, 0.04*R/100)
		}
		if p := changedProps(t, run, "facilities", added[0].FeatureID); p["capacity"] != int64(100) || p["capacity_estimated"] != true {
			t.Errorf("kindergarten = %v, want capacity 100, estimated", p)
		}
	})
	t.Run("a clinic renamed without a capacity takes 150 visits a day", func(t *testing.T) {
		svc := newService(t)
		run, _ := runWith(t, svc, mustChange(t, ModifyFacility, "2", nil, map[string]any{"name": "C1 bis"}))
		p := changedProps(t, run, "facilities", 2)
		if p["capacity"] != int64(150) || p["capacity_estimated"] != true || p["capacity_unit"] != "visits per day" {
			t.Errorf("C1 = %v, want capacity 150 visits per day, estimated", p)
		}
	})
	t.Run("an explicit capacity wins over the estimate", func(t *testing.T) {
		svc := newService(t)
		c := svc.Model.City()
		run, added := runWith(t, svc,
			mustChange(t, AddFacility, "", geoJSON(wgs(c, 330, 400)), map[string]any{"kind": "school"}),
			mustChange(t, ModifyFacility, itoa(AddedIDBase+1), nil, map[string]any{"capacity": 20.0}))
		// As in TestAddingASchoolChangesAccessAndLoadAsComputedByHand: (6 + 80/7) / 30.
		if got := run.Indicators["school_load"]; !approx(got.Variant, 0.1*R/30) {
			t.Errorf("school_load = %+v, want %v", got, 0.1*R/30)
		}
		p := changedProps(t, run, "facilities", added[0].FeatureID)
		if p["capacity"] != int64(20) || p["capacity_estimated"] != nil {
			t.Errorf("S2 = %v, want capacity 20, not estimated", p)
		}
	})
}
