package scenarios

import (
	"strings"
	"testing"
)

func TestParametersAreCheckedAtTheirLimits(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(p *Parameters)
		param string // what the error names; "" when the parameters are valid
	}{
		{"the defaults are valid", func(*Parameters) {}, ""},
		{"a floor height of zero is refused", func(p *Parameters) { p.FloorHeightM = 0 }, "floor_height_m"},
		{"a negative detour factor is refused", func(p *Parameters) { p.DetourFactor = -1.25 }, "detour_factor"},
		{"a mixed residential share of 0 is allowed", func(p *Parameters) { p.MixedResidentialShare = 0 }, ""},
		{"a mixed residential share of 1 is allowed", func(p *Parameters) { p.MixedResidentialShare = 1 }, ""},
		{"a mixed residential share below 0 is refused", func(p *Parameters) { p.MixedResidentialShare = -0.01 }, "mixed_residential_share"},
		{"a mixed residential share above 1 is refused", func(p *Parameters) { p.MixedResidentialShare = 1.01 }, "mixed_residential_share"},
		{"every dwelling occupied is allowed", func(p *Parameters) { p.OccupiedDwellingShare = 1 }, ""},
		{"no dwelling occupied is refused", func(p *Parameters) { p.OccupiedDwellingShare = 0 }, "occupied_dwelling_share"},
		{"more dwellings occupied than there are is refused", func(p *Parameters) { p.OccupiedDwellingShare = 1.01 }, "occupied_dwelling_share"},
		{"a residential other use of mixed buildings is refused", func(p *Parameters) { p.MixedOtherUse = "residential" }, "mixed_other_use"},
		{"zero square metres per office job is refused", func(p *Parameters) { p.M2PerJob["office"] = 0 }, "m2_per_job.office"},
		{"a school access radius of zero is refused", func(p *Parameters) { p.AccessRadiusM["school"] = 0 }, "access_radius_m.school"},
		{"an unknown fifteen-minute facility kind is refused", func(p *Parameters) { p.FifteenMinuteKinds = append(p.FifteenMinuteKinds, "castle") }, "fifteen_minute_kinds"},
		{"one air station is enough", func(p *Parameters) { p.AirStations = 1 }, ""},
		{"no air station is refused", func(p *Parameters) { p.AirStations = 0 }, "air_stations"},
		{"an EU limit of zero is refused", func(p *Parameters) { p.AirEULimits["no2"] = 0 }, "air_eu_limits_ugm3"},
		{"a WHO guideline of zero is refused", func(p *Parameters) { p.AirWHOGuidelines["pm10"] = 0 }, "air_who_guidelines_ugm3"},
		{"no noise band is refused", func(p *Parameters) { p.NoiseLdenBands = nil }, "noise_lden_bands_db"},
		{"descending noise bands are refused", func(p *Parameters) { p.NoiseLdenBands = []float64{75, 70} }, "noise_lden_bands_db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultParameters() // fresh maps and slices on every call
			tt.edit(&p)
			err := p.Validate()
			switch {
			case tt.param == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.param != "" && (err == nil || !strings.Contains(err.Error(), tt.param)):
				t.Fatalf("Validate() = %v, want an error naming %s", err, tt.param)
			}
		})
	}
}
