package network

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// benchTown is a town of about 50,000 edges: 170 × 170 crossings 80 m apart (13.5 km a side),
// 12 % of blocks missing. 2·170·169·0.88 ≈ 50,600 blocks, a tenth of them bent.
const benchN, benchSpacing = 170, 80.0

func benchTown() gridTown {
	return newGridTown(rand.New(rand.NewPCG(5, 6)), benchN, benchN, benchSpacing, 0.12)
}

func benchGraph(b *testing.B) *Graph {
	g, err := Build(testProj, benchTown().lines)
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// BenchmarkBuild builds the graph and reports its edges and the heap it holds.
func BenchmarkBuild(b *testing.B) {
	town := benchTown()
	var g *Graph
	for b.Loop() {
		var err error
		if g, err = Build(testProj, town.lines); err != nil {
			b.Fatal(err)
		}
	}
	var before, after runtime.MemStats
	g = nil
	runtime.GC()
	runtime.ReadMemStats(&before)
	g, _ = Build(testProj, town.lines)
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(g.NumEdges()), "edges")
	b.ReportMetric(float64(g.NumNodes()), "nodes")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "graph-MiB")
	runtime.KeepAlive(g)
}

// BenchmarkSchools800m is one access indicator's run: 60 schools spread over the town, every
// node's walk to the nearest within 800 m.
func BenchmarkSchools800m(b *testing.B) {
	g := benchGraph(b)
	rng := rand.New(rand.NewPCG(7, 8))
	var schools []Attachment
	for range 60 {
		a, _ := g.Attach(randomPoint(rng, benchN, benchN, benchSpacing), 0)
		schools = append(schools, a)
	}
	var d *Distances
	for b.Loop() {
		d = g.Distances(schools, 800)
	}
	b.ReportMetric(float64(len(d.Reached())), "nodes-reached")
}

// BenchmarkIsochrone1200m is an isochrone request: attach a point in the middle of the town
// and walk 1,200 m from it, lines and hull.
func BenchmarkIsochrone1200m(b *testing.B) {
	g := benchGraph(b)
	p := testProj.ToWGS84([2]float64{benchN / 2 * benchSpacing, benchN / 2 * benchSpacing})
	var iso *Isochrone
	for b.Loop() {
		a, _ := g.Attach(p, 0)
		iso = g.Isochrone(a, 1200)
	}
	b.ReportMetric(float64(len(iso.Nodes)), "nodes-reached")
	b.ReportMetric(float64(len(iso.Lines)), "lines")
}

// BenchmarkCloseStreet derives a graph with one street closed, as a scenario edit does.
func BenchmarkCloseStreet(b *testing.B) {
	g := benchGraph(b)
	for b.Loop() {
		g.WithoutEdges(1234)
	}
}

// BenchmarkAddFootbridge derives a graph with a footbridge joined mid-block at both ends.
func BenchmarkAddFootbridge(b *testing.B) {
	g := benchGraph(b)
	line := ls(1000, 1040, 1040, 1120)
	for b.Loop() {
		if _, _, err := g.WithLine(line, 1, 20); err != nil {
			b.Fatal(err)
		}
	}
}
