package scenarios

import (
	"math/rand"
	"slices"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// The grids are shortcuts: they must answer exactly what a search of the whole set answers.
func TestGridsAnswerLikeFullSearches(t *testing.T) {
	fs := synthCity(4000, 3)
	base, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	mb := base.Proj.Bound(base.Bound)
	rng := rand.New(rand.NewSource(5))
	// A noise band of 400 vertices across the city, to exercise full and partial cells.
	var ring orb.Ring
	for i := 0; i <= 200; i++ {
		x := mb.Min[0] + (mb.Max[0]-mb.Min[0])*float64(i)/200
		ring = append(ring, base.Proj.ToWGS84(orb.Point{x, 200 + 150*float64(i%7)}))
	}
	for i := 200; i >= 0; i-- {
		x := mb.Min[0] + (mb.Max[0]-mb.Min[0])*float64(i)/200
		ring = append(ring, base.Proj.ToWGS84(orb.Point{x, -400 + 90*float64(i%5)}))
	}
	ring = append(ring, ring[0])
	fs = append(fs, layers.Feature{Layer: "noise", ID: 999, Geometry: orb.Polygon{ring}, Props: map[string]any{"lden_db": 70.0}})
	c, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	mb = c.Proj.Bound(c.Bound)
	for _, name := range gridLayers {
		ix := c.Layer(name)
		g := newPolyGrid(ix, mb)
		lv := NewVariant(c, handParameters()).Layer(name)
		for range 3000 {
			p := orb.Point{mb.Min[0] + rng.Float64()*(mb.Max[0]-mb.Min[0]), mb.Min[1] + rng.Float64()*(mb.Max[1]-mb.Min[1])}
			var got, want []int64
			g.visit(lv, nil, p, func(it *spatial.Item) { got = append(got, it.Feature.ID) })
			for _, it := range ix.Items() {
				if polygonContains(it, p) {
					want = append(want, it.Feature.ID)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("%s at %v: grid %v, full search %v", name, p, got, want)
			}
		}
	}
	for _, kind := range []string{"school", "clinic", "public_wifi"} {
		ix := spatial.NewIndex("facilities", c.Proj)
		for _, it := range c.Layer("facilities").Items() {
			if str(it.Feature.Props, "kind") == kind {
				ix.Insert(it.Feature)
			}
		}
		g := newNearGrid(ix, mb)
		lv := &LayerView{Base: ix}
		for range 3000 {
			p := orb.Point{mb.Min[0] + rng.Float64()*(mb.Max[0]-mb.Min[0]), mb.Min[1] + rng.Float64()*(mb.Max[1]-mb.Min[1])}
			got := g.nearest(lv, nil, p)
			h, _ := lv.NearestOne(p, nil)
			if got.id != h.Feature.ID || got.d != h.Distance {
				t.Fatalf("nearest %s at %v: grid %+v, search %d at %v", kind, p, got, h.Feature.ID, h.Distance)
			}
		}
	}
}
