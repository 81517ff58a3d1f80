package spatial

import (
	"math"
	"math/rand"
	"sort"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
)

// square returns a WGS84 square polygon of side metres with its south-west corner at (x, y)
// metres from the projection's origin.
func square(p Projection, x, y, side float64) orb.Polygon {
	c := func(dx, dy float64) orb.Point { return p.ToWGS84(orb.Point{x + dx, y + dy}) }
	return orb.Polygon{orb.Ring{c(0, 0), c(side, 0), c(side, side), c(0, side), c(0, 0)}}
}

func TestProjectionIsMetric(t *testing.T) {
	p := NewProjection(orb.Point{23.59, 46.77})
	// One degree of latitude is 111.195 km on the mean sphere (6371008.8 m × π/180).
	got := p.ToMetric(orb.Point{23.59, 47.77})
	if math.Abs(got[1]-111195.08) > 0.5 || math.Abs(got[0]) > 1e-9 {
		t.Fatalf("one degree north = %v, want (0, 111195.08)", got)
	}
	// One degree of longitude at 46.77° N is 111195.08 × cos(46.77°) = 111195.08 × 0.684929 = 76,160.7 m.
	got = p.ToMetric(orb.Point{24.59, 46.77})
	if math.Abs(got[0]-76160.7) > 0.1 {
		t.Fatalf("one degree east = %v, want 76160.7 m", got[0])
	}
	back := p.ToWGS84(p.ToMetric(orb.Point{23.61, 46.75}))
	if math.Abs(back[0]-23.61) > 1e-12 || math.Abs(back[1]-46.75) > 1e-12 {
		t.Fatalf("round trip gave %v", back)
	}
}

func TestAreaOfAHectareSquare(t *testing.T) {
	p := NewProjection(orb.Point{23.59, 46.77})
	sq := square(p, 500, 500, 100) // 100 m × 100 m = 10,000 m²
	if a := Area(p.Geometry(sq)); math.Abs(a-10000) > 1e-6 {
		t.Fatalf("area = %v m², want 10000", a)
	}
}

func testCity(t *testing.T) (*City, Projection) {
	t.Helper()
	p := NewProjection(orb.Point{23.59, 46.77})
	fs := []layers.Feature{
		{Layer: "facilities", ID: 1, Geometry: p.ToWGS84(orb.Point{0, 0}), Props: map[string]any{"kind": "school"}},
		{Layer: "facilities", ID: 2, Geometry: p.ToWGS84(orb.Point{300, 400}), Props: map[string]any{"kind": "clinic"}},  // 500 m from origin
		{Layer: "facilities", ID: 3, Geometry: p.ToWGS84(orb.Point{-600, 800}), Props: map[string]any{"kind": "school"}}, // 1000 m
		{Layer: "green_spaces", ID: 10, Geometry: square(p, 100, -50, 100), Props: map[string]any{"kind": "park"}},
		{Layer: "districts", ID: 20, Geometry: square(p, -1000, -1000, 2000), Props: map[string]any{"name": "Centre"}},
	}
	c, err := NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	return c, c.Proj
}

func TestNearestAndWithinUseMetres(t *testing.T) {
	c, p := testCity(t)
	origin := p.ToMetric(p.ToWGS84(orb.Point{0, 0}))
	fac := c.Layer("facilities")

	hits := fac.Nearest(origin, 3, 0, nil)
	if len(hits) != 3 {
		t.Fatalf("got %d hits, want 3", len(hits))
	}
	wantIDs, wantDist := []int64{1, 2, 3}, []float64{0, 500, 1000}
	for i, h := range hits {
		if h.Feature.ID != wantIDs[i] || math.Abs(h.Distance-wantDist[i]) > 0.01 {
			t.Errorf("hit %d = id %d at %.2f m, want id %d at %.0f m", i, h.Feature.ID, h.Distance, wantIDs[i], wantDist[i])
		}
	}

	schools := fac.Nearest(orb.Point{290, 390}, 1, 0, func(it *Item) bool { return it.Feature.Props["kind"] == "school" })
	if len(schools) != 1 || schools[0].Feature.ID != 1 {
		t.Fatalf("nearest school from near the clinic = %+v, want id 1", schools)
	}

	if got := fac.Within(origin, 999, nil); len(got) != 2 {
		t.Fatalf("within 999 m: %d features, want 2", len(got))
	}
	if got := fac.Nearest(origin, 5, 600, nil); len(got) != 2 {
		t.Fatalf("nearest with a 600 m limit: %d features, want 2", len(got))
	}
}

