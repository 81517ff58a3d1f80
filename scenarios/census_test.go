package scenarios

import (
	"context"
	"testing"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// fixedCensus is a census held in memory.
type fixedCensus struct{ c *layers.Census }

func (f fixedCensus) Census(context.Context) (*layers.Census, error) { return f.c, nil }

func censusOf(rows ...layers.CensusRow) fixedCensus { return fixedCensus{&layers.Census{Rows: rows}} }

// districtResidents returns a run's residents by district code.
func districtResidents(run *Run) map[string]Value {
	out := map[string]Value{}
	for _, d := range run.Districts {
		out[d.Code] = d.Indicators["residents"]
	}
	return out
}

// The tiny city's modelled residents (see R): West (W) B1 50 + B4 10 = 60; East (E) B2 800/7.
// The census below gives West 90 (factor 90 / 60 = 1.5: B1 75, B4 15) and the city 190, so
// East, not listed, takes the rest 190 − 90 = 100 (factor 100 / (800/7) = 0.875).
func TestBaselineResidentsEqualTheCensusAndChangesUseTheirDistrictsFactor(t *testing.T) {
	census := censusOf(
		layers.CensusRow{District: "W", Population: 90, Year: 2021, Source: "INS"},
		layers.CensusRow{District: "*", Population: 190, Year: 2021, Source: "INS"},
	)
	ctx := context.Background()
	svc := newService(t)
	svc.Engine.Census = census
	c := svc.Model.City()
	sc, err := svc.Create(ctx, "census", "")
	if err != nil {
		t.Fatal(err)
	}
	// An added residential building of 8 dwellings houses 8 × 2.5 = 20 modelled residents:
	// 20 × 1.5 = 30 in West, 20 × 0.875 = 17.5 in East.
	add := func(x0, y0 float64) ChangeInput {
		return mustChange(t, AddBuilding, "", rectGeoJSON(c, x0, y0, x0+20, y0+20),
			map[string]any{"use": "residential", "floors": 2.0, "dwellings": 8.0})
	}
	if _, _, err := svc.AddChanges(ctx, sc.ID, nil, []ChangeInput{add(400, 200)}); err != nil {
		t.Fatal(err)
	}
	first, err := svc.Run(ctx, sc.ID, nil, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.AddChanges(ctx, sc.ID, nil, []ChangeInput{add(-800, 200)}); err != nil {
		t.Fatal(err)
	}
	incremental, err := svc.Run(ctx, sc.ID, nil, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	full, err := svc.Run(ctx, sc.ID, nil, RunOptions{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if !incremental.Incremental {
		t.Fatal("the second run was not incremental")
	}
	tests := []struct {
		name             string
		run              *Run
		west, east, city Value
	}{
		{"the baseline equals the census: West 90 exactly, East the rest of 190", first,
			Value{Baseline: 90, Variant: 90}, Value{Baseline: 100, Variant: 117.5}, Value{Baseline: 190, Variant: 207.5}},
		{"a building added in each district uses that district's factor (incremental run)", incremental,
			Value{Baseline: 90, Variant: 120}, Value{Baseline: 100, Variant: 117.5}, Value{Baseline: 190, Variant: 237.5}},
		{"a full run gives the same numbers", full,
			Value{Baseline: 90, Variant: 120}, Value{Baseline: 100, Variant: 117.5}, Value{Baseline: 190, Variant: 237.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := districtResidents(tt.run)
			if w := got["W"]; w.Baseline != tt.west.Baseline || !approx(w.Variant, tt.west.Variant) {
				t.Errorf("West residents = %+v, want %v exactly → %v", w, tt.west.Baseline, tt.west.Variant)
			}
			if e := got["E"]; !approx(e.Baseline, tt.east.Baseline) || !approx(e.Variant, tt.east.Variant) {
				t.Errorf("East residents = %+v, want %v → %v", e, tt.east.Baseline, tt.east.Variant)
			}
			if r := tt.run.Indicators["residents"]; !approx(r.Baseline, tt.city.Baseline) || !approx(r.Variant, tt.city.Variant) {
				t.Errorf("city residents = %+v, want %v → %v", r, tt.city.Baseline, tt.city.Variant)
			}
			if s := tt.run.Sources["residents"]; s != SourceCensus {
				t.Errorf("residents source = %q, want %q", s, SourceCensus)
			}
		})
	}
	// Residents-derived indicators follow the calibrated residents: pupils 10 % of 190.
	if p := first.Indicators["pupils"].Baseline; !approx(p, 19) {
		t.Errorf("pupils = %v, want 0.1 × 190 = 19", p)
	}
}

func TestCensusCalibrationReport(t *testing.T) {
	tests := []struct {
		name         string
		census       CensusSource
		complete     bool
		calibrated   float64
		unmatched    []string
		westFactor   float64
		eastBasis    string
		residentsSrc string
	}{
		{"without a census nothing is calibrated and residents are modelled", nil,
			false, R, nil, 1, BasisNone, SourceModelled},
		{"a row by the district's name, in any case, calibrates that district", censusOf(
			layers.CensusRow{District: "W", Population: 30}, layers.CensusRow{District: "east", Population: 200}),
			// West 30 / 60 = 0.5; East 200 / (800/7) = 1.75
			true, 230, nil, 0.5, BasisDistrict, SourceCensus},
		{"a city total alone scales every district by one factor", censusOf(
			layers.CensusRow{District: "*", Population: 348}),
			// 348 / (1220/7) = 1.99672...
			true, 348, nil, 348 / R, BasisCityTotal, SourceCensus},
		{"a row naming no district is reported and leaves the calibration incomplete", censusOf(
			layers.CensusRow{District: "W", Population: 90}, layers.CensusRow{District: "North", Population: 5}),
			// West scaled to 90; East not listed, no total: 800/7 as modelled
			false, 90 + 800.0/7, []string{"North"}, 1.5, BasisNone, SourceModelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t)
			e.Census = tt.census
			cal, err := e.Calibration(context.Background(), tinyCity(t))
			if err != nil {
				t.Fatal(err)
			}
			if cal.Complete != tt.complete || !approx(cal.CalibratedResidents, tt.calibrated) || !approx(cal.ModelledResidents, R) {
				t.Errorf("complete %v, residents %v → %v; want %v, %v → %v", cal.Complete, cal.ModelledResidents, cal.CalibratedResidents, tt.complete, R, tt.calibrated)
			}
			if len(cal.UnmatchedRows) != len(tt.unmatched) || len(tt.unmatched) > 0 && cal.UnmatchedRows[0] != tt.unmatched[0] {
				t.Errorf("unmatched rows %q, want %q", cal.UnmatchedRows, tt.unmatched)
			}
			if len(cal.Districts) != 2 || !approx(cal.Districts[0].Factor, tt.westFactor) || cal.Districts[1].Basis != tt.eastBasis {
				t.Errorf("districts %+v, want West factor %v, East basis %s", cal.Districts, tt.westFactor, tt.eastBasis)
			}
			src, err := e.Sources(context.Background(), tinyCity(t))
			if err != nil {
				t.Fatal(err)
			}
			if src["residents"] != tt.residentsSrc {
				t.Errorf("residents source %q, want %q", src["residents"], tt.residentsSrc)
			}
		})
	}
}

// Sources by the rule of docs/domain.md: the tiny city has no derived feature except, here,
// its noise polygon.
func TestEachIndicatorSaysItsSource(t *testing.T) {
	fs := tinyFeatures()
	for i := range fs {
		if fs[i].Layer == "noise" {
			fs[i].Props["derived"] = true
		}
	}
	city, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t)
	e.Census = censusOf(layers.CensusRow{District: "*", Population: 200})
	src, err := e.Sources(context.Background(), city)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"residents":               SourceCensus,   // residents, census complete
		"access_school":           SourceCensus,   // residents on surveyed buildings and facilities
		"dwellings":               SourceSurveyed, // the imported attribute
		"floor_area_m2":           SourceSurveyed,
		"school_capacity":         SourceSurveyed,
		"jobs":                    SourceModelled, // m² per job
		"pupils":                  SourceModelled, // a share of residents
		"air_eu_exceedance_share": SourceModelled, // interpolated
		"noise_lden_60":           SourceModelled, // a derived noise layer
		"flood_100_buildings":     SourceSurveyed,
		"flood_100_residents":     SourceCensus,
	} {
		if src[name] != want {
			t.Errorf("%s: %q, want %q", name, src[name], want)
		}
	}
	for _, name := range e.names() {
		if _, ok := inputsOf(name); !ok {
			t.Errorf("indicator %s has no inputs listed", name)
		}
		if src[name] == "" {
			t.Errorf("indicator %s has no source", name)
		}
	}
}
