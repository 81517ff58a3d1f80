package scenarios

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// synthCity builds a deterministic grid city of about n buildings for tests and benchmarks:
// square blocks of 4 × 4 parcels (40 m, 75 % built), 2 × 2 districts, a zone per block group,
// facilities of every kind, green spaces of all sizes, noise, flood, air stations and
// broadband. It stands in for synthcity.Generate where the tests must not depend on it.
func synthCity(n int, seed int64) []layers.Feature {
	rng := rand.New(rand.NewSource(seed))
	p := spatial.NewProjection(orb.Point{23.59, 46.77})
	parcels := n * 4 / 3
	side := 1
	for side*side < parcels {
		side++
	}
	const cell = 40.0
	size := float64(side) * cell
	half := size / 2
	r := func(x0, y0, x1, y1 float64) orb.Polygon { return rect(p, x0-half, y0-half, x1-half, y1-half) }
	pt := func(x, y float64) orb.Point { return p.ToWGS84(orb.Point{x - half, y - half}) }
	var fs []layers.Feature
	add := func(layer string, id int64, g orb.Geometry, props map[string]any) {
		fs = append(fs, layers.Feature{Layer: layer, ID: id, Geometry: g, Props: props})
	}
	// Districts: quadrants.
	add("districts", 1, r(0, 0, size/2, size/2), map[string]any{"name": "SW", "code": "1"})
	add("districts", 2, r(size/2, 0, size, size/2), map[string]any{"name": "SE", "code": "2"})
	add("districts", 3, r(0, size/2, size/2, size), map[string]any{"name": "NW", "code": "3"})
	add("districts", 4, r(size/2, size/2, size, size), map[string]any{"name": "NE", "code": "4"})
	// Zones: 400 m squares.
	zid := int64(1)
	allUses := layers.BuildingUses
	for zx := 0.0; zx < size; zx += 400 {
		for zy := 0.0; zy < size; zy += 400 {
			uses := []string{"residential", "mixed", "education"}
			if rng.Intn(2) == 0 {
				uses = append(uses, "commercial", "office")
			}
			add("zoning", zid, r(zx, zy, min(zx+400, size), min(zy+400, size)), map[string]any{
				"code": fmt.Sprintf("Z%d", zid), "allowed_uses": uses,
				"max_height_m": float64(12 + rng.Intn(30)), "max_floors": int64(4 + rng.Intn(8)),
				"max_pot_pct": float64(30 + rng.Intn(40)), "max_cut": 0.8 + rng.Float64()*2.5,
			})
			zid++
		}
	}
	// Parcels and buildings.
	pid, bid := int64(1), int64(1)
	for i := 0; i < side; i++ {
		for j := 0; j < side; j++ {
			x, y := float64(i)*cell, float64(j)*cell
			add("parcels", pid, r(x+1, y+1, x+cell-1, y+cell-1), map[string]any{"cad_number": fmt.Sprintf("%d", pid)})
			pid++
			if rng.Float64() < 0.75 && bid <= int64(n) {
				w, h := 10+rng.Float64()*18, 10+rng.Float64()*18
				floors := int64(1 + rng.Intn(10))
				props := map[string]any{"use": allUses[rng.Intn(len(allUses))], "floors": floors, "height_m": float64(floors)*3 + rng.Float64()*3}
				if rng.Intn(3) > 0 {
					props["use"] = "residential"
				}
				if rng.Intn(2) == 0 {
					props["dwellings"] = int64(rng.Intn(40))
				}
				add("buildings", bid, r(x+6, y+6, x+6+w, y+6+h), props)
				bid++
			}
		}
	}
	// Facilities: per kind, about one per 400 buildings (at least two).
	fid := int64(1)
	for _, k := range layers.FacilityKinds {
		count := max(2, n/400)
		for range count {
			add("facilities", fid, pt(rng.Float64()*size, rng.Float64()*size), map[string]any{"kind": k, "name": fmt.Sprintf("%s %d", k, fid), "capacity": int64(rng.Intn(600))})
			fid++
		}
	}
	// Green spaces.
	for g := int64(1); g <= int64(max(4, n/200)); g++ {
		x, y := rng.Float64()*size, rng.Float64()*size
		w, h := 20+rng.Float64()*120, 20+rng.Float64()*120
		add("green_spaces", g, r(x, y, min(size, x+w), min(size, y+h)), map[string]any{"kind": "park", "public": rng.Intn(5) > 0})
	}
	// Noise, flood, air, broadband.
	for k := int64(1); k <= 8; k++ {
		x, y := rng.Float64()*size, rng.Float64()*size
		add("noise", k, r(x, y, min(size, x+size/5), min(size, y+size/20)), map[string]any{"source": "road", "lden_db": float64(55 + 5*rng.Intn(5)), "lnight_db": float64(45 + rng.Intn(15))})
		add("flood", k, r(x, y, min(size, x+size/8), min(size, y+size/8)), map[string]any{"return_period_years": []int64{10, 100, 1000}[rng.Intn(3)]})
		add("air_stations", k, pt(rng.Float64()*size, rng.Float64()*size), map[string]any{"pm25": 3 + rng.Float64()*25, "pm10": 10 + rng.Float64()*35, "no2": 8 + rng.Float64()*40})
		add("broadband", k, r(x, y, min(size, x+size/3), min(size, y+size/3)), map[string]any{"technology": []string{"fibre", "cable", "dsl", "5g"}[rng.Intn(4)], "max_down_mbps": float64([]int{50, 100, 500, 1000}[rng.Intn(4)])})
	}
	return fs
}

