package search

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/citytwin/citytwin/data/synthcity"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

var (
	benchOnce  sync.Once
	benchIx    *Index
	benchBuild time.Duration
	benchQs    []string
)

// benchIndex is the index of a generated city of about 200,000 buildings
// (CITYTWIN_BENCH_CITY_PARCELS parcels, default 266,000) and 1,000 varied queries made from
// it: whole and partial street names, addresses with their numbers, cadastral numbers,
// district names, facility names and kind words, with and without typos and diacritics.
func benchIndex(b *testing.B) (*Index, []string) {
	benchOnce.Do(func() {
		parcels := 266_000
		if v, err := strconv.Atoi(os.Getenv("CITYTWIN_BENCH_CITY_PARCELS")); err == nil && v > 0 {
			parcels = v
		}
		opts := synthcity.Options{Parcels: parcels, Seed: 1}
		var fs []layers.Feature
		if err := synthcity.Generate(opts, func(f layers.Feature) error { fs = append(fs, f); return nil }); err != nil {
			b.Fatal(err)
		}
		c, err := spatial.NewCity(fs)
		if err != nil {
			b.Fatal(err)
		}
		if err := synthcity.Streets(opts, func(f layers.Feature) error { c.Streets = append(c.Streets, f); return nil }); err != nil {
			b.Fatal(err)
		}
		b.Logf("buildings %d, parcels %d, streets %d", c.Layer("buildings").Len(), c.Layer("parcels").Len(), len(c.Streets))
		start := time.Now()
		benchIx = Build(c)
		benchBuild = time.Since(start)
		benchQs = benchQueries(benchIx, 1000)
	})
	return benchIx, benchQs
}

func benchQueries(ix *Index, n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	typo := func(s string) string {
		rs := []rune(s)
		if len(rs) < 5 {
			return s
		}
		i := 1 + r.IntN(len(rs)-2)
		rs[i], rs[i+1] = rs[i+1], rs[i]
		return string(rs)
	}
	kinds := []string{"scoala", "farmacie", "spital", "park", "school", "clinica", "biblioteca", "liceu"}
	out := make([]string, 0, n)
	for len(out) < n {
		e := ix.entries[r.IntN(len(ix.entries))].hit
		words := Words(e.Label)
		switch len(out) % 6 {
		case 0: // the whole label as shown
			out = append(out, e.Label)
		case 1: // a prefix being typed
			l := e.Label
			out = append(out, l[:1+r.IntN(len(l))])
		case 2: // folded, one typo
			out = append(out, typo(Fold(e.Label)))
		case 3: // the last word or two
			out = append(out, fmt.Sprint(words[max(0, len(words)-2):]))
		case 4: // a kind word
			out = append(out, kinds[r.IntN(len(kinds))])
		case 5: // one or two letters
			out = append(out, words[0][:min(len(words[0]), 1+r.IntN(2))])
		}
	}
	return out
}

// BenchmarkSearchOfAGeneratedCity searches the index of a 200,000-building city with 1,000
// varied queries: ns/op is one query's mean, p99-ms and p50-ms the percentiles of one pass
// over the queries timed one by one, build-ms the index's build and entries its size.
func BenchmarkSearchOfAGeneratedCity(b *testing.B) {
	ix, qs := benchIndex(b)
	times := make([]time.Duration, len(qs))
	for i, q := range qs {
		start := time.Now()
		ix.Search(q, DefaultLimit)
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	i := 0
	for b.Loop() {
		ix.Search(qs[i%len(qs)], DefaultLimit)
		i++
	}
	b.ReportMetric(float64(times[len(times)*99/100])/1e6, "p99-ms")
	b.ReportMetric(float64(times[len(times)/2])/1e6, "p50-ms")
	b.ReportMetric(float64(times[len(times)-1])/1e6, "max-ms")
	b.ReportMetric(float64(benchBuild)/1e6, "build-ms")
	b.ReportMetric(float64(ix.Len()), "entries")
}
