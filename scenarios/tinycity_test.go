package scenarios

import (
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// The tiny city of the hand-computed tests, in metres east and north of its centre (the
// projection NewCity chooses is centred on the extent, which the two districts span
// symmetrically, so these coordinates come back unchanged up to rounding):
//
//	districts  West [-1000,0]×[-1000,1000] (id 1), East [0,1000]×[-1000,1000] (id 2): 200 ha each
//	zoning     Z1 = West: max_height_m 20, max_floors 6, allowed residential/mixed/education,
//	           max_pot_pct 40, max_cut 2; Z2 = East: 30 m, 10 floors, residential/mixed/
//	           commercial/office/education, POT 60, CUT 3
//	parcels    P1 [-600,-500]×[0,100], P2 [300,400]×[0,100], P3 [-600,-500]×[-400,-300]: 1 ha each
//	buildings  B1 residential [-590,-560]×[10,40] (900 m²), 4 floors, 13 m, 20 dwellings, centroid (-575,25)
//	           B2 mixed [310,350]×[10,50] (1600 m²), 5 floors, 17 m, dwellings unknown, centroid (330,30)
//	           B3 office [600,620]×[500,550] (1000 m²), 3 floors, 10 m, gfa_m2 2500, centroid (610,525)
//	           B4 residential [-590,-570]×[-390,-370] (400 m²), 2 floors, 7 m, 4 dwellings, centroid (-580,-380)
//	           B5 industrial [-300,-280]×[600,620] (400 m²), 1 floor, 4 m, centroid (-290,610)
//	facilities S1 school (-575,525) capacity 10; C1 clinic (330,330); F1 pharmacy (-575,200);
//	           CC citizen_center (-100,100); W1 public_wifi (-560,100)
//	green      G1 public park [-400,-300]×[0,100] (1 ha)
//	noise      N1 road [-700,-500]×[-450,-350], Lden 60, Lnight 52
//	flood      FL1 [-700,-500]×[-450,-300], 100 years
//	air        L1 (-575,125), L2 (-475,25), L3 (-675,25): pm25 4, pm10 10, no2 8 (under every limit)
//	           H1 (-580,-480), H2 (-480,-380), H3 (-680,-380): pm25 8, pm10 30, no2 50
//	broadband  fibre 1000 Mbit/s over West; dsl 50 over East; 5g 1000 over East (mobile: ignored)
var tinyOrigin = orb.Point{23.59, 46.77}

func rect(p spatial.Projection, x0, y0, x1, y1 float64) orb.Polygon {
	c := func(x, y float64) orb.Point { return p.ToWGS84(orb.Point{x, y}) }
	return orb.Polygon{orb.Ring{c(x0, y0), c(x1, y0), c(x1, y1), c(x0, y1), c(x0, y0)}}
}

func tinyFeatures() []layers.Feature {
	p := spatial.NewProjection(tinyOrigin)
	pt := func(x, y float64) orb.Point { return p.ToWGS84(orb.Point{x, y}) }
	r := func(x0, y0, x1, y1 float64) orb.Polygon { return rect(p, x0, y0, x1, y1) }
	type m = map[string]any
	f := func(layer string, id int64, g orb.Geometry, props m) layers.Feature {
		return layers.Feature{Layer: layer, ID: id, Geometry: g, Props: props}
	}
	low := m{"name": "low", "pm25": 4.0, "pm10": 10.0, "no2": 8.0, "year": int64(2025)}
	high := m{"name": "high", "pm25": 8.0, "pm10": 30.0, "no2": 50.0, "year": int64(2025)}
	return []layers.Feature{
		f("districts", 1, r(-1000, -1000, 0, 1000), m{"name": "West", "code": "W"}),
		f("districts", 2, r(0, -1000, 1000, 1000), m{"name": "East", "code": "E"}),
		f("zoning", 1, r(-1000, -1000, 0, 1000), m{"code": "Z1", "max_height_m": 20.0, "max_floors": int64(6),
			"allowed_uses": []string{"residential", "mixed", "education"}, "max_pot_pct": 40.0, "max_cut": 2.0}),
		f("zoning", 2, r(0, -1000, 1000, 1000), m{"code": "Z2", "max_height_m": 30.0, "max_floors": int64(10),
			"allowed_uses": []string{"residential", "mixed", "commercial", "office", "education"}, "max_pot_pct": 60.0, "max_cut": 3.0}),
		f("parcels", 1, r(-600, 0, -500, 100), m{"cad_number": "P1"}),
		f("parcels", 2, r(300, 0, 400, 100), m{"cad_number": "P2"}),
		f("parcels", 3, r(-600, -400, -500, -300), m{"cad_number": "P3"}),
		f("buildings", 1, r(-590, 10, -560, 40), m{"use": "residential", "floors": int64(4), "height_m": 13.0, "dwellings": int64(20)}),
		f("buildings", 2, r(310, 10, 350, 50), m{"use": "mixed", "floors": int64(5), "height_m": 17.0}),
		f("buildings", 3, r(600, 500, 620, 550), m{"use": "office", "floors": int64(3), "height_m": 10.0, "gfa_m2": 2500.0}),
		f("buildings", 4, r(-590, -390, -570, -370), m{"use": "residential", "floors": int64(2), "height_m": 7.0, "dwellings": int64(4)}),
		f("buildings", 5, r(-300, 600, -280, 620), m{"use": "industrial", "floors": int64(1), "height_m": 4.0}),
		f("facilities", 1, pt(-575, 525), m{"kind": "school", "name": "S1", "capacity": int64(10)}),
		f("facilities", 2, pt(330, 330), m{"kind": "clinic", "name": "C1"}),
		f("facilities", 3, pt(-575, 200), m{"kind": "pharmacy", "name": "F1"}),
		f("facilities", 4, pt(-100, 100), m{"kind": "citizen_center", "name": "CC"}),
		f("facilities", 5, pt(-560, 100), m{"kind": "public_wifi", "name": "W1"}),
		f("green_spaces", 1, r(-400, 0, -300, 100), m{"kind": "park", "public": true, "area_m2": 10000.0}),
		f("noise", 1, r(-700, -450, -500, -350), m{"source": "road", "lden_db": 60.0, "lnight_db": 52.0}),
		f("flood", 1, r(-700, -450, -500, -300), m{"return_period_years": int64(100)}),
		f("air_stations", 1, pt(-575, 125), low),
		f("air_stations", 2, pt(-475, 25), low),
		f("air_stations", 3, pt(-675, 25), low),
		f("air_stations", 4, pt(-580, -480), high),
		f("air_stations", 5, pt(-480, -380), high),
		f("air_stations", 6, pt(-680, -380), high),
		f("broadband", 1, r(-1000, -1000, 0, 1000), m{"technology": "fibre", "max_down_mbps": 1000.0}),
		f("broadband", 2, r(0, -1000, 1000, 1000), m{"technology": "dsl", "max_down_mbps": 50.0}),
		f("broadband", 3, r(0, -1000, 1000, 1000), m{"technology": "5g", "max_down_mbps": 1000.0}),
	}
}

func tinyCity(t testing.TB) *spatial.City {
	t.Helper()
	c, err := spatial.NewCity(tinyFeatures())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wgs converts tiny-city metres to WGS84 with the city's own projection.
func wgs(c *spatial.City, x, y float64) orb.Point { return c.Proj.ToWGS84(orb.Point{x, y}) }

// polyJSON is a GeoJSON Polygon of a rectangle in tiny-city metres.
func rectGeoJSON(c *spatial.City, x0, y0, x1, y1 float64) []byte {
	return geoJSON(rect(c.Proj, x0, y0, x1, y1))
}
