package tiles

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/cql2"
	"github.com/citytwin/citytwin/layers"
)

// checkedFilter parses a CQL2 Text filter and checks it against the layer's queryables.
func checkedFilter(t testing.TB, l *layers.Layer, text string) *cql2.Filter {
	t.Helper()
	e, err := cql2.Parse(text)
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	f, err := cql2.Check(e, cql2.QueryablesOf(l))
	if err != nil {
		t.Fatalf("check %q: %v", text, err)
	}
	return f
}

// tileFilterCases are filters of several layers and kinds; %s is replaced by a box around
// the city's centre, a quarter of its width and height (centreBox).
var tileFilterCases = []struct{ name, layer, text string }{
	{"a string equality", "buildings", "use = 'residential'"},
	{"comparisons joined by AND and OR", "buildings", "floors >= 4 AND (use = 'office' OR height_m > 20)"},
	{"NOT and LIKE", "buildings", "NOT (use = 'residential') AND cad_number LIKE '%1%'"},
	{"IS NULL or a comparison", "buildings", "dwellings IS NULL OR dwellings < 3"},
	{"S_INTERSECTS with a box", "buildings", "S_INTERSECTS(geometry, %s)"},
	{"BETWEEN on parcels", "parcels", "area_m2 BETWEEN 300 AND 1000"},
	{"IN on points", "facilities", "kind IN ('school', 'pharmacy', 'hospital')"},
}

// centreBox is BBOX(...) of the middle of a bound: a quarter of its width and height.
func centreBox(b orb.Bound) string {
	c := b.Center()
	w, h := (b.Max[0]-b.Min[0])/8, (b.Max[1]-b.Min[1])/8
	return fmt.Sprintf("BBOX(%g, %g, %g, %g)", c[0]-w, c[1]-h, c[0]+w, c[1]+h)
}

// TestFilteredTilesKeepWhatMatchSaysInBothStores imports cities into PostGIS and the memory
// model, and cuts every tile of each city at zooms 13 (where polygons are thinned: the
// statement has two more parameters before the filter's), 15 and 16 with each filter. In
// each tile the memory source keeps exactly the features of the unfiltered tile that
// cql2.Filter.Match selects, and the PostGIS tile (the filter's SQL in the statement's WHERE)
// has the same features, ids, properties and geometry (tileDifference). Every filter selects
// some features of its layer and leaves some out, over the cities.
//
// Catches a source that ignores the filter, a filter applied after clipping that drops
// features differently, and the filter's parameters numbered over the tile's own.
func TestFilteredTilesKeepWhatMatchSaysInBothStores(t *testing.T) {
	cities := []testCity{{"hand-made city", handMadeCity()}, {"demo city", demoFeatures(t)}, {"generated city", generatedCity(t, 5000)}}
	kept, left := make([]int, len(tileFilterCases)), make([]int, len(tileFilterCases))
	for _, city := range cities {
		t.Run(city.name, func(t *testing.T) {
			ctx := context.Background()
			fs := withDerived(city.features)
			store := postgisStore(t)
			if _, err := store.Import(ctx, fs); err != nil {
				t.Fatalf("import into PostGIS: %v", err)
			}
			c := newCity(t, fs)
			mem := NewMemorySource(citymodel.Fixed(c))
			for i, fc := range tileFilterCases {
				t.Run(fc.name, func(t *testing.T) {
					l := mustLayer(t, fc.layer)
					text := fc.text
					if strings.Contains(text, "%s") {
						text = fmt.Sprintf(text, centreBox(c.Bound))
					}
					f := checkedFilter(t, l, text)
					for z := maptile.Zoom(13); z <= 16; z++ {
						if z == 14 {
							continue
						}
						for _, tile := range coveringTiles(c.Bound, z) {
							where := fmt.Sprintf("%d/%d/%d", tile.Z, tile.X, tile.Y)
							all, err := mem.Tile(ctx, tile, []*layers.Layer{l})
							if err != nil {
								t.Fatalf("memory tile %s: %v", where, err)
							}
							m, err := mem.FilteredTile(ctx, tile, l, f)
							if err != nil {
								t.Fatalf("filtered memory tile %s: %v", where, err)
							}
							p, err := store.FilteredTile(ctx, tile, l, f)
							if err != nil {
								t.Fatalf("filtered PostGIS tile %s: %v", where, err)
							}
							var want []uint64
							for _, id := range tileIDs(t, all)[l.Name] {
								it, ok := c.Layer(l.Name).Get(int64(id))
								if !ok {
									t.Fatalf("%s: feature %d of the tile is not in the city", where, id)
								}
								if f.Match(*it.Feature) {
									want = append(want, id)
								} else {
									left[i]++
								}
							}
							kept[i] += len(want)
							if got := tileIDs(t, m)[l.Name]; !slices.Equal(got, want) {
								t.Fatalf("memory %s: %d features, want the %d of the unfiltered tile that Match selects; %s", where, len(got), len(want), idDifference(got, want))
							}
							d, err := tileDifference(m, p, "memory", "PostGIS")
							if err != nil {
								t.Fatalf("%s: %v", where, err)
							}
							if d != "" {
								t.Fatalf("%s: the filtered tiles differ: %s", where, d)
							}
						}
					}
				})
			}
		})
	}
	for i, fc := range tileFilterCases {
		if kept[i] == 0 || left[i] == 0 {
			t.Errorf("%s: %d features kept and %d left out over every tile: the case proves little", fc.name, kept[i], left[i])
		}
	}
}

