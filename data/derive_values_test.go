package data

import (
	"fmt"
	"sort"
	"testing"

	"github.com/paulmach/osm"

	"github.com/citytwin/citytwin/spatial"
)

// placedBuilding is the metric centre of a 10 m square building placed by hand.
type placedBuilding struct {
	x, y float64
}

// deriveAround adds a building at each place (ways 100, 101...) to the extract, derives the
// city and returns it with the buildings' ids in order.
func deriveAround(t *testing.T, o *tinyOSM, places []placedBuilding) (*spatial.City, []int64) {
	t.Helper()
	var ids []int64
	for k, p := range places {
		id := osm.WayID(100 + k)
		o.box(id, tags("building", "yes"), p.x-5, p.y-5, p.x+5, p.y+5)
		ids = append(ids, int64(id))
	}
	city, err := spatial.NewCity(o.derive(t))
	if err != nil {
		t.Fatalf("city of the derived layers: %v", err)
	}
	return city, ids
}

// holding lists the features of layer whose polygon holds building id's centroid.
func holding(t *testing.T, city *spatial.City, layer string, id int64) []map[string]any {
	t.Helper()
	b, ok := city.Layer("buildings").Get(id)
	if !ok {
		t.Fatalf("no building %d", id)
	}
	var out []map[string]any
	for _, it := range city.Layer(layer).Containing(b.Centroid) {
		out = append(out, it.Feature.Props)
	}
	return out
}

func TestDerivedNoiseBandAtHandPlacedBuildings(t *testing.T) {
	// Noise cells are 20 m squares taking the band of their centre's distance, so each
	// building sits at least 10 m inside its band: the centre of its cell is within 10 m
	// (across the line) of the centroid.
	o := newTinyOSM()
	o.way(1, false, tags("highway", "secondary"), -300, 0, 300, 0)         // medium road
	o.way(2, false, tags("railway", "rail"), -300, 1000, 300, 1000)        // rail
	o.way(3, false, tags("highway", "residential"), -300, 2000, 300, 2000) // minor road
	// A medium road crossing a railway: both give 70 dB at the crossing.
	o.way(4, false, tags("railway", "rail"), -300, 3000, 300, 3000)
	o.way(5, false, tags("highway", "tertiary"), 0, 2900, 0, 3100)
	tests := []struct {
		name   string
		at     placedBuilding
		lden   float64 // 0: quiet
		source string
	}{
		{"on a medium road: 70 dB (≤ 15 m)", placedBuilding{100, 0}, 70, "road"},
		{"50 m from a medium road: 60 dB (35 < d ≤ 70 m)", placedBuilding{100, 50}, 60, "road"},
		{"100 m from a medium road: 55 dB (70 < d ≤ 130 m)", placedBuilding{100, -100}, 55, "road"},
		{"160 m from a medium road: quiet (> 130 m)", placedBuilding{100, 160}, 0, ""},
		{"on a railway: 70 dB (≤ 15 m)", placedBuilding{100, 1000}, 70, "rail"},
		{"28 m from a railway: 65 dB (15 < d ≤ 40 m)", placedBuilding{100, 1028}, 65, "rail"},
		{"60 m from a railway: 60 dB (40 < d ≤ 80 m)", placedBuilding{100, 940}, 60, "rail"},
		{"115 m from a railway: 55 dB (80 < d ≤ 150 m)", placedBuilding{100, 1115}, 55, "rail"},
		{"on a minor road: 60 dB (≤ 10 m)", placedBuilding{100, 2000}, 60, "road"},
		{"50 m from a minor road: quiet (> 30 m)", placedBuilding{100, 2050}, 0, ""},
		{"where a road crosses a railway at the same 70 dB the road is the source", placedBuilding{0, 3000}, 70, "road"},
		{"on the railway 200 m from the crossing it is the rail's 70 dB", placedBuilding{200, 3000}, 70, "rail"},
	}
	places := make([]placedBuilding, len(tests))
	for i, tt := range tests {
		places[i] = tt.at
	}
	city, ids := deriveAround(t, o, places)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			zs := holding(t, city, "noise", ids[i])
			if tt.lden == 0 {
				if len(zs) != 0 {
					t.Fatalf("in %d noise polygons %v, want none", len(zs), zs)
				}
				return
			}
			// Bands are exclusive: exactly one polygon holds a point.
			if len(zs) != 1 {
				t.Fatalf("in %d noise polygons %v, want one", len(zs), zs)
			}
			z := zs[0]
			if z["lden_db"] != tt.lden || z["lnight_db"] != tt.lden-10 || z["source"] != tt.source {
				t.Fatalf("noise %v, want Lden %v, Lnight %v (Lden − 10), source %s", z, tt.lden, tt.lden-10, tt.source)
			}
		})
	}
}

