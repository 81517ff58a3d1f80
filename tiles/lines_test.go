package tiles

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/layers"
)

// lineTile is the tile the line tests draw in: zoom 16 over Cluj.
var lineTile = maptile.At(cluj, 16)

// tilePixel is the WGS84 position of pixel (px, py) of lineTile (4096 pixels across, y down),
// by the spherical Mercator formulas, not by the encoder's projector.
func tilePixel(px, py float64) orb.Point {
	n := math.Exp2(float64(lineTile.Z))
	lon := (float64(lineTile.X)+px/Extent)/n*360 - 180
	y := (float64(lineTile.Y) + py/Extent) / n
	lat := math.Atan(math.Sinh(math.Pi*(1-2*y))) * 180 / math.Pi
	return orb.Point{lon, lat}
}

// pixelLine is a WGS84 line through the given pixels of lineTile.
func pixelLine(pts ...[2]float64) orb.LineString {
	out := make(orb.LineString, len(pts))
	for i, q := range pts {
		out[i] = tilePixel(q[0], q[1])
	}
	return out
}

// TestLineTilesDecodeWithAnIndependentDecoder puts streets drawn in pixels of one tile into
// both stores, has @mapbox/vector-tile (MapLibre's parser, in Node) read the tile each makes,
// and checks each street: a line (MVT type 2) whose bounding box is the pixels it was drawn
// through, cut at the buffered tile's edge (4096 + 64 = 4160), its fields as stored; and
// orb's decoder finds the parts a clipped street is cut into. A street that misses the
// buffered tile is in neither tile.
func TestLineTilesDecodeWithAnIndependentDecoder(t *testing.T) {
	node, script := nodeDecoder(t)
	type want struct {
		bbox  [4]float64 // minX, minY, maxX, maxY in tile pixels; nil geometry: absent
		parts int
	}
	tests := []struct {
		name  string
		geom  orb.Geometry
		props map[string]any
		want  *want
	}{
		{"a street inside the tile keeps its three vertices",
			pixelLine([2]float64{100, 200}, [2]float64{3000, 200}, [2]float64{3000, 3500}),
			map[string]any{"name": "Strada Memorandumului", "kind": "secondary", "foot": true, "derived": false},
			&want{[4]float64{100, 200, 3000, 3500}, 1}},
		{"a street leaving the tile eastwards is cut at the buffer's edge, 4096 + 64 = 4160",
			pixelLine([2]float64{3000, 1000}, [2]float64{5000, 1000}),
			map[string]any{"name": "Calea Dorobanților", "kind": "primary", "derived": false},
			&want{[4]float64{3000, 1000, 4160, 1000}, 1}},
		{"a street that leaves the tile and comes back is two parts",
			pixelLine([2]float64{3000, 500}, [2]float64{5000, 500}, [2]float64{5000, 800}, [2]float64{3000, 800}),
			map[string]any{"kind": "service", "foot": false, "derived": false},
			&want{[4]float64{3000, 500, 4160, 800}, 2}},
		{"of a multilinestring only the part in the tile is drawn",
			orb.MultiLineString{pixelLine([2]float64{-500, -500}, [2]float64{-300, -300}), pixelLine([2]float64{500, 500}, [2]float64{600, 700})},
			map[string]any{"name": "Aleea Castanilor", "kind": "footway", "foot": true, "derived": true},
			&want{[4]float64{500, 500, 600, 700}, 1}},
		{"a diagonal whose bounding box meets the tile but which misses it is left out",
			// x + y = -200 on the segment; inside the buffered tile x + y > -128.
			pixelLine([2]float64{-300, 100}, [2]float64{100, -300}),
			map[string]any{"kind": "steps", "derived": false}, nil},
	}
	var fs []layers.Feature
	for i, tc := range tests {
		fs = append(fs, layers.Feature{Layer: "streets", ID: int64(i + 1), Geometry: tc.geom, Props: tc.props})
	}
	streets, err := layers.Lookup("streets")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if err := streets.CheckGeometry(f.Geometry); err != nil {
			t.Fatalf("street %d: %v", f.ID, err)
		}
	}

	ctx := context.Background()
	store := postgisStore(t)
	if _, err := store.Import(ctx, fs); err != nil {
		t.Fatalf("import into PostGIS: %v", err)
	}
	sources := []struct {
		name string
		src  layers.Source
	}{
		{"memory", NewMemorySource(citymodel.Fixed(newCity(t, fs)))},
		{"PostGIS", store},
	}
	dir := t.TempDir()
	var files []string
	for _, s := range sources {
		b, err := s.src.Tile(ctx, lineTile, []*layers.Layer{streets})
		if err != nil {
			t.Fatalf("%s tile: %v", s.name, err)
		}
		name := filepath.Join(dir, s.name+".mvt")
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
		// orb's decoder, for the parts.
		parts := map[int64]int{}
		if l := decode(t, b)["streets"]; l != nil {
			for _, f := range l.Features {
				switch g := f.Geometry.(type) {
				case orb.LineString:
					parts[int64(idOf(f.ID))] = 1
				case orb.MultiLineString:
					parts[int64(idOf(f.ID))] = len(g)
				default:
					t.Errorf("%s: street %v decodes as a %s", s.name, f.ID, g.GeoJSONType())
				}
			}
		}
		for i, tc := range tests {
			if tc.want != nil && parts[int64(i+1)] != tc.want.parts {
				t.Errorf("%s: %s: orb reads %d parts, want %d", s.name, tc.name, parts[int64(i+1)], tc.want.parts)
			}
		}
	}

	cmd := exec.Command(node, append([]string{script}, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	decoded := 0
	for sc.Scan() {
		var d decodedTile
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("decoder output: %v", err)
		}
		decoded++
		where := filepath.Base(d.File)
		l := d.Layers["streets"]
		if len(d.Layers) != 1 || l.Extent != Extent || l.Version != 2 {
			t.Errorf("%s: layers %v: want streets alone, extent 4096, version 2", where, d.Layers)
		}
		got := map[int64]int{}
		for j, f := range l.Features {
			if f.ID == nil {
				t.Fatalf("%s: a street without id", where)
			}
			got[int64(*f.ID)] = j
		}
		for i, tc := range tests {
			j, present := got[int64(i+1)]
			if tc.want == nil {
				if present {
					t.Errorf("%s: %s: present, bbox %v", where, tc.name, l.Features[j].BBox)
				}
				continue
			}
			if !present {
				t.Errorf("%s: %s: missing", where, tc.name)
				continue
			}
			f := l.Features[j]
			if f.Type != 2 {
				t.Errorf("%s: %s: geometry type %d, want 2 (a line)", where, tc.name, f.Type)
			}
			if f.BBox != tc.want.bbox {
				t.Errorf("%s: %s: bbox %v, want %v", where, tc.name, f.BBox, tc.want.bbox)
			}
			checkProperties(t, streets, &fs[i], f.Properties, fmt.Sprintf("%s street %d", where, i+1))
		}
	}
	if decoded != len(files) {
		t.Fatalf("node decoded %d of %d tiles", decoded, len(files))
	}
}
