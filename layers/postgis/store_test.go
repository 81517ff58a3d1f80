package postgis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
)

// normalized builds a feature the way the importers do: raw properties as JSON decodes them
// (float64 numbers, []any lists), typed and split by layers.Normalize.
func normalized(t *testing.T, layer string, id int64, g orb.Geometry, raw map[string]any) layers.Feature {
	t.Helper()
	l, err := layers.Lookup(layer)
	if err != nil {
		t.Fatal(err)
	}
	pub, restricted, err := l.Normalize(raw)
	if err != nil {
		t.Fatalf("%s %d: %v", layer, id, err)
	}
	return layers.Feature{Layer: layer, ID: id, Geometry: g, Props: pub, Restricted: restricted}
}

// roundTripFeatures covers every layer, every field type, polygons with holes,
// multipolygons, points, absent values and restricted fields.
func roundTripFeatures(t *testing.T) []layers.Feature {
	// Coordinates with all the digits a float64 holds.
	p := func(x, y float64) orb.Point { return orb.Point{23.5912345678912 + x, 46.7712345678912 + y} }
	withHole := orb.Polygon{
		{p(0, 0), p(0.001, 0), p(0.001, 0.001), p(0, 0.001), p(0, 0)},
		{p(0.0002, 0.0002), p(0.0002, 0.0004), p(0.0004, 0.0004), p(0.0004, 0.0002), p(0.0002, 0.0002)},
	}
	multi := orb.MultiPolygon{
		{{p(0.01, 0), p(0.011, 0), p(0.011, 0.001), p(0.01, 0), p(0.01, 0)}},
		{{p(0.02, 0), p(0.021, 0), p(0.021, 0.001), p(0.02, 0.001), p(0.02, 0)}},
	}
	sq := orb.Polygon{{p(0.03, 0), p(0.0301, 0), p(0.0301, 0.0001), p(0.03, 0.0001), p(0.03, 0)}}
	return []layers.Feature{
		normalized(t, "parcels", 1, withHole, map[string]any{
			"cad_number": "50123", "area_m2": 1234.5, "land_use": "curți construcții", "intravilan": true,
			"ownership": "private", "address": "Strada Memorandumului 28, Cluj-Napoca", "derived": false,
			"owner_name": "Ion Popescu", "land_book": "CF 50123-C1",
		}),
		normalized(t, "parcels", 2, multi, map[string]any{"cad_number": "50124", "intravilan": false}),
		normalized(t, "parcels", 3, sq, map[string]any{"ownership": "public", "owner_name": "Municipiul Cluj-Napoca"}),
		normalized(t, "buildings", 10, sq, map[string]any{
			"cad_number": "50123", "use": "mixed", "floors": 5.0, "height_m": 16.5, "dwellings": 24.0,
			"year_built": 1978.0, "gfa_m2": 2150.25, "derived": true,
		}),
		normalized(t, "buildings", 11, withHole, map[string]any{}), // derived absent: stored false
		normalized(t, "zoning", 1, multi, map[string]any{
			"code": "L1a", "name": "Locuințe individuale", "allowed_uses": []any{"residential", "mixed"},
			"max_pot_pct": 35.0, "max_cut": 0.9, "max_height_m": 10.0, "max_floors": 3.0,
			"regulation_url": "https://example.org/rlu#L1a",
		}),
		normalized(t, "zoning", 2, sq, map[string]any{"code": "V", "allowed_uses": []any{}}), // an empty list
		normalized(t, "facilities", 1, p(0.0005, 0.0005), map[string]any{
			"kind": "school", "name": "Școala Gimnazială „Ion Creangă”", "capacity": 640.0, "capacity_unit": "pupils",
		}),
		normalized(t, "green_spaces", 1, withHole, map[string]any{"kind": "park", "public": true, "area_m2": 9000.0}),
		normalized(t, "noise", 1, multi, map[string]any{"source": "road", "lden_db": 65.0, "lnight_db": 55.5}),
		normalized(t, "flood", 1, sq, map[string]any{"return_period_years": 100.0}),
		normalized(t, "air_stations", 1, p(-0.5, 0.25), map[string]any{
			"name": "CJ-1", "pm25": 12.25, "pm10": 21.5, "no2": 30.125, "year": 2024.0,
		}),
		normalized(t, "broadband", 1, withHole, map[string]any{"technology": "5g", "max_down_mbps": 1000.0}),
		normalized(t, "districts", 1, multi, map[string]any{"name": "Centru", "code": "C", "derived": true}),
	}
}

