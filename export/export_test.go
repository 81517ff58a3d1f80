package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/export/exporttest"
	"github.com/citytwin/citytwin/layers"
)

// fakeSource makes a tile of any bytes content says (nil: none), counting the tiles made.
type fakeSource struct {
	content func(maptile.Tile) []byte
	made    atomic.Int64
	// after, when set, is called with the count of tiles made so far.
	after func(n int64)
}

func (s *fakeSource) Tile(ctx context.Context, t maptile.Tile, _ []*layers.Layer) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := s.made.Add(1)
	if s.after != nil {
		s.after(n)
	}
	return s.content(t), nil
}

// distinct is a different tile for every z/x/y, of varied length so directories do not
// compress to nothing; tiles where x+y is divisible by 5 are empty.
func distinct(t maptile.Tile) []byte {
	if (t.X+t.Y)%5 == 0 {
		return nil
	}
	return []byte(strings.Repeat(fmt.Sprintf("%d/%d/%d;", t.Z, t.X, t.Y), int(t.X*7+t.Y)%13+1))
}

var world = orb.Bound{Min: orb.Point{-180, -85}, Max: orb.Point{180, 85}}

func testOptions(src layers.Source, minZoom, maxZoom int) Options {
	l, err := layers.Lookup("buildings")
	if err != nil {
		panic(err)
	}
	return Options{Source: src, Layers: []*layers.Layer{l}, MinZoom: minZoom, MaxZoom: maxZoom, Bound: world, Workers: 3}
}

func TestTileIDsFollowTheHilbertCurveZoomByZoom(t *testing.T) {
	for _, c := range []struct {
		z, x, y uint32
		want    uint64
	}{
		{0, 0, 0, 0},
		// Zoom 1 starts after zoom 0's one tile and visits (0,0), (0,1), (1,1), (1,0).
		{1, 0, 0, 1}, {1, 0, 1, 2}, {1, 1, 1, 3}, {1, 1, 0, 4},
		// Zoom 2 starts after 1 + 4 tiles.
		{2, 0, 0, 5},
		// The last tile of zoom 2 is (3,0): 5 + 15.
		{2, 3, 0, 20},
	} {
		if got := tileID(maptile.New(c.x, c.y, maptile.Zoom(c.z))); got != c.want {
			t.Errorf("tile %d/%d/%d: id %d, want %d", c.z, c.x, c.y, got, c.want)
		}
	}
}

// TestLargeArchiveUsesLeafDirectoriesTheReferenceReaderFollows exports 87,381 tiles (zooms
// 0–8 of the world), too many entries for the 16 KiB root: the archive has leaf directories.
// Both this package's reader and the npm pmtiles reader find every tile, and tile ids agree.
func TestLargeArchiveUsesLeafDirectoriesTheReferenceReaderFollows(t *testing.T) {
	src := &fakeSource{content: distinct}
	path := filepath.Join(t.TempDir(), "world.pmtiles")
	p, err := Write(context.Background(), PMTiles, path, testOptions(src, 0, 8))
	if err != nil {
		t.Fatal(err)
	}
	// 4^0 + … + 4^8 = (4^9 − 1) / 3 = 87381 tiles.
	if p.Total != 87381 || p.Done != p.Total || src.made.Load() != p.Total {
		t.Fatalf("progress %+v after making %d tiles: want all 87381", p, src.made.Load())
	}
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var sample []maptile.Tile
	for i := uint32(0); i < 256; i += 3 {
		for _, tile := range []maptile.Tile{maptile.New(i, 255-i, 8), maptile.New(i, i/2, 8), maptile.New(i%128, i/2, 7)} {
			sample = append(sample, tile)
		}
	}
	sample = append(sample, maptile.New(0, 0, 0), maptile.New(1, 2, 2))
	for _, tile := range sample {
		got, err := a.Tile(context.Background(), tile, nil)
		if err != nil || !bytes.Equal(got, distinct(tile)) {
			t.Fatalf("tile %v: %q (%v), want %q", tile, got, err, distinct(tile))
		}
	}
	head, tiles, ids := readWithNode(t, path, sample)
	if head.Header.LeafDirectoryLength == 0 {
		t.Errorf("no leaf directories: the test does not cover them")
	}
	for _, tile := range sample {
		if want := distinct(tile); !bytes.Equal(tiles[tile], want) {
			t.Errorf("the reference reader reads tile %v as %q, want %q", tile, tiles[tile], want)
		}
		if ids[tile] != tileID(tile) {
			t.Errorf("tile %v: reference id %d, ours %d", tile, ids[tile], tileID(tile))
		}
	}
}

