package postgis

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/cql2"
	"github.com/citytwin/citytwin/layers"
)

// Extra layers are OGC API collections too: their features are read from the city's own
// table, with the published columns only, ids from the id column and geometries in WGS84.
func TestExtraLayerFeaturesAreTheTablesPublishedColumnsInWGS84(t *testing.T) {
	s := newStore(t)
	ctx := testContext(t)
	schema := newExtraTables(t, s)
	trees := treesLayer(schema)
	areas := &layers.Extra{
		Layer: layers.Layer{Name: "areas", MinZoom: 10, MaxZoom: 22},
		Table: schema + ".areas", GeometryColumn: "geom", SRID: 31700, Columns: []string{"code", "name"},
	}
	if err := s.ResolveExtras(ctx, []*layers.Extra{trees, areas}); err != nil {
		t.Fatalf("resolve: %v", err)
	}

	all, matched, err := s.Features(ctx, "trees", nil, math.MinInt64, 10)
	if err != nil {
		t.Fatalf("features: %v", err)
	}
	if matched != 2 || len(all) != 2 || all[0].ID != 1 || all[1].ID != 2 {
		t.Fatalf("features of trees: %d matched, %v; want ids 1 and 2", matched, all)
	}
	// Tree 1 as newExtraTables inserts it: numeric(5,2) 12.5 read as a number, the date as
	// text, the array as a list; the column secret is not published.
	want := map[string]any{"species": "Tilia cordata", "height_m": 12.5, "planted": "2001-04-01", "tags": []string{"old", "listed"}}
	if !reflect.DeepEqual(all[0].Props, want) {
		t.Errorf("tree 1's properties %v, want %v", all[0].Props, want)
	}
	if all[0].Layer != "trees" {
		t.Errorf("tree 1's layer is %q", all[0].Layer)
	}
	// Stereo 70 and back: within 1e-7 degrees (about 1 cm) of where it was placed.
	for i, p := range []orb.Point{at(100, 100), at(1100, 100)} {
		g, ok := all[i].Geometry.(orb.Point)
		if !ok || math.Abs(g[0]-p[0]) > 1e-7 || math.Abs(g[1]-p[1]) > 1e-7 {
			t.Errorf("tree %d is at %v, want %v", all[i].ID, all[i].Geometry, p)
		}
	}

	q := cql2.QueryablesOf(&trees.Layer)
	for _, c := range []struct {
		name, filter string
		want         []int64
	}{
		{"a number compares as a number", "height_m > 10", []int64{1}},
		{"a date column compares as its text", "planted = '2001-04-01'", []int64{1}},
		{"a text column answers LIKE", "species LIKE 'Acer%'", []int64{2}},
		{"a box in WGS84 selects the tree in it, in Stereo 70", boxAround(at(1100, 100)), []int64{2}},
		{"a box where no tree stands selects none", boxAround(at(600, 600)), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := cql2.Parse(c.filter)
			if err != nil {
				t.Fatal(err)
			}
			f, err := cql2.Check(e, q)
			if err != nil {
				t.Fatal(err)
			}
			fs, n, err := s.Features(ctx, "trees", f, math.MinInt64, 10)
			if err != nil {
				t.Fatalf("features where %s: %v", c.filter, err)
			}
			var ids []int64
			for _, f := range fs {
				ids = append(ids, f.ID)
			}
			if !slices.Equal(ids, c.want) || n != int64(len(c.want)) {
				t.Errorf("features where %s: %v (%d matched), want %v", c.filter, ids, n, c.want)
			}
		})
	}

	// The cursor pages: the first id above 1.
	page, _, err := s.Features(ctx, "trees", nil, 1, 10)
	if err != nil || len(page) != 1 || page[0].ID != 2 {
		t.Errorf("features after 1: %v, %v; want tree 2", page, err)
	}
	one, ok, err := s.Feature(ctx, "trees", 2)
	if err != nil || !ok || one.Props["species"] != "Acer platanoides" {
		t.Errorf("feature 2: %v, %v, %v", one, ok, err)
	}
	if _, ok, err := s.Feature(ctx, "trees", 3); err != nil || ok {
		t.Errorf("feature 3, which is not in the table: found %v, %v", ok, err)
	}

	// A layer without an id column has no features to page through: tiles only.
	if _, _, err := s.Features(ctx, "areas", nil, math.MinInt64, 10); !errors.Is(err, ErrNoFeatureIDs) {
		t.Errorf("features of a layer without an id column: %v, want ErrNoFeatureIDs", err)
	}
}

// boxAround is a CQL2 filter of a box of about 20 m around p.
func boxAround(p orb.Point) string {
	const d = 0.0002
	return fmt.Sprintf("S_INTERSECTS(geometry, BBOX(%v, %v, %v, %v))", p[0]-d, p[1]-d, p[0]+d, p[1]+d)
}
