package tiles

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/internal/pgtest"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/layers/postgis"
)

// postgisStore opens a migrated PostGIS store in a schema of its own (dropped when the test
// ends), on the database of DATABASE_URL. Without DATABASE_URL the test fails: run it through
// scripts/with-postgis.sh.
func postgisStore(t *testing.T) *postgis.Store {
	t.Helper()
	ctx := context.Background()
	u, _ := pgtest.Schema(t, "tiles_conformance")
	store, err := postgis.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	if err := postgis.Migrate(ctx, store.Pool()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return store
}

// TestMemoryAndPostGISTilesHaveTheSameFeatures imports the same city into PostGIS and the
// memory model, asks both sources for every tile of the city's extent at zooms 12 to 16 (all
// layers in one composite tile), decodes both and compares them layer by layer, feature by
// feature (tileDifference in tilediff_test.go): the same layers, the same feature ids, the
// same properties with the same values and MVT value types, the same geometry type, points at
// the same place, and polygons covering the same area, within the one or two tile units the
// two sides' clipping and simplification rules allow (outlineTolerance). A layer that one tile
// has and the other lacks fails the test, and so does a city whose tiles hold nothing.
//
// Besides the demo city it runs on random cities full of awkward features (slivers, polygons
// of a pixel or less, points on the buffer's edge): on them the two sources agree only
// because the memory source follows ST_AsMVTGeom's rules to the letter (rounding.go).
func TestMemoryAndPostGISTilesHaveTheSameFeatures(t *testing.T) {
	cities := append(testCities(t), testCity{"random city 2", randomCity(2)}, testCity{"random city 3", randomCity(3)},
		testCity{"generated city", generatedCity(t, 20000)})
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
			all := layers.All()

			var mismatches []string
			tilesSeen, features := 0, 0
			for z := maptile.Zoom(12); z <= 16; z++ {
				for _, tile := range coveringTiles(c.Bound, z) {
					m, err := mem.Tile(ctx, tile, all)
					if err != nil {
						t.Fatalf("memory tile %d/%d/%d: %v", tile.Z, tile.X, tile.Y, err)
					}
					p, err := store.Tile(ctx, tile, all)
					if err != nil {
						t.Fatalf("PostGIS tile %d/%d/%d: %v", tile.Z, tile.X, tile.Y, err)
					}
					tilesSeen++
					for _, l := range tileIDs(t, p) {
						features += len(l)
					}
					d, err := tileDifference(m, p, "memory", "PostGIS")
					if err != nil {
						t.Fatalf("tile %d/%d/%d: %v", tile.Z, tile.X, tile.Y, err)
					}
					if d != "" {
						mismatches = append(mismatches, fmt.Sprintf("%d/%d/%d %s", tile.Z, tile.X, tile.Y, d))
					}
				}
			}
			t.Logf("%d tiles, %d features in PostGIS tiles", tilesSeen, features)
			if features == 0 {
				t.Fatal("no PostGIS tile held a feature: the comparison compared nothing")
			}
			if len(mismatches) > 0 {
				show := mismatches
				if len(show) > 10 {
					show = show[:10]
				}
				t.Fatalf("%d tiles differ; the first difference of each:\n%s", len(mismatches), strings.Join(show, "\n"))
			}
		})
	}
}

// withDerived returns the features with "derived": false added where they lack it, as PostGIS
// stores them (its derived column is NOT NULL DEFAULT false), so that the two sources hold the
// same properties: the hand-made and random test cities leave it out. The memory source
// writes a feature's properties as they are, so it would serve the feature without it.
func withDerived(fs []layers.Feature) []layers.Feature {
	out := make([]layers.Feature, len(fs))
	for i, f := range fs {
		if _, ok := f.Props["derived"]; !ok {
			props := make(map[string]any, len(f.Props)+1)
			for k, v := range f.Props {
				props[k] = v
			}
			props["derived"] = false
			f.Props = props
		}
		out[i] = f
	}
	return out
}

// tileIDs decodes a tile into its sorted feature ids by layer.
func tileIDs(t *testing.T, b []byte) map[string][]uint64 {
	t.Helper()
	out := map[string][]uint64{}
	if len(b) == 0 {
		return out
	}
	for name, l := range decode(t, b) {
		ids := ids(l)
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		out[name] = ids
	}
	return out
}