// TestIdenticalTilesAreStoredOnce: 64 equal tiles of zoom 3 become one run of one entry over
// one stored copy, and every tile still reads back.
func TestIdenticalTilesAreStoredOnce(t *testing.T) {
	src := &fakeSource{content: func(maptile.Tile) []byte { return []byte("the same tile") }}
	path := filepath.Join(t.TempDir(), "same.pmtiles")
	if _, err := Write(context.Background(), PMTiles, path, testOptions(src, 3, 3)); err != nil {
		t.Fatal(err)
	}
	var all []maptile.Tile
	for x := uint32(0); x < 8; x++ {
		for y := uint32(0); y < 8; y++ {
			all = append(all, maptile.New(x, y, 3))
		}
	}
	head, tiles, _ := readWithNode(t, path, all)
	h := head.Header
	if h.NumAddressedTiles != 64 || h.NumTileEntries != 1 || h.NumTileContents != 1 {
		t.Errorf("header %+v: want 64 tiles addressed by 1 entry of 1 content", h)
	}
	for _, tile := range all {
		if string(tiles[tile]) != "the same tile" {
			t.Errorf("tile %v reads %q", tile, tiles[tile])
		}
	}
}

// TestInterruptedExportResumes cancels an export half-way, then resumes it: the tiles already
// in the spool (PMTiles) or file (MBTiles) are not made again, and the result is the same as
// an export that ran through.
func TestInterruptedExportResumes(t *testing.T) {
	for _, format := range []Format{PMTiles, MBTiles} {
		t.Run(string(format), func(t *testing.T) {
			dir := t.TempDir()
			whole := filepath.Join(dir, "whole."+string(format))
			if _, err := Write(context.Background(), format, whole, testOptions(&fakeSource{content: distinct}, 0, 6)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "resumed."+string(format))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			first := &fakeSource{content: distinct, after: func(n int64) {
				if n == 3000 {
					cancel()
				}
			}}
			if _, err := Write(ctx, format, path, testOptions(first, 0, 6)); !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted export: %v, want context.Canceled", err)
			}
			if _, err := Write(context.Background(), format, path, testOptions(&fakeSource{content: distinct}, 0, 6)); err == nil {
				t.Fatalf("a second export into the same file without Resume is accepted")
			}
			o := testOptions(&fakeSource{content: distinct}, 0, 6)
			o.Resume = true
			p, err := Write(context.Background(), format, path, o)
			if err != nil {
				t.Fatal(err)
			}
			// 4^0 + … + 4^6 = 5461 tiles; of the ~3000 made before the cancel, all but those
			// in flight were stored (a fifth of them empty, which are made again).
			made := o.Source.(*fakeSource).made.Load()
			if p.Total != 5461 || p.Skipped < 1500 || made+p.Skipped != 5461 {
				t.Errorf("resumed: %+v, %d made: want most of the first 3000 skipped and the rest made", p, made)
			}
			assertSameTiles(t, whole, path)
			if format == PMTiles {
				a, b := mustRead(t, whole), mustRead(t, path)
				if !bytes.Equal(a, b) {
					t.Errorf("the resumed archive differs from the one exported at once")
				}
				if _, err := os.Stat(SpoolPath(path)); err == nil {
					t.Errorf("the spool is left behind")
				}
			}
		})
	}
}

