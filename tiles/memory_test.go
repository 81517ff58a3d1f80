package tiles

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/data/synthcity"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// coveringTiles lists every tile of zoom z that meets bound.
func coveringTiles(bound orb.Bound, z maptile.Zoom) []maptile.Tile {
	nw := maptile.At(orb.Point{bound.Min[0], bound.Max[1]}, z)
	se := maptile.At(orb.Point{bound.Max[0], bound.Min[1]}, z)
	var out []maptile.Tile
	for x := nw.X; x <= se.X; x++ {
		for y := nw.Y; y <= se.Y; y++ {
			out = append(out, maptile.New(x, y, z))
		}
	}
	return out
}

func TestCompositeTileHasSeveralLayers(t *testing.T) {
	c := newCity(t, handMadeCity())
	src := NewMemorySource(citymodel.Fixed(c))
	ls := []*layers.Layer{mustLayer(t, "buildings"), mustLayer(t, "parcels"), mustLayer(t, "facilities")}
	b, err := src.Tile(context.Background(), maptile.At(cluj, 15), ls)
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, b)
	for _, l := range ls {
		if got[l.Name] == nil || len(got[l.Name].Features) == 0 {
			t.Errorf("layer %s is missing from the composite", l.Name)
		}
	}
}

func TestEveryTileIsSmallAndPublic(t *testing.T) {
	for _, city := range testCities(t) {
		t.Run(city.name, func(t *testing.T) {
			c := newCity(t, city.features)
			checkTileSizes(t, NewMemorySource(citymodel.Fixed(c)), c.Bound, restrictedValues(city.features))
		})
	}
}

// TestLargeCityTilesAreSmall holds the size goal on a generated city of about 200,000
// buildings, the density where low-zoom thinning matters, from both sources. Only the
// restricted field names are looked for here: the values are checked on the cities above.
//
// PostGIS gets a city of 100,000 parcels (about 185,000 features) rather than 266,000. Measured
// on two shared cores: at the full size its import alone takes about 27 s and its tiles 46 s
// more (83 s in all); at this size 13 s and 12 s. The generator keeps the density of
// parcels and buildings whatever the city's size, so the largest tiles differ little (largest
// z12/z13/z14 tiles at 100,000 parcels: 150, 138, 190 KB; at 266,000: 168, 159, 199 KB): the
// densest z14 tiles, where thinning stops, are exercised alike.
func TestLargeCityTilesAreSmall(t *testing.T) {
	// A largest tile below this would not test the goal (both sizes reach about 190 KB).
	const large = 150 << 10
	t.Run("memory", func(t *testing.T) {
		c := newCity(t, generatedCity(t, 266_000))
		if got := checkTileSizes(t, NewMemorySource(citymodel.Fixed(c)), c.Bound, restrictedValues(nil)); got < large {
			t.Errorf("the largest tile is %d KB: the city is too sparse to test the size goal", got>>10)
		}
	})
	t.Run("PostGIS", func(t *testing.T) {
		fs := generatedCity(t, 100_000)
		store := postgisStore(t)
		if _, err := store.Import(context.Background(), fs); err != nil {
			t.Fatalf("import into PostGIS: %v", err)
		}
		if got := checkTileSizes(t, store, newCity(t, fs).Bound, restrictedValues(nil)); got < large {
			t.Errorf("the largest tile is %d KB: the city is too sparse to test the size goal", got>>10)
		}
	})
}

// checkTileSizes asks src for every composite tile of bound at zooms 12–16 and fails on any
// of 500 KB or more, or holding one of secrets. It returns the size of the largest tile.
func checkTileSizes(t *testing.T, src layers.Source, bound orb.Bound, secrets []string) int {
	t.Helper()
	largest := 0
	for z := maptile.Zoom(12); z <= 16; z++ {
		biggest, n := 0, 0
		for _, tile := range coveringTiles(bound, z) {
			b, err := src.Tile(context.Background(), tile, layers.All())
			if err != nil {
				t.Fatalf("tile %d/%d/%d: %v", tile.Z, tile.X, tile.Y, err)
			}
			n++
			biggest = max(biggest, len(b))
			if len(b) >= 500<<10 {
				t.Errorf("tile %d/%d/%d is %d KB, want < 500 KB", tile.Z, tile.X, tile.Y, len(b)>>10)
			}
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Fatalf("tile %d/%d/%d holds restricted value %q", tile.Z, tile.X, tile.Y, s)
				}
			}
		}
		t.Logf("z%d: %d tiles, largest %d KB", z, n, biggest>>10)
		largest = max(largest, biggest)
	}
	return largest
}

