package scenarios

import (
	"context"
	"math/rand"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/data/synthcity"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/network"
	"github.com/citytwin/citytwin/spatial"
)

// The walking network benchmarks run on the benchmark city (BenchParcels) with its streets
// (synthcity.Streets), the access indicators walking them (the default distance "network").

var (
	netBenchOnce   sync.Once
	netBenchCity   *spatial.City
	netBenchEngine *Engine
)

func netBenchCityOf(b *testing.B) (*spatial.City, *Engine) {
	b.Helper()
	netBenchOnce.Do(func() {
		c, err := spatial.NewCity(benchFeaturesOf())
		if err != nil {
			panic(err)
		}
		if err := synthcity.Streets(synthcity.Options{Parcels: BenchParcels, Seed: 1}, func(f layers.Feature) error {
			c.Streets = append(c.Streets, f)
			return nil
		}); err != nil {
			panic(err)
		}
		netBenchCity = c
		netBenchEngine, _ = NewEngine(DefaultParameters())
		if _, err := netBenchEngine.Baseline(context.Background(), c); err != nil {
			panic(err)
		}
	})
	return netBenchCity, netBenchEngine
}

// BenchmarkNetworkSize builds the city's walking network and reports its size and the heap
// it holds.
func BenchmarkNetworkSize(b *testing.B) {
	c, _ := netBenchCityOf(b)
	lines := make([]network.Line, len(c.Streets))
	for i, f := range c.Streets {
		lines[i] = network.Line{Source: f.ID, Geom: f.Geometry}
	}
	var g *network.Graph
	var before, after runtime.MemStats
	for b.Loop() {
		g = nil
		runtime.GC()
		runtime.ReadMemStats(&before)
		var err error
		if g, err = network.Build(c.Proj, lines); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
	}
	b.ReportMetric(float64(g.NumEdges()), "edges")
	b.ReportMetric(float64(g.NumNodes()), "nodes")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "graph-MiB")
	b.ReportMetric(float64(len(c.Streets)), "streets")
}

// BenchmarkNetworkAccess is the baseline's walks, the full computation the access indicators
// need: per walk target (each facility kind, public and large green spaces), every feature
// attached and one bounded multi-source Dijkstra at the target's radius; every building
// attached (made once per city and cached); and every building's walks read.
func BenchmarkNetworkAccess(b *testing.B) {
	c, e := netBenchCityOf(b)
	bl, err := e.baselineFor(context.Background(), c)
	if err != nil {
		b.Fatal(err)
	}
	for t, r := range e.walkRadius {
		if r <= 0 {
			continue
		}
		name := "green"
		switch {
		case t < len(e.nearKinds):
			name = e.nearKinds[t]
		case t == e.targetGreenLarge():
			name = "green_large"
		}
		b.Run(name, func(b *testing.B) {
			var d *network.Distances
			var n int
			for b.Loop() {
				src := e.sources(bl.env, t)
				d, n = bl.net.Distances(src.atts, r), len(src.atts)
			}
			b.ReportMetric(float64(n), "sources")
			b.ReportMetric(float64(len(d.Reached())), "nodes-reached")
			b.ReportMetric(r, "radius-m")
		})
	}
	b.Run("attach_every_building", func(b *testing.B) {
		for b.Loop() {
			e.cacheAttachments(bl) // the same attachments again: runs read them alike
		}
		b.ReportMetric(float64(len(bl.buildings)), "buildings")
	})
	b.Run("every_building_walks", func(b *testing.B) {
		w := make([]float64, len(bl.buildings)*e.walkTargets())
		for b.Loop() {
			if err := parallel(context.Background(), len(bl.buildings), func(i int) {
				e.walks(bl.env, bl.buildings[i].Centroid, w[i*e.walkTargets():(i+1)*e.walkTargets()])
			}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(bl.buildings)), "buildings")
	})
}

