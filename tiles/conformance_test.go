package tiles

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/internal/pgtest"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/layers/postgis"
	"github.com/citytwin/citytwin/spatial"
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
// layers in one composite tile), and requires the same feature ids in every layer of every
// tile.
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
			store := postgisStore(t)
			if _, err := store.Import(ctx, city.features); err != nil {
				t.Fatalf("import into PostGIS: %v", err)
			}
			c := newCity(t, city.features)
			mem := NewMemorySource(func() *spatial.City { return c })
			all := layers.All()

			var mismatches []string
			tilesSeen, features := 0, 0
			for z := maptile.Zoom(12); z <= 16; z++ {
				for _, tile := range coveringTiles(c.Bound, z) {
					m, err := mem.Tile(ctx, tile, all)
					if err != nil {
						t.Fatal(err)
					}
					p, err := store.Tile(ctx, tile, all)
					if err != nil {
						t.Fatalf("PostGIS tile %d/%d/%d: %v", tile.Z, tile.X, tile.Y, err)
					}
					tilesSeen++
					mi, pi := tileIDs(t, m), tileIDs(t, p)
					for _, l := range all {
						features += len(pi[l.Name])
						if !slices.Equal(mi[l.Name], pi[l.Name]) {
							onlyM, onlyP := difference(mi[l.Name], pi[l.Name]), difference(pi[l.Name], mi[l.Name])
							mismatches = append(mismatches, fmt.Sprintf("%d/%d/%d %s: only in memory %v, only in PostGIS %v",
								tile.Z, tile.X, tile.Y, l.Name, onlyM, onlyP))
						}
					}
				}
			}
			t.Logf("%d tiles, %d features in PostGIS tiles", tilesSeen, features)
			if len(mismatches) > 0 {
				show := mismatches
				if len(show) > 40 {
					show = show[:40]
				}
				t.Fatalf("%d layer-tiles differ:\n%s", len(mismatches), strings.Join(show, "\n"))
			}
		})
	}
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

func difference(a, b []uint64) []uint64 {
	var out []uint64
	for _, v := range a {
		if !slices.Contains(b, v) {
			out = append(out, v)
		}
	}
	return out
}
