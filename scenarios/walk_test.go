package scenarios

import (
	"context"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// withGridStreets gives the city streets every spacing metres across its extent, east-west and
// north-south, meeting at every crossing.
func withGridStreets(c *spatial.City, spacing float64) *spatial.City {
	b := c.Proj.Bound(c.Bound)
	id := int64(0)
	line := func(x0, y0, x1, y1 float64) {
		id++
		c.Streets = append(c.Streets, layers.Feature{Layer: "streets", ID: id, Geometry: orb.LineString{
			c.Proj.ToWGS84(orb.Point{x0, y0}), c.Proj.ToWGS84(orb.Point{x1, y1})}})
	}
	for x := b.Min[0]; x <= b.Max[0]; x += spacing {
		for y := b.Min[1]; y+spacing <= b.Max[1]+spacing/2; y += spacing {
			line(x, y, x, y+spacing)
		}
	}
	for y := b.Min[1]; y <= b.Max[1]; y += spacing {
		for x := b.Min[0]; x+spacing <= b.Max[0]+spacing/2; x += spacing {
			line(x, y, x+spacing, y)
		}
	}
	return c
}

// riverCity is a hand-made city on both banks of a river 180 m wide, with one bridge:
//
//	y = 200  ────────────────────────────── north bank street, x 0..1000
//	         school at (100, 210)           │ bridge at x = 1000
//	         ~~~~~~~~~~ river ~~~~~~~~~~    │
//	y = 0    ────────────────────────────── south bank street, x 0..1000
//	         home at (100, -10): a 10 m square, 4 dwellings (10 residents)
//
// Straight line home → school: 220 m (the centroids' 0 → 210 + 10), × 1.25 detour = 275 m,
// within the school radius of 800 m. Walking: 10 m stub to the street + 900 m east
// (x 100 → 1000) + 200 m over the bridge + 900 m west + 10 m stub to the school = 2020 m:
// out of reach.
func riverCity(t *testing.T, streets bool) *spatial.City {
	t.Helper()
	p := spatial.NewProjection(orb.Point{23.59, 46.77})
	pt := func(x, y float64) orb.Point { return p.ToWGS84(orb.Point{x, y}) }
	fs := []layers.Feature{
		{Layer: "buildings", ID: 1, Geometry: rect(p, 95, -15, 105, -5), Props: map[string]any{"use": "residential", "dwellings": int64(4), "floors": int64(2)}},
		{Layer: "facilities", ID: 1, Geometry: pt(100, 210), Props: map[string]any{"kind": "school", "capacity": int64(600)}},
	}
	c, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	if streets {
		for i, l := range []orb.LineString{
			{pt(0, 0), pt(1000, 0)}, {pt(0, 200), pt(1000, 200)}, {pt(1000, 0), pt(1000, 200)},
		} {
			c.Streets = append(c.Streets, layers.Feature{Layer: "streets", ID: int64(i + 1), Geometry: l})
		}
	}
	return c
}

func TestASchoolAcrossARiverWithOneFarBridge(t *testing.T) {
	straight := handParameters()
	straight.Distance = DistanceStraight
	tests := []struct {
		name       string
		streets    bool
		params     Parameters
		wantAccess float64
		wantMethod string
	}{
		{"the network walks to the far bridge and finds the school out of reach", true, handParameters(), 0, DistanceNetwork},
		{"the straight line with its detour factor finds it within reach", true, straight, 1, DistanceStraight},
		{"a city without streets falls back to the straight line", false, handParameters(), 1, DistanceStraight},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEngine(tt.params)
			if err != nil {
				t.Fatal(err)
			}
			run, err := e.Baseline(context.Background(), riverCity(t, tt.streets))
			if err != nil {
				t.Fatal(err)
			}
			if got := run.Indicators["access_school"].Baseline; got != tt.wantAccess {
				t.Errorf("access_school = %v, want %v", got, tt.wantAccess)
			}
			if got := run.DistanceMethods["access_school"]; got != tt.wantMethod {
				t.Errorf("access_school was measured by %q, want %q", got, tt.wantMethod)
			}
			if got := run.DistanceMethods["wifi_access_share"]; got != DistanceStraight {
				t.Errorf("Wi-Fi was measured by %q, want the straight line always", got)
			}
		})
	}
}

func TestTheWalkToASchoolAcrossTheRiverIsMeasuredToTheMetre(t *testing.T) {
	e := newEngine(t)
	c := riverCity(t, true)
	b, err := e.baselineFor(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	// Within the school's walk radius (800 m) the school is out of reach: +Inf.
	k := e.schoolIdx
	if w := b.recs[0].walk[k]; w <= 800 {
		t.Fatalf("walk to the school = %v m, want beyond 800 m", w)
	}
	// Without a radius the walk is 10 + 900 + 200 + 900 + 10 = 2020 m (up to the
	// projection's rounding: the city's projection is centred on its own extent).
	a, _ := b.net.Attach(c.Proj.ToWGS84(b.recs[0].c), 0)
	d := b.net.Distances(e.facilitySources(b.env, k), 1e9)
	if got, _, _ := d.At(a); got < 2019 || got > 2021 {
		t.Fatalf("walk to the school = %v m, want 2020 m", got)
	}
}

func TestTheDistanceParameterIsNetworkOrStraight(t *testing.T) {
	p := handParameters()
	p.Distance = "crow"
	if err := p.Validate(); err == nil {
		t.Fatal(`distance "crow" validated`)
	}
}
