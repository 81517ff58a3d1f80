package cql2

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"

	"github.com/citytwin/citytwin/internal/pgtest"
	"github.com/citytwin/citytwin/layers"
)

// weirdColumn is a field whose name holds a double quote, a semicolon and a comment.
const weirdColumn = `we"ird; --`

// featsLayer is the layer of the test table; owner is restricted and so not queryable.
var featsLayer = &layers.Layer{Name: "feats", Geometry: layers.Polygon, Fields: []layers.Field{
	{Name: "name", Type: layers.String},
	{Name: "use", Type: layers.String},
	{Name: "floors", Type: layers.Integer},
	{Name: "height_m", Type: layers.Number},
	{Name: "derived", Type: layers.Boolean},
	{Name: "tags", Type: layers.List},
	{Name: weirdColumn, Type: layers.String},
	{Name: "owner", Type: layers.String, Restricted: true},
}}

func square(x0, y0, x1, y1 float64) orb.Polygon {
	return orb.Polygon{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}
}

// feats are the features of the test table. Coordinates are multiples of 1/8, exact in
// binary, so that touching cases are exact in float64 as in PostGIS.
var feats = []layers.Feature{
	{ID: 1, Geometry: square(7, 43, 7.25, 43.25),
		Props:      map[string]any{"name": "Alpha", "use": "residential", "floors": int64(3), "height_m": 9.5, "derived": false, "tags": []string{"a", "b"}, weirdColumn: "v"},
		Restricted: map[string]any{"owner": "Secret"}},
	{ID: 2, Geometry: square(7.5, 43, 7.75, 43.25),
		Props: map[string]any{"name": "beta", "use": "office", "floors": int64(10), "height_m": 31.25, "derived": true}},
	// A square with a square hole [8.25, 8.75] x [43.25, 43.75]; floors missing.
	{ID: 3, Geometry: orb.Polygon{square(8, 43, 9, 44)[0], {{8.25, 43.25}, {8.25, 43.75}, {8.75, 43.75}, {8.75, 43.25}, {8.25, 43.25}}},
		Props: map[string]any{"name": "Gamma's", "use": "residential", "height_m": 12.0, "derived": false}},
	// A point inside feature 1; name and height missing.
	{ID: 4, Geometry: orb.Point{7.125, 43.125},
		Props: map[string]any{"use": "mixed", "floors": int64(5), "derived": false}},
	// A line; derived missing.
	{ID: 5, Geometry: orb.LineString{{9.5, 43}, {10, 43.5}},
		Props: map[string]any{"name": "Ω-tower", "use": "office", "floors": int64(0), "height_m": 0.0}},
	// Two squares; use missing.
	{ID: 6, Geometry: orb.MultiPolygon{square(7, 44, 7.25, 44.25), square(7.5, 44, 7.75, 44.25)},
		Props: map[string]any{"name": "a_b%c", "floors": int64(2), "height_m": 6.5, "derived": false}},
}

