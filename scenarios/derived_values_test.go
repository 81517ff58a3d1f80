package scenarios

import (
	"context"
	"fmt"
	"testing"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// envFeatures is the tiny city with air stations, noise bands and flood zones placed for
// round arithmetic in the south-east of East (Z2), far from the tiny city's own:
//
//	air     A1 (800,-700): pm25 10, pm10 20, no2 30    A2 (600,-800): 20, 40, 45
//	        A3 (800,-400): 40, 80, 60                  A4 (300,-800): 80, 160, 240
//	noise   N2 road [700,900]×[-300,-200] Lden 70, Lnight 60
//	        N3 rail [600,900]×[-300,-100] Lden 65, Lnight 55 (under N2, drawn after it)
//	        N4 road [500,600]×[-300,-100] Lden 62.5, Lnight 49.5 (an imported map's value)
//	flood   FL2 [500,900]×[-300,-100] 1000 years ⊃ FL3 [700,900]×[-300,-200] 100 years
//	        ⊃ FL4 [750,850]×[-280,-220] 10 years
//	buildings, residential 20 × 20 m squares by centroid, 2.5 residents a dwelling:
//	        B201 (800,-800) 1 dwelling (2.5)    B202 (700,-700) 2 (5)
//	        B301 (650,-150) 8 (20)   B302 (800,-250) 16 (40)   B303 (550,-150) 32 (80)
//	        B304 (720,-280) 64 (160)
//
// With the tiny city's B4 (10 residents) every resident count is 2.5 × a distinct power of
// two, so a sum of residents names the buildings in it.
func envFeatures() []layers.Feature {
	p := spatial.NewProjection(tinyOrigin)
	type m = map[string]any
	station := func(id int64, x, y, pm25, pm10, no2 float64) layers.Feature {
		return layers.Feature{Layer: "air_stations", ID: id, Geometry: p.ToWGS84([2]float64{x, y}),
			Props: m{"name": fmt.Sprintf("A%d", id-100), "pm25": pm25, "pm10": pm10, "no2": no2, "year": int64(2025)}}
	}
	poly := func(layer string, id int64, x0, y0, x1, y1 float64, props m) layers.Feature {
		return layers.Feature{Layer: layer, ID: id, Geometry: rect(p, x0, y0, x1, y1), Props: props}
	}
	home := func(id int64, x, y float64, dwellings int64) layers.Feature {
		return poly("buildings", id, x-10, y-10, x+10, y+10, m{"use": "residential", "floors": int64(2), "height_m": 7.0, "dwellings": dwellings})
	}
	return append(tinyFeatures(),
		station(101, 800, -700, 10, 20, 30),
		station(102, 600, -800, 20, 40, 45),
		station(103, 800, -400, 40, 80, 60),
		station(104, 300, -800, 80, 160, 240),
		poly("noise", 2, 700, -300, 900, -200, m{"source": "road", "lden_db": 70.0, "lnight_db": 60.0}),
		poly("noise", 3, 600, -300, 900, -100, m{"source": "rail", "lden_db": 65.0, "lnight_db": 55.0}),
		poly("noise", 4, 500, -300, 600, -100, m{"source": "road", "lden_db": 62.5, "lnight_db": 49.5}),
		poly("flood", 2, 500, -300, 900, -100, m{"return_period_years": int64(1000)}),
		poly("flood", 3, 700, -300, 900, -200, m{"return_period_years": int64(100)}),
		poly("flood", 4, 750, -280, 850, -220, m{"return_period_years": int64(10)}),
		home(201, 800, -800, 1),
		home(202, 700, -700, 2),
		home(301, 650, -150, 8),
		home(302, 800, -250, 16),
		home(303, 550, -150, 32),
		home(304, 720, -280, 64),
	)
}

func envCity(t *testing.T) *spatial.City {
	t.Helper()
	c, err := spatial.NewCity(envFeatures())
	if err != nil {
		t.Fatalf("env city: %v", err)
	}
	return c
}

// baselineRecord is a building's record in the baseline an engine computes of city.
func baselineRecord(t *testing.T, e *Engine, city *spatial.City, id int64) *bRec {
	t.Helper()
	b, err := e.baselineFor(context.Background(), city)
	if err != nil {
		t.Fatalf("baseline: %v", err)
	}
	i, ok := b.bIdx[id]
	if !ok {
		t.Fatalf("no building %d in the baseline", id)
	}
	return &b.recs[i]
}

func TestAirQualityInterpolatedAtABuildingIsTheHandComputedIDW(t *testing.T) {
	// The engine's defaults: the 3 nearest stations, weights 1 / d².
	//
	// B201 at (800,-800): A1 100 m, A2 200 m, A3 400 m (A4 at 500 m is the fourth, left out).
	// Weights 1/100² : 1/200² : 1/400² = 16 : 4 : 1, sum 21.
	// B202 at (700,-700): A1 100 m (d² 10000), A2 √20000 = 141.4 m, A3 √100000 = 316.2 m
	// (A4 √170000 = 412.3 m is the fourth). Weights 1/10000 : 1/20000 : 1/100000 = 10 : 5 : 1,
	// sum 16.
	//
	// (Weights 1/d would give B201 pm25 (4·10 + 2·20 + 40) / 7 = 17.14 and B202 18.18; the
	// 4 nearest stations B201 pm25 20.7 / 1.3525 = 15.30.)
	tests := []struct {
		name     string
		building int64
		want     map[string]float64
	}{
		{"three stations at 100, 200 and 400 m weigh 16 : 4 : 1", 201, map[string]float64{
			"pm25": 280.0 / 21, // (16·10 + 4·20 + 1·40) / 21 = 13.333
			"pm10": 560.0 / 21, // (16·20 + 4·40 + 1·80) / 21 = 26.667
			"no2":  720.0 / 21, // (16·30 + 4·45 + 1·60) / 21 = 34.286
		}},
		{"three stations at 100, 141.4 and 316.2 m weigh 10 : 5 : 1", 202, map[string]float64{
			"pm25": 240.0 / 16, // (10·10 + 5·20 + 1·40) / 16 = 15
			"pm10": 480.0 / 16, // (10·20 + 5·40 + 1·80) / 16 = 30
			"no2":  585.0 / 16, // (10·30 + 5·45 + 1·60) / 16 = 36.5625
		}},
	}
	city := envCity(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, pol := range pollutants {
				want := tt.want[pol]
				// The record keeps only whether a limit is exceeded: an EU limit just above the
				// value and a WHO guideline just below it pin the value within 1e-7, every
				// other pollutant's limits far away.
				p := handParameters()
				for _, q := range pollutants {
					p.AirEULimits[q], p.AirWHOGuidelines[q] = 1e6, 1e6
				}
				p.AirEULimits[pol], p.AirWHOGuidelines[pol] = want*(1+1e-7), want*(1-1e-7)
				e, err := NewEngine(p)
				if err != nil {
					t.Fatal(err)
				}
				r := baselineRecord(t, e, city, tt.building)
				if r.airEU || !r.airWHO {
					t.Errorf("%s: over a limit just above %.6f: %v, over one just below: %v; want false, true (the interpolated value is not %.6f)",
						pol, want, r.airEU, r.airWHO, want)
				}
			}
		})
	}
}

