package postgis

import (
	"context"
	"testing"
	"time"

	"github.com/citytwin/citytwin/data/synthcity"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// BenchmarkGeneratedCity imports a generated city of about 200,000 buildings
// (CITYTWIN_BENCH_CITY_PARCELS parcels, every layer) into an emptied schema, then loads the
// whole in-memory model from it (stream from PostGIS and index every layer), and reports both
// rates: import features/s and the model's load time.
func BenchmarkGeneratedCity(b *testing.B) {
	parcels := benchSize("CITYTWIN_BENCH_CITY_PARCELS", 266_000)
	var fs []layers.Feature
	if err := synthcity.Generate(synthcity.Options{Parcels: parcels, Seed: 1}, func(f layers.Feature) error {
		fs = append(fs, f)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	s := newStore(b)
	ctx := context.Background()
	var importing, loading time.Duration
	var buildings int
	for b.Loop() {
		if err := s.Truncate(ctx, layers.Names()...); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := s.Import(ctx, fs); err != nil {
			b.Fatal(err)
		}
		importing += time.Since(start)
		start = time.Now()
		c, err := spatial.Load(ctx, s)
		if err != nil {
			b.Fatal(err)
		}
		loading += time.Since(start)
		buildings = c.Layer("buildings").Len()
	}
	b.ReportMetric(float64(len(fs)*b.N)/importing.Seconds(), "import-features/s")
	b.ReportMetric(loading.Seconds()/float64(b.N), "model-load-s")
	b.ReportMetric(float64(buildings), "buildings")
	b.ReportMetric(float64(len(fs)), "features")
}
