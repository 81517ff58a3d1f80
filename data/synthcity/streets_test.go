package synthcity

import (
	"math"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/network"
	"github.com/citytwin/citytwin/spatial"
)

func TestStreetsMakeOneNetworkThatCrossesTheRiverOnlyOnAvenues(t *testing.T) {
	opts := Options{Parcels: 3000, Seed: 3}
	var lines []network.Line
	var streets []layers.Feature
	if err := Streets(opts, func(f layers.Feature) error {
		streets = append(streets, f)
		lines = append(lines, network.Line{Source: f.ID, Geom: f.Geometry})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c := genPlan(opts)
	proj := spatial.NewProjection(c.center)
	g, err := network.Build(proj, lines)
	if err != nil {
		t.Fatal(err)
	}
	// Every node is reachable from the first: one network.
	d := g.Distances([]network.Attachment{g.AtNode(0)}, math.Inf(1))
	if n := len(d.Reached()); n != g.NumNodes() {
		t.Fatalf("%d of %d nodes reachable from node 0, want all", n, g.NumNodes())
	}
	bridges := 0
	for _, f := range streets {
		l := f.Geometry.(orb.LineString)
		x := (l[0][0] - c.center[0]) * c.kx
		y0, y1 := (l[0][1]-c.center[1])*c.ky, (l[1][1]-c.center[1])*c.ky
		ry := c.riverY(x)
		if l[0][0] == l[1][0] && math.Min(y0, y1) < ry+genRiverHalf && math.Max(y0, y1) > ry-genRiverHalf {
			if f.Props["kind"] != "primary" {
				t.Errorf("street %d (%v) crosses the river and is not an avenue", f.ID, f.Props)
			}
			bridges++
		}
	}
	if bridges == 0 {
		t.Fatal("no street crosses the river: the halves of the city would not meet")
	}
	var again int
	Streets(opts, func(layers.Feature) error { again++; return nil })
	if again != len(streets) {
		t.Fatalf("a second run gave %d streets, the first %d", again, len(streets))
	}
}

func TestGeneratedCityHasItsStreetsAsALayerAndAWalkingNetwork(t *testing.T) {
	opts := Options{Parcels: 2000, Seed: 4}
	fs := genGenerateAll(t, opts)
	var streets []layers.Feature
	if err := Streets(opts, func(f layers.Feature) error { streets = append(streets, f); return nil }); err != nil {
		t.Fatal(err)
	}
	c, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	if n := c.Layer("streets").Len(); n == 0 || n != len(streets) {
		t.Fatalf("the streets layer holds %d streets, Streets emits %d", n, len(streets))
	}
	if len(c.Streets) != len(streets) {
		t.Fatalf("the walking network has %d streets, want all %d", len(c.Streets), len(streets))
	}
	if c.Layer("water").Len() != 1 || c.Layer("places").Len() != genPlan(opts).districtCount() {
		t.Fatalf("%d water features and %d places, want the river and a label per district", c.Layer("water").Len(), c.Layer("places").Len())
	}
}
