package storetest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

var schemaSeq atomic.Int64

// Schema creates an empty schema of the calling test's own in the database at DATABASE_URL
// (other packages' tests share that database) and returns a URL whose search_path is it; the
// schema is dropped when the test ends. Without DATABASE_URL the test fails rather than
// skips: a green run must have exercised PostGIS.
func Schema(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		t.Fatal("DATABASE_URL is not set: token stores are tested against a real PostGIS. " +
			"Run `make test`, or `scripts/with-postgis.sh go test ./access/... ./cmd/...`.")
	}
	schema := fmt.Sprintf("citytwin_tokens_%d_%d", os.Getpid(), schemaSeq.Add(1))
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to DATABASE_URL: %v", err)
	}
	defer conn.Close(ctx)
	// PostGIS lives in public, shared by every schema; create it under the migrations' lock
	// (the key of layers/postgis's migrationLock), or the migration would install it here.
	if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(0x63697479_7477696e)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public")
		return err
	}); err != nil {
		t.Fatalf("create extension: %v", err)
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("DATABASE_URL must be a postgres:// URL for the tests: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String()
}
