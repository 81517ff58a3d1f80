package postgis

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/layers"
)

func catalogLayers(t testing.TB, names ...string) []*layers.Layer {
	t.Helper()
	ls, err := layers.ParseList(strings.Join(names, ","))
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

// decodedIDs returns the feature ids of each layer of an MVT, sorted.
func decodedIDs(t *testing.T, tile []byte) map[string][]int64 {
	t.Helper()
	out := map[string][]int64{}
	if len(tile) == 0 {
		return out
	}
	ls, err := mvt.Unmarshal(tile)
	if err != nil {
		t.Fatalf("decode tile: %v", err)
	}
	for _, l := range ls {
		if l.Version != 2 || l.Extent != TileExtent {
			t.Errorf("layer %s: version %d extent %d", l.Name, l.Version, l.Extent)
		}
		ids := []int64{}
		for _, f := range l.Features {
			ids = append(ids, featureID(t, f.ID))
		}
		slices.Sort(ids)
		out[l.Name] = ids
	}
	return out
}

// featureID reads a decoded MVT feature id, which orb's decoder gives as a float64.
func featureID(t *testing.T, id any) int64 {
	t.Helper()
	f, ok := id.(float64)
	if !ok || f != math.Trunc(f) || f < 1 {
		t.Errorf("feature id %v (%T), want a positive whole number", id, id)
	}
	return int64(f)
}

func TestTile(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t)
	// Around origin: a block with a parcel (with an owner), three buildings in it, one far
	// away, a zone and a school. Below zoom 15 polygons under 32 pixels on both sides go: at
	// 46.8°N, 13.3 m on the ground at zoom 14 and 26.7 m at zoom 13; so building 10 (30 m)
	// stays at both, 11 (16 m) only at 14, and the 0.5 m shed 12 at neither.
	fs := []layers.Feature{
		{Layer: "parcels", ID: 1, Geometry: rect(0, 0, 40, 30),
			Props:      map[string]any{"cad_number": "50123", "area_m2": 1200.0, "ownership": "private", "derived": false},
			Restricted: map[string]any{"owner_name": "Ion Popescu", "land_book": "CF 50123-C1"}},
		{Layer: "buildings", ID: 10, Geometry: square(5, 5, 30),
			Props: map[string]any{"use": "residential", "floors": int64(4), "height_m": 12.5, "cad_number": "50123"}},
		{Layer: "buildings", ID: 11, Geometry: square(20, 5, 16),
			Props: map[string]any{"use": "office", "floors": int64(2), "derived": true}},
		{Layer: "buildings", ID: 12, Geometry: square(30, 20, 0.5), Props: map[string]any{"use": "other"}},
		{Layer: "buildings", ID: 99, Geometry: square(20000, 20000, 10), Props: map[string]any{}},
		{Layer: "zoning", ID: 7, Geometry: rect(-200, -200, 200, 200),
			Props: map[string]any{"code": "M1", "allowed_uses": []string{"residential", "mixed", "office"}, "max_floors": int64(8)}},
		{Layer: "facilities", ID: 3, Geometry: at(10, 25), Props: map[string]any{"kind": "school", "capacity": int64(600)}},
	}
	if _, err := s.Import(ctx, fs); err != nil {
		t.Fatal(err)
	}
	centre := at(20, 15)
	tile := func(z maptile.Zoom) maptile.Tile { return maptile.At(centre, z) }

	tests := []struct {
		name   string
		tile   maptile.Tile
		layers []string
		want   map[string][]int64
	}{
		{"buildings at zoom 15: those in the tile, not the far one",
			tile(15), []string{"buildings"}, map[string][]int64{"buildings": {10, 11, 12}}},
		{"a composite tile holds each requested layer",
			tile(16), []string{"parcels", "buildings", "zoning", "facilities"},
			map[string][]int64{"parcels": {1}, "buildings": {10, 11, 12}, "zoning": {7}, "facilities": {3}}},
		{"zoom 14 drops the shed", tile(14), []string{"buildings"}, map[string][]int64{"buildings": {10, 11}}},
		{"zoom 13 drops the 16 m building too", tile(13), []string{"buildings"}, map[string][]int64{"buildings": {10}}},
		{"buildings are left out below their minimum zoom", tile(12), []string{"buildings", "zoning"}, map[string][]int64{"zoning": {7}}},
		{"a tile with nothing in it is empty", maptile.At(at(-50000, -50000), 15), []string{"buildings", "zoning"}, map[string][]int64{}},
		{"the far building is in its own tile", maptile.At(at(20005, 20005), 18), []string{"buildings"}, map[string][]int64{"buildings": {99}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := s.Tile(ctx, tt.tile, catalogLayers(t, tt.layers...))
			if err != nil {
				t.Fatal(err)
			}
			got := decodedIDs(t, b)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("tile %v: got %v, want %v", tt.tile, got, tt.want)
			}
		})
	}

	t.Run("a configured zoom range is obeyed, not the catalog's", func(t *testing.T) {
		// The catalog has zoning at 10..22 and buildings at 13..22 (both in the zoom 16 tile
		// above); the configuration gives zoning 17..22 and buildings 13..15, so the zoom 16
		// tile has neither and the zoom 15 tile the buildings alone.
		pub, err := layers.NewPublished(nil,
			layers.ZoomRange{Layer: "zoning", MinZoom: 17, MaxZoom: 22},
			layers.ZoomRange{Layer: "buildings", MinZoom: 13, MaxZoom: 15})
		if err != nil {
			t.Fatal(err)
		}
		ls, err := pub.ParseBaseList("buildings,zoning")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			z    maptile.Zoom
			want map[string][]int64
		}{
			{16, map[string][]int64{}},
			{15, map[string][]int64{"buildings": {10, 11, 12}}},
		} {
			b, err := s.Tile(ctx, tile(c.z), ls)
			if err != nil {
				t.Fatal(err)
			}
			if got := decodedIDs(t, b); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("zoom %d: got %v, want %v", c.z, got, c.want)
			}
		}
	})

	t.Run("features carry public fields only, typed", func(t *testing.T) {
		b, err := s.Tile(ctx, tile(16), catalogLayers(t, "parcels", "buildings", "zoning"))
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{"owner_name", "land_book", "Popescu", "CF 50123"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("the tile contains %q", secret)
			}
		}
		ls, err := mvt.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			cat, _ := layers.Lookup(l.Name)
			for _, f := range l.Features {
				for k := range f.Properties {
					fd, ok := cat.Field(k)
					if !ok || fd.Restricted {
						t.Errorf("%s feature %v has property %q", l.Name, f.ID, k)
					}
				}
			}
		}
		props := map[string]map[string]any{}
		for _, l := range ls {
			for _, f := range l.Features {
				props[fmt.Sprintf("%s/%v", l.Name, f.ID)] = f.Properties
			}
		}
		// The decoder makes float64 of every number.
		want := map[string]map[string]any{
			"parcels/1":    {"cad_number": "50123", "area_m2": 1200.0, "ownership": "private", "derived": false},
			"buildings/10": {"use": "residential", "floors": 4.0, "height_m": 12.5, "cad_number": "50123", "derived": false},
			"buildings/11": {"use": "office", "floors": 2.0, "derived": true},
			"zoning/7":     {"code": "M1", "allowed_uses": "residential,mixed,office", "max_floors": 8.0, "derived": false},
		}
		for k, w := range want {
			if fmt.Sprint(props[k]) != fmt.Sprint(w) {
				t.Errorf("%s: properties %v, want %v", k, props[k], w)
			}
		}
	})

	t.Run("the same tile twice is the same bytes", func(t *testing.T) {
		ls := catalogLayers(t, "parcels", "buildings", "zoning", "facilities")
		a, err := s.Tile(ctx, tile(15), ls)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Tile(ctx, tile(15), ls)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("two tiles of %d and %d bytes differ", len(a), len(b))
		}
	})

	t.Run("every ordering of the layers is one statement, one tile, in catalog order", func(t *testing.T) {
		clear(s.tileSQL)
		orders := [][]string{
			{"parcels", "buildings", "zoning", "facilities"},
			{"facilities", "zoning", "buildings", "parcels"},
			{"zoning", "parcels", "facilities", "buildings"},
		}
		var first []byte
		for _, o := range orders {
			b, err := s.Tile(ctx, tile(16), catalogLayers(t, o...))
			if err != nil {
				t.Fatal(err)
			}
			ls, err := mvt.Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, l := range ls {
				names = append(names, l.Name)
			}
			if got := strings.Join(names, ","); got != "parcels,buildings,zoning,facilities" {
				t.Errorf("layers %v in tile: %s, want every requested layer in catalog order", o, got)
			}
			if first == nil {
				first = b
			} else if !bytes.Equal(first, b) {
				t.Errorf("layers %v: %d bytes, unlike the first ordering's %d", o, len(b), len(first))
			}
		}
		if len(s.tileSQL) != 1 {
			t.Errorf("%d statements kept for %d orderings of one set of layers, want 1", len(s.tileSQL), len(orders))
		}
	})

	t.Run("geometry lands where the feature is", func(t *testing.T) {
		tl := tile(18)
		b, err := s.Tile(ctx, tl, catalogLayers(t, "buildings"))
		if err != nil {
			t.Fatal(err)
		}
		ls, err := mvt.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		ls.ProjectToWGS84(tl)
		for _, f := range ls[0].Features {
			if featureID(t, f.ID) != 10 {
				continue
			}
			// Building 10 spans 5..35 m east and north: its bound in the tile is that
			// to within a tile unit (zoom 18: 0.15 m of Web Mercator).
			got := f.Geometry.Bound()
			want := square(5, 5, 30).Bound()
			tol := 2 * (want.Max[0] - want.Min[0]) / 30 * 0.15
			if math.Abs(got.Min[0]-want.Min[0]) > tol || math.Abs(got.Max[1]-want.Max[1]) > tol {
				t.Errorf("building 10 decodes to %v, want %v", got, want)
			}
			return
		}
		t.Error("building 10 is not in its zoom-18 tile")
	})
}

