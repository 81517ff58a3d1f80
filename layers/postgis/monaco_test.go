package postgis

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// monacoPBF is the OpenStreetMap extract of Monaco in the shared data folder beside the
// repository; the test fails, not skips, when it is missing.
func monacoPBF(t testing.TB) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "data", "monaco", "monaco-latest.osm.pbf"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the Monaco extract is missing: %v (it lives in shared/data beside the repository)", err)
	}
	return path
}

// The real extract, imported into PostGIS and into memory, gives the same counts per layer,
// and every feature comes back from PostGIS into the memory model unchanged.
func TestMonacoInPostGISAndInMemoryMatch(t *testing.T) {
	ctx := testContext(t)
	features, err := data.ReadFile(monacoPBF(t))
	if err != nil {
		t.Fatalf("read Monaco: %v", err)
	}
	memory, err := spatial.NewCity(features)
	if err != nil {
		t.Fatalf("index Monaco in memory: %v", err)
	}

	s := newStore(t)
	if _, err := s.Import(ctx, features); err != nil {
		t.Fatalf("import Monaco: %v", err)
	}
	inDB, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inMemory := memory.Counts()
	for _, name := range layers.Names() {
		if inDB[name] != inMemory[name] {
			t.Errorf("%s: %d in PostGIS, %d in memory", name, inDB[name], inMemory[name])
		}
		if inMemory[name] == 0 {
			t.Errorf("%s: no feature from Monaco", name)
		}
	}

	loaded, err := spatial.Load(ctx, s)
	if err != nil {
		t.Fatalf("load the model from PostGIS: %v", err)
	}
	var out []layers.Feature
	for _, name := range layers.Names() {
		for _, it := range loaded.Layer(name).Items() {
			out = append(out, *it.Feature)
		}
	}
	assertSameFeatures(t, out, features)
}
