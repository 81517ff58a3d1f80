package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"runtime"
	"sync"
	"syscall"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/data/synthcity"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// BenchParcels is the size of the benchmark city: synthcity.Generate with 270,000 parcels makes
// about 200,000 buildings (the "generated 200k-building city").
const BenchParcels = 270_000

// benchFeaturesOf generates the benchmark city with the project's generator.
func benchFeaturesOf() []layers.Feature {
	var fs []layers.Feature
	if err := synthcity.Generate(synthcity.Options{Parcels: BenchParcels, Seed: 1}, func(f layers.Feature) error {
		fs = append(fs, f)
		return nil
	}); err != nil {
		panic(err)
	}
	return fs
}

var (
	benchOnce     sync.Once
	benchFeatures []layers.Feature
	benchCityV    *spatial.City
	benchEngine   *Engine
)

// benchCity is the benchmark city with its baseline computed once (shared by the benchmarks
// of one process).
func benchCity(b *testing.B) (*spatial.City, *Engine) {
	b.Helper()
	benchOnce.Do(func() {
		benchFeatures = benchFeaturesOf()
		c, err := spatial.NewCity(benchFeatures)
		if err != nil {
			panic(err)
		}
		benchCityV = c
		benchEngine, _ = NewEngine(handParameters())
		if _, err := benchEngine.Baseline(context.Background(), c); err != nil {
			panic(err)
		}
	})
	return benchCityV, benchEngine
}

// prepared turns inputs into stored-like changes with ids, as the service would.
func prepared(b testing.TB, c *spatial.City, existing []Change, ins ...ChangeInput) []Change {
	b.Helper()
	out := append([]Change(nil), existing...)
	var seq int64
	if len(existing) > 0 {
		seq = existing[len(existing)-1].Seq
	}
	for _, in := range ins {
		ch, err := DecodeChange(in)
		if err != nil {
			b.Fatal(err)
		}
		seq++
		ch.Seq, ch.ID = seq, fmt.Sprintf("c%d", seq)
		if makesFeature(&ch) {
			ch.FeatureID = AddedIDBase + seq
		}
		out = append(out, ch)
	}
	if _, err := Build(c, handParameters(), out); err != nil {
		b.Fatal(err)
	}
	return out
}

// someChanges makes n random valid changes.
func someChanges(b testing.TB, c *spatial.City, rng *rand.Rand, n int) []Change {
	var out []Change
	for len(out) < n {
		v, _ := Build(c, handParameters(), out)
		in := randomChange(rng, c, v)
		ch, err := DecodeChange(in)
		if err != nil {
			continue
		}
		seq := int64(len(out) + 1)
		ch.Seq, ch.ID = seq, fmt.Sprintf("c%d", seq)
		if makesFeature(&ch) {
			ch.FeatureID = AddedIDBase + seq
		}
		if _, err := Build(c, handParameters(), append(out, ch)); err != nil {
			continue
		}
		out = append(out, ch)
	}
	return out
}

// cpuSeconds is the CPU time (user + system, every thread) the process has used: a measure
// of work that, unlike wall time, does not depend on what else the machine is running.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// BenchmarkBaseline computes the baseline from scratch: every building's contribution.
func BenchmarkBaseline(b *testing.B) {
	c, _ := benchCity(b)
	for b.Loop() {
		e, _ := NewEngine(handParameters())
		if _, err := e.Baseline(context.Background(), c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.Layer("buildings").Len()), "buildings")
}

