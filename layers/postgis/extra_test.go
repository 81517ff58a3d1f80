package postgis

import (
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/layers"
)

// newExtraTables creates, in the test's schema, a table of trees in Stereo 70 (EPSG:31700,
// Romania's national projection) whose SRID is declared by the column, and a table of areas
// whose geometry column has no SRID constraint. It returns the schema's name.
func newExtraTables(t *testing.T, s *Store) string {
	t.Helper()
	ctx := testContext(t)
	var schema string
	if err := s.Pool().QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	tree1, tree2 := at(100, 100), at(1100, 100)
	_, err := s.Pool().Exec(ctx, `
		CREATE TABLE trees (gid bigint PRIMARY KEY, species text, height_m numeric(5,2), planted date,
			tags text[], secret text, geom geometry(Point, 31700));
		CREATE INDEX ON trees USING gist (geom);
		CREATE TABLE areas (code text, name text, geom geometry);
		CREATE VIEW tall_trees AS SELECT gid, species, geom FROM trees WHERE height_m > 10;`)
	if err != nil {
		t.Fatalf("create tables: %v", err)
	}
	_, err = s.Pool().Exec(ctx, `
		INSERT INTO trees VALUES
			(1, 'Tilia cordata', 12.5, '2001-04-01', '{old,listed}', 'x', ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 4326), 31700)),
			(2, 'Acer platanoides', 6, NULL, NULL, 'y', ST_Transform(ST_SetSRID(ST_MakePoint($3, $4), 4326), 31700))`,
		tree1[0], tree1[1], tree2[0], tree2[1])
	if err != nil {
		t.Fatalf("insert trees: %v", err)
	}
	_, err = s.Pool().Exec(ctx, `INSERT INTO areas VALUES ('A1', 'Centre',
		ST_SetSRID(ST_Transform(ST_Buffer(ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, 50)::geometry, 31700), 0))`,
		tree1[0], tree1[1])
	if err != nil {
		t.Fatalf("insert areas: %v", err)
	}
	return schema
}

func treesLayer(schema string) *layers.Extra {
	return &layers.Extra{
		Layer:          layers.Layer{Name: "trees", Title: "Street trees", MinZoom: 12, MaxZoom: 22},
		Table:          schema + ".trees",
		GeometryColumn: "geom", IDColumn: "gid",
		Columns:     []string{"species", "height_m", "planted", "tags"},
		Attribution: "City tree register",
	}
}

func TestExtraLayerTilesFromStereo70(t *testing.T) {
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
	if trees.SRID != 31700 || trees.Geometry != layers.Point || trees.Features != 2 {
		t.Errorf("trees resolved as SRID %d, %s, %d features; want 31700, Point, 2", trees.SRID, trees.Geometry, trees.Features)
	}
	wantTypes := map[string]layers.FieldType{"species": layers.String, "height_m": layers.Number, "planted": layers.String, "tags": layers.List}
	for _, f := range trees.Fields {
		if wantTypes[f.Name] != f.Type {
			t.Errorf("field %s is %s, want %s", f.Name, f.Type, wantTypes[f.Name])
		}
	}
	tree1 := at(100, 100)
	if !trees.Bounds.Contains(tree1) || trees.Bounds.Max[0]-trees.Bounds.Min[0] > 0.02 {
		t.Errorf("trees' bounds %v should hold tree 1 at %v and span about 1 km", trees.Bounds, tree1)
	}
	if _, err := s.Import(ctx, []layers.Feature{{Layer: "buildings", ID: 7, Geometry: square(90, 90, 20), Props: map[string]any{"use": "residential"}}}); err != nil {
		t.Fatal(err)
	}

	const z = 16
	tile := maptile.At(tree1, z)
	base, err := layers.ParseList("buildings")
	if err != nil {
		t.Fatal(err)
	}
	ls := append(base, &trees.Layer, &areas.Layer)
	data, err := s.Tile(ctx, tile, ls)
	if err != nil {
		t.Fatalf("tile: %v", err)
	}
	dec, err := mvt.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]any{}
	for _, l := range dec {
		for _, f := range l.Features {
			got[l.Name] = append(got[l.Name], f.ID)
		}
	}
	if len(got["buildings"]) != 1 || len(got["trees"]) != 1 || got["trees"][0] != 1.0 || len(got["areas"]) != 1 {
		t.Fatalf("tile %v holds ids %v; want building 7, tree 1 (tree 2 is 1 km east) and an area", tile, got)
	}
	dec.ProjectToWGS84(tile)
	for _, l := range dec {
		switch l.Name {
		case "trees":
			f := l.Features[0]
			wantProps := map[string]any{"species": "Tilia cordata", "height_m": 12.5, "planted": "2001-04-01", "tags": "old,listed"}
			for k, v := range wantProps {
				if f.Properties[k] != v {
					t.Errorf("tree property %s = %v (%T), want %v", k, f.Properties[k], f.Properties[k], v)
				}
			}
			if _, ok := f.Properties["secret"]; ok || len(f.Properties) != len(wantProps) {
				t.Errorf("tree properties %v: want exactly the configured fields", f.Properties)
			}
			// Stereo 70 -> Web Mercator must land where WGS84 -> Stereo 70 started: within a
			// pixel at zoom 16 (2.4 m, about 3e-5 degrees of longitude here).
			p := f.Geometry.(orb.Point)
			if math.Abs(p[0]-tree1[0]) > 3e-5 || math.Abs(p[1]-tree1[1]) > 3e-5 {
				t.Errorf("tree 1 drawn at %v, want %v", p, tree1)
			}
		case "areas":
			if len(l.Features) != 1 || l.Features[0].Properties["name"] != "Centre" || l.Features[0].ID != nil {
				t.Errorf("areas layer %+v: want one feature named Centre without an id", l.Features)
			}
		}
	}

	// Zoom range: below minzoom 12 the trees are left out.
	low, err := s.Tile(ctx, maptile.At(tree1, 11), []*layers.Layer{&trees.Layer})
	if err != nil || len(low) != 0 {
		t.Errorf("trees at zoom 11: %d bytes, %v; want none", len(low), err)
	}
}