// idDifference names a few ids of got that are not in want and of want that are not in got,
// both sorted.
func idDifference(got, want []uint64) string {
	var extra, missing []uint64
	for _, id := range got {
		if _, ok := slices.BinarySearch(want, id); !ok && len(extra) < 5 {
			extra = append(extra, id)
		}
	}
	for _, id := range want {
		if _, ok := slices.BinarySearch(got, id); !ok && len(missing) < 5 {
			missing = append(missing, id)
		}
	}
	return fmt.Sprintf("extra %v, missing %v", extra, missing)
}

// filterTestService is a cached service over the memory source of the hand-made city, and
// the tile of its centre at zoom 16.
func filterTestService(t *testing.T) (*Service, *Cache, maptile.Tile) {
	t.Helper()
	c := newCity(t, handMadeCity())
	cache := NewCache(8 << 20)
	return NewService("memory", NewMemorySource(citymodel.Fixed(c)), cache, nil), cache, maptile.At(c.Bound.Center(), 16)
}

// TestOneFilterSpelledTwoWaysIsOneCachedTile asks for a tile with one filter in three
// spellings — CQL2 Text in two keyword cases, spacings and number forms, and CQL2 JSON —
// which normalise to one canonical text: one computation, one cache entry, one ETag. Catches
// a cache key made of the filter as written.
func TestOneFilterSpelledTwoWaysIsOneCachedTile(t *testing.T) {
	svc, cache, tile := filterTestService(t)
	l := mustLayer(t, "buildings")
	ctx := context.Background()
	var etags []string
	for _, spelling := range []string{
		"use = 'residential' AND dwellings >= 2",
		"(use='residential')  and  dwellings >= 2.0",
		`{"op": "and", "args": [{"op": "=", "args": [{"property": "use"}, "residential"]}, {"op": ">=", "args": [{"property": "dwellings"}, 2]}]}`,
	} {
		var e cql2.Expr
		var err error
		if spelling[0] == '{' {
			e, err = cql2.ParseJSON([]byte(spelling))
		} else {
			e, err = cql2.Parse(spelling)
		}
		if err != nil {
			t.Fatal(err)
		}
		f, err := cql2.Check(e, cql2.QueryablesOf(l))
		if err != nil {
			t.Fatal(err)
		}
		got, err := svc.FilteredTile(ctx, tile, l, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Data) == 0 {
			t.Fatal("the filtered tile is empty: the case proves nothing")
		}
		etags = append(etags, got.ETag)
	}
	st := cache.Stats()
	if st.Entries != 1 || st.Computations != 1 || etags[0] != etags[1] || etags[0] != etags[2] {
		t.Errorf("%d entries, %d computations, ETags %v; want one entry, one computation, one ETag", st.Entries, st.Computations, etags)
	}
}

