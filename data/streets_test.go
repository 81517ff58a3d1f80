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

	"github.com/citytwin/citytwin/layers"
)

func TestStreetsOfATinyExtract(t *testing.T) {
	o := newTinyOSM()
	o.way(1, false, tags("highway", "residential", "name", "Rue A"), 0, 0, 100, 0)
	o.way(2, false, tags("highway", "footway"), 100, 0, 100, 50)
	o.way(3, false, tags("highway", "motorway"), 0, 10, 100, 10)
	o.way(4, false, tags("highway", "service", "access", "private"), 0, 20, 100, 20)
	o.way(5, false, tags("highway", "cycleway", "foot", "yes"), 0, 30, 100, 30)
	o.box(6, tags("building", "yes"), 10, 10, 20, 20)
	o.way(7, false, tags("highway", "path"), 0, 60, 50, 60, 100, 60, 150, 60, 200, 60)
	o.way(8, false, tags("highway", "construction", "construction", "primary"), 0, 70, 100, 70)
	o.derive(t) // sets the coordinates
	// The extract lacks the middle node of way 7: its two ends remain as two parts.
	o.d.coords.xy[mustFind(t, o, o.d.ways[7].Nodes[2].ID)] = [2]int32{missingCoord, missingCoord}

	c := &city{d: o.d}
	c.mapStreets()
	var ids, walkable []int64
	for _, f := range c.out {
		if f.Layer != StreetsLayer {
			t.Errorf("way %d is in layer %q, want %q", f.ID, f.Layer, StreetsLayer)
		}
		ids = append(ids, f.ID)
	}
	for _, f := range layers.WalkingNetwork(c.out) {
		walkable = append(walkable, f.ID)
	}
	if want := []int64{1, 2, 3, 4, 5, 7}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("streets %v, want %v (every highway but the one being built; not the building)", ids, want)
	}
	if want := []int64{1, 2, 5, 7}; !reflect.DeepEqual(walkable, want) {
		t.Fatalf("walking network %v, want %v (not the motorway nor the private service road)", walkable, want)
	}
	if want := map[string]any{"name": "Rue A", "kind": "residential", "foot": true, "derived": false}; !reflect.DeepEqual(c.out[0].Props, want) {
		t.Errorf("way 1 has properties %v, want %v", c.out[0].Props, want)
	}
	if c.out[2].Props["foot"] != false || c.out[2].Props["kind"] != "motorway" {
		t.Errorf("the motorway has properties %v, want kind motorway and foot false", c.out[2].Props)
	}
	mls, ok := c.out[5].Geometry.(orb.MultiLineString)
	if !ok || len(mls) != 2 || len(mls[0]) != 2 || len(mls[1]) != 2 {
		t.Fatalf("the cut way 7 is %#v, want two parts of two points", c.out[5].Geometry)
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

func TestDemoStreetsAreTheWalkableStreetsOfTheDemo(t *testing.T) {
	demo, err := Demo()
	if err != nil {
		t.Fatal(err)
	}
	streets, err := DemoStreets()
	if err != nil {
		t.Fatal(err)
	}
	all := 0
	for _, f := range demo {
		if f.Layer == StreetsLayer {
			all++
		}
	}
	if len(streets) < 1000 || len(streets) > all {
		t.Fatalf("the demo city has %d walkable ways of %d streets, want the streets of Monaco (over 1000)", len(streets), all)
	}
	for _, f := range streets {
		if f.Props["foot"] != true {
			t.Fatalf("street %d is in the walking network with foot = %v", f.ID, f.Props["foot"])
		}
	}
}

func TestFileStoreStreets(t *testing.T) {
	ctx := context.Background()
	t.Run("a directory without a streets file keeps no streets beside its layers", func(t *testing.T) {
		got, err := NewFileStore(t.TempDir()).Streets(ctx)
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
