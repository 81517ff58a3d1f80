package tiles

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

func mustLayer(t testing.TB, name string) *layers.Layer {
	t.Helper()
	l, err := layers.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// decode parses a tile with orb's decoder into layer name → features.
func decode(t testing.TB, b []byte) map[string]*mvt.Layer {
	t.Helper()
	ls, err := mvt.Unmarshal(b)
	if err != nil {
		t.Fatalf("the tile does not decode: %v", err)
	}
	out := map[string]*mvt.Layer{}
	for _, l := range ls {
		if _, dup := out[l.Name]; dup {
			t.Fatalf("layer %s appears twice", l.Name)
		}
		out[l.Name] = l
	}
	return out
}

func ids(l *mvt.Layer) []uint64 {
	var out []uint64
	for _, f := range l.Features {
		out = append(out, idOf(f.ID))
	}
	return out
}

// idOf reads a feature id as orb's decoder gives it (a float64).
func idOf(id any) uint64 {
	switch v := id.(type) {
	case float64:
		return uint64(v)
	case uint64:
		return v
	}
	return 0
}

// pixelTile is a z16 tile with helpers to place WGS84 features at given pixels of it.
type pixelTile struct {
	tile maptile.Tile
	n    float64 // world pixels per side
}

func newPixelTile(z maptile.Zoom) pixelTile { return newPixelTileAt(cluj, z) }

func newPixelTileAt(p orb.Point, z maptile.Zoom) pixelTile {
	tile := maptile.At(p, z)
	return pixelTile{tile: tile, n: float64(uint64(1)<<z) * Extent}
}

// at is the WGS84 point at pixel (px, py) of the tile.
func (p pixelTile) at(px, py float64) orb.Point {
	wx := (float64(p.tile.X)*Extent + px) / p.n
	wy := (float64(p.tile.Y)*Extent + py) / p.n
	return orb.Point{wx*360 - 180, tileLat(wy, 1)}
}

// rect is a WGS84 rectangle from pixel (x0, y0) to (x1, y1), counter-clockwise on the map.
func (p pixelTile) rect(x0, y0, x1, y1 float64) orb.Ring {
	return orb.Ring{p.at(x0, y1), p.at(x1, y1), p.at(x1, y0), p.at(x0, y0), p.at(x0, y1)}
}

func encodeOne(t testing.TB, tile maptile.Tile, layer string, fs ...*layers.Feature) map[string]*mvt.Layer {
	t.Helper()
	b, err := Encode(tile, []LayerFeatures{{Layer: mustLayer(t, layer), Features: fs}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b == nil {
		return map[string]*mvt.Layer{}
	}
	return decode(t, b)
}

func TestClipFollowsPostGIS(t *testing.T) {
	pt := newPixelTile(16)
	tests := []struct {
		name  string
		layer string
		geom  orb.Geometry
		in    bool
	}{
		{"a point inside is kept", "facilities", pt.at(100, 100), true},
		{"a point in the buffer is kept", "facilities", pt.at(-40, 2000), true},
		{"a point on the buffer's edge is kept", "facilities", pt.at(-64, 4160), true},
		{"a point that rounds onto the buffer's edge is kept", "facilities", pt.at(-64.4, 100), true},
		{"a point beyond the buffer is dropped", "facilities", pt.at(-65, 100), false},
		{"a polygon inside is kept", "buildings", orb.Polygon{pt.rect(10, 10, 50, 50)}, true},
		{"a polygon reaching into the buffer is kept", "buildings", orb.Polygon{pt.rect(-100, 10, -60, 50)}, true},
		{"a polygon touching the buffer's edge only is dropped", "buildings", orb.Polygon{pt.rect(-100, 10, -64, 50)}, false},
		{"a polygon beyond the buffer is dropped", "buildings", orb.Polygon{pt.rect(-300, 10, -200, 50)}, false},
		{"an L whose bound meets the buffer but whose area does not is dropped", "buildings",
			orb.Polygon{{pt.at(-200, 300), pt.at(-100, 300), pt.at(-100, -100), pt.at(300, -100), pt.at(300, -200), pt.at(-200, -200), pt.at(-200, 300)}}, false},
		{"a polygon covering the whole tile is kept", "buildings", orb.Polygon{pt.rect(-1000, -1000, 5000, 5000)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encodeOne(t, pt.tile, tt.layer, &layers.Feature{Layer: tt.layer, ID: 7, Geometry: tt.geom})
			l := got[tt.layer]
			if in := l != nil && len(l.Features) == 1; in != tt.in {
				t.Fatalf("in the tile: %v, want %v", in, tt.in)
			}
			if l == nil {
				return
			}
			b := l.Features[0].Geometry.Bound()
			if b.Min[0] < -Buffer || b.Min[1] < -Buffer || b.Max[0] > Extent+Buffer || b.Max[1] > Extent+Buffer {
				t.Fatalf("geometry %v reaches beyond the buffer", b)
			}
		})
	}
}

func TestClippedPolygonKeepsItsShape(t *testing.T) {
	pt := newPixelTile(16)
	got := encodeOne(t, pt.tile, "buildings", &layers.Feature{Layer: "buildings", ID: 1, Geometry: orb.Polygon{pt.rect(-1000, 100, 200, 300)}})
	b := got["buildings"].Features[0].Geometry.Bound()
	want := orb.Bound{Min: orb.Point{-64, 100}, Max: orb.Point{200, 300}}
	if b != want {
		t.Fatalf("clipped bound = %v, want %v", b, want)
	}
}

func TestThinningAndSimplificationBelowThinZoom(t *testing.T) {
	const small = layers.ThinPixels - 0.6
	for _, tt := range []struct {
		name string
		z    maptile.Zoom
		// a polygon just under ThinPixels on each side and a rectangle with a notch 0.8 px
		// deep on its top edge
		wantTiny  bool
		wantNotch bool
	}{
		{"below the zoom small polygons go and notches are smoothed", layers.ThinBelowZoom - 1, false, false},
		{"from the zoom on everything stays", layers.ThinBelowZoom, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pt := newPixelTile(tt.z)
			tiny := &layers.Feature{Layer: "zoning", ID: 1, Geometry: orb.Polygon{pt.rect(100.2, 100.2, 100.2+small, 100.2+small)}}
			notched := &layers.Feature{Layer: "zoning", ID: 2, Geometry: orb.Polygon{{
				pt.at(200, 300), pt.at(400, 300), pt.at(400, 200), pt.at(301, 200), pt.at(300, 200.8), pt.at(299, 200), pt.at(200, 200), pt.at(200, 300)}}}
			got := encodeOne(t, pt.tile, "zoning", tiny, notched)
			l := got["zoning"]
			if has := slices.Contains(ids(l), 1); has != tt.wantTiny {
				t.Errorf("tiny polygon in the tile: %v, want %v", has, tt.wantTiny)
			}
			var notch *mvt.Layer = l
			for _, f := range notch.Features {
				if idOf(f.ID) != 2 {
					continue
				}
				n := len(f.Geometry.(orb.Polygon)[0])
				// 4 corners and the closing point; the notch adds 3, of which (301, 200) and
				// (299, 200) lie on the edge (and go) but (300, 201) stays unless simplified.
				if hasNotch := n > 5; hasNotch != tt.wantNotch {
					t.Errorf("ring has %d points; notch kept: %v, want %v", n, hasNotch, tt.wantNotch)
				}
			}
		})
	}
}

func TestPointsAndPolygonsAreNotThinned(t *testing.T) {
	pt := newPixelTile(12)
	got := encodeOne(t, pt.tile, "facilities", &layers.Feature{Layer: "facilities", ID: 3, Geometry: pt.at(10, 10)})
	if len(got["facilities"].Features) != 1 {
		t.Fatal("a point was thinned at zoom 12")
	}
}

func TestRingsAreOrientedForMVT(t *testing.T) {
	pt := newPixelTile(16)
	outer := pt.rect(100, 100, 300, 300)
	hole := pt.rect(150, 150, 200, 200)
	// Outer ring clockwise on the map (wrong for GeoJSON), hole counter-clockwise (wrong too).
	slices.Reverse(outer)
	f := &layers.Feature{Layer: "buildings", ID: 1, Geometry: orb.Polygon{outer, hole}}
	b, err := Encode(pt.tile, []LayerFeatures{{Layer: mustLayer(t, "buildings"), Features: []*layers.Feature{f}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Walk the raw commands: the outer ring must have a positive surveyor's area in tile
	// coordinates (clockwise on screen), the hole a negative one.
	rings := rawRings(t, b)
	if len(rings) != 2 {
		t.Fatalf("%d rings, want 2", len(rings))
	}
	if a := spatial.RingArea2(rings[0]); a <= 0 {
		t.Errorf("outer ring area %v, want > 0", a)
	}
	if a := spatial.RingArea2(rings[1]); a >= 0 {
		t.Errorf("hole area %v, want < 0", a)
	}
	// 200 × 200 px outer ring: twice its area is 80000.
	if a := spatial.RingArea2(rings[0]); a != 80000 {
		t.Errorf("outer ring twice-area %v, want 80000", a)
	}
}

// rawRings reads the rings of the first feature of the first layer straight from the
// protobuf, to see their orientation as written (orb's decoder regroups rings by it).
func rawRings(t *testing.T, b []byte) []orb.Ring {
	t.Helper()
	field := func(b []byte, want uint64) []byte {
		for len(b) > 0 {
			key, n := binary.Uvarint(b)
			b = b[n:]
			switch key & 7 {
			case 0:
				_, n = binary.Uvarint(b)
				b = b[n:]
			case 1:
				b = b[8:]
			case 2:
				l, n := binary.Uvarint(b)
				body := b[n : n+int(l)]
				b = b[n+int(l):]
				if key>>3 == want {
					return body
				}
			default:
				t.Fatalf("unexpected wire type %d", key&7)
			}
		}
		return nil
	}
	geom := field(field(field(b, 3), 2), 4) // tile.layers → layer.features → feature.geometry
	var cmds []uint32
	for len(geom) > 0 {
		v, n := binary.Uvarint(geom)
		cmds = append(cmds, uint32(v))
		geom = geom[n:]
	}
	var out []orb.Ring
	var x, y float64
	for i := 0; i < len(cmds); {
		id, count := cmds[i]&7, int(cmds[i]>>3)
		i++
		switch id {
		case cmdMoveTo, cmdLineTo:
			if id == cmdMoveTo {
				out = append(out, nil)
			}
			for range count {
				dx, dy := int32(cmds[i]>>1)^-int32(cmds[i]&1), int32(cmds[i+1]>>1)^-int32(cmds[i+1]&1)
				x, y = x+float64(dx), y+float64(dy)
				out[len(out)-1] = append(out[len(out)-1], orb.Point{x, y})
				i += 2
			}
		case cmdClosePath:
			r := out[len(out)-1]
			out[len(out)-1] = append(r, r[0])
		}
	}
	return out
}

func TestSnapDropsCollapsedRings(t *testing.T) {
	r := orb.Ring{{0.2, 0.1}, {0.4, 0.3}, {10.2, 0.4}, {0.1, 0.2}, {0.2, 0.1}}
	mp, _ := snapPolygons(orb.MultiPolygon{{r}}, math.RoundToEven)
	if len(mp) != 0 {
		t.Fatalf("a ring that snaps onto a line survived: %v", mp)
	}
	square := orb.Ring{{0, 0}, {10, 0}, {10, 0.2}, {10, 10}, {0, 10}, {0, 0}}
	mp, b := snapPolygons(orb.MultiPolygon{{square, orb.Ring{{2, 2}, {2.2, 2.1}, {2.1, 2.3}, {2, 2}}}}, math.RoundToEven)
	if len(mp) != 1 || len(mp[0]) != 1 {
		t.Fatalf("want the square without its collapsed hole, got %v", mp)
	}
	if len(mp[0][0]) != 5 {
		t.Fatalf("repeated point kept: %v", mp[0][0])
	}
	if b != (orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{10, 10}}) {
		t.Fatalf("bound = %v", b)
	}
}

func TestEncodeWritesPublicFieldsOnly(t *testing.T) {
	c := newCity(t, handMadeCity())
	src := NewMemorySource(citymodel.Fixed(c))
	tile := maptile.At(cluj, 16)
	b, err := src.Tile(context.Background(), tile, []*layers.Layer{mustLayer(t, "parcels"), mustLayer(t, "buildings"), mustLayer(t, "zoning")})
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"owner_name", "land_book", "SECRET"} {
		if bytes.Contains(b, []byte(secret)) {
			t.Fatalf("the tile holds %q", secret)
		}
	}
	got := decode(t, b)
	p := got["parcels"].Features[0].Properties
	if _, ok := p["cad_number"].(string); !ok || p["intravilan"] != true {
		t.Fatalf("parcel properties %v", p)
	}
	z := got["zoning"].Features[0].Properties
	if z["allowed_uses"] != "residential,mixed" {
		t.Fatalf("allowed_uses = %#v, want the list comma-joined", z["allowed_uses"])
	}
	if _, ok := z["max_floors"].(float64); !ok {
		t.Fatalf("max_floors = %#v, want a number", z["max_floors"])
	}
	for name, l := range got {
		if l.Extent != Extent || l.Version != 2 {
			t.Errorf("layer %s: extent %d version %d", name, l.Extent, l.Version)
		}
		if !slices.IsSorted(ids(l)) {
			t.Errorf("layer %s: ids not in ascending order: %v", name, ids(l))
		}
	}
}

func TestEncodeAddsExtraFields(t *testing.T) {
	pt := newPixelTile(16)
	fs := []*layers.Feature{
		{Layer: "parcels", ID: 2, Geometry: orb.Polygon{pt.rect(10, 10, 20, 20)}, Props: map[string]any{"cad_number": "A"}, Restricted: map[string]any{"owner_name": "X"}},
		{Layer: "parcels", ID: 1, Geometry: orb.Polygon{pt.rect(30, 10, 40, 20)}, Props: map[string]any{"cad_number": "B"}},
	}
	added := map[string]any{"change": "added", "owner_name": "LEAK"}
	b, err := Encode(pt.tile, []LayerFeatures{{Layer: mustLayer(t, "parcels"), Features: fs}}, func(f *layers.Feature) map[string]any {
		if f.ID == 2 {
			return added
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("LEAK")) || bytes.Contains(b, []byte("owner_name")) {
		t.Fatal("an extra field named like a restricted one reached the tile")
	}
	l := decode(t, b)["parcels"]
	if !slices.Equal(ids(l), []uint64{1, 2}) {
		t.Fatalf("ids %v, want [1 2]", ids(l))
	}
	if l.Features[1].Properties["change"] != "added" || l.Features[1].Properties["cad_number"] != "A" {
		t.Fatalf("feature 2 properties %v", l.Features[1].Properties)
	}
	if _, ok := l.Features[0].Properties["change"]; ok {
		t.Fatalf("feature 1 has a change it was not given")
	}
	if fs[0].ID != 2 {
		t.Fatal("Encode reordered its input")
	}
}

func TestEncodeLeavesOutLayersOutsideTheirZooms(t *testing.T) {
	c := newCity(t, handMadeCity())
	src := NewMemorySource(citymodel.Fixed(c))
	all := layers.All()
	b, err := src.Tile(context.Background(), maptile.At(cluj, 12), all)
	if err != nil {
		t.Fatal(err)
	}
	got := decode(t, b)
	for _, name := range []string{"parcels", "buildings"} { // minzoom 13
		if _, ok := got[name]; ok {
			t.Errorf("layer %s is in a zoom-12 tile", name)
		}
	}
	for _, name := range []string{"zoning", "facilities", "districts", "air_stations"} {
		if _, ok := got[name]; !ok {
			t.Errorf("layer %s is missing from a zoom-12 tile", name)
		}
	}
}

func TestEmptyTileIsNil(t *testing.T) {
	c := newCity(t, handMadeCity())
	src := NewMemorySource(citymodel.Fixed(c))
	b, err := src.Tile(context.Background(), maptile.At(orb.Point{-40, 10}, 15), layers.All())
	if err != nil || b != nil {
		t.Fatalf("a tile in the ocean = %d bytes, %v; want nil", len(b), err)
	}
}

func TestEncodeIsDeterministic(t *testing.T) {
	c := newCity(t, handMadeCity())
	src := NewMemorySource(citymodel.Fixed(c))
	tile := maptile.At(cluj, 15)
	first, err := src.Tile(context.Background(), tile, layers.All())
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		again, _ := src.Tile(context.Background(), tile, layers.All())
		if !bytes.Equal(first, again) {
			t.Fatal("the same tile came out different")
		}
	}
}

func TestMemorySourceWaitsForTheModel(t *testing.T) {
	src := NewMemorySource(citymodel.New(citymodel.Options{}))
	if _, err := src.Tile(context.Background(), maptile.New(0, 0, 0), layers.All()); err != citymodel.ErrNotReady {
		t.Fatalf("err = %v, want citymodel.ErrNotReady", err)
	}
}

func TestSimplificationNeverCollapsesARing(t *testing.T) {
	// A 100 × 0.8 px strip at zoom 13: Douglas–Peucker with a one-pixel tolerance would
	// reduce it to a line (each corner is 0.8 px off the diagonal); like
	// ST_SimplifyPreserveTopology, the source keeps it whole.
	pt := newPixelTile(13)
	strip := &layers.Feature{Layer: "zoning", ID: 1, Geometry: orb.Polygon{pt.rect(100, 100.1, 200, 100.9)}}
	got := encodeOne(t, pt.tile, "zoning", strip)
	if l := got["zoning"]; l == nil || len(l.Features) != 1 {
		t.Fatal("a thin strip collapsed under simplification")
	}
}

func TestTinyAndFoldedPolygonsGoAsInPostGIS(t *testing.T) {
	// Near (0°, 0°) Web Mercator coordinates are small, so PostGIS's float32 bounding boxes
	// are exact to far under a pixel.
	pt := newPixelTileAt(orb.Point{0.01, 0.01}, 16)
	tests := []struct {
		name string
		ring orb.Ring
		in   bool
	}{
		// ST_AsMVTGeom drops a geometry under half a pixel in both dimensions first.
		{"a 0.4 px square that rounds to a whole pixel", pt.rect(100.3, 100.3, 100.7, 100.7), false},
		{"a 0.9 px square", pt.rect(100.3, 100.3, 101.2, 101.2), true},
		// Rounded, this triangle encloses half a pixel: under one, it goes.
		{"a triangle of half a pixel", orb.Ring{pt.at(100, 100), pt.at(100, 101), pt.at(101, 100), pt.at(100, 100)}, false},
		{"a triangle of one pixel", orb.Ring{pt.at(100, 100), pt.at(100, 101), pt.at(102, 100), pt.at(100, 100)}, true},
		// A diagonal strip one pixel wide: snap rounding bends each long edge through the
		// other's corner pixels, folding it flat, though the rounded ring encloses 35 px².
		{"a diagonal strip one pixel wide", orb.Ring{pt.at(3147, 493), pt.at(3112, 528), pt.at(3111, 528), pt.at(3146, 493), pt.at(3147, 493)}, false},
		{"a diagonal strip three pixels wide", orb.Ring{pt.at(3149, 493), pt.at(3114, 528), pt.at(3111, 528), pt.at(3146, 493), pt.at(3149, 493)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encodeOne(t, pt.tile, "buildings", &layers.Feature{Layer: "buildings", ID: 1, Geometry: orb.Polygon{tt.ring}})
			if in := got["buildings"] != nil; in != tt.in {
				t.Fatalf("in the tile: %v, want %v", in, tt.in)
			}
		})
	}
}
