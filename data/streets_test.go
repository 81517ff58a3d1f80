package data

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/osm"

	"github.com/citytwin/citytwin/internal/testcity"
)

func TestDemoStreetsMatchAFreshConversion(t *testing.T) {
	f, err := os.Open(testcity.MonacoPBF(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, fresh, err := ReadOSMWithStreets(f)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := WriteStreets(&want, fresh); err != nil {
		t.Fatal(err)
	}
	embedded, err := gunzipAll(demoStreetsGzip)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(embedded, want.Bytes()) {
		t.Fatalf("the embedded demo streets differ from a fresh conversion of the Monaco extract (%d fresh ways); run go generate ./data", len(fresh))
	}
	demo, err := DemoStreets()
	if err != nil {
		t.Fatal(err)
	}
	if len(demo) < 1000 {
		t.Fatalf("the demo city has %d walkable ways, want the streets of Monaco (over 1000)", len(demo))
	}
}

func TestWalkableWaysOfATinyExtract(t *testing.T) {
	o := newTinyOSM()
	o.way(1, false, tags("highway", "residential", "name", "Rue A"), 0, 0, 100, 0)
	o.way(2, false, tags("highway", "footway"), 100, 0, 100, 50)
	o.way(3, false, tags("highway", "motorway"), 0, 10, 100, 10)
	o.way(4, false, tags("highway", "service", "access", "private"), 0, 20, 100, 20)
	o.way(5, false, tags("highway", "cycleway", "foot", "yes"), 0, 30, 100, 30)
	o.box(6, tags("building", "yes"), 10, 10, 20, 20)
	o.way(7, false, tags("highway", "path"), 0, 60, 50, 60, 100, 60, 150, 60, 200, 60)
	o.derive(t) // sets the coordinates
	// The extract lacks the middle node of way 7: its two ends remain as two parts.
	o.d.coords.xy[mustFind(t, o, o.d.ways[7].Nodes[2].ID)] = [2]int32{missingCoord, missingCoord}

	got := o.d.walkableWays()
	var ids []int64
	for _, f := range got {
		if f.Layer != StreetsLayer {
			t.Errorf("way %d is in layer %q, want %q", f.ID, f.Layer, StreetsLayer)
		}
		ids = append(ids, f.ID)
	}
	if want := []int64{1, 2, 5, 7}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("walkable ways %v, want %v (not the motorway, the private service road or the building)", ids, want)
	}
	if got[0].Props["name"] != "Rue A" || got[0].Props["highway"] != "residential" {
		t.Errorf("way 1 has properties %v, want name Rue A and highway residential", got[0].Props)
	}
	mls, ok := got[3].Geometry.(orb.MultiLineString)
	if !ok || len(mls) != 2 || len(mls[0]) != 2 || len(mls[1]) != 2 {
		t.Fatalf("the cut way 7 is %#v, want two parts of two points", got[3].Geometry)
	}
}

func mustFind(t *testing.T, o *tinyOSM, id osm.NodeID) int {
	t.Helper()
	i, ok := o.d.coords.find(id)
	if !ok {
		t.Fatalf("node %d has no coordinates", id)
	}
	return i
}

func TestFileStoreStreets(t *testing.T) {
	ctx := context.Background()
	t.Run("a directory without imported layers serves the demo city's streets", func(t *testing.T) {
		got, err := NewFileStore(t.TempDir()).Streets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		demo, _ := DemoStreets()
		if len(got) == 0 || len(got) != len(demo) {
			t.Fatalf("got %d streets, want the demo's %d", len(got), len(demo))
		}
	})
	t.Run("imported layers without a streets file have no streets", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "layers.ndjson"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := NewFileStore(dir).Streets(ctx)
		if err != nil || got != nil {
			t.Fatalf("got %d streets, %v; want none", len(got), err)
		}
	})
	t.Run("a streets file is read back as written", func(t *testing.T) {
		dir := t.TempDir()
		demo, _ := DemoStreets()
		var buf bytes.Buffer
		if err := WriteStreets(&buf, demo[:3]); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "layers.ndjson"), nil, 0o644)
		os.WriteFile(filepath.Join(dir, "streets.ndjson"), buf.Bytes(), 0o644)
		got, err := NewFileStore(dir).Streets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, demo[:3]) {
			t.Fatalf("read back %v, want %v", got, demo[:3])
		}
	})
}