func TestResumeRefusesAFileOfAnotherExport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.mbtiles")
	if _, err := Write(context.Background(), MBTiles, path, testOptions(&fakeSource{content: distinct}, 0, 2)); err != nil {
		t.Fatal(err)
	}
	o := testOptions(&fakeSource{content: distinct}, 0, 3)
	o.Resume = true
	if _, err := Write(context.Background(), MBTiles, path, o); err == nil || !strings.Contains(err.Error(), "maxzoom") {
		t.Errorf("resuming with another zoom range: %v, want an error naming maxzoom", err)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	ok := testOptions(&fakeSource{content: distinct}, 0, 2)
	for name, change := range map[string]func(*Options){
		"zooms reversed":    func(o *Options) { o.MinZoom, o.MaxZoom = 5, 4 },
		"zoom too deep":     func(o *Options) { o.MaxZoom = 25 },
		"no layers":         func(o *Options) { o.Layers = nil },
		"no source":         func(o *Options) { o.Source = nil },
		"bound upside down": func(o *Options) { o.Bound = orb.Bound{Min: orb.Point{10, 50}, Max: orb.Point{11, 40}} },
		"bound not degrees": func(o *Options) { o.Bound = orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{500000, 10}} },
	} {
		o := ok
		change(&o)
		if _, err := Write(context.Background(), MBTiles, filepath.Join(t.TempDir(), "x.mbtiles"), o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestCoverReachesTheBufferOfNeighbouringTiles: a feature just inside a tile's edge also shows
// in its neighbour's buffer, so the neighbour is exported too.
func TestCoverReachesTheBufferOfNeighbouringTiles(t *testing.T) {
	tile := maptile.New(100, 200, 9)
	b := tile.Bound()
	// A point 1/1000 of a tile inside the west edge: within the west neighbour's buffer.
	p := orb.Point{b.Min[0] + (b.Max[0]-b.Min[0])/1000, b.Center()[1]}
	r := cover(orb.Bound{Min: p, Max: p}, 9)
	if r.minX != 99 || r.maxX != 100 || r.minY != 200 || r.maxY != 200 {
		t.Errorf("cover %+v: want x 99..100, y 200", r)
	}
}

func assertSameTiles(t *testing.T, a, b string) {
	t.Helper()
	ra, rb := readAll(t, a), readAll(t, b)
	if len(ra) != len(rb) {
		t.Fatalf("%s holds %d tiles, %s %d", a, len(ra), b, len(rb))
	}
	for tile, data := range ra {
		if !bytes.Equal(rb[tile], data) {
			t.Errorf("tile %v differs", tile)
		}
	}
}

// readAll reads every tile of zooms 0–6 from an archive with this package's reader.
func readAll(t *testing.T, path string) map[maptile.Tile][]byte {
	t.Helper()
	a, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	out := map[maptile.Tile][]byte{}
	for z := maptile.Zoom(0); z <= 6; z++ {
		for x := uint32(0); x < 1<<z; x++ {
			for y := uint32(0); y < 1<<z; y++ {
				tile := maptile.New(x, y, z)
				data, err := a.Tile(context.Background(), tile, nil)
				if err != nil {
					t.Fatal(err)
				}
				if data != nil {
					out[tile] = data
				}
			}
		}
	}
	return out
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type nodeHead struct {
	Header struct {
		LeafDirectoryLength int `json:"leafDirectoryLength"`
		NumAddressedTiles   int `json:"numAddressedTiles"`
		NumTileEntries      int `json:"numTileEntries"`
		NumTileContents     int `json:"numTileContents"`
	} `json:"header"`
}

// readWithNode reads tiles of a PMTiles archive with the reference reader.
func readWithNode(t *testing.T, path string, want []maptile.Tile) (nodeHead, map[maptile.Tile][]byte, map[maptile.Tile]uint64) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	a := exporttest.ReadPMTiles(t, root, path, want)
	var head nodeHead
	if err := json.Unmarshal(a.Head, &head); err != nil {
		t.Fatalf("the reader's header: %v: %s", err, a.Head)
	}
	return head, a.Tiles, a.IDs
}