// selections are filters with the ids they select, worked out by hand from feats.
var selections = []struct {
	name, filter string
	want         []int64
}{
	// basic-cql2
	{"an integer equals", `floors = 3`, []int64{1}},
	{"not equal leaves NULL out", `floors <> 3`, []int64{2, 4, 5, 6}},
	{"less than", `floors < 5`, []int64{1, 5, 6}},                         // 3, 0, 2
	{"at most", `floors <= 5`, []int64{1, 4, 5, 6}},                       // 3, 5, 0, 2
	{"greater than", `floors > 5`, []int64{2}},                            // 10
	{"an integer at least a fraction", `floors >= 2.5`, []int64{1, 2, 4}}, // 3, 10, 5
	{"an integer never equals a fraction", `floors = 3.5`, nil},
	{"a number equals", `height_m = 31.25`, []int64{2}},
	{"a string with a quote", `name = 'Gamma''s'`, []int64{3}},
	// By code point 'A' (0x41), 'G' (0x47) and 'a' (0x61) are before 'b' (0x62) and 'Ω'
	// (0xCE 0xA9) after; a linguistic collation would put Gamma's after beta.
	{"strings order by code point", `name < 'beta'`, []int64{1, 3, 6}},
	{"strings order by code point the other way", `name >= 'b'`, []int64{2, 5}},
	{"a boolean equals", `derived = TRUE`, []int64{2}},
	{"a boolean differs, NULL left out", `derived <> TRUE`, []int64{1, 3, 4, 6}},
	{"NOT of a comparison leaves NULL out", `NOT (derived = TRUE)`, []int64{1, 3, 4, 6}},
	{"a missing string is NULL", `name IS NULL`, []int64{4}},
	{"a missing boolean is NULL", `derived IS NULL`, []int64{5}},
	{"IS NOT NULL", `floors IS NOT NULL`, []int64{1, 2, 4, 5, 6}},
	{"a list IS NULL", `tags IS NULL`, []int64{2, 3, 4, 5, 6}},
	// Feature 3 has floors NULL: residential AND unknown is unknown.
	{"AND with unknown", `use = 'residential' AND floors > 2`, []int64{1}},
	{"OR", `use = 'residential' OR floors > 8`, []int64{1, 2, 3}},
	// 1: NOT true; 2, 4, 5: NOT false; 3: NOT (true AND unknown) is unknown; 6: use NULL,
	// 2 > 2 false, so unknown AND false is false and NOT false is true.
	{"NOT of AND with unknown", `NOT (use = 'residential' AND floors > 2)`, []int64{2, 4, 5, 6}},
	// 3: floors NULL, 'Gamma''s' does not start with A: NOT (unknown OR false) is unknown.
	{"NOT of OR with unknown", `NOT (floors > 2 OR name LIKE 'A%')`, []int64{5, 6}},
	{"TRUE selects everything", `TRUE`, []int64{1, 2, 3, 4, 5, 6}},
	{"FALSE selects nothing", `FALSE`, nil},
	{"literals compared", `1 = 1 AND 'a' < 'b'`, []int64{1, 2, 3, 4, 5, 6}},
	{"a quoted property name with a quote, a semicolon and a comment", `"we""ird; --" = 'v'`, []int64{1}},
	// property-property
	{"two properties compared", `height_m > floors`, []int64{1, 2, 6}}, // 9.5>3, 31.25>10, 6.5>2; 0>0 no
	{"a property equals itself when not NULL", `floors = floors`, []int64{1, 2, 4, 5, 6}},
	// advanced-comparison-operators
	{"LIKE a prefix", `name LIKE 'A%'`, []int64{1}},
	{"LIKE anywhere", `name LIKE '%a%'`, []int64{1, 2, 3, 6}},
	{"LIKE one character", `name LIKE '_eta'`, []int64{2}},
	{"LIKE one character that is two bytes", `name LIKE '_-tower'`, []int64{5}},
	{"LIKE escaped wildcards", `name LIKE 'a\_b\%c'`, []int64{6}},
	{"LIKE an escaped wildcard does not match another character", `name LIKE 'Alph\_'`, nil},
	{"LIKE is case-sensitive", `name LIKE 'alpha'`, nil},
	{"NOT LIKE leaves NULL out", `name NOT LIKE '%a%'`, []int64{5}},
	{"BETWEEN includes its bounds", `floors BETWEEN 2 AND 5`, []int64{1, 4, 6}},
	{"NOT BETWEEN", `floors NOT BETWEEN 2 AND 5`, []int64{2, 5}},
	{"BETWEEN numbers", `height_m BETWEEN 6.5 AND 12`, []int64{1, 3, 6}},
	{"BETWEEN with the bounds reversed", `floors BETWEEN 5 AND 2`, nil},
	{"IN strings", `use IN ('office', 'mixed')`, []int64{2, 4, 5}},
	{"NOT IN leaves NULL out", `use NOT IN ('office', 'mixed')`, []int64{1, 3}},
	{"IN numbers", `floors IN (0, 10, 7.5)`, []int64{2, 5}},
	{"IN non-ASCII strings", `name IN ('Gamma''s', 'Ω-tower')`, []int64{3, 5}},
	// basic-spatial-functions
	{"a BBOX equal to a square and holding a point", `S_INTERSECTS(geometry, BBOX(7, 43, 7.25, 43.25))`, []int64{1, 4}},
	{"a BBOX touching two squares at a corner", `S_INTERSECTS(geometry, BBOX(7.25, 43.25, 7.5, 43.5))`, []int64{1, 2}},
	{"a point in a hole", `S_INTERSECTS(geometry, POINT(8.5 43.5))`, nil},
	{"a point on the ring of a hole", `S_INTERSECTS(geometry, POINT(8.25 43.5))`, []int64{3}},
	{"a point inside a polygon with a hole", `S_INTERSECTS(geometry, POINT(8.1 43.1))`, []int64{3}},
	{"NOT S_INTERSECTS", `NOT S_INTERSECTS(geometry, BBOX(7, 43, 7.25, 43.25))`, []int64{2, 3, 5, 6}},
	{"S_INTERSECTS and a comparison", `S_INTERSECTS(geometry, BBOX(6, 42, 10, 45)) AND floors > 2`, []int64{1, 2, 4}},
	// basic-spatial-functions-plus
	{"a polygon inside a hole", `S_INTERSECTS(geometry, POLYGON((8.375 43.375, 8.625 43.375, 8.625 43.625, 8.375 43.625, 8.375 43.375)))`, nil},
	{"a line across two squares and through a point", `S_INTERSECTS(geometry, LINESTRING(6.5 43.125, 7.875 43.125))`, []int64{1, 2, 4}},
	{"a line crossing a line", `S_INTERSECTS(geometry, LINESTRING(9.5 43.5, 10 43))`, []int64{5}},
	{"a multipoint", `S_INTERSECTS(geometry, MULTIPOINT((7.6 44.1), (0 0)))`, []int64{6}},
	// (7, 44.5)-(7.125, 44.25) ends on the top edge of feature 6; x = 9.75 from 43.25
	// starts on feature 5's line at (9.75, 43.25).
	{"a multilinestring touching", `S_INTERSECTS(geometry, MULTILINESTRING((7 44.5, 7.125 44.25), (9.75 43.25, 9.75 43.5)))`, []int64{5, 6}},
	{"a multipolygon touching corners", `S_INTERSECTS(geometry, MULTIPOLYGON(((6 42, 7 42, 7 43, 6 43, 6 42)), ((9 44, 9.5 44, 9.5 44.5, 9 44.5, 9 44))))`, []int64{1, 3}},
	{"a geometry collection", `S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(7.125 43.125), LINESTRING(9 43.5, 9.5 43.5)))`, []int64{1, 3, 4}},
	{"two geometry literals", `S_INTERSECTS(POINT(1 1), BBOX(0, 0, 2, 2))`, []int64{1, 2, 3, 4, 5, 6}},
	// Injection attempts stay literals.
	{"a quote and a statement in a string", `name = 'x''; DROP TABLE feats; --'`, nil},
	{"a tautology in a string", `name = 'Alpha'' OR ''1''=''1'`, nil},
	{"a comment in a string", `name = '/* */Alpha'`, nil},
	{"a statement in a LIKE pattern", `name LIKE '%''); DELETE FROM feats; --%'`, nil},
	{"a statement in a WKT string", `S_INTERSECTS(geometry, POINT(7.125 43.125)) OR name = ''', 4326)); DROP TABLE feats; --'`, []int64{1, 4}},
}

