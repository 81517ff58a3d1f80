package network

import (
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
)

// Isochrones reuse their working memory from one call to the next (scratchPool). Each of a
// run of isochrones, from places and at limits drawn at random, alternately on a grid town,
// the town with a footbridge added (more nodes and edge IDs) and the small river town, must
// equal the same isochrone computed with working memory never used before.
func TestIsochronesInARowEqualFreshOnes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	grid, err := Build(testProj, newGridTown(rng, 30, 30, 100, 0.1).lines)
	if err != nil {
		t.Fatal(err)
	}
	bridged, _, err := grid.WithLine(ls(50, 50, 2950, 2950), 999, 1)
	if err != nil {
		t.Fatal(err)
	}
	towns := []struct {
		name string
		g    *Graph
		size float64 // metres a side
	}{
		{"the grid town", grid, 3000},
		{"the grid town with a footbridge", bridged, 3000},
		{"the river town", riverTown(t), 300},
	}
	fresh := func(g *Graph, a Attachment, limit float64) *Isochrone {
		scratchPool = sync.Pool{New: newScratch}
		return g.Isochrone(a, limit)
	}
	type call struct {
		g     *Graph
		a     Attachment
		limit float64
		name  string
	}
	var calls []call
	for i := range 60 {
		town := towns[i%len(towns)]
		a, ok := town.g.Attach(m(rng.Float64()*town.size, rng.Float64()*town.size), 0)
		if !ok {
			t.Fatal("a point of the town does not attach")
		}
		calls = append(calls, call{town.g, a, 100 + rng.Float64()*1500, town.name})
	}
	want := make([]*Isochrone, len(calls))
	for i, c := range calls {
		want[i] = fresh(c.g, c.a, c.limit)
	}
	scratchPool = sync.Pool{New: newScratch}
	for i, c := range calls {
		got := c.g.Isochrone(c.a, c.limit)
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("isochrone %d (%s, %.0f m from %v) after %d others: %d lines, %.3f m over %d nodes; fresh: %d lines, %.3f m over %d nodes",
				i, c.name, c.limit, c.a.Point, i, len(got.Lines), got.Length, len(got.Nodes), len(want[i].Lines), want[i].Length, len(want[i].Nodes))
		}
	}
}
