package storetest

import (
	"testing"

	"github.com/citytwin/citytwin/internal/pgtest"
)

// Schema creates an empty schema of the calling test's own in the database at DATABASE_URL
// (other packages' tests share that database) and returns a URL whose search_path is it; the
// schema is dropped when the test ends.
func Schema(t testing.TB) string {
	t.Helper()
	u, _ := pgtest.Schema(t, "citytwin_tokens")
	return u
}
