package postgis

import (
	"testing"

	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/internal/testcity"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// The real extract, imported into PostGIS and into memory, gives the same counts per layer,
// every feature (street lines included) comes back from PostGIS into the memory model
// unchanged, and so does the walking network.
func TestMonacoInPostGISAndInMemoryMatch(t *testing.T) {
	ctx := testContext(t)
	features, err := data.ReadFile(testcity.MonacoPBF(t))
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
	// The walking network comes with the streets layer, from PostGIS as from memory.
	if n := len(loaded.Streets); n == 0 || n != len(memory.Streets) {
		t.Errorf("the model loaded from PostGIS has %d walkable streets, the one in memory %d", n, len(memory.Streets))
	}
	var out []layers.Feature
	for _, name := range layers.Names() {
		for _, it := range loaded.Layer(name).Items() {
			out = append(out, *it.Feature)
		}
	}
	assertSameFeatures(t, out, features)
}
