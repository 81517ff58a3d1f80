package tiles

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// cluj is the origin of the hand-made test city.
var cluj = orb.Point{23.59, 46.77}

// square is a WGS84 square ring with side metres and south-west corner at (x, y) metres
// from the projection's origin, turning counter-clockwise as GeoJSON wants.
func square(p spatial.Projection, x, y, side float64) orb.Ring {
	c := func(dx, dy float64) orb.Point { return p.ToWGS84(orb.Point{x + dx, y + dy}) }
	return orb.Ring{c(0, 0), c(side, 0), c(side, side), c(0, side), c(0, 0)}
}

// handMadeCity is a small city with every layer: a 40×40 grid of 30 m parcels (with
// restricted owner data), a building on most parcels (some with a courtyard, one a
// multipolygon), zones, facilities, green spaces, noise, flood, broadband, air stations and
// two districts, streets, a lake and named places. It spans about 1.2 km, so z12–16 tiles cut through its features.
func handMadeCity() []layers.Feature {
	p := spatial.NewProjection(cluj)
	var fs []layers.Feature
	add := func(layer string, g orb.Geometry, props map[string]any, restricted map[string]any) {
		fs = append(fs, layers.Feature{Layer: layer, ID: int64(len(fs) + 1), Geometry: g, Props: props, Restricted: restricted})
	}
	uses := layers.BuildingUses
	for i := range 40 {
		for j := range 40 {
			x, y := float64(i*30-600), float64(j*30-600)
			n := i*40 + j
			add("parcels", orb.Polygon{square(p, x, y, 30)}, map[string]any{
				"cad_number": fmt.Sprintf("CJ-%d", 100000+n), "area_m2": 900.0, "land_use": "curți-construcții",
				"intravilan": true, "ownership": "private", "address": fmt.Sprintf("Strada Test %d", n),
			}, map[string]any{"owner_name": fmt.Sprintf("SECRET OWNER %d", n), "land_book": fmt.Sprintf("CF-SECRET-%d", n)})
			if n%7 == 3 {
				continue // an empty lot
			}
			b := orb.Polygon{square(p, x+6, y+6, 18)}
			if n%10 == 0 {
				// A courtyard, turning the other way.
				hole := square(p, x+11, y+11, 8)
				for a, z := 0, len(hole)-1; a < z; a, z = a+1, z-1 {
					hole[a], hole[z] = hole[z], hole[a]
				}
				b = append(b, hole)
			}
			var g orb.Geometry = b
			if n == 42 {
				g = orb.MultiPolygon{b, {square(p, x+1, y+1, 4)}}
			}
			add("buildings", g, map[string]any{
				"cad_number": fmt.Sprintf("CJ-%d", 100000+n), "use": uses[n%len(uses)], "floors": int64(1 + n%9),
				"height_m": float64(3 + 3*(n%9)), "dwellings": int64(n % 12), "year_built": int64(1950 + n%70),
				"gfa_m2": 324.0 * float64(1+n%9), "derived": n%3 == 0,
			}, nil)
		}
	}
	for i := range 4 {
		for j := range 4 {
			add("zoning", orb.Polygon{square(p, float64(i*300-600), float64(j*300-600), 300)}, map[string]any{
				"code": fmt.Sprintf("L%d", i*4+j), "name": "Locuințe", "allowed_uses": []string{"residential", "mixed"},
				"max_pot_pct": 35.0, "max_cut": 1.2, "max_height_m": 12.0, "max_floors": int64(4),
			}, nil)
		}
	}
	for k := range 60 {
		add("facilities", p.ToWGS84(orb.Point{float64(k*19%1200 - 600), float64(k*37%1200 - 600)}), map[string]any{
			"kind": layers.FacilityKinds[k%len(layers.FacilityKinds)], "name": fmt.Sprintf("Facility %d", k),
			"capacity": int64(100 + k), "capacity_unit": "seats",
		}, nil)
	}
	add("green_spaces", orb.Polygon{square(p, -100, -100, 200)}, map[string]any{"kind": "park", "public": true, "area_m2": 40000.0}, nil)
	add("noise", orb.Polygon{square(p, -600, -50, 1200)}, map[string]any{"source": "road", "lden_db": 65.0, "lnight_db": 55.0}, nil)
	add("flood", orb.Polygon{square(p, 200, -600, 400)}, map[string]any{"return_period_years": int64(100)}, nil)
	add("broadband", orb.Polygon{square(p, -600, -600, 1200)}, map[string]any{"technology": "fibre", "max_down_mbps": 1000.0}, nil)
	add("air_stations", p.ToWGS84(orb.Point{10, 20}), map[string]any{"name": "Centru", "pm25": 14.5, "pm10": 22.0, "no2": 31.0, "year": int64(2024)}, nil)
	add("districts", orb.Polygon{square(p, -650, -650, 650)}, map[string]any{"name": "Sud-Vest", "code": "D1"}, nil)
	add("districts", orb.MultiPolygon{{square(p, 0, 0, 650)}, {square(p, -650, 0, 300)}}, map[string]any{"name": "Nord", "code": "D2"}, nil)
	// Streets: east–west every 90 m across the whole city and beyond its edge, a north–south
	// avenue in two parts (a MultiLineString), a diagonal path and a motorway closed to walkers.
	line := func(pts ...[2]float64) orb.LineString {
		var ls orb.LineString
		for _, q := range pts {
			ls = append(ls, p.ToWGS84(orb.Point{q[0], q[1]}))
		}
		return ls
	}
	for k := range 14 {
		y := float64(k*90 - 615)
		add("streets", line([2]float64{-700, y}, [2]float64{0, y + 3}, [2]float64{700, y}), map[string]any{
			"name": fmt.Sprintf("Strada %d", k), "kind": "residential", "foot": true,
		}, nil)
	}
	add("streets", orb.MultiLineString{line([2]float64{15, -640}, [2]float64{15, -20}), line([2]float64{15, 20}, [2]float64{18, 640})},
		map[string]any{"name": "Bulevardul Eroilor", "kind": "primary"}, nil)
	add("streets", line([2]float64{-580, -580}, [2]float64{-300, -250}, [2]float64{100, 90}, [2]float64{580, 560}), map[string]any{"kind": "footway", "foot": true}, nil)
	add("streets", line([2]float64{-640, 620}, [2]float64{640, 600}), map[string]any{"name": "Autostrada", "kind": "motorway", "foot": false}, nil)
	add("water", orb.Polygon{square(p, 320, 320, 120)}, map[string]any{"name": "Lacul Mic", "kind": "lake"}, nil)
	add("places", p.ToWGS84(orb.Point{0, 0}), map[string]any{"name": "Centru", "kind": "quarter"}, nil)
	add("places", p.ToWGS84(orb.Point{-300, 400}), map[string]any{"name": "Piața Mare", "kind": "square"}, nil)
	return fs
}