func TestDistanceToAPolygonIsToItsEdge(t *testing.T) {
	c, _ := testCity(t)
	green := c.Layer("green_spaces")
	// The park spans x 100..200, y -50..50: from the origin its nearest edge is 100 m east.
	hits := green.Within(orb.Point{0, 0}, 100.5, nil)
	if len(hits) != 1 || math.Abs(hits[0].Distance-100) > 0.01 {
		t.Fatalf("park hits = %+v, want one at 100 m", hits)
	}
	if hits := green.Nearest(orb.Point{150, 0}, 1, 0, nil); hits[0].Distance != 0 {
		t.Fatalf("a point inside the park is %v m from it, want 0", hits[0].Distance)
	}
	if a := hits[0].Area; math.Abs(a-10000) > 1e-6 {
		t.Fatalf("park area = %v, want 10000 m²", a)
	}
}

func TestContainingFindsTheDistrict(t *testing.T) {
	c, _ := testCity(t)
	d := c.Layer("districts")
	if got := d.Containing(orb.Point{10, 10}); len(got) != 1 || got[0].Feature.ID != 20 {
		t.Fatalf("containing = %v, want district 20", got)
	}
	if got := d.Containing(orb.Point{1500, 0}); len(got) != 0 {
		t.Fatalf("a point outside every district is in %d", len(got))
	}
}

func TestNearestMatchesBruteForce(t *testing.T) {
	p := NewProjection(orb.Point{23.59, 46.77})
	rng := rand.New(rand.NewSource(7))
	var fs []layers.Feature
	for i := range 2000 {
		x, y := rng.Float64()*5000, rng.Float64()*5000
		var g orb.Geometry = p.ToWGS84(orb.Point{x, y})
		if i%2 == 0 {
			g = square(p, x, y, 5+rng.Float64()*40)
		}
		fs = append(fs, layers.Feature{Layer: "buildings", ID: int64(i + 1), Geometry: g})
	}
	c, err := NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	ix := c.Layer("buildings")
	for range 50 {
		q := orb.Point{rng.Float64()*6000 - 500, rng.Float64()*6000 - 500}
		var all []float64
		for _, it := range ix.Items() {
			all = append(all, Distance(it.Geom, q))
		}
		sort.Float64s(all)
		hits := ix.Nearest(q, 5, 0, nil)
		for i, h := range hits {
			if math.Abs(h.Distance-all[i]) > 1e-9 {
				t.Fatalf("query %v: hit %d at %v m, brute force says %v m", q, i, h.Distance, all[i])
			}
		}
	}
}

func TestUnknownLayerIsRejected(t *testing.T) {
	_, err := NewCity([]layers.Feature{{Layer: "roads", ID: 1, Geometry: orb.Point{23, 46}}})
	if err == nil {
		t.Fatal("a feature of an unknown layer was accepted")
	}
}

func BenchmarkNearest(b *testing.B) {
	p := NewProjection(orb.Point{23.59, 46.77})
	rng := rand.New(rand.NewSource(1))
	var fs []layers.Feature
	for i := range 200000 {
		fs = append(fs, layers.Feature{Layer: "buildings", ID: int64(i + 1), Geometry: square(p, rng.Float64()*20000, rng.Float64()*20000, 15)})
	}
	c, _ := NewCity(fs)
	ix := c.Layer("buildings")
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ix.Nearest(orb.Point{float64(i % 20000), float64(i * 7 % 20000)}, 3, 0, nil)
	}
}
