package network

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/xy"
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

// hullCandidates keeps what xy.ConvexHullFlat needs to give the very hull of all the points:
// the same coordinates in the same order, on clouds drawn at random, on integer grids (many
// points alike, extremes shared by several points, points in a row on the hull) and on the
// points of isochrones of a grid town.
func TestHullCandidatesGiveTheSameHull(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	clouds := map[string]func(n int) []float64{
		"points at random": func(n int) []float64 {
			flat := make([]float64, 0, 2*n)
			for range n {
				flat = append(flat, 7.4+rng.Float64()*0.01, 43.7+rng.Float64()*0.01)
			}
			return flat
		},
		"points of a 6 × 6 integer grid": func(n int) []float64 {
			flat := make([]float64, 0, 2*n)
			for range n {
				flat = append(flat, float64(rng.IntN(6)), float64(rng.IntN(6)))
			}
			return flat
		},
		"points on two diagonals": func(n int) []float64 {
			flat := make([]float64, 0, 2*n)
			for range n {
				v := float64(rng.IntN(20))
				flat = append(flat, v, v*float64(rng.IntN(2)))
			}
			return flat
		},
	}
	g, err := Build(testProj, newGridTown(rng, 20, 20, 100, 0.1).lines)
	if err != nil {
		t.Fatal(err)
	}
	clouds["points of isochrones"] = func(n int) []float64 {
		a, _ := g.Attach(m(rng.Float64()*2000, rng.Float64()*2000), 0)
		var flat []float64
		for _, l := range g.Isochrone(a, float64(n)).Lines {
			for _, p := range l {
				flat = append(flat, p[0], p[1])
			}
		}
		return flat
	}
	for name, cloud := range clouds {
		t.Run(name, func(t *testing.T) {
			for _, n := range []int{3, 20, 50, 51, 52, 60, 100, 400, 1500} {
				for range 20 {
					flat := cloud(n)
					if len(flat) < 6 {
						continue
					}
					want := xy.ConvexHullFlat(geom.XY, slices.Clone(flat))
					got := xy.ConvexHullFlat(geom.XY, hullCandidates(slices.Clone(flat)))
					if reflect.TypeOf(got) != reflect.TypeOf(want) || !slices.Equal(got.FlatCoords(), want.FlatCoords()) {
						t.Fatalf("%d points: hull %T %v, want %T %v", len(flat)/2, got, got.FlatCoords(), want, want.FlatCoords())
					}
				}
			}
		})
	}
}