// TestDifferentFiltersHaveDifferentETags: filters that select different features give
// different tiles; two filters that both select nothing, and a filter that selects every
// feature, give the same bytes as each other or as the unfiltered tile, yet each filter's
// tile has its own ETag and its own gzip ETag, and each is its own cache entry. The
// unfiltered tile keeps the ETag of its bytes alone. Catches a cache key or an ETag that
// leaves the filter out.
func TestDifferentFiltersHaveDifferentETags(t *testing.T) {
	svc, cache, tile := filterTestService(t)
	l := mustLayer(t, "buildings")
	ctx := context.Background()
	all, err := svc.Tile(ctx, tile, []*layers.Layer{l})
	if err != nil {
		t.Fatal(err)
	}
	if all.ETag != etag(all.Data, "", "") {
		t.Errorf("the unfiltered tile's ETag %s is not the hash of its bytes", all.ETag)
	}
	texts := []string{"use = 'residential'", "use = 'office'", "floors > 100", "floors < 0", "floors >= 0"}
	seen := map[string]string{all.ETag: "no filter"}
	bytesOf := map[string][]byte{}
	for _, text := range texts {
		got, err := svc.FilteredTile(ctx, tile, l, checkedFilter(t, l, text))
		if err != nil {
			t.Fatal(err)
		}
		bytesOf[text] = got.Data
		gz, gzTag := got.Gzip()
		for _, tag := range []string{got.ETag, gzTag} {
			if tag == "" {
				continue
			}
			if other, dup := seen[tag]; dup {
				t.Errorf("%q and %s share the ETag %s", text, other, tag)
			}
			seen[tag] = text
		}
		if len(got.Data) >= minGzip && gz == nil {
			t.Errorf("%q: no gzip for a tile of %d bytes", text, len(got.Data))
		}
	}
	// The cases that make the point: equal bytes, yet different ETags.
	if len(bytesOf["floors > 100"]) != 0 || len(bytesOf["floors < 0"]) != 0 || !slices.Equal(bytesOf["floors >= 0"], all.Data) {
		t.Errorf("the filters meant to select nothing or everything did not: %d, %d and %d bytes (all: %d)",
			len(bytesOf["floors > 100"]), len(bytesOf["floors < 0"]), len(bytesOf["floors >= 0"]), len(all.Data))
	}
	if slices.Equal(bytesOf["use = 'residential'"], bytesOf["use = 'office'"]) {
		t.Error("the residential and the office tiles are the same bytes")
	}
	if st := cache.Stats(); st.Entries != 1+len(texts) {
		t.Errorf("%d cache entries, want %d: one per filter and the unfiltered tile", st.Entries, 1+len(texts))
	}
}

// TestAFilterIsRefusedBySourcesThatCannotFilter: a service over a source without
// FilteredTile answers ErrFilterUnsupported rather than an unfiltered tile.
func TestAFilterIsRefusedBySourcesThatCannotFilter(t *testing.T) {
	src := &countingSource{}
	svc := NewService("counting", src, NewCache(1<<20), nil)
	l := mustLayer(t, "buildings")
	_, err := svc.FilteredTile(context.Background(), maptile.New(0, 0, 0), l, checkedFilter(t, l, "floors > 1"))
	if !errors.Is(err, ErrFilterUnsupported) {
		t.Errorf("err %v, want ErrFilterUnsupported", err)
	}
}

// BenchmarkMemoryFilteredTileZ15 cuts the buildings tiles of BenchmarkMemoryTileZ15 keeping
// the residential buildings of four floors or more (Match on every candidate, before the
// encoder): compare its ns/op with BenchmarkMemoryTileZ15's.
func BenchmarkMemoryFilteredTileZ15(b *testing.B) {
	benchmarkMemoryFilteredTile(b, 15, "use = 'residential' AND floors >= 4")
}

// BenchmarkMemoryFilteredTileZ15KeepingAll is BenchmarkMemoryFilteredTileZ15 with a filter
// every building passes: the cost of Match alone, the same features encoded as in
// BenchmarkMemoryTileZ15.
func BenchmarkMemoryFilteredTileZ15KeepingAll(b *testing.B) {
	benchmarkMemoryFilteredTile(b, 15, "floors >= 0 OR floors IS NULL")
}

func benchmarkMemoryFilteredTile(b *testing.B, z maptile.Zoom, text string) {
	l := mustLayer(b, "buildings")
	f := checkedFilter(b, l, text)
	c := benchCity()
	src := NewMemorySource(citymodel.Fixed(c))
	benchmarkMemoryTiles(b, src, c, z, func(ctx context.Context, t maptile.Tile) ([]byte, error) {
		return src.FilteredTile(ctx, t, l, f)
	})
}