// randomChange makes a random valid-looking change against a variant of the synthetic city.
// Targets are picked among the variant's features so that most changes are valid.
func randomChange(rng *rand.Rand, c *spatial.City, v *Variant) ChangeInput {
	b := c.Proj.Bound(c.Bound)
	randPt := func() orb.Point {
		return orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
	}
	randRect := func(maxSide float64) []byte {
		q := randPt()
		w, h := 5+rng.Float64()*maxSide, 5+rng.Float64()*maxSide
		x1, y1 := min(q[0]+w, b.Max[0]-0.01), min(q[1]+h, b.Max[1]-0.01)
		return geoJSON(rect(c.Proj, q[0], q[1], x1, y1))
	}
	// pick returns the feature of a layer nearest to a random point (passing filter).
	pick := func(layer string, filter func(*spatial.Item) bool) string {
		hits := v.Layer(layer).Nearest(randPt(), 1, 0, filter)
		if len(hits) == 0 {
			return "0"
		}
		return itoa(hits[0].Feature.ID)
	}
	target := func(s string) json.RawMessage { b, _ := json.Marshal(s); return b }
	kindIs := func(kinds ...string) func(*spatial.Item) bool {
		return func(it *spatial.Item) bool {
			for _, k := range kinds {
				if str(it.Feature.Props, "kind") == k {
					return true
				}
			}
			return false
		}
	}
	switch rng.Intn(11) {
	case 0:
		return ChangeInput{Kind: AddBuilding, Geometry: randRect(30), Properties: map[string]any{
			"use": []string{"residential", "mixed", "office"}[rng.Intn(3)], "floors": float64(1 + rng.Intn(12)), "height_m": float64(3 + rng.Intn(40)), "dwellings": float64(rng.Intn(60))}}
	case 1:
		return ChangeInput{Kind: ModifyBuilding, Target: target(pick("buildings", nil)), Properties: map[string]any{"floors": float64(1 + rng.Intn(15)), "use": "mixed"}}
	case 2:
		return ChangeInput{Kind: DemolishBuilding, Target: target(pick("buildings", nil))}
	case 3:
		if rng.Intn(2) == 0 {
			return ChangeInput{Kind: Rezone, Target: target(pick("zoning", nil)), Properties: map[string]any{"max_height_m": float64(10 + rng.Intn(20)), "max_pot_pct": float64(20 + rng.Intn(50))}}
		}
		return ChangeInput{Kind: Rezone, Geometry: randRect(300), Properties: map[string]any{"max_floors": float64(2 + rng.Intn(6)), "allowed_uses": []any{"residential"}}}
	case 4, 5:
		return ChangeInput{Kind: AddFacility, Geometry: geoJSON(c.Proj.ToWGS84(randPt())), Properties: map[string]any{
			"kind": []string{"school", "kindergarten", "clinic", "pharmacy", "public_wifi", "citizen_center", "library"}[rng.Intn(7)], "capacity": float64(rng.Intn(500))}}
	case 6:
		return ChangeInput{Kind: ModifyFacility, Target: target(pick("facilities", kindIs("school", "kindergarten"))), Properties: map[string]any{"capacity": float64(rng.Intn(800))}}
	case 7:
		return ChangeInput{Kind: RemoveFacility, Target: target(pick("facilities", nil))}
	case 8:
		return ChangeInput{Kind: AddGreenSpace, Geometry: randRect(150), Properties: map[string]any{"kind": "park", "public": rng.Intn(4) > 0}}
	case 9:
		return ChangeInput{Kind: RemoveGreenSpace, Target: target(pick("green_spaces", nil))}
	default:
		if rng.Intn(2) == 0 {
			return ChangeInput{Kind: SetBroadband, Target: target(pick("broadband", nil)), Properties: map[string]any{"max_down_mbps": float64([]int{100, 1000}[rng.Intn(2)])}}
		}
		return ChangeInput{Kind: SetBroadband, Geometry: randRect(600), Properties: map[string]any{"technology": "fibre", "max_down_mbps": 1000.0}}
	}
}

func synthCityT(t testing.TB, n int, seed int64) *spatial.City {
	t.Helper()
	c, err := spatial.NewCity(synthCity(n, seed))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