func loadAll(t testing.TB, ctx context.Context, s *Store) []layers.Feature {
	t.Helper()
	var out []layers.Feature
	if err := s.Load(ctx, func(f layers.Feature) error {
		out = append(out, f)
		return nil
	}); err != nil {
		t.Fatalf("load: %v", err)
	}
	return out
}

func TestImportThenLoadGivesBackEveryFeature(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t)
	in := roundTripFeatures(t)
	var progressed []string
	s.Progress = func(layer string, done, total int) {
		if done == total {
			progressed = append(progressed, fmt.Sprintf("%s %d", layer, total))
		}
	}
	counts, err := s.Import(ctx, in)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	want := layers.Counts{}
	for _, f := range in {
		want[f.Layer]++
	}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("Import counts = %v, want %v", counts, want)
	}
	if len(progressed) != len(want) {
		t.Errorf("progress reported %v, want one final report per layer", progressed)
	}

	out := loadAll(t, ctx, s)
	assertSameFeatures(t, out, in)
	// Catalog order, then id order.
	order := layers.Names()
	rank := map[string]int{}
	for i, n := range order {
		rank[n] = i
	}
	if !sort.SliceIsSorted(out, func(i, j int) bool {
		if out[i].Layer != out[j].Layer {
			return rank[out[i].Layer] < rank[out[j].Layer]
		}
		return out[i].ID < out[j].ID
	}) {
		t.Error("Load is not in catalog then id order")
	}

	got, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range order {
		if got[n] != want[n] {
			t.Errorf("Counts[%s] = %d, want %d", n, got[n], want[n])
		}
	}
}

// assertSameFeatures fails the test unless out holds exactly the features of in, with the
// same properties, restricted fields and geometry (a missing derived flag reads back false).
func assertSameFeatures(t *testing.T, out, in []layers.Feature) {
	t.Helper()
	if len(out) != len(in) {
		t.Fatalf("loaded %d features, imported %d", len(out), len(in))
	}
	byKey := map[string]layers.Feature{}
	for _, f := range out {
		byKey[fmt.Sprintf("%s/%d", f.Layer, f.ID)] = f
	}
	for _, w := range in {
		key := fmt.Sprintf("%s/%d", w.Layer, w.ID)
		got, ok := byKey[key]
		if !ok {
			t.Errorf("%s not loaded", key)
			continue
		}
		props := maps.Clone(w.Props)
		if _, ok := props["derived"]; !ok {
			props["derived"] = false // the column is NOT NULL DEFAULT false
		}
		if !reflect.DeepEqual(got.Props, props) {
			t.Errorf("%s props:\n got  %#v\n want %#v", key, got.Props, props)
		}
		if !reflect.DeepEqual(got.Restricted, w.Restricted) {
			t.Errorf("%s restricted:\n got  %#v\n want %#v", key, got.Restricted, w.Restricted)
		}
		if err := sameGeometry(got.Geometry, w.Geometry, 1e-9); err != nil {
			t.Errorf("%s geometry: %v", key, err)
		}
	}
}