// createFeats makes the test table in a schema of the test's own and fills it with feats.
// The name column has a linguistic collation when the server has ICU, so that string
// order differs from code point order unless the SQL asks for "C".
func createFeats(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	dbURL, _ := pgtest.Schema(t, "cql2")
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	collate := ""
	var icu bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_collation WHERE collname = 'und-x-icu')`).Scan(&icu); err != nil {
		t.Fatal(err)
	}
	if icu {
		collate = ` COLLATE "und-x-icu"`
	} else {
		t.Log("no ICU collation: string order is tested under the database's own collation only")
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE feats (
		id bigint PRIMARY KEY, name text`+collate+`, use text, floors integer, height_m double precision,
		derived boolean, tags text[], `+pgx.Identifier{weirdColumn}.Sanitize()+` text,
		geom geometry(Geometry, 4326) NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, f := range feats {
		p := f.Props
		if _, err := conn.Exec(ctx, `INSERT INTO feats VALUES ($1, $2, $3, $4, $5, $6, $7, $8, ST_GeomFromText($9, 4326))`,
			f.ID, p["name"], p["use"], p["floors"], p["height_m"], p["derived"], p["tags"], p[weirdColumn], wkt.MarshalString(f.Geometry)); err != nil {
			t.Fatalf("insert feature %d: %v", f.ID, err)
		}
	}
	return conn
}

// selectSQL runs a filter's SQL after one argument of the query's own, so that the
// filter's parameters start at $2.
func selectSQL(t *testing.T, conn *pgx.Conn, f *Filter) []int64 {
	t.Helper()
	where, args, err := f.SQL(2, SQLOptions{})
	if err != nil {
		t.Fatalf("SQL(%s): %v", f, err)
	}
	rows, err := conn.Query(context.Background(), "SELECT id FROM feats WHERE id > $1 AND "+where+" ORDER BY id", append([]any{int64(0)}, args...)...)
	if err != nil {
		t.Fatalf("query of %s: %v\nWHERE %s", f, err, where)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatalf("query of %s: %v\nWHERE %s", f, err, where)
	}
	return ids
}

func selectMemory(f *Filter) []int64 {
	var ids []int64
	for _, ft := range feats {
		if f.Match(ft) {
			ids = append(ids, ft.ID)
		}
	}
	return ids
}

func TestMemoryAndPostGISSelectTheSameFeatures(t *testing.T) {
	conn := createFeats(t)
	q := QueryablesOf(featsLayer)
	for _, c := range selections {
		t.Run(c.name, func(t *testing.T) {
			e, err := Parse(c.filter)
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.filter, err)
			}
			f, err := Check(e, q)
			if err != nil {
				t.Fatalf("Check(%q): %v", c.filter, err)
			}
			if got := selectMemory(f); !slices.Equal(got, c.want) {
				t.Errorf("memory: %s selects %v, want %v", f, got, c.want)
			}
			if got := selectSQL(t, conn, f); !slices.Equal(got, c.want) {
				t.Errorf("PostGIS: %s selects %v, want %v", f, got, c.want)
			}
		})
	}
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM feats").Scan(&n); err != nil || n != len(feats) {
		t.Errorf("after the filters the table has %d rows (%v), want %d", n, err, len(feats))
	}
}

func TestSQLHoldsNoTextOfTheFilter(t *testing.T) {
	q := QueryablesOf(featsLayer)
	for _, c := range []struct{ filter, secret string }{
		{`name = 'x''; DROP TABLE feats; --'`, "DROP"},
		{`name LIKE '%/* c */%'`, "/*"},
		{`S_INTERSECTS(geometry, POINT(7.125 43.125))`, "7.125"},
		{`floors IN (1234, 5678)`, "1234"},
		{`S_INTERSECTS(geometry, BBOX(7.5, 43.5, 7.75, 43.75))`, "43.75"},
	} {
		e, err := Parse(c.filter)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Check(e, q)
		if err != nil {
			t.Fatal(err)
		}
		where, args, err := f.SQL(1, SQLOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(where, c.secret) {
			t.Errorf("SQL of %s holds %q: %s", c.filter, c.secret, where)
		}
		if len(args) == 0 {
			t.Errorf("SQL of %s has no parameters: %s", c.filter, where)
		}
	}
}

func TestSQLNumbersParametersFromTheFirstAndNamesTheGeometryColumn(t *testing.T) {
	e, err := Parse(`use = 'office' AND S_INTERSECTS(geometry, BBOX(7, 43, 8, 44)) AND name < 'b'`)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Check(e, QueryablesOf(featsLayer))
	if err != nil {
		t.Fatal(err)
	}
	where, args, err := f.SQL(6, SQLOptions{GeometryColumn: "the geom", SRID: 3857})
	if err != nil {
		t.Fatal(err)
	}
	want := `(("use" = $6::text) AND ST_Intersects("the geom", ST_Transform(ST_MakeEnvelope($7::double precision, $8::double precision, $9::double precision, $10::double precision, 4326), 3857)) AND ("name" COLLATE "C" < $11::text))`
	if where != want {
		t.Errorf("SQL:\n got %s\nwant %s", where, want)
	}
	if wantArgs := []any{"office", 7.0, 43.0, 8.0, 44.0, "b"}; !slices.Equal(args, wantArgs) {
		t.Errorf("args = %v, want %v", args, wantArgs)
	}
}

func TestInjectionInNamesIsAnUnknownProperty(t *testing.T) {
	q := QueryablesOf(featsLayer)
	for _, c := range []struct {
		filter string
		json   bool
	}{
		{`"name""; DROP TABLE feats; --" = 'x'`, false},
		{`"name" = 'x' OR "owner" = 'Secret'`, false},
		{`{"op": "=", "args": [{"property": "name\"; DROP TABLE feats; --"}, "x"]}`, true},
		{`{"op": "isNull", "args": [{"property": "geom"}]}`, true},
	} {
		var e Expr
		var err error
		if c.json {
			e, err = ParseJSON([]byte(c.filter))
		} else {
			e, err = Parse(c.filter)
		}
		if err != nil {
			t.Fatalf("parse %s: %v", c.filter, err)
		}
		if f, err := Check(e, q); err == nil || !strings.Contains(err.Error(), "unknown property") {
			t.Errorf("Check(%s) = %v, %v; want an unknown property", c.filter, f, err)
		}
	}
}
