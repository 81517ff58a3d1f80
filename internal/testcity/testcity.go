// Package testcity locates the real city data the tests read: the OpenStreetMap extract of
// Monaco kept in the repository beside the demo city it was converted into.
package testcity

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// MonacoPBF returns the absolute path of data/demo/monaco-latest.osm.pbf (© OpenStreetMap
// contributors, ODbL 1.0; see data/demo/LICENSE.md). The test fails, not skips, when the file
// is missing: every test that asks for it needs the real data.
func MonacoPBF(t testing.TB) string {
	t.Helper()
	path := filepath.Join(repoRoot(), "data", "demo", "monaco-latest.osm.pbf")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the Monaco extract is missing: %v", err)
	}
	return path
}

// repoRoot is found from this source file's own path, so the answer does not depend on the
// directory the test runs in.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