// BenchmarkNetworkFullRun runs a scenario of 5 changes from scratch on the network.
func BenchmarkNetworkFullRun(b *testing.B) {
	c, e := netBenchCityOf(b)
	changes := someChanges(b, c, rand.New(rand.NewSource(3)), 5)
	sc := Scenario{ID: NewID(), Version: 1}
	cpu0, n := cpuSeconds(), 0
	for b.Loop() {
		if _, err := e.Run(context.Background(), c, sc, changes, RunOptions{Full: true}); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric((cpuSeconds()-cpu0)/float64(n), "cpu-s/op")
}

// footbridge returns a footbridge across the river of the benchmark city: north-south at
// x = 130 m from the centre, from the street south of the 10-year flood zone to the street
// north of it.
func footbridge(b *testing.B, c *spatial.City, g *network.Graph) orb.LineString {
	const x = 130.0
	flood := func(y float64) bool {
		for _, it := range c.Layer("flood").Containing(orb.Point{x, y}) {
			if v, _ := num(it.Feature.Props, "return_period_years"); v == 10 {
				return true
			}
		}
		return false
	}
	bd := c.Proj.Bound(c.Bound)
	y := bd.Min[1]
	for ; y < bd.Max[1] && !flood(y); y += 5 {
	}
	if y >= bd.Max[1] {
		b.Fatal("no river at x = 130 m")
	}
	lo, hi := y, y
	for flood(hi) {
		hi += 5
	}
	from, _ := g.Attach(c.Proj.ToWGS84(orb.Point{x, lo - 60}), 0)
	to, _ := g.Attach(c.Proj.ToWGS84(orb.Point{x, hi + 60}), 0)
	return orb.LineString{from.At, to.At}
}

// BenchmarkNetworkIncrementalRun re-runs a scenario on the network after one school, or one
// footbridge across the river, alternately added and taken back.
func BenchmarkNetworkIncrementalRun(b *testing.B) {
	c, e := netBenchCityOf(b)
	bl, err := e.baselineFor(context.Background(), c)
	if err != nil {
		b.Fatal(err)
	}
	base := someChanges(b, c, rand.New(rand.NewSource(3)), 5)
	for _, tc := range []struct {
		name string
		in   ChangeInput
	}{
		{"add_school", ChangeInput{Kind: AddFacility, Geometry: geoJSON(wgs(c, 130, 170)), Properties: map[string]any{"kind": "school", "capacity": 500.0}}},
		{"add_footbridge", ChangeInput{Kind: AddFootpath, Geometry: geoJSON(footbridge(b, c, bl.net))}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			benchIncrementalRuns(b, e, c, base, prepared(b, c, base, tc.in))
		})
	}
}

// BenchmarkNetworkIsochrone15min is GET /api/isochrone's work at 15 minutes (1,200 m at
// 4.8 km/h) from random places of the city: attach, walk, lines and hull. It reports the
// median, 99th percentile and mean of the requests' times (wall), the same of the CPU time
// their thread spent on them (what the machine's other work does not inflate), the
// allocations per request and the collections that ran meanwhile. The garbage of building
// the city is collected before it starts, so that a collection it meets is one its requests
// caused. -benchtime 5000x makes the requests allocate enough to call collections of their
// own.
func BenchmarkNetworkIsochrone15min(b *testing.B) {
	c, e := netBenchCityOf(b)
	bl, err := e.baselineFor(context.Background(), c)
	if err != nil {
		b.Fatal(err)
	}
	const limit = 15.0 / 60 * 4800 // metres
	rng := rand.New(rand.NewSource(9))
	bd := c.Proj.Bound(c.Bound)
	var times, cpu []time.Duration
	var nodes int
	runtime.LockOSThread() // for the thread's CPU time
	defer runtime.UnlockOSThread()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	for b.Loop() {
		p := c.Proj.ToWGS84(orb.Point{bd.Min[0] + rng.Float64()*(bd.Max[0]-bd.Min[0]), bd.Min[1] + rng.Float64()*(bd.Max[1]-bd.Min[1])})
		start, cpu0 := time.Now(), threadCPU()
		a, _ := bl.net.Attach(p, 0)
		iso := bl.net.Isochrone(a, limit)
		times, cpu = append(times, time.Since(start)), append(cpu, threadCPU()-cpu0)
		nodes += len(iso.Nodes)
	}
	runtime.ReadMemStats(&after)
	reportTimes(b, times, "")
	reportTimes(b, cpu, "cpu-")
	b.ReportMetric(float64(nodes)/float64(len(times)), "nodes-reached")
	b.ReportMetric(float64(after.NumGC-before.NumGC), "gc-cycles")
}

// reportTimes reports the median, 99th percentile and mean of times, in milliseconds, their
// units named with prefix.
func reportTimes(b *testing.B, times []time.Duration, prefix string) {
	var sum time.Duration
	for _, t := range times {
		sum += t
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, prefix+"p99-ms")
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, prefix+"p50-ms")
	b.ReportMetric(float64(sum.Microseconds())/1000/float64(len(times)), prefix+"mean-ms")
}
