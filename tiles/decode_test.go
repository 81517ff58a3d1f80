package tiles

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/layers"
)

// repoRoot walks up from the test's directory to the module root.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// nodeDecoder returns the command line of the independent decoder, failing the test (not
// skipping it) when node or its modules are missing.
func nodeDecoder(t testing.TB) (node, script string) {
	t.Helper()
	root := repoRoot(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed: the independent tile decoder needs Node.js 20+ and its modules (run `npm ci --prefix e2e`)")
	}
	for _, m := range []string{"@mapbox/vector-tile", "pbf"} {
		if _, err := os.Stat(filepath.Join(root, "e2e", "node_modules", m, "package.json")); err != nil {
			t.Fatalf("the Node module %s is missing: run `npm ci --prefix e2e`", m)
		}
	}
	return node, filepath.Join(root, "e2e", "decode-tile.mjs")
}

type decodedTile struct {
	File   string `json:"file"`
	Layers map[string]struct {
		Version  int `json:"version"`
		Extent   int `json:"extent"`
		Features []struct {
			ID         *float64       `json:"id"`
			Type       int            `json:"type"`
			Properties map[string]any `json:"properties"`
			BBox       [4]float64     `json:"bbox"`
			Rings      []float64      `json:"rings"`
		} `json:"features"`
	} `json:"layers"`
}

// TestTilesDecodeWithAnIndependentDecoder writes tiles of every layer at several zooms, has
// @mapbox/vector-tile (MapLibre's own parser, in Node) read them, and checks what it read:
// extent 4096, version 2, the ids and field values of the source features with the right JSON
// types, geometry inside the buffered tile, outer rings first and turning the spec's way.
func TestTilesDecodeWithAnIndependentDecoder(t *testing.T) {
	node, script := nodeDecoder(t)
	for _, city := range testCities(t) {
		t.Run(city.name, func(t *testing.T) {
			c := newCity(t, city.features)
			src := NewMemorySource(citymodel.Fixed(c))
			byID := map[string]map[int64]*layers.Feature{}
			for i := range city.features {
				f := &city.features[i]
				if byID[f.Layer] == nil {
					byID[f.Layer] = map[int64]*layers.Feature{}
				}
				byID[f.Layer][f.ID] = f
			}

			dir := t.TempDir()
			var files []string
			want := map[string]map[string][]uint64{} // file → layer → ids, as orb reads them
			for z := maptile.Zoom(12); z <= 16; z++ {
				ts := coveringTiles(c.Bound, z)
				if len(ts) > 12 { // a sample across the city is enough
					step := len(ts) / 12
					var sample []maptile.Tile
					for i := 0; i < len(ts); i += step {
						sample = append(sample, ts[i])
					}
					ts = sample
				}
				for _, tile := range ts {
					b, err := src.Tile(context.Background(), tile, layers.All())
					if err != nil {
						t.Fatal(err)
					}
					if b == nil {
						continue
					}
					name := filepath.Join(dir, fmt.Sprintf("%d-%d-%d.mvt", tile.Z, tile.X, tile.Y))
					if err := os.WriteFile(name, b, 0o644); err != nil {
						t.Fatal(err)
					}
					files = append(files, name)
					want[name] = map[string][]uint64{}
					for ln, l := range decode(t, b) {
						want[name][ln] = ids(l)
					}
				}
			}
			if len(files) == 0 {
				t.Fatal("no tile to decode")
			}

			cmd := exec.Command(node, append([]string{script}, files...)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
			}
			sc := bufio.NewScanner(bytes.NewReader(out))
			sc.Buffer(nil, 64<<20)
			decoded, features := 0, 0
			for sc.Scan() {
				var d decodedTile
				if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
					t.Fatalf("decoder output: %v", err)
				}
				decoded++
				if len(d.Layers) != len(want[d.File]) {
					t.Errorf("%s: node read %d layers, orb %d", d.File, len(d.Layers), len(want[d.File]))
				}
				for ln, l := range d.Layers {
					cl, err := layers.Lookup(ln)
					if err != nil {
						t.Fatalf("%s: %v", d.File, err)
					}
					if l.Extent != Extent || l.Version != 2 {
						t.Errorf("%s %s: extent %d version %d", d.File, ln, l.Extent, l.Version)
					}
					var got []uint64
					for _, f := range l.Features {
						features++
						if f.ID == nil {
							t.Fatalf("%s %s: a feature without id", d.File, ln)
						}
						id := int64(*f.ID)
						got = append(got, uint64(id))
						src := byID[ln][id]
						if src == nil {
							t.Fatalf("%s %s: id %d is no feature of the layer", d.File, ln, id)
						}
						wantType := map[layers.GeometryType]int{layers.Point: 1, layers.LineString: 2, layers.Polygon: 3}[cl.Geometry]
						if f.Type != wantType {
							t.Errorf("%s %s %d: geometry type %d, want %d", d.File, ln, id, f.Type, wantType)
						}
						for i, v := range f.BBox {
							if v < -Buffer || v > Extent+Buffer {
								t.Errorf("%s %s %d: bbox[%d] = %v is outside [-64, 4160]", d.File, ln, id, i, v)
							}
						}
						if wantType == 3 && (len(f.Rings) == 0 || f.Rings[0] <= 0) {
							t.Errorf("%s %s %d: ring areas %v: the first ring must be an outer one (area > 0)", d.File, ln, id, f.Rings)
						}
						checkProperties(t, cl, src, f.Properties, fmt.Sprintf("%s %s %d", filepath.Base(d.File), ln, id))
					}
					if !slices.Equal(got, want[d.File][ln]) {
						t.Errorf("%s %s: node read ids %v, orb %v", d.File, ln, got, want[d.File][ln])
					}
				}
			}
			if decoded != len(files) {
				t.Fatalf("node decoded %d of %d tiles", decoded, len(files))
			}
			t.Logf("%d tiles, %d features decoded by @mapbox/vector-tile", decoded, features)
		})
	}
}

