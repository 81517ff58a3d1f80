package postgis

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/citytwin/citytwin/layers"
)

func TestMigrateTwiceAppliesNothingTheSecondTime(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t) // migrated once
	var before []string
	if err := pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, "SELECT version || ' ' || applied_at FROM schema_migrations ORDER BY version")
		var err error
		before, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != len(ms) {
		t.Fatalf("schema_migrations has %d rows, want one per migration (%d)", len(before), len(ms))
	}
	if err := Migrate(ctx, s.Pool()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	rows, _ := s.Pool().Query(ctx, "SELECT version || ' ' || applied_at FROM schema_migrations ORDER BY version")
	after, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("second Migrate changed schema_migrations:\nbefore %q\nafter  %q", before, after)
	}
}

func TestMigrateFromTwoServersAtOnce(t *testing.T) {
	ctx := testContext(t)
	u := newSchema(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(ctx, u)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			errs[i] = Migrate(ctx, s.Pool())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("server %d: %v", i, err)
		}
	}
}

func TestSchemaMatchesCatalog(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t)
	// Column types as format_type prints them.
	want := map[layers.FieldType]string{
		layers.String: "text", layers.Number: "double precision", layers.Integer: "integer",
		layers.Boolean: "boolean", layers.List: "text[]",
	}
	for _, tb := range tables {
		name := tb.layer.Name
		rows, _ := s.Pool().Query(ctx, `
			SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
			FROM pg_attribute a
			WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`, name)
		type col struct {
			typ     string
			notNull bool
		}
		cols := map[string]col{}
		var c, typ string
		var nn bool
		if _, err := pgx.ForEachRow(rows, []any{&c, &typ, &nn}, func() error {
			cols[c] = col{typ, nn}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		expect := map[string]col{
			"id":        {"bigint", true},
			"geom":      {"geometry(Geometry,4326)", true},
			"geom_3857": {"geometry(Geometry,3857)", false},
		}
		for _, f := range tb.public {
			expect[f.Name] = col{want[f.Type], f.Name == derivedColumn}
		}
		for n, w := range expect {
			if got, ok := cols[n]; !ok {
				t.Errorf("%s has no column %s", name, n)
			} else if got != w {
				t.Errorf("%s.%s is %+v, want %+v", name, n, got, w)
			}
		}
		for n := range cols {
			if _, ok := expect[n]; !ok {
				t.Errorf("%s has column %s, which the catalog does not know (or is restricted)", name, n)
			}
		}
	}
}

func TestSchemaHasKeysIndexesAndChecks(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t)
	for _, tb := range tables {
		name := tb.layer.Name
		var pk string
		if err := s.Pool().QueryRow(ctx, `
			SELECT pg_get_constraintdef(oid) FROM pg_constraint
			WHERE conrelid = to_regclass($1) AND contype = 'p'`, name).Scan(&pk); err != nil {
			t.Errorf("%s: primary key: %v", name, err)
		} else if pk != "PRIMARY KEY (id)" {
			t.Errorf("%s: primary key is %s", name, pk)
		}
		for _, col := range []string{"geom", "geom_3857"} {
			var n int
			if err := s.Pool().QueryRow(ctx, `
				SELECT count(*) FROM pg_indexes
				WHERE schemaname = current_schema() AND tablename = $1 AND indexdef LIKE '%USING gist (' || $2 || ')'`,
				name, col).Scan(&n); err != nil || n != 1 {
				t.Errorf("%s: %d GiST indexes on %s (err %v), want 1", name, n, col, err)
			}
		}
		rows, _ := s.Pool().Query(ctx, `
			SELECT pg_get_constraintdef(oid) FROM pg_constraint
			WHERE conrelid = to_regclass($1) AND contype = 'c'`, name)
		checks, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		all := strings.Join(checks, "\n")
		if !strings.Contains(all, "st_geometrytype(geom)") {
			t.Errorf("%s: no check on the geometry type among %q", name, checks)
		}
		for _, f := range tb.public {
			if (f.Max > f.Min || len(f.Enum) > 0) && !strings.Contains(all, f.Name) {
				t.Errorf("%s.%s has a range or enum in the catalog but no CHECK", name, f.Name)
			}
		}
	}
}

func TestChecksRefuseValuesOutsideTheCatalog(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t)
	poly := "ST_GeomFromText('POLYGON((23.59 46.77, 23.5901 46.77, 23.5901 46.7701, 23.59 46.7701, 23.59 46.77))', 4326)"
	tests := []struct {
		name, sql string
	}{
		{"floors over 200", "INSERT INTO buildings (id, floors, geom) VALUES (1, 201, " + poly + ")"},
		{"negative height", "INSERT INTO buildings (id, height_m, geom) VALUES (1, -1, " + poly + ")"},
		{"height NaN", "INSERT INTO buildings (id, height_m, geom) VALUES (1, 'NaN', " + poly + ")"},
		{"use outside the enum", "INSERT INTO buildings (id, use, geom) VALUES (1, 'castle', " + poly + ")"},
		{"allowed use outside the enum", "INSERT INTO zoning (id, allowed_uses, geom) VALUES (1, '{residential,castle}', " + poly + ")"},
		{"a point in a polygon layer", "INSERT INTO buildings (id, geom) VALUES (1, ST_SetSRID(ST_MakePoint(23.59, 46.77), 4326))"},
		{"a polygon in a point layer", "INSERT INTO facilities (id, geom) VALUES (1, " + poly + ")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Pool().Exec(ctx, tt.sql)
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "23514" {
				t.Fatalf("got %v, want a check violation (23514)", err)
			}
		})
	}
	// The same statements with good values pass, so the checks above failed for the value.
	if _, err := s.Pool().Exec(ctx, "INSERT INTO buildings (id, floors, use, geom) VALUES (1, 200, 'office', "+poly+")"); err != nil {
		t.Fatalf("a good building: %v", err)
	}
	var g3857 string
	if err := s.Pool().QueryRow(ctx, "SELECT ST_AsText(ST_SnapToGrid(geom_3857, 1)) FROM buildings WHERE id = 1").Scan(&g3857); err != nil {
		t.Fatal(err)
	}
	// 23.59° east is 6378137 · 23.59 · π/180 = 2626026.8 m.
	if !strings.HasPrefix(g3857, "POLYGON((2626027 ") {
		t.Errorf("geom_3857 = %s, want the polygon in Web Mercator", g3857)
	}
}

func TestRestrictedFieldsAreInTheirOwnTable(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t)
	for _, tb := range tables {
		for _, f := range tb.layer.Fields {
			if !f.Restricted {
				continue
			}
			var inLayer, inPrivate bool
			q := "SELECT EXISTS (SELECT FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2)"
			if err := s.Pool().QueryRow(ctx, q, tb.layer.Name, f.Name).Scan(&inLayer); err != nil {
				t.Fatal(err)
			}
			if err := s.Pool().QueryRow(ctx, q, privateTable, f.Name).Scan(&inPrivate); err != nil {
				t.Fatal(err)
			}
			if inLayer || !inPrivate {
				t.Errorf("%s.%s: in the layer table %v, in %s %v; want only the latter", tb.layer.Name, f.Name, inLayer, privateTable, inPrivate)
			}
		}
	}
}

func TestOpenRefusesABadURL(t *testing.T) {
	_, err := Open(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
}