// sameGeometry compares two geometries coordinate by coordinate.
func sameGeometry(got, want orb.Geometry, tol float64) error {
	if reflect.TypeOf(got) != reflect.TypeOf(want) {
		return fmt.Errorf("got a %T, want a %T", got, want)
	}
	var g, w []orb.Point
	collect := func(geom orb.Geometry, pts *[]orb.Point, shape *[]int) {
		switch t := geom.(type) {
		case orb.Point:
			*pts = append(*pts, t)
		case orb.Polygon:
			for _, r := range t {
				*pts = append(*pts, r...)
				*shape = append(*shape, len(r))
			}
		case orb.MultiPolygon:
			for _, p := range t {
				*shape = append(*shape, -len(p))
				for _, r := range p {
					*pts = append(*pts, r...)
					*shape = append(*shape, len(r))
				}
			}
		}
	}
	var gs, ws []int
	collect(got, &g, &gs)
	collect(want, &w, &ws)
	if !reflect.DeepEqual(gs, ws) {
		return fmt.Errorf("shape %v, want %v", gs, ws)
	}
	for i := range g {
		if math.Abs(g[i][0]-w[i][0]) > tol || math.Abs(g[i][1]-w[i][1]) > tol {
			return fmt.Errorf("point %d is %v, want %v", i, g[i], w[i])
		}
	}
	return nil
}

func TestAFailedImportLeavesNothing(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t)
	base := roundTripFeatures(t)
	if _, err := s.Import(ctx, base); err != nil {
		t.Fatal(err)
	}
	countsBefore, _ := s.Counts(ctx)
	versionsBefore, _ := s.DataVersion(ctx)
	loadedBefore := loadAll(t, ctx, s)

	// good is a batch of new features of several layers that would import on their own;
	// each case spoils it in one way.
	good := func() []layers.Feature {
		fs := syntheticBuildings(50, 1000)
		fs = append(fs,
			layers.Feature{Layer: "parcels", ID: 500, Geometry: square(0, 0, 20),
				Props: map[string]any{"cad_number": "1"}, Restricted: map[string]any{"owner_name": "New Owner"}},
			layers.Feature{Layer: "facilities", ID: 500, Geometry: at(5, 5), Props: map[string]any{"kind": "clinic"}},
		)
		return fs
	}
	if _, err := s.Import(ctx, nil); err != nil {
		t.Fatalf("an empty import: %v", err)
	}
	tests := []struct {
		name  string
		spoil func([]layers.Feature) []layers.Feature
		want  []string // in the error message
		is    error
	}{
		{"an id repeated in the import", func(fs []layers.Feature) []layers.Feature {
			return append(fs, layers.Feature{Layer: "buildings", ID: 1020, Geometry: square(0, 0, 5), Props: map[string]any{}})
		}, []string{"buildings", "1020"}, ErrDuplicateID},
		{"an id already stored", func(fs []layers.Feature) []layers.Feature {
			return append(fs, layers.Feature{Layer: "facilities", ID: 1, Geometry: at(1, 1), Props: map[string]any{}})
		}, []string{"facilities", "feature 1"}, ErrDuplicateID},
		{"a parcel id already stored, with restricted fields", func(fs []layers.Feature) []layers.Feature {
			return append(fs, layers.Feature{Layer: "parcels", ID: 2, Geometry: square(0, 0, 5), Restricted: map[string]any{"land_book": "CF 1"}})
		}, []string{"parcels", "feature 2"}, ErrDuplicateID},
		{"floors out of range", func(fs []layers.Feature) []layers.Feature {
			fs[30].Props["floors"] = int64(201)
			return fs
		}, []string{"buildings", "feature 1030", "floors", "201"}, layers.ErrInvalid},
		{"a use outside the enum", func(fs []layers.Feature) []layers.Feature {
			fs[49].Props["use"] = "castle"
			return fs
		}, []string{"buildings", "feature 1049", "use", "castle"}, layers.ErrInvalid},
		{"a string where a number belongs", func(fs []layers.Feature) []layers.Feature {
			fs[0].Props["height_m"] = "tall"
			return fs
		}, []string{"buildings", "feature 1000", "height_m"}, layers.ErrInvalid},
		{"a point in a polygon layer", func(fs []layers.Feature) []layers.Feature {
			fs[10].Geometry = at(0, 0)
			return fs
		}, []string{"buildings", "feature 1010", "geometry"}, layers.ErrInvalid},
		{"an unknown property", func(fs []layers.Feature) []layers.Feature {
			fs[len(fs)-1].Props["colour"] = "red"
			return fs
		}, []string{"facilities", "feature 500", "colour"}, layers.ErrInvalid},
		{"a personal datum among the public properties", func(fs []layers.Feature) []layers.Feature {
			fs[len(fs)-2].Props["owner_name"] = "Leaked Name"
			return fs
		}, []string{"parcels", "feature 500", "owner_name"}, layers.ErrInvalid},
		{"an unknown layer", func(fs []layers.Feature) []layers.Feature {
			return append(fs, layers.Feature{Layer: "trees", ID: 1, Geometry: at(0, 0)})
		}, []string{"trees"}, layers.ErrUnknownLayer},
		{"an unclosed ring", func(fs []layers.Feature) []layers.Feature {
			p := fs[5].Geometry.(orb.Polygon)
			p[0][len(p[0])-1] = at(1000, 1000)
			return fs
		}, []string{"buildings", "feature 1005", "closed"}, layers.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Import(ctx, tt.spoil(good()))
			if err == nil {
				t.Fatal("import succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
			counts, _ := s.Counts(ctx)
			if !reflect.DeepEqual(counts, countsBefore) {
				t.Errorf("counts after the failed import %v, before %v", counts, countsBefore)
			}
			versions, _ := s.DataVersion(ctx)
			if !reflect.DeepEqual(versions, versionsBefore) {
				t.Errorf("data versions after the failed import %v, before %v", versions, versionsBefore)
			}
		})
	}
	if loaded := loadAll(t, ctx, s); !reflect.DeepEqual(loaded, loadedBefore) {
		t.Error("Load after the failed imports differs from before")
	}
	// And the batch unspoilt goes in.
	counts, err := s.Import(ctx, good())
	if err != nil {
		t.Fatalf("the good batch: %v", err)
	}
	if want := (layers.Counts{"buildings": 50, "parcels": 1, "facilities": 1}); !reflect.DeepEqual(counts, want) {
		t.Errorf("counts %v, want %v", counts, want)
	}
}

