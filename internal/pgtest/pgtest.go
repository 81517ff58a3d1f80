// Package pgtest gives tests a PostgreSQL schema of their own in the PostGIS of the test
// command (scripts/with-postgis.sh exports DATABASE_URL), so that test packages running at
// the same time on one database never see each other's tables.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// migrationLock is the advisory lock key of layers/postgis's migrations ("citytwin" in
// ASCII): PostGIS is created under it so that a migration running beside us does not
// install it into a test schema.
const migrationLock = int64(0x63697479_7477696e)

var seq atomic.Int64

// DatabaseURL is the test database's address. Without DATABASE_URL the test fails rather
// than skips: a green run must have exercised PostGIS.
func DatabaseURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		tb.Fatal("DATABASE_URL is not set: this test runs against a real PostGIS. " +
			"Run scripts/test.sh, or the test through `scripts/with-postgis.sh go test ./...`, which start a throwaway one.")
	}
	return u
}

// Create makes an empty schema named after prefix and returns the database URL that works in
// it (search_path = schema, public), its name, and the function that drops it.
func Create(tb testing.TB, prefix string) (dbURL, schema string, drop func() error) {
	tb.Helper()
	ctx := context.Background()
	base := DatabaseURL(tb)
	schema = fmt.Sprintf("%s_%d_%d", prefix, os.Getpid(), seq.Add(1))
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to DATABASE_URL: %v", err)
	}
	defer conn.Close(ctx)
	// PostGIS belongs in public, shared by every schema.
	if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public")
		return err
	}); err != nil {
		tb.Fatalf("create extension postgis: %v", err)
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("DATABASE_URL must be a postgres:// URL for the tests: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	drop = func() error {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil
	}
	return u.String(), schema, drop
}

// Schema is Create with the schema dropped when the test ends.
func Schema(tb testing.TB, prefix string) (dbURL, schema string) {
	tb.Helper()
	dbURL, schema, drop := Create(tb, prefix)
	tb.Cleanup(func() {
		if err := drop(); err != nil {
			tb.Error(err)
		}
	})
	return dbURL, schema
}