func TestDerivedFloodClassAtHandPlacedBuildings(t *testing.T) {
	// Flood cells are 20 m squares classed by their centre's distance to water: a land cell
	// within 30 m floods every 10 years, 80 m every 100, 150 m every 1000; a stream counts
	// its distance twice (15 / 40 / 75 m). Zones are nested. Each building sits at least
	// 10 m inside its class.
	o := newTinyOSM()
	o.way(1, false, tags("waterway", "river"), -300, 0, 300, 0)
	o.way(2, false, tags("waterway", "stream"), -300, 1000, 300, 1000)
	// A pond of 50 × 50 m = 2500 m² (under 1 ha): no flood zone around it.
	o.box(3, tags("natural", "water"), -25, 1975, 25, 2025)
	tests := []struct {
		name string
		at   placedBuilding
		want string // the return periods of the zones holding it
	}{
		{"10 m from a river: every zone", placedBuilding{100, 10}, "[10 100 1000]"},
		{"55 m from a river: 100 and 1000 years (30 < d ≤ 80 m)", placedBuilding{100, -55}, "[100 1000]"},
		{"115 m from a river: 1000 years (80 < d ≤ 150 m)", placedBuilding{100, 115}, "[1000]"},
		{"200 m from a river: none", placedBuilding{100, -200}, "[]"},
		{"on a stream: every zone (2d ≤ 30 m)", placedBuilding{100, 1000}, "[10 100 1000]"},
		{"27 m from a stream: 100 and 1000 years (30 < 2d ≤ 80 m)", placedBuilding{100, 1027}, "[100 1000]"},
		{"57 m from a stream: 1000 years (80 < 2d ≤ 150 m)", placedBuilding{100, 943}, "[1000]"},
		{"100 m from a stream: none", placedBuilding{100, 1100}, "[]"},
		{"beside a pond under 1 ha: none", placedBuilding{0, 2040}, "[]"},
	}
	places := make([]placedBuilding, len(tests))
	for i, tt := range tests {
		places[i] = tt.at
	}
	city, ids := deriveAround(t, o, places)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var periods []int64
			for _, z := range holding(t, city, "flood", ids[i]) {
				periods = append(periods, z["return_period_years"].(int64))
			}
			sort.Slice(periods, func(a, b int) bool { return periods[a] < periods[b] })
			if got := fmt.Sprint(periods); got != tt.want {
				t.Fatalf("flood zones %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDerivedZonesCarryTheRulesOfTheirType(t *testing.T) {
	// docs/import-rules.md, "Zoning": one land-use area of each zone type, 200 m apart, each
	// holding one building.
	tests := []struct {
		landuse, prefix string
		pot, cut        float64
		height          float64
		floors          int64
	}{
		{"residential", "LC", 40, 2.5, 32, 10},
		{"commercial", "C", 70, 3.0, 35, 10},
		{"industrial", "I", 60, 1.5, 20, 5},
		{"education", "IS", 50, 2.0, 24, 6},
		{"cemetery", "V", 10, 0.2, 8, 2},
		{"construction", "D", 60, 3.0, 40, 12},
	}
	o := newTinyOSM()
	var places []placedBuilding
	for i, tt := range tests {
		x := float64(i) * 200
		o.box(osm.WayID(10+i), tags("landuse", tt.landuse), x-50, -50, x+50, 50)
		places = append(places, placedBuilding{x, 0})
	}
	city, ids := deriveAround(t, o, places)
	for i, tt := range tests {
		t.Run(fmt.Sprintf("landuse=%s makes a %s zone", tt.landuse, tt.prefix), func(t *testing.T) {
			zs := holding(t, city, "zoning", ids[i])
			if len(zs) != 1 {
				t.Fatalf("in %d zones, want 1", len(zs))
			}
			z := zs[0]
			if z["code"] != "UTR-"+tt.prefix+"1" || z["max_pot_pct"] != tt.pot || z["max_cut"] != tt.cut ||
				z["max_height_m"] != tt.height || z["max_floors"] != tt.floors {
				t.Fatalf("zone %v, want UTR-%s1 with POT %v %%, CUT %v, %v m, %d floors", z, tt.prefix, tt.pot, tt.cut, tt.height, tt.floors)
			}
		})
	}
}