func TestDataVersionsGrowWithImportAndTruncate(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t)
	v0, err := s.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range layers.Names() {
		if v, ok := v0[n]; !ok || v != 0 {
			t.Errorf("fresh version of %s = %d (present %v), want 0", n, v, ok)
		}
	}

	notes := make(chan map[string]int64, 10)
	watchCtx, stop := context.WithCancel(ctx)
	watchDone := make(chan error, 1)
	go func() { watchDone <- s.WatchVersions(watchCtx, func(v map[string]int64) { notes <- v }) }()
	time.Sleep(200 * time.Millisecond) // let LISTEN run before the first import

	if _, err := s.Import(ctx, syntheticBuildings(3, 1)); err != nil {
		t.Fatal(err)
	}
	v1, _ := s.DataVersion(ctx)
	if v1["buildings"] != 1 || v1["parcels"] != 0 {
		t.Errorf("after importing buildings: %v", v1)
	}
	select {
	case n := <-notes:
		if !reflect.DeepEqual(n, map[string]int64{"buildings": 1}) {
			t.Errorf("notification %v, want buildings: 1", n)
		}
	case <-time.After(5 * time.Second):
		t.Error("no notification of the import")
	}

	if err := s.Truncate(ctx, "buildings", "parcels"); err != nil {
		t.Fatal(err)
	}
	v2, _ := s.DataVersion(ctx)
	if v2["buildings"] != 2 || v2["parcels"] != 1 || v2["zoning"] != 0 {
		t.Errorf("after truncating buildings and parcels: %v", v2)
	}
	counts, _ := s.Counts(ctx)
	if counts["buildings"] != 0 {
		t.Errorf("buildings after Truncate: %d", counts["buildings"])
	}
	if err := s.Truncate(ctx, "trees"); !errors.Is(err, layers.ErrUnknownLayer) {
		t.Errorf("Truncate of an unknown layer: %v", err)
	}
	stop()
	if err := <-watchDone; err != nil {
		t.Errorf("WatchVersions after cancel: %v", err)
	}
	// The watcher's connection went back to the pool in a usable state.
	if _, err := s.Counts(ctx); err != nil {
		t.Errorf("pool after the watcher: %v", err)
	}
}

