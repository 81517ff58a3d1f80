package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/layers/postgis"
)

// TestExtraLayersAreOGCCollectionsWithItems publishes two of a city's own tables beside the
// demo city on PostGIS (extra layers exist in PostGIS mode only): trees, with an id column
// and a column it does not publish (a phone number), and bus lanes without an id column.
// Both are collections with tiles; the trees' features are items, paged, filtered and named
// by id, with the published columns only; the lanes, which have no ids, have no items.
func TestExtraLayersAreOGCCollectionsWithItems(t *testing.T) {
	f := newDemoFixture(t, "PostGIS")
	store := f.srv.opts.TileSource.(*postgis.Store)
	ctx := context.Background()
	var schema string
	if err := store.Pool().QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	c := f.city.Bound.Center()
	for _, stmt := range []string{
		`CREATE TABLE trees (gid bigint PRIMARY KEY, species text, height_m numeric, keeper_phone text, geom geometry(Point, 4326))`,
		`INSERT INTO trees
		 SELECT i, CASE WHEN i % 2 = 0 THEN 'Platanus' ELSE 'Tilia' END, 4 * i, '+377 555 0' || i,
		        ST_SetSRID(ST_MakePoint($1::float8 + 0.0005 * i, $2::float8), 4326)
		 FROM generate_series(1, 5) AS i`,
		`CREATE TABLE bus_lanes (name text, geom geometry(LineString, 4326))`,
		`INSERT INTO bus_lanes VALUES ('Quai', ST_SetSRID(ST_MakeLine(ST_MakePoint($1::float8, $2::float8), ST_MakePoint($1::float8 + 0.003, $2::float8)), 4326))`,
	} {
		var args []any
		if strings.Contains(stmt, "$1") {
			args = []any{c[0], c[1]}
		}
		if _, err := store.Pool().Exec(ctx, stmt, args...); err != nil {
			t.Fatalf("create the city's tables: %v", err)
		}
	}
	trees := &layers.Extra{
		Layer: layers.Layer{Name: "trees", Title: "Street trees", MinZoom: 12, MaxZoom: 22},
		Table: schema + ".trees", GeometryColumn: "geom", IDColumn: "gid",
		Columns: []string{"species", "height_m"}, Attribution: "City tree register",
	}
	lanes := &layers.Extra{
		Layer: layers.Layer{Name: "bus_lanes", Title: "Bus lanes", MinZoom: 12, MaxZoom: 22},
		Table: schema + ".bus_lanes", GeometryColumn: "geom", Columns: []string{"name"},
	}
	if err := store.ResolveExtras(ctx, []*layers.Extra{trees, lanes}); err != nil {
		t.Fatalf("resolve the extra layers: %v", err)
	}
	pub, err := layers.NewPublished([]*layers.Extra{trees, lanes})
	if err != nil {
		t.Fatal(err)
	}
	opts := f.srv.opts
	opts.Published = pub
	opts.Metrics = nil // the first server registered its own
	f.srv = New(opts)
	f.h = f.srv.Handler()

	get := func(path string, want int) []byte {
		t.Helper()
		a := f.do(t, "GET", path, "", "", "")
		if a.status != want {
			t.Fatalf("GET %s: %d, want %d: %.300s", path, a.status, want, a.body)
		}
		// A refusal names the parameter it was sent; no answer holds a phone number.
		if (want == http.StatusOK && strings.Contains(string(a.body), "keeper_phone")) || strings.Contains(string(a.body), "555") {
			t.Errorf("GET %s shows the unpublished column keeper_phone: %.300s", path, a.body)
		}
		return a.body
	}

	var list struct {
		Collections []ogcCollectionDoc `json:"collections"`
	}
	if err := json.Unmarshal(get("/ogc/collections", http.StatusOK), &list); err != nil {
		t.Fatal(err)
	}
	byID := map[string]ogcCollectionDoc{}
	var ids []string
	for _, c := range list.Collections {
		byID[c.ID] = c
		ids = append(ids, c.ID)
	}
	// Every base layer, then the extra layers in configuration order.
	if want := append(layers.Names(), "trees", "bus_lanes"); !slices.Equal(ids, want) {
		t.Errorf("collections %v, want %v", ids, want)
	}
	rels := func(c ogcCollectionDoc) []string {
		var out []string
		for _, l := range c.Links {
			out = append(out, l.Rel)
		}
		return out
	}
	if tc := byID["trees"]; !slices.Contains(rels(tc), "items") || !slices.Contains(rels(tc), relTilesetsVector) || tc.Attribution != "City tree register" {
		t.Errorf("the trees' collection: links %v, attribution %q; want items and tiles, the register's attribution", rels(tc), tc.Attribution)
	}
	if lc := byID["bus_lanes"]; slices.Contains(rels(lc), "items") || !slices.Contains(rels(lc), relTilesetsVector) {
		t.Errorf("the bus lanes' collection, without ids: links %v; want tiles and no items", rels(lc))
	}
	// The trees' extent is theirs, measured at start: from the centre to 5 × 0.0005° east.
	var one ogcCollectionDoc
	if err := json.Unmarshal(get("/ogc/collections/trees", http.StatusOK), &one); err != nil {
		t.Fatal(err)
	}
	bbox := one.Extent["spatial"].(map[string]any)["bbox"].([]any)[0].([]any)
	if w, e := bbox[0].(float64), bbox[2].(float64); w > c[0]+0.0005+1e-6 || e < c[0]+0.0025-1e-6 || e-w > 0.0021 {
		t.Errorf("the trees' extent %v, want from %v to %v in longitude", bbox, c[0]+0.0005, c[0]+0.0025)
	}

	// Every tree, two a page: 5 features in 3 pages, the published columns only.
	all, matched, pages := f.ogcAll(t, "/ogc/collections/trees/items?limit=2")
	if len(all) != 5 || matched != 5 || pages != 3 {
		t.Errorf("the trees' items: %d features, numberMatched %d, %d pages; want 5, 5, 3", len(all), matched, pages)
	}
	// Tree 4: an even id is a plane tree, 4 × 4 = 16 m high.
	if want := map[string]any{"species": "Platanus", "height_m": 16.0}; fmt.Sprint(all[4]) != fmt.Sprint(want) {
		t.Errorf("tree 4's properties %v, want %v", all[4], want)
	}
	for _, c := range []struct {
		name, query string
		want        []int64
	}{
		{"a property parameter", "species=Tilia", []int64{1, 3, 5}},
		{"a CQL2 filter on a number", "filter=" + url.QueryEscape("height_m > 10"), []int64{3, 4, 5}},
		{"a bbox around the first two trees", fmt.Sprintf("bbox=%v,%v,%v,%v", c[0]+0.0004, c[1]-0.0001, c[0]+0.0011, c[1]+0.0001), []int64{1, 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _, _ := f.ogcAll(t, "/ogc/collections/trees/items?"+c.query)
			if ids := sortedIDs(got); !slices.Equal(ids, c.want) {
				t.Errorf("items?%s: %v, want %v", c.query, ids, c.want)
			}
		})
	}
	var feature ogcFeature
	if err := json.Unmarshal(get("/ogc/collections/trees/items/2", http.StatusOK), &feature); err != nil {
		t.Fatal(err)
	}
	if feature.ID != 2 || feature.Properties["species"] != "Platanus" || feature.Geometry == nil || feature.Geometry.Type != "Point" {
		t.Errorf("tree 2: %+v", feature)
	}
	get("/ogc/collections/trees/items/99", http.StatusNotFound)
	var q struct {
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(get("/ogc/collections/trees/queryables", http.StatusOK), &q); err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range q.Properties {
		names = append(names, n)
	}
	slices.Sort(names)
	if want := []string{"geometry", "height_m", "species"}; !slices.Equal(names, want) {
		t.Errorf("the trees' queryables %v, want %v", names, want)
	}
	// The unpublished column is no queryable: an unknown parameter, a filter's unknown property.
	get("/ogc/collections/trees/items?keeper_phone=1", http.StatusBadRequest)
	get("/ogc/collections/trees/items?filter="+url.QueryEscape("keeper_phone IS NULL"), http.StatusBadRequest)

	// The bus lanes have no items, but their tiles are served as the collection's.
	get("/ogc/collections/bus_lanes/items", http.StatusNotFound)
	get("/ogc/collections/bus_lanes/tiles/WebMercatorQuad", http.StatusOK)
}
