package scenarios

import (
	"fmt"
	"slices"

	"github.com/citytwin/citytwin/layers"
)

// Parameters are every constant the indicators use, with the defaults of docs/domain.md.
// A city may change any of them; each run reports the values it used.
type Parameters struct {
	// 1 residents
	// PersonsPerDwelling is the persons of an occupied dwelling: the EU's average household
	// size, 2.2 (Eurostat, EU Labour Force Survey 2021, "Household composition statistics").
	// OccupiedDwellingShare is the share of dwellings that are someone's usual residence:
	// 5/6, almost one EU dwelling in six being unoccupied at the 2011 census (Eurostat,
	// "People in the EU – statistics on housing conditions"). docs/domain.md, indicator 1.
	PersonsPerDwelling     float64 `json:"persons_per_dwelling"`      // 2.2
	OccupiedDwellingShare  float64 `json:"occupied_dwelling_share"`   // 5/6
	ResidentialM2PerPerson float64 `json:"residential_m2_per_person"` // 35, when dwellings are unknown
	// 2 floor area: a mixed building is this share residential, the rest MixedOtherUse.
	MixedResidentialShare float64 `json:"mixed_residential_share"` // 0.5
	MixedOtherUse         string  `json:"mixed_other_use"`         // "commercial"
	// FloorHeightM estimates floors from height_m when floors are unknown (GFA = footprint × floors).
	FloorHeightM float64 `json:"floor_height_m"` // 3
	// 3 jobs: m² of floor area per job, by use.
	M2PerJob map[string]float64 `json:"m2_per_job"`
	// 5 access: walking radius in metres by facility kind; walking = straight line × DetourFactor.
	DetourFactor  float64            `json:"detour_factor"` // 1.25
	AccessRadiusM map[string]float64 `json:"access_radius_m"`
	// 6 15-minute city: every kind listed (and a public green space) within the radius, walking.
	FifteenMinuteKinds   []string `json:"fifteen_minute_kinds"`
	FifteenMinuteRadiusM float64  `json:"fifteen_minute_radius_m"` // 1200
	// 7 school / kindergarten load: shares of residents, assigned to the nearest facility.
	PupilShare     float64 `json:"pupil_share"`     // 0.10
	PreschoolShare float64 `json:"preschool_share"` // 0.04
	// A facility a scenario adds or changes without a capacity (or with 0, unknown) takes the
	// default of its kind, marked capacity_estimated; kinds not listed keep 0 (unknown).
	DefaultCapacity     map[string]int64  `json:"default_capacity"`      // school 600, kindergarten 100, high_school 800, hospital 250, clinic 150
	DefaultCapacityUnit map[string]string `json:"default_capacity_unit"` // pupils, children, pupils, beds, visits per day
	// 8 green space access (WHO), straight line.
	GreenAccessRadiusM float64 `json:"green_access_radius_m"` // 300
	GreenMinAreaM2     float64 `json:"green_min_area_m2"`     // 5000 (0.5 ha)
	// 9 green space per resident: the target, reported beside the indicator.
	GreenTargetM2PerResident float64 `json:"green_target_m2_per_resident"` // 26 (OUG 114/2007)
	// 10 noise (EU END): Lden band floors and the Lnight threshold, dB.
	NoiseLdenBands         []float64 `json:"noise_lden_bands_db"`       // 55, 60, 65, 70, 75
	NoiseLnightThresholdDB float64   `json:"noise_lnight_threshold_db"` // 50
	// 11 flood: return periods reported (years).
	FloodReturnPeriods []int `json:"flood_return_periods_years"` // 10, 100, 1000
	// 12 air: inverse-distance weighting (power AirIDWPower) of the AirStations nearest stations.
	AirInterpolation string             `json:"air_interpolation"` // "idw"
	AirStations      int                `json:"air_stations"`      // 3
	AirIDWPower      float64            `json:"air_idw_power"`     // 2
	AirEULimits      map[string]float64 `json:"air_eu_limits_ugm3"`
	AirWHOGuidelines map[string]float64 `json:"air_who_guidelines_ugm3"`
	// 14 digital access.
	BroadbandFastMbps     float64  `json:"broadband_fast_mbps"`     // 100
	BroadbandGigabitMbps  float64  `json:"broadband_gigabit_mbps"`  // 1000
	FixedTechnologies     []string `json:"fixed_technologies"`      // fibre, cable, dsl
	WifiRadiusM           float64  `json:"wifi_radius_m"`           // 150, straight line
	DigitalHelpRadiusM    float64  `json:"digital_help_radius_m"`   // 1500, straight line
	DigitalHelpFacilities []string `json:"digital_help_facilities"` // citizen_center
	// Distance is how the access indicators (5, 6, 8 and digital help of 14) measure a walk:
	// "network", the shortest walk on the city's streets, which falls back to straight lines
	// when the city has no streets; or "straight", the straight line (× DetourFactor where
	// the indicator says so). Each run says which one it used (Run.DistanceMethods).
	Distance string `json:"distance"` // "network"
}

// accessKinds are the facility kinds of indicator 5, in report order.
var accessKinds = []string{"kindergarten", "school", "high_school", "clinic", "hospital", "pharmacy", "library", "citizen_center"}

// nonResidentialUses are the building uses whose floor area makes jobs.
var nonResidentialUses = []string{"commercial", "office", "industrial", "education", "health", "culture", "other"}