// checkProperties compares what the decoder read with the source feature's public fields:
// numbers as JSON numbers, booleans as booleans, strings and comma-joined lists as strings.
func checkProperties(t *testing.T, l *layers.Layer, src *layers.Feature, got map[string]any, where string) {
	t.Helper()
	for k := range got {
		fd, ok := l.Field(k)
		if !ok || fd.Restricted {
			t.Errorf("%s: property %q is not a public field", where, k)
		}
	}
	for _, fd := range l.PublicFields() {
		v, has := src.Props[fd.Name]
		g, present := got[fd.Name]
		if !has || v == nil {
			if present {
				t.Errorf("%s: %s = %v, but the feature has no such value", where, fd.Name, g)
			}
			continue
		}
		if !present {
			t.Errorf("%s: %s is missing", where, fd.Name)
			continue
		}
		switch fd.Type {
		case layers.Number, layers.Integer:
			n, ok := g.(float64)
			var w float64
			switch x := v.(type) {
			case float64:
				w = x
			case int64:
				w = float64(x)
			}
			if !ok || n != w {
				t.Errorf("%s: %s = %#v, want the number %v", where, fd.Name, g, w)
			}
		case layers.Boolean:
			if b, ok := g.(bool); !ok || b != v.(bool) {
				t.Errorf("%s: %s = %#v, want the boolean %v", where, fd.Name, g, v)
			}
		case layers.String:
			if s, ok := g.(string); !ok || s != v.(string) {
				t.Errorf("%s: %s = %#v, want the string %q", where, fd.Name, g, v)
			}
		case layers.List:
			if s, ok := g.(string); !ok || s != strings.Join(v.([]string), ",") {
				t.Errorf("%s: %s = %#v, want the comma-joined %v", where, fd.Name, g, v)
			}
		}
	}
}