func newCity(t testing.TB, fs []layers.Feature) *spatial.City {
	t.Helper()
	c, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// randomCity is a city of awkward features for the conformance test: thousands of points,
// rotated rectangles from slivers of 0.3 m to blocks of 60 m, tiny polygons that low zooms
// thin out, and jagged zones and parks (with holes) that low zooms simplify — all scattered
// so that many of them straddle tile and buffer edges.
func randomCity(seed int64) []layers.Feature {
	rng := rand.New(rand.NewSource(seed))
	p := spatial.NewProjection(cluj)
	var fs []layers.Feature
	id := int64(0)
	add := func(layer string, g orb.Geometry, props map[string]any) {
		id++
		fs = append(fs, layers.Feature{Layer: layer, ID: id, Geometry: g, Props: props})
	}
	at := func() (float64, float64) { return rng.Float64()*3000 - 1500, rng.Float64()*3000 - 1500 }
	rect := func(cx, cy, w, h, angle float64) orb.Ring {
		s, c := math.Sin(angle), math.Cos(angle)
		corner := func(dx, dy float64) orb.Point { return p.ToWGS84(orb.Point{cx + dx*c - dy*s, cy + dx*s + dy*c}) }
		return orb.Ring{corner(-w/2, -h/2), corner(w/2, -h/2), corner(w/2, h/2), corner(-w/2, h/2), corner(-w/2, -h/2)}
	}
	jagged := func(cx, cy, radius float64, n int, clockwise bool) orb.Ring {
		var r orb.Ring
		for i := range n {
			a := 2 * math.Pi * float64(i) / float64(n)
			if clockwise {
				a = -a
			}
			d := radius * (0.7 + 0.3*rng.Float64())
			r = append(r, p.ToWGS84(orb.Point{cx + d*math.Cos(a), cy + d*math.Sin(a)}))
		}
		return append(r, r[0])
	}
	for range 3000 {
		x, y := at()
		add("facilities", p.ToWGS84(orb.Point{x, y}), map[string]any{"kind": "pharmacy", "capacity": int64(rng.Intn(100))})
	}
	for i := range 6000 {
		x, y := at()
		w, h := 2+rng.Float64()*58, 2+rng.Float64()*40
		switch i % 10 {
		case 0: // a sliver
			w, h = 0.3, 5+rng.Float64()*30
		case 1: // tiny
			w, h = 0.3+rng.Float64(), 0.3+rng.Float64()
		}
		add("buildings", orb.Polygon{rect(x, y, w, h, rng.Float64()*math.Pi)}, map[string]any{"use": "residential", "height_m": 3 + 30*rng.Float64()})
	}
	for range 300 {
		x, y := at()
		add("zoning", orb.Polygon{jagged(x, y, 30+rng.Float64()*300, 8+rng.Intn(40), false)}, map[string]any{"code": "M1", "allowed_uses": []string{"mixed"}})
	}
	for range 60 {
		x, y := at()
		r := 40 + rng.Float64()*200
		add("green_spaces", orb.Polygon{jagged(x, y, r, 30, false), jagged(x, y, r/3, 12, true)}, map[string]any{"kind": "park", "public": true})
	}
	return fs
}