func TestTruncateAllTakesRestrictedFieldsToo(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t)
	if _, err := s.Import(ctx, roundTripFeatures(t)); err != nil {
		t.Fatal(err)
	}
	if err := s.Truncate(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.Pool().QueryRow(ctx, "SELECT count(*) FROM parcels_private").Scan(&n); err != nil || n != 0 {
		t.Errorf("parcels_private has %d rows after Truncate (err %v)", n, err)
	}
	if out := loadAll(t, ctx, s); len(out) != 0 {
		t.Errorf("Load after Truncate gave %d features", len(out))
	}
}

func TestEWKBRoundTripIsExact(t *testing.T) {
	for _, g := range []orb.Geometry{
		orb.Point{23.123456789012345, -46.98765432109876},
		rect(0, 0, 10, 10),
		orb.MultiPolygon{rect(0, 0, 1, 1), {rect(5, 5, 9, 9)[0], rect(6, 6, 7, 7)[0]}},
	} {
		b, err := encodeEWKB(g)
		if err != nil {
			t.Fatal(err)
		}
		// Little-endian EWKB with the SRID flag and 4326: 01, type|0x20000000, E6 10 00 00.
		if b[0] != 1 || b[4]&0x20 == 0 || !bytes.Equal(b[5:9], []byte{0xE6, 0x10, 0, 0}) {
			t.Errorf("%T: EWKB header % x", g, b[:9])
		}
		back, err := decodeEWKB(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, g) {
			t.Errorf("%T: got back %v", g, back)
		}
	}
}

func TestABulkImportIntoAnEmptyLayerKeepsItsIndexes(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t)
	indexes := func() string {
		rows, _ := s.Pool().Query(ctx, "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'buildings' ORDER BY indexname")
		defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(defs, "\n")
	}
	before := indexes()
	if strings.Count(before, "USING gist") != 2 {
		t.Fatalf("buildings indexes before: %s", before)
	}
	// A failed bulk import (the last building is bad) rolls back the dropped indexes too.
	fs := syntheticBuildings(bulkRows+10, 1)
	fs[len(fs)-1].Props["floors"] = int64(-1)
	if _, err := s.Import(ctx, fs); err == nil {
		t.Fatal("a bad bulk import succeeded")
	}
	if got := indexes(); got != before {
		t.Errorf("indexes after a failed bulk import:\n%s\nbefore:\n%s", got, before)
	}
	fs[len(fs)-1].Props["floors"] = int64(1)
	if _, err := s.Import(ctx, fs); err != nil {
		t.Fatal(err)
	}
	if got := indexes(); got != before {
		t.Errorf("indexes after a bulk import:\n%s\nbefore:\n%s", got, before)
	}
	var n int
	if err := s.Pool().QueryRow(ctx, "SELECT count(*) FROM buildings WHERE geom_3857 && ST_Transform(ST_MakeEnvelope(23.58, 46.76, 23.60, 46.78, 4326), 3857)").Scan(&n); err != nil || n == 0 {
		t.Errorf("index scan after a bulk import found %d buildings (err %v)", n, err)
	}
}