func TestNoiseAndFloodOfAHandPlacedBuildingAreItsZonesValues(t *testing.T) {
	// Each building takes the loudest Lden and Lnight of the noise polygons holding its
	// centroid, and the shortest return period of the flood zones holding it.
	tests := []struct {
		name          string
		building      int64
		lden, lnight  float64
		floodPeriodYr int64
	}{
		{"a building in the rail band only takes its 65 / 55 dB and the 1000-year zone", 301, 65, 55, 1000},
		{"a building under a road and a railway takes the louder road's 70 / 60 dB and the 10-year zone of three nested ones", 302, 70, 60, 10},
		{"a building keeps an imported map's 62.5 / 49.5 dB as it is", 303, 62.5, 49.5, 1000},
		{"a building outside the 10-year zone takes the 100-year one of the two holding it", 304, 70, 60, 100},
		{"the tiny city's B4 takes N1's 60 / 52 dB and FL1's 100 years", 4, 60, 52, 100},
		{"a building in no noise band and no flood zone takes none", 201, 0, 0, 0},
	}
	e := newEngine(t)
	city := envCity(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := baselineRecord(t, e, city, tt.building)
			if r.lden != tt.lden || r.lnight != tt.lnight || r.flood != tt.floodPeriodYr {
				t.Errorf("building %d: Lden %v, Lnight %v, flood %d years; want %v, %v, %d",
					tt.building, r.lden, r.lnight, r.flood, tt.lden, tt.lnight, tt.floodPeriodYr)
			}
		})
	}
}

func TestNoiseBandsAndFloodClassesSumTheRightBuildings(t *testing.T) {
	run, err := newEngine(t).Baseline(context.Background(), envCity(t))
	if err != nil {
		t.Fatal(err)
	}
	// Residents: B4 10, B201 2.5, B202 5, B301 20, B302 40, B303 80, B304 160 (B1 50 and B2
	// 800/7 are in no band and no zone). A band holds Lden from its floor up to the next one.
	want := map[string]float64{
		"noise_lden_55":        0,
		"noise_lden_60":        90,  // B4 60 dB: 10; B303 62.5 dB: 80
		"noise_lden_65":        20,  // B301 65 dB
		"noise_lden_70":        200, // B302 and B304 70 dB: 40 + 160
		"noise_lden_75":        0,
		"noise_lden_55_plus":   310, // 90 + 20 + 200
		"noise_lnight_50_plus": 230, // Lnight ≥ 50: B4 52, B301 55, B302 60, B304 60: 10 + 20 + 40 + 160; B303's 49.5 is under
		"flood_10_residents":   40,  // B302
		"flood_10_buildings":   1,
		"flood_100_residents":  210, // B4, B302, B304: 10 + 40 + 160
		"flood_100_buildings":  3,
		"flood_1000_residents": 310, // and B301, B303: 210 + 20 + 80
		"flood_1000_buildings": 5,
	}
	for name, w := range want {
		if got := run.Indicators[name].Baseline; !approx(got, w) {
			t.Errorf("%s = %v, want %v", name, got, w)
		}
	}
}