// DefaultParameters returns the defaults of docs/domain.md.
func DefaultParameters() Parameters {
	return Parameters{
		PersonsPerDwelling:     2.2,
		OccupiedDwellingShare:  5.0 / 6,
		ResidentialM2PerPerson: 35,
		MixedResidentialShare:  0.5,
		MixedOtherUse:          "commercial",
		FloorHeightM:           3,
		M2PerJob: map[string]float64{
			"office": 20, "commercial": 35, "industrial": 80, "education": 25, "health": 30, "culture": 50, "other": 50,
		},
		DetourFactor: 1.25,
		AccessRadiusM: map[string]float64{
			"kindergarten": 400, "school": 800, "high_school": 1500, "clinic": 1000, "hospital": 3000,
			"pharmacy": 600, "library": 1200, "citizen_center": 1500,
		},
		FifteenMinuteKinds:   []string{"school", "clinic", "pharmacy", "citizen_center"},
		FifteenMinuteRadiusM: 1200,
		PupilShare:           0.10,
		PreschoolShare:       0.04,
		DefaultCapacity: map[string]int64{
			"kindergarten": 100, "school": 600, "high_school": 800, "hospital": 250, "clinic": 150,
		},
		DefaultCapacityUnit: map[string]string{
			"kindergarten": "children", "school": "pupils", "high_school": "pupils", "hospital": "beds", "clinic": "visits per day",
		},
		GreenAccessRadiusM:       300,
		GreenMinAreaM2:           5000,
		GreenTargetM2PerResident: 26,
		NoiseLdenBands:           []float64{55, 60, 65, 70, 75},
		NoiseLnightThresholdDB:   50,
		FloodReturnPeriods:       []int{10, 100, 1000},
		AirInterpolation:         "idw",
		AirStations:              3,
		AirIDWPower:              2,
		AirEULimits:              map[string]float64{"pm25": 25, "pm10": 40, "no2": 40},
		AirWHOGuidelines:         map[string]float64{"pm25": 5, "pm10": 15, "no2": 10},
		BroadbandFastMbps:        100,
		BroadbandGigabitMbps:     1000,
		FixedTechnologies:        []string{"fibre", "cable", "dsl"},
		WifiRadiusM:              150,
		DigitalHelpRadiusM:       1500,
		DigitalHelpFacilities:    []string{"citizen_center"},
		Distance:                 DistanceNetwork,
	}
}

// Validate checks that the parameters can be used.
func (p Parameters) Validate() error {
	pos := map[string]float64{
		"persons_per_dwelling": p.PersonsPerDwelling, "residential_m2_per_person": p.ResidentialM2PerPerson,
		"floor_height_m": p.FloorHeightM, "detour_factor": p.DetourFactor, "fifteen_minute_radius_m": p.FifteenMinuteRadiusM,
		"green_access_radius_m": p.GreenAccessRadiusM, "air_idw_power": p.AirIDWPower,
	}
	for name, v := range pos {
		if !(v > 0) {
			return fmt.Errorf("parameter %s must be positive, got %v", name, v)
		}
	}
	if !(p.OccupiedDwellingShare > 0 && p.OccupiedDwellingShare <= 1) {
		return fmt.Errorf("parameter occupied_dwelling_share must be above 0 and at most 1, got %v", p.OccupiedDwellingShare)
	}
	if p.MixedResidentialShare < 0 || p.MixedResidentialShare > 1 {
		return fmt.Errorf("parameter mixed_residential_share must be within 0..1")
	}
	if !slices.Contains(nonResidentialUses, p.MixedOtherUse) {
		return fmt.Errorf("parameter mixed_other_use %q is not a non-residential use", p.MixedOtherUse)
	}
	for _, u := range nonResidentialUses {
		if !(p.M2PerJob[u] > 0) {
			return fmt.Errorf("parameter m2_per_job.%s must be positive", u)
		}
	}
	for _, k := range accessKinds {
		if !(p.AccessRadiusM[k] > 0) {
			return fmt.Errorf("parameter access_radius_m.%s must be positive", k)
		}
	}
	for _, k := range p.FifteenMinuteKinds {
		if !slices.Contains(layers.FacilityKinds, k) {
			return fmt.Errorf("parameter fifteen_minute_kinds: unknown facility kind %q", k)
		}
	}
	for k, c := range p.DefaultCapacity {
		if !slices.Contains(layers.FacilityKinds, k) {
			return fmt.Errorf("parameter default_capacity: unknown facility kind %q", k)
		}
		if c <= 0 {
			return fmt.Errorf("parameter default_capacity.%s must be positive", k)
		}
	}
	if p.Distance != DistanceNetwork && p.Distance != DistanceStraight {
		return fmt.Errorf("parameter distance must be %q or %q, got %q", DistanceNetwork, DistanceStraight, p.Distance)
	}
	if p.AirStations < 1 {
		return fmt.Errorf("parameter air_stations must be at least 1")
	}
	for _, pol := range pollutants {
		if !(p.AirEULimits[pol] > 0) || !(p.AirWHOGuidelines[pol] > 0) {
			return fmt.Errorf("parameters air_eu_limits_ugm3 and air_who_guidelines_ugm3 need %s", pol)
		}
	}
	if len(p.NoiseLdenBands) == 0 || !slices.IsSorted(p.NoiseLdenBands) {
		return fmt.Errorf("parameter noise_lden_bands_db must be ascending and not empty")
	}
	return nil
}

var pollutants = []string{"pm25", "pm10", "no2"}