func TestTileSQLQuotesCatalogNamesAndIsCached(t *testing.T) {
	s := New(nil)
	zoning, _ := lookupTable("zoning")
	buildings, _ := lookupTable("buildings")
	q1 := s.tileStatement([]*table{buildings, zoning}, true)
	q2 := s.tileStatement([]*table{buildings, zoning}, true)
	if q1 != q2 || len(s.tileSQL) != 1 {
		t.Errorf("the statement was built twice: %d cached", len(s.tileSQL))
	}
	for _, want := range []string{
		`FROM "buildings"`, `array_to_string("allowed_uses", ',') AS "allowed_uses"`,
		`ST_AsMVT(q, 'zoning', 4096, 'geom', 'id')`, "ST_SimplifyPreserveTopology(geom_3857, $4)",
		"geom_3857 && ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096)",
	} {
		if !strings.Contains(q1, want) {
			t.Errorf("statement lacks %s:\n%s", want, q1)
		}
	}
	for _, never := range []string{"parcels_private", "owner_name", "land_book", "ST_Transform"} {
		if strings.Contains(s.tileStatement([]*table{tableByName["parcels"]}, false), never) {
			t.Errorf("the parcels statement names %s", never)
		}
	}
}

func TestTileStatementsAreBounded(t *testing.T) {
	s := New(nil)
	// Every non-empty subset of the 10 base layers, thinned or not: 2·(2^10 - 1) = 2046
	// statements asked for.
	asked := 0
	for mask := 1; mask < 1<<len(tables); mask++ {
		var ts []*table
		for i, tb := range tables {
			if mask&(1<<i) != 0 {
				ts = append(ts, tb)
			}
		}
		for _, thin := range []bool{false, true} {
			s.tileStatement(ts, thin)
			asked++
		}
	}
	if n := len(s.tileSQL); n > maxTileStatements {
		t.Fatalf("%d statements kept after %d were asked for, want at most %d", n, asked, maxTileStatements)
	}
	// The last one asked for is kept and served again.
	all := s.tileStatement(tables, true)
	if s.tileStatement(tables, true) != all || s.tileSQL[strings.Join(layers.Names(), ",")+"/thin"] != all {
		t.Error("the statement of every layer, thinned, was not kept")
	}
}

func TestPixelSize(t *testing.T) {
	// 40075016.69 / (4096 · 2^13) = 40075016.69 / 33554432 = 1.19432 m.
	if got := PixelSize(13); math.Abs(got-1.19432) > 1e-5 {
		t.Errorf("PixelSize(13) = %v", got)
	}
}

// tilesOver lists the tiles of zoom z over the bound b, row by row.
func tilesOver(b orb.Bound, z maptile.Zoom) []maptile.Tile {
	min := maptile.At(orb.Point{b.Min[0], b.Max[1]}, z)
	max := maptile.At(orb.Point{b.Max[0], b.Min[1]}, z)
	var out []maptile.Tile
	for y := min.Y; y <= max.Y; y++ {
		for x := min.X; x <= max.X; x++ {
			out = append(out, maptile.New(x, y, z))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Quadkey() < out[j].Quadkey() })
	return out
}
