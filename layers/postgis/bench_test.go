package postgis

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/cql2"
	"github.com/citytwin/citytwin/layers"
)

// Benchmark sizes, overridable from the environment:
//
//	CITYTWIN_BENCH_BUILDINGS  buildings for BenchmarkLoad (default 200000)
//	CITYTWIN_BENCH_IMPORT     buildings per BenchmarkImport operation (default 50000)
//	CITYTWIN_BENCH_PARCELS    parcels of the city the tile benchmarks cut (default 200000)
func benchSize(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// shared holds stores that outlive one benchmark function (which the testing package calls
// several times with growing b.N); TestMain drops their schemas at the end.
var shared struct {
	sync.Mutex
	stores map[string]*Store
	drops  []func() error
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, drop := range shared.drops {
		if err := drop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// sharedStore returns the store named key, creating and filling it on first use.
func sharedStore(b *testing.B, key string, fill func(*Store) error) *Store {
	shared.Lock()
	defer shared.Unlock()
	if s, ok := shared.stores[key]; ok {
		return s
	}
	u, drop := createSchema(b)
	shared.drops = append(shared.drops, drop)
	ctx := context.Background()
	s, err := Open(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	if err := Migrate(ctx, s.Pool()); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := fill(s); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: filled in %.1fs", key, time.Since(start).Seconds())
	if shared.stores == nil {
		shared.stores = map[string]*Store{}
	}
	shared.stores[key] = s
	return s
}

// BenchmarkImport imports CITYTWIN_BENCH_IMPORT buildings per operation into an emptied
// table, and reports features/s.
func BenchmarkImport(b *testing.B) {
	n := benchSize("CITYTWIN_BENCH_IMPORT", 50000)
	s := newStore(b)
	ctx := context.Background()
	fs := syntheticBuildings(n, 1)
	b.ResetTimer()
	var spent time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := s.Truncate(ctx, "buildings"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if _, err := s.Import(ctx, fs); err != nil {
			b.Fatal(err)
		}
		spent += time.Since(start)
	}
	b.ReportMetric(float64(n*b.N)/spent.Seconds(), "features/s")
}

// BenchmarkLoad streams CITYTWIN_BENCH_BUILDINGS buildings (squares) per operation.
func BenchmarkLoad(b *testing.B) {
	n := benchSize("CITYTWIN_BENCH_BUILDINGS", 200000)
	s := sharedStore(b, fmt.Sprintf("buildings-%d", n), func(s *Store) error {
		_, err := s.Import(context.Background(), syntheticBuildings(n, 1))
		return err
	})
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		got := 0
		if err := s.Load(ctx, func(layers.Feature) error {
			got++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if got != n {
			b.Fatalf("loaded %d features, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "features/s")
}

// benchCity is the synthetic city of CITYTWIN_BENCH_PARCELS parcels, imported once, and
// the extent of its buildings.
func benchCity(b *testing.B) (*Store, orb.Bound) {
	n := benchSize("CITYTWIN_BENCH_PARCELS", 200000)
	var bound orb.Bound
	s := sharedStore(b, fmt.Sprintf("city-%d", n), func(s *Store) error {
		fs := syntheticCity(n, 1)
		counts, err := s.Import(context.Background(), fs)
		b.Logf("city: %v", counts)
		return err
	})
	if err := s.Pool().QueryRow(context.Background(),
		"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e FROM buildings) x").
		Scan(&bound.Min[0], &bound.Min[1], &bound.Max[0], &bound.Max[1]); err != nil {
		b.Fatal(err)
	}
	return s, bound
}

// benchTiles cuts the tiles of zoom z over the city's central quarter (a quarter of its
// width and height, where every tile is full), one after another in each operation, and
// reports the mean and largest tile size.
func benchTiles(b *testing.B, z maptile.Zoom, names ...string) {
	benchFilteredTiles(b, z, "", names...)
}

// benchFilteredTiles is benchTiles with a CQL2 filter ("": none) on the one layer named.
func benchFilteredTiles(b *testing.B, z maptile.Zoom, filter string, names ...string) {
	s, bound := benchCity(b)
	c := bound.Center()
	w, h := (bound.Max[0]-bound.Min[0])/8, (bound.Max[1]-bound.Min[1])/8
	tiles := tilesOver(orb.Bound{Min: orb.Point{c[0] - w, c[1] - h}, Max: orb.Point{c[0] + w, c[1] + h}}, z)
	ls := catalogLayers(b, names...)
	cut := func(ctx context.Context, t maptile.Tile) ([]byte, error) { return s.Tile(ctx, t, ls) }
	if filter != "" {
		e, err := cql2.Parse(filter)
		if err != nil {
			b.Fatal(err)
		}
		f, err := cql2.Check(e, cql2.QueryablesOf(ls[0]))
		if err != nil {
			b.Fatal(err)
		}
		cut = func(ctx context.Context, t maptile.Tile) ([]byte, error) { return s.FilteredTile(ctx, t, ls[0], f) }
	}
	ctx := context.Background()
	var total, largest int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mvt, err := cut(ctx, tiles[i%len(tiles)])
		if err != nil {
			b.Fatal(err)
		}
		total += len(mvt)
		largest = max(largest, len(mvt))
	}
	b.StopTimer()
	// What the web layer sends: the largest tile gzipped.
	var gz int
	for _, t := range tiles {
		mvt, err := cut(ctx, t)
		if err != nil {
			b.Fatal(err)
		}
		gz = max(gz, gzipSize(mvt))
	}
	b.ReportMetric(float64(total)/float64(b.N), "bytes/tile")
	b.ReportMetric(float64(largest), "max-bytes")
	b.ReportMetric(float64(gz), "max-gzip-bytes")
	b.ReportMetric(float64(len(tiles)), "tiles")
}

func gzipSize(b []byte) int {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Len()
}

// BenchmarkTileZ15 cuts buildings tiles at zoom 15 (about 800 buildings each).
func BenchmarkTileZ15(b *testing.B) { benchTiles(b, 15, "buildings") }

// BenchmarkFilteredTileZ15 cuts the tiles of BenchmarkTileZ15 keeping the residential
// buildings of four floors or more (the filter's condition in the statement's WHERE):
// compare its ns/op with BenchmarkTileZ15's.
func BenchmarkFilteredTileZ15(b *testing.B) {
	benchFilteredTiles(b, 15, "use = 'residential' AND floors >= 4", "buildings")
}

// BenchmarkFilteredTileZ15KeepingAll is BenchmarkFilteredTileZ15 with a filter every
// building passes: the cost of the condition alone, the same features encoded as in
// BenchmarkTileZ15.
func BenchmarkFilteredTileZ15KeepingAll(b *testing.B) {
	benchFilteredTiles(b, 15, "floors >= 0 OR floors IS NULL", "buildings")
}

// BenchmarkTileZ15AllLayers cuts composite tiles of every layer at zoom 15.
func BenchmarkTileZ15AllLayers(b *testing.B) { benchTiles(b, 15, layers.Names()...) }

// BenchmarkTileZ13 cuts buildings tiles at zoom 13, where thinning applies.
func BenchmarkTileZ13(b *testing.B) { benchTiles(b, 13, "buildings") }

// BenchmarkTileZ13AllLayers cuts composite tiles of every layer at zoom 13.
func BenchmarkTileZ13AllLayers(b *testing.B) { benchTiles(b, 13, layers.Names()...) }

// BenchmarkTileZ10AllLayers cuts composite tiles of every layer visible at zoom 10.
func BenchmarkTileZ10AllLayers(b *testing.B) { benchTiles(b, 10, layers.Names()...) }

// BenchmarkTileZ15TransformPerRequest is BenchmarkTileZ15 the way a server without
// geom_3857 does it (pg_tileserv on a table in 4326): transform every feature at every
// request. It is here to measure what the stored geom_3857 saves.
func BenchmarkTileZ15TransformPerRequest(b *testing.B) {
	s, bound := benchCity(b)
	c := bound.Center()
	w, h := (bound.Max[0]-bound.Min[0])/8, (bound.Max[1]-bound.Min[1])/8
	tiles := tilesOver(orb.Bound{Min: orb.Point{c[0] - w, c[1] - h}, Max: orb.Point{c[0] + w, c[1] + h}}, 15)
	sql := tileSQL([]*table{tableByName["buildings"]}, false, "")
	sql = strings.Replace(sql, "ST_AsMVTGeom(geom_3857,", "ST_AsMVTGeom(ST_Transform(geom, 3857),", 1)
	sql = strings.Replace(sql, "WHERE geom_3857 && ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096)",
		"WHERE geom && ST_Transform(ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096), 4326)", 1)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := tiles[i%len(tiles)]
		var mvt []byte
		if err := s.Pool().QueryRow(ctx, sql, int32(t.Z), int32(t.X), int32(t.Y)).Scan(&mvt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTileZ15Parallel cuts zoom-15 buildings tiles from 32 goroutines at once, as 32
// concurrent tile requests would, and reports the throughput.
func BenchmarkTileZ15Parallel(b *testing.B) {
	s, bound := benchCity(b)
	c := bound.Center()
	w, h := (bound.Max[0]-bound.Min[0])/8, (bound.Max[1]-bound.Min[1])/8
	tiles := tilesOver(orb.Bound{Min: orb.Point{c[0] - w, c[1] - h}, Max: orb.Point{c[0] + w, c[1] + h}}, 15)
	ls := catalogLayers(b, "buildings")
	ctx := context.Background()
	var next atomic.Int64
	b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0))) // goroutines = parallelism × GOMAXPROCS
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			if _, err := s.Tile(ctx, tiles[int(i)%len(tiles)], ls); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tiles/s")
}
