package network

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

// TestUpdatedDistancesAreTheDistancesComputedAfresh: after random edits (streets closed and
// reopened, paths added at random places, sources added, removed and moved), the distances
// updated from the previous graph's equal, to the last bit, those computed from scratch on
// the new graph, at every node and at attached points; and the update searches only part of
// the network.
func TestUpdatedDistancesAreTheDistancesComputedAfresh(t *testing.T) {
	const nx, ny, spacing, radius = 30, 30, 80.0, 600.0
	rng := rand.New(rand.NewPCG(3, 4))
	town := newGridTown(rng, nx, ny, spacing, 0.15)
	base, err := Build(testProj, town.lines)
	if err != nil {
		t.Fatal(err)
	}
	// A variant is a list of edits applied to the base, rebuilt each step as a scenario is.
	type edit struct {
		close int64 // a source closed, or 0
		line  orb.LineString
	}
	apply := func(edits []edit) *Graph {
		g := base
		for i, e := range edits {
			if e.close != 0 {
				g = g.WithoutSource(e.close)
				continue
			}
			if g, _, err = g.WithLine(e.line, int64(100000+i), 5); err != nil {
				t.Fatal(err)
			}
		}
		return g
	}
	var edits []edit
	var points []orb.Point
	for range 6 {
		points = append(points, randomPoint(rng, nx, ny, spacing))
	}
	attachAll := func(g *Graph) []Attachment {
		var out []Attachment
		for _, p := range points {
			if a, ok := g.Attach(p, 0); ok {
				out = append(out, a)
			}
		}
		return out
	}
	g := base
	d := g.Distances(attachAll(g), radius)
	partial := 0
	for step := range 80 {
		switch rng.IntN(5) {
		case 0: // close a street
			edits = append(edits, edit{close: town.lines[rng.IntN(len(town.lines))].Source})
		case 1: // a path between two random places (joined within 5 m, or dead ends)
			edits = append(edits, edit{line: orb.LineString{randomPoint(rng, nx, ny, spacing), randomPoint(rng, nx, ny, spacing)}})
		case 2: // undo an earlier edit
			if len(edits) > 0 {
				i := rng.IntN(len(edits))
				edits = slices.Delete(edits, i, i+1)
			}
		case 3: // a source added
			points = append(points, randomPoint(rng, nx, ny, spacing))
		default: // a source removed
			if len(points) > 1 {
				i := rng.IntN(len(points))
				points = slices.Delete(points, i, i+1)
			}
		}
		next := apply(edits)
		src := attachAll(next)
		rng.Shuffle(len(src), func(i, j int) { src[i], src[j] = src[j], src[i] })
		got := next.Update(d, src)
		want := next.Distances(src, radius)
		// UpdateFrom, told which sources are d's, gives the same.
		at := map[Attachment]int32{}
		for i, a := range d.sources {
			at[a] = int32(i)
		}
		from := make([]int32, len(src))
		for j, a := range src {
			if i, ok := at[a]; ok {
				from[j] = i
			} else {
				from[j] = -1
			}
		}
		told := next.UpdateFrom(d, src, from)
		for n := range next.NumNodes() {
			gv, _ := told.Node(NodeID(n))
			wv, _ := want.Node(NodeID(n))
			if gv != wv && !(math.IsInf(gv, 1) && math.IsInf(wv, 1)) {
				t.Fatalf("step %d: node %d: updated from the known sources %v, afresh %v", step, n, gv, wv)
			}
		}
		for n := range next.NumNodes() {
			gv, gok := got.Node(NodeID(n))
			wv, wok := want.Node(NodeID(n))
			if gok != wok || gok && gv != wv {
				t.Fatalf("step %d: node %d: updated %v (%v), afresh %v (%v)", step, n, gv, gok, wv, wok)
			}
			if gok && src[got.NodeSource(NodeID(n))] != src[want.NodeSource(NodeID(n))] {
				gs, ws := src[got.NodeSource(NodeID(n))], src[want.NodeSource(NodeID(n))]
				a, _, _ := got.At(gs)
				b, _, _ := got.At(ws)
				if a != b { // two sources as near: either may be named
					t.Fatalf("step %d: node %d: nearest source differs", step, n)
				}
			}
		}
		if !slices.Equal(got.Reached(), want.Reached()) && len(got.Reached()) != len(want.Reached()) {
			t.Fatalf("step %d: %d nodes reached, afresh %d", step, len(got.Reached()), len(want.Reached()))
		}
		for range 200 {
			a, _ := next.Attach(randomPoint(rng, nx, ny, spacing), 0)
			gv, _, gok := got.At(a)
			wv, _, wok := want.At(a)
			if gok != wok || gok && gv != wv {
				t.Fatalf("step %d: point %v: updated %v, afresh %v", step, a.Point, gv, wv)
			}
		}
		g, d = next, got
		_ = g
		partial++
	}
	if partial == 0 {
		t.Fatal("no step ran")
	}
}

// TestReattachGivesAttachsAnswer: a point attached before an edit keeps its attachment when
// the edit does not move it, and otherwise gets Attach's answer in the edited graph.
func TestReattachGivesAttachsAnswer(t *testing.T) {
	const nx, ny, spacing = 20, 20, 80.0
	rng := rand.New(rand.NewPCG(7, 8))
	town := newGridTown(rng, nx, ny, spacing, 0.1)
	g, err := Build(testProj, town.lines)
	if err != nil {
		t.Fatal(err)
	}
	closed := g.WithoutSource(town.lines[5].Source).WithoutSource(town.lines[40].Source)
	edited, _, err := closed.WithLine(orb.LineString{randomPoint(rng, nx, ny, spacing), randomPoint(rng, nx, ny, spacing)}, 777, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range []struct {
		name     string
		from, to *Graph
	}{{"closing streets and adding a path", g, edited}, {"reopening the streets", edited, g}, {"the same graph", g, g}} {
		t.Run(pair.name, func(t *testing.T) {
			re := pair.to.Reattacher(pair.from)
			for range 2000 {
				p := randomPoint(rng, nx, ny, spacing)
				a, _ := pair.from.Attach(p, 0)
				got, _ := re(a)
				want, _ := pair.to.Attach(p, 0)
				if got != want {
					t.Fatalf("%v: reattached %+v, Attach says %+v", p, got, want)
				}
			}
		})
	}
}