func TestExtraLayerErrorsNameWhatIsWrong(t *testing.T) {
	s := newStore(t)
	ctx := testContext(t)
	schema := newExtraTables(t, s)
	cases := []struct {
		name string
		edit func(e *layers.Extra)
		want string
	}{
		{"an unknown table", func(e *layers.Extra) { e.Table = schema + ".treez" }, "no such table or view"},
		{"an unknown schema", func(e *layers.Extra) { e.Table = "nowhere.trees" }, "no such table or view"},
		{"a quote in the table name is a name, not SQL", func(e *layers.Extra) { e.Table = schema + `.trees"; DROP TABLE trees; --` }, "no such table or view"},
		{"an unknown geometry column", func(e *layers.Extra) { e.GeometryColumn = "the_geom" }, `geometry_column: table ` + schema + `.trees has no column "the_geom"`},
		{"a geometry column that is not one", func(e *layers.Extra) { e.GeometryColumn = "secret" }, "not geometry"},
		{"an unknown field", func(e *layers.Extra) { e.Columns = []string{"species", "hieght_m"} }, `fields[1]: table ` + schema + `.trees has no column "hieght_m"`},
		{"a text id column", func(e *layers.Extra) { e.IDColumn = "species" }, "id_column"},
		{"an SRID other than the column's", func(e *layers.Extra) { e.SRID = 2154 }, "srid: configured 2154, but column geom"},
		{"an unconstrained geometry without srid", func(e *layers.Extra) { e.Table = schema + ".areas"; e.IDColumn = ""; e.Columns = []string{"name"} }, "set srid"},
		{"a base layer's name", func(e *layers.Extra) { e.Name = "buildings" }, "base layer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := treesLayer(schema)
			c.edit(e)
			err := s.ResolveExtras(ctx, []*layers.Extra{e})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
	var n int
	if err := s.Pool().QueryRow(ctx, "SELECT count(*) FROM trees").Scan(&n); err != nil || n != 2 {
		t.Fatalf("trees after the bad definitions: %d rows, %v", n, err)
	}
	// A view is published like a table; geometry_columns gives its SRID and type.
	v := treesLayer(schema)
	v.Name, v.Table, v.Columns = "tall_trees", schema+".tall_trees", []string{"species"}
	if err := s.ResolveExtras(ctx, []*layers.Extra{v}); err != nil {
		t.Fatalf("view: %v", err)
	}
	if v.Features != 1 || v.SRID != 31700 {
		t.Errorf("view: %d features in SRID %d, want 1 in 31700", v.Features, v.SRID)
	}
}

func TestExtraLayersNeverPublishPersonalData(t *testing.T) {
	s := newStore(t)
	ctx := testContext(t)
	var schema string
	if err := s.Pool().QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	// Both would resolve but for the rule: parcels_private given a geometry, and a view of
	// the parcels with their owners.
	_, err := s.Pool().Exec(ctx, `
		ALTER TABLE parcels_private ADD COLUMN geom geometry(Point, 4326);
		CREATE VIEW parcel_owners AS
			SELECT p.id, p.cad_number, pp.owner_name, pp.land_book AS "Land_Book", p.geom
			FROM parcels p JOIN parcels_private pp ON pp.parcel_id = p.id;`)
	if err != nil {
		t.Fatal(err)
	}
	owners := func(cols ...string) *layers.Extra {
		return &layers.Extra{Layer: layers.Layer{Name: "owners", MinZoom: 15, MaxZoom: 22},
			Table: schema + ".parcel_owners", GeometryColumn: "geom", IDColumn: "id", Columns: cols}
	}
	cases := []struct {
		name  string
		layer *layers.Extra
		want  string
	}{
		{"the table of parcels' personal data is refused",
			&layers.Extra{Layer: layers.Layer{Name: "private", MaxZoom: 22}, Table: schema + ".parcels_private", GeometryColumn: "geom", Columns: []string{"parcel_id"}},
			"table: " + schema + ".parcels_private holds the restricted fields of parcels"},
		{"an owner's name published from a view is refused", owners("cad_number", "owner_name"),
			`fields[1]: column "owner_name" is named as a restricted field of parcels`},
		{"a land book number under another case is refused", owners("Land_Book"),
			`fields[0]: column "Land_Book" is named as a restricted field of parcels`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.ResolveExtras(ctx, []*layers.Extra{c.layer})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "extra layer "+c.layer.Name) {
				t.Fatalf("got %v, want an error naming the layer and containing %q", err, c.want)
			}
		})
	}
	if err := s.ResolveExtras(ctx, []*layers.Extra{owners("cad_number")}); err != nil {
		t.Fatalf("the same view publishing public columns only: %v", err)
	}
}
