package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/data/synthcity"
	"github.com/citytwin/citytwin/internal/pgtest"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/layers/postgis"
	"github.com/citytwin/citytwin/spatial"
)

// discard is a ResponseWriter that counts the body and keeps none of it.
type discard struct {
	h    http.Header
	code int
	n    int64
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(code int)        { d.code = code }
func (d *discard) Write(b []byte) (int, error) { d.n += int64(len(b)); return len(b), nil }

// BenchmarkGeoPackageDownloadOfAGeneratedCity downloads the buildings of a generated city
// of about 200,000 buildings (CITYTWIN_BENCH_CITY_PARCELS parcels, default 266,000) as a
// GeoPackage, in memory and on PostGIS, and reports the file's size, the heap the model holds
// (model-heap-MiB) and the peak of the Go heap above it during the download (sampled every
// 5 ms, with the collector run at GOGC=5 so that the peak is memory held, not garbage waiting;
// SQLite's own pages are outside the Go heap).
func BenchmarkGeoPackageDownloadOfAGeneratedCity(b *testing.B) {
	fs := generatedCity(b, benchParcels(266_000, "CITYTWIN_BENCH_CITY_PARCELS"))
	for _, source := range demoSources {
		b.Run(source, func(b *testing.B) {
			h, c := benchServer(b, source, fs)
			var peak, model uint64
			var size int64
			defer debug.SetGCPercent(debug.SetGCPercent(5))
			for b.Loop() {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				base := ms.HeapInuse
				model = base
				var top atomic.Uint64
				done := make(chan struct{})
				go func() {
					t := time.NewTicker(5 * time.Millisecond)
					defer t.Stop()
					var m runtime.MemStats
					for {
						select {
						case <-done:
							return
						case <-t.C:
							runtime.ReadMemStats(&m)
							if m.HeapInuse > top.Load() {
								top.Store(m.HeapInuse)
							}
						}
					}
				}()
				w := &discard{h: http.Header{}}
				h.ServeHTTP(w, httptest.NewRequest("GET", "/downloads/buildings.gpkg", nil))
				close(done)
				if w.code != http.StatusOK {
					b.Fatalf("%d", w.code)
				}
				size = w.n
				if t := top.Load(); t > base {
					peak = max(peak, t-base)
				}
			}
			b.ReportMetric(float64(c.Layer("buildings").Len()), "buildings")
			b.ReportMetric(float64(size)/(1<<20), "file-MiB")
			b.ReportMetric(float64(model)/(1<<20), "model-heap-MiB")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// benchParcels is the size of a benchmark's generated city: the environment variable env
// when it holds a positive number, else def.
func benchParcels(def int, env string) int {
	if v, err := strconv.Atoi(os.Getenv(env)); err == nil && v > 0 {
		return v
	}
	return def
}

// generatedCity is the generated city of so many parcels (seed 1), as features.
func generatedCity(b *testing.B, parcels int) []layers.Feature {
	var fs []layers.Feature
	if err := synthcity.Generate(synthcity.Options{Parcels: parcels, Seed: 1}, func(f layers.Feature) error {
		fs = append(fs, f)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return fs
}

// benchServer serves the features fs from the model in memory, or from a fresh PostGIS schema
// they are imported into (source "PostGIS"), and returns the handler and the model.
func benchServer(b *testing.B, source string, fs []layers.Feature) (http.Handler, *spatial.City) {
	b.Helper()
	opts := Options{Logger: quietLogger, Mode: "memory"}
	var c *spatial.City
	var err error
	if source == "PostGIS" {
		ctx := context.Background()
		u, _ := pgtest.Schema(b, "web_bench")
		store, err := postgis.Open(ctx, u)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(store.Close)
		if err := postgis.Migrate(ctx, store.Pool()); err != nil {
			b.Fatal(err)
		}
		if _, err := store.Import(ctx, fs); err != nil {
			b.Fatal(err)
		}
		if c, err = spatial.Load(ctx, store); err != nil {
			b.Fatal(err)
		}
		opts.Mode, opts.TileSource, opts.TileSourceName = "postgis", store, "postgis"
	} else if c, err = spatial.NewCity(fs); err != nil {
		b.Fatal(err)
	}
	opts.Model = citymodel.Fixed(c)
	return New(opts).Handler(), c
}