// restrictedValues lists the string values and names of restricted fields, to look for in
// bytes that must not hold them.
func restrictedValues(fs []layers.Feature) []string {
	seen := map[string]bool{}
	for _, l := range layers.All() {
		for _, f := range l.Fields {
			if f.Restricted {
				seen[f.Name] = true
			}
		}
	}
	for _, f := range fs {
		for _, v := range f.Restricted {
			if s, ok := v.(string); ok && len(s) >= 6 {
				seen[s] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	return out
}

type testCity struct {
	name     string
	features []layers.Feature
}

// testCities are the cities the whole-city tests run on: the hand-made one, and the demo
// city once the data package has one.
func testCities(t testing.TB) []testCity {
	cities := []testCity{{"hand-made city", handMadeCity()}, {"random city", randomCity(1)}}
	if fs := demoFeatures(t); fs != nil {
		cities = append(cities, testCity{"demo city", fs})
	}
	return cities
}

// benchCity is a generated city of 200,000 parcels and about 150,000 buildings, the size of
// the city of the tile-server comparison (scripts/bench/tiles.sh).
var benchCity = sync.OnceValue(func() *spatial.City {
	var fs []layers.Feature
	err := synthcity.Generate(synthcity.Options{Parcels: 200000, Seed: 1}, func(f layers.Feature) error {
		fs = append(fs, f)
		return nil
	})
	if err != nil {
		panic(err)
	}
	c, err := spatial.NewCity(fs)
	if err != nil {
		panic(err)
	}
	return c
})

func benchmarkMemoryTile(b *testing.B, z maptile.Zoom) {
	c := benchCity()
	src := NewMemorySource(citymodel.Fixed(c))
	ls := []*layers.Layer{mustLayer(b, "buildings")}
	benchmarkMemoryTiles(b, src, c, z, func(ctx context.Context, t maptile.Tile) ([]byte, error) {
		return src.Tile(ctx, t, ls)
	})
}

// benchmarkMemoryTiles cuts the tiles of zoom z over the city c with cut, one in each
// operation, once src has typed the city's fields.
func benchmarkMemoryTiles(b *testing.B, src *MemorySource, c *spatial.City, z maptile.Zoom, cut func(context.Context, maptile.Tile) ([]byte, error)) {
	ts := coveringTiles(c.Bound, z)
	ctx := context.Background()
	if _, err := cut(ctx, ts[0]); err != nil {
		b.Fatal(err)
	}
	waitForFields(b, src, c)
	var bytes int
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		out, err := cut(ctx, ts[i%len(ts)])
		if err != nil {
			b.Fatal(err)
		}
		bytes += len(out)
		i++
	}
	b.ReportMetric(float64(bytes)/float64(i), "B/tile")
}

func BenchmarkMemoryTileZ14(b *testing.B) { benchmarkMemoryTile(b, 14) }
func BenchmarkMemoryTileZ15(b *testing.B) { benchmarkMemoryTile(b, 15) }
func BenchmarkMemoryTileZ16(b *testing.B) { benchmarkMemoryTile(b, 16) }

// BenchmarkCachedTile is a cache hit through the service, the path of a popular tile.
func BenchmarkCachedTile(b *testing.B) {
	c := benchCity()
	svc := NewService("memory", NewMemorySource(citymodel.Fixed(c)), NewCache(256<<20), nil)
	ts := coveringTiles(c.Bound, 16)
	ls := []*layers.Layer{mustLayer(b, "buildings")}
	ctx := context.Background()
	for _, t := range ts {
		if _, err := svc.Tile(ctx, t, ls); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := svc.Tile(ctx, ts[i%len(ts)], ls); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// waitForFields waits until the source has typed the fields of every layer of c (in the
// background, after a first tile asked for them).
func waitForFields(t testing.TB, src *MemorySource, c *spatial.City) {
	t.Helper()
	fc := src.fieldsFor(c)
	for _, l := range layers.All() {
		for fc.table(l) == nil {
			time.Sleep(time.Millisecond)
		}
	}
}

func TestTypedFieldsGiveTheSameTiles(t *testing.T) {
	for _, city := range testCities(t) {
		t.Run(city.name, func(t *testing.T) {
			c := newCity(t, city.features)
			src := NewMemorySource(citymodel.Fixed(c))
			tiles := coveringTiles(c.Bound, 15)
			var before [][]byte
			for _, tile := range tiles {
				b, err := Encode(tile, selection(c, tile), nil) // types fields as it goes
				if err != nil {
					t.Fatal(err)
				}
				before = append(before, b)
			}
			waitForFields(t, src, c)
			for i, tile := range tiles {
				b, err := src.Tile(context.Background(), tile, layers.All())
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b, before[i]) {
					t.Fatalf("tile %v differs with typed fields", tile)
				}
			}
		})
	}
}

// selection is every candidate feature of every layer for tile t, as Encode takes them.
func selection(c *spatial.City, t maptile.Tile) []LayerFeatures {
	var sel []LayerFeatures
	for _, l := range layers.All() {
		var fs []*layers.Feature
		c.Layer(l.Name).SearchWGS84(QueryBound(t), func(it *spatial.Item) bool {
			fs = append(fs, it.Feature)
			return true
		})
		sel = append(sel, LayerFeatures{Layer: l, Features: fs})
	}
	return sel
}