// BenchmarkFullRun runs a scenario of 5 changes from scratch: all 15 indicators for every
// building of the variant (the baseline is cached, as in the server).
func BenchmarkFullRun(b *testing.B) {
	c, e := benchCity(b)
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

// BenchmarkIncrementalRun re-runs a scenario after one change, alternately applied and
// removed, for several kinds of change.
func BenchmarkIncrementalRun(b *testing.B) {
	c, e := benchCity(b)
	base := someChanges(b, c, rand.New(rand.NewSource(3)), 5)
	at := func(x, y float64) json.RawMessage { return geoJSON(wgs(c, x, y)) }
	sq := func(x, y, s float64) json.RawMessage { return rectGeoJSON(c, x, y, x+s, y+s) }
	tgt := func(s string) json.RawMessage { r, _ := json.Marshal(s); return r }
	for _, tc := range []struct {
		name string
		in   ChangeInput
	}{
		{"add_building", ChangeInput{Kind: AddBuilding, Geometry: sq(103, 107, 20), Properties: map[string]any{"use": "residential", "floors": 8.0, "dwellings": 40.0}}},
		{"demolish_building", ChangeInput{Kind: DemolishBuilding, Target: tgt(nearestTo(c, "buildings", 0, 0))}},
		{"add_school", ChangeInput{Kind: AddFacility, Geometry: at(130, 170), Properties: map[string]any{"kind": "school", "capacity": 500.0}}},
		{"remove_school", ChangeInput{Kind: RemoveFacility, Target: tgt(firstOfKind(c, "school"))}},
		{"school_capacity", ChangeInput{Kind: ModifyFacility, Target: tgt(firstOfKind(c, "school")), Properties: map[string]any{"capacity": 900.0}}},
		{"add_park", ChangeInput{Kind: AddGreenSpace, Geometry: sq(-300, 200, 120), Properties: map[string]any{"kind": "park"}}},
		{"rezone", ChangeInput{Kind: Rezone, Geometry: sq(-200, -200, 400), Properties: map[string]any{"max_height_m": 9.0}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			benchIncrementalRuns(b, e, c, base, prepared(b, c, base, tc.in))
		})
	}
}

// nearestTo returns the id of the feature of a layer nearest to (x, y) metres from the centre.
func nearestTo(c *spatial.City, layer string, x, y float64) string {
	hits := c.Layer(layer).Nearest(orb.Point{x, y}, 1, 0, nil)
	if len(hits) == 0 {
		return "0"
	}
	return itoa(hits[0].Feature.ID)
}

func firstOfKind(c *spatial.City, kind string) string {
	for _, it := range c.Layer("facilities").Items() {
		if str(it.Feature.Props, "kind") == kind {
			return itoa(it.Feature.ID)
		}
	}
	return "0"
}

func heapAlloc() uint64 {
	var m runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkMemoryPerScenario opens 100 scenarios of 3 to 8 random changes each (their
// variants, and the engine's cached per-scenario state for incremental runs) and reports the
// heap they take, per scenario, against the heap of the baseline model (the city's indexes
// and features) and of the engine's shared baseline contributions.
func BenchmarkMemoryPerScenario(b *testing.B) {
	for b.Loop() {
		h0 := heapAlloc()
		fs := benchFeaturesOf()
		h1 := heapAlloc()
		c, err := spatial.NewCity(fs)
		if err != nil {
			b.Fatal(err)
		}
		fs = nil
		h2 := heapAlloc()
		e, _ := NewEngine(handParameters())
		e.MaxStates = 1000
		if _, err := e.Baseline(context.Background(), c); err != nil {
			b.Fatal(err)
		}
		h3 := heapAlloc()
		rng := rand.New(rand.NewSource(9))
		lists := make([][]Change, 100)
		for i := range lists {
			lists[i] = someChanges(b, c, rng, 3+rng.Intn(6))
		}
		h4 := heapAlloc()
		variants := make([]*Variant, 100)
		for i := range variants {
			if variants[i], err = Build(c, handParameters(), lists[i]); err != nil {
				b.Fatal(err)
			}
		}
		h5 := heapAlloc()
		for i := range lists {
			if _, err := e.Run(context.Background(), c, Scenario{ID: fmt.Sprint(i), Version: 1}, lists[i], RunOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		h6 := heapAlloc()
		b.Logf("heap: start %d, features %d, city %d, baseline %d, change lists %d, variants %d, states %d (open states %d)", h0, h1, h2, h3, h4, h5, h6, e.OpenStates())
		city := float64(h2 - h0) // the features and their indexes
		b.ReportMetric(city/1e6, "model-MB")
		b.ReportMetric(float64(h3-h2)/1e6, "baseline-cache-MB")
		b.ReportMetric(float64(h5-h4)/100/1e3, "variant-kB/scenario")
		b.ReportMetric(float64(h6-h5)/100/1e3, "engine-state-kB/scenario")
		b.ReportMetric(100*float64(h6-h4)/100/city, "%model/scenario")
		runtime.KeepAlive(variants)
		runtime.KeepAlive(c)
	}
}

// benchIncrementalRuns times incremental runs of one scenario whose changes alternate between
// base and with (base plus one change), so that each run differs from the last by that one
// change; it reports the buildings each run read again and the CPU seconds a run takes.
func benchIncrementalRuns(b *testing.B, e *Engine, c *spatial.City, base, with []Change) {
	sc := Scenario{ID: NewID(), Version: 1}
	if _, err := e.Run(context.Background(), c, sc, base, RunOptions{}); err != nil {
		b.Fatal(err)
	}
	recomputed, i := 0, 0
	cpu0 := cpuSeconds()
	for b.Loop() {
		list := with
		if i%2 == 1 {
			list = base
		}
		i++
		r, err := e.Run(context.Background(), c, sc, list, RunOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if !r.Incremental {
			b.Fatal("not incremental")
		}
		recomputed += r.Recomputed
	}
	b.ReportMetric(float64(recomputed)/float64(i), "buildings/run")
	b.ReportMetric((cpuSeconds()-cpu0)/float64(i), "cpu-s/op")
}
