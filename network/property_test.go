package network

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

// TestMultiSourceIsTheMinimumOfSingleSources: one run from every source at once gives, at
// every node and every attached point, the least of the runs from each source alone, and
// names that source; on the built graph and on one derived from it by edits.
func TestMultiSourceIsTheMinimumOfSingleSources(t *testing.T) {
	const nx, ny, spacing, radius = 25, 25, 80.0, 700.0
	rng := rand.New(rand.NewPCG(1, 2))
	town := newGridTown(rng, nx, ny, spacing, 0.15)
	g, err := Build(testProj, town.lines)
	if err != nil {
		t.Fatal(err)
	}
	edited := g.WithoutSource(3).WithoutEdges(10, 11, 12)
	if edited, _, err = edited.WithLine(orb.LineString{randomPoint(rng, nx, ny, spacing), randomPoint(rng, nx, ny, spacing)}, 9999, 30); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		g    *Graph
	}{{"on the built graph", g}, {"on a graph derived by edits", edited}} {
		g := tc.g
		t.Run(tc.name, func(t *testing.T) {
			var sources []Attachment
			for range 8 {
				a, ok := g.Attach(randomPoint(rng, nx, ny, spacing), 0)
				if !ok {
					t.Fatal("a point does not attach")
				}
				sources = append(sources, a)
			}
			sources = append(sources, g.AtNode(NodeID(rng.IntN(g.NumNodes()))))
			multi := g.Distances(sources, radius)
			single := make([]*Distances, len(sources))
			for i, s := range sources {
				single[i] = g.Distances([]Attachment{s}, radius)
			}
			// check compares the multi-source answer with the least single-source one.
			check := func(what string, got float64, gotSrc int, gotOK bool, each func(*Distances) (float64, bool)) {
				want, wantSrc, second := math.Inf(1), -1, math.Inf(1)
				for i, d := range single {
					if v, ok := each(d); ok && v < want {
						want, wantSrc, second = v, i, want
					} else if ok && v < second {
						second = v
					}
				}
				if gotOK != (wantSrc >= 0) || (gotOK && math.Abs(got-want) > 1e-9) {
					t.Fatalf("%s: multi-source %.9f (%v), least single-source %.9f", what, got, gotOK, want)
				}
				if gotOK && second-want > 1e-9 && gotSrc != wantSrc {
					t.Fatalf("%s: nearest source %d, want %d", what, gotSrc, wantSrc)
				}
			}
			reached := 0
			for n := range g.NumNodes() {
				got, ok := multi.Node(NodeID(n))
				if ok {
					reached++
				}
				check("node", got, multi.NodeSource(NodeID(n)), ok, func(d *Distances) (float64, bool) { return d.Node(NodeID(n)) })
			}
			for range 500 {
				a, _ := g.Attach(randomPoint(rng, nx, ny, spacing), 0)
				got, src, ok := multi.At(a)
				check("point", got, src, ok, func(d *Distances) (float64, bool) {
					v, _, ok := d.At(a)
					return v, ok
				})
			}
			if reached < g.NumNodes()/4 || reached == g.NumNodes() {
				t.Errorf("%d of %d nodes reached: the radius should bound some and not most", reached, g.NumNodes())
			}
		})
	}
}

// TestEditsMatchARebuild: a graph with lines removed, or a line added between two crossings,
// walks as the graph built afresh from the changed lines does.
func TestEditsMatchARebuild(t *testing.T) {
	const nx, ny, spacing = 20, 20, 80.0
	rng := rand.New(rand.NewPCG(3, 4))
	town := newGridTown(rng, nx, ny, spacing, 0.1)
	g, err := Build(testProj, town.lines)
	if err != nil {
		t.Fatal(err)
	}
	// Remove eight lines.
	removed, kept := g, slices.Clone(town.lines)
	for range 8 {
		i := rng.IntN(len(kept))
		removed = removed.WithoutSource(kept[i].Source)
		kept = slices.Delete(kept, i, i+1)
	}
	// Add four footpaths between random crossings.
	added, more := g, slices.Clone(town.lines)
	for k := range 4 {
		a, b := g.Node(NodeID(rng.IntN(g.NumNodes()))).Point, g.Node(NodeID(rng.IntN(g.NumNodes()))).Point
		mid := orb.Point{(a[0]+b[0])/2 + 1e-5, (a[1] + b[1]) / 2} // a bend of its own, ~0.8 m off the chord
		line := orb.LineString{a, mid, b}
		if added, _, err = added.WithLine(line, int64(10000+k), 0); err != nil {
			t.Fatal(err)
		}
		more = append(more, Line{Source: int64(10000 + k), Geom: line})
	}
	for _, tc := range []struct {
		name   string
		edited *Graph
		lines  []Line
		// Removing a line can leave a crossing of two blocks of one street, a node of the
		// edited graph but a mere vertex of the rebuilt one: edges are counted only after adds.
		sameEdges bool
	}{
		{"removing lines walks as the town built without them", removed, kept, false},
		{"adding footpaths walks as the town built with them", added, more, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rebuilt, err := Build(testProj, tc.lines)
			if err != nil {
				t.Fatal(err)
			}
			if tc.sameEdges && tc.edited.NumEdges() != rebuilt.NumEdges() {
				t.Errorf("%d edges, the rebuilt town %d", tc.edited.NumEdges(), rebuilt.NumEdges())
			}
			for range 5 {
				p := randomPoint(rng, nx, ny, spacing)
				from := func(g *Graph) *Distances {
					a, _ := g.Attach(p, 0)
					return g.Distances([]Attachment{a}, math.Inf(1))
				}
				de, dr := from(tc.edited), from(rebuilt)
				for range 200 {
					q := randomPoint(rng, nx, ny, spacing)
					ae, _ := tc.edited.Attach(q, 0)
					ar, _ := rebuilt.Attach(q, 0)
					ve, _, oke := de.At(ae)
					vr, _, okr := dr.At(ar)
					if oke != okr || (oke && math.Abs(ve-vr) > 1e-6) {
						t.Fatalf("%v → %v: edited %.9f (%v), rebuilt %.9f (%v)", p, q, ve, oke, vr, okr)
					}
				}
			}
		})
	}
}
