package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/export"
	"github.com/citytwin/citytwin/export/exporttest"
	"github.com/citytwin/citytwin/spatial"
	"github.com/citytwin/citytwin/web"
)

// demoExportLayers are the layers of the demo city's test pyramid: polygons of every size
// class and points, starting at zooms 10 and 13.
const demoExportLayers = "buildings,parcels,zoning,facilities,green_spaces"

// demoPyramid exports the demo city at zooms 12–14 into both formats once per test binary.
type demoPyramid struct {
	pmtiles, mbtiles string
	server           http.Handler // the live server on the same city
	tiles            []maptile.Tile
}

func exportDemo(t *testing.T) *demoPyramid {
	t.Helper()
	dir := t.TempDir()
	emptyDataDir := filepath.Join(dir, "data") // no imported layers: the demo city
	d := &demoPyramid{pmtiles: filepath.Join(dir, "demo.pmtiles"), mbtiles: filepath.Join(dir, "demo.mbtiles")}
	for _, f := range []struct{ format, out string }{{"pmtiles", d.pmtiles}, {"mbtiles", d.mbtiles}} {
		cfg := exportConfig{format: f.format, layers: demoExportLayers, minZoom: 12, maxZoom: 14, dataDir: emptyDataDir, workers: 3}
		var log bytes.Buffer
		if err := exportPyramid(context.Background(), cfg, f.out, &log); err != nil {
			t.Fatalf("export %s: %v\n%s", f.format, err, log.String())
		}
		if !strings.Contains(log.String(), "tiles/s") {
			t.Errorf("export %s printed no progress line:\n%s", f.format, log.String())
		}
		if _, err := os.Stat(export.SpoolPath(f.out)); f.format == "pmtiles" && err == nil {
			t.Errorf("the PMTiles spool is left behind")
		}
	}
	city, err := spatial.Load(context.Background(), data.NewFileStore(emptyDataDir))
	if err != nil {
		t.Fatal(err)
	}
	srv := web.New(web.Options{Logger: slog.New(slog.DiscardHandler), Model: citymodel.Fixed(city)})
	d.server = srv.Handler()
	// Every tile of zooms 12–14 around the city, a ring of empty ones included.
	for z := maptile.Zoom(12); z <= 14; z++ {
		c := maptile.At(city.Bound.Center(), z)
		r := uint32(1) << (z - 11) // 2, 4, 8 tiles each way: wider than Monaco
		for x := c.X - r; x <= c.X+r; x++ {
			for y := c.Y - r; y <= c.Y+r; y++ {
				d.tiles = append(d.tiles, maptile.New(x, y, z))
			}
		}
	}
	return d
}

// liveTile is the server's tile of the demo layers at t, nil when it answers 204.
func (d *demoPyramid) liveTile(t *testing.T, name string, tile maptile.Tile) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	d.server.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", name, tile.Z, tile.X, tile.Y), nil))
	switch rec.Code {
	case http.StatusNoContent:
		return nil
	case http.StatusOK:
		return rec.Body.Bytes()
	}
	t.Fatalf("GET tile %v of %s: %d %s", tile, name, rec.Code, rec.Body.String())
	return nil
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("stored tile is not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// compareWithServer requires the stored tiles (uncompressed, by tile) to be exactly the
// server's: the same bytes where it has a tile, nothing where it answers 204.
func (d *demoPyramid) compareWithServer(t *testing.T, stored map[maptile.Tile][]byte) {
	t.Helper()
	nonEmpty := 0
	for _, tile := range d.tiles {
		live := d.liveTile(t, demoExportLayers, tile)
		got, ok := stored[tile]
		switch {
		case live == nil && ok:
			t.Errorf("tile %d/%d/%d is stored but the server has none", tile.Z, tile.X, tile.Y)
		case live != nil && !ok:
			t.Errorf("tile %d/%d/%d is missing (the server has %d bytes)", tile.Z, tile.X, tile.Y, len(live))
		case live != nil && !bytes.Equal(got, live):
			t.Errorf("tile %d/%d/%d: stored %d bytes differ from the server's %d", tile.Z, tile.X, tile.Y, len(got), len(live))
		}
		if live != nil {
			nonEmpty++
		}
	}
	if nonEmpty < 10 || len(stored) != nonEmpty {
		t.Errorf("%d tiles stored, %d non-empty tiles served: want the same, and at least 10", len(stored), nonEmpty)
	}
}

// TestExportedMBTilesReadBySQLiteMatchTheServer reads the MBTiles file with the sqlite3 command
// (not this program's driver): the metadata MBTiles 1.3 asks for, TMS rows, gzipped tiles
// that are byte for byte the live server's, and no empty tile.
func TestExportedMBTilesReadBySQLiteMatchTheServer(t *testing.T) {
	d := exportDemo(t)
	sqlite := func(query string) []map[string]any {
		if _, err := exec.LookPath("sqlite3"); err != nil {
			t.Fatal("the sqlite3 command is not installed (apt-get install sqlite3): it reads the MBTiles files independently")
		}
		out, err := exec.Command("sqlite3", "-json", d.mbtiles, query).Output()
		if err != nil {
			t.Fatalf("sqlite3 %q: %v", query, err)
		}
		var rows []map[string]any
		if err := json.Unmarshal(out, &rows); err != nil {
			t.Fatalf("sqlite3 output: %v", err)
		}
		return rows
	}
	meta := map[string]string{}
	for _, r := range sqlite(`SELECT name, value FROM metadata`) {
		meta[r["name"].(string)] = r["value"].(string)
	}
	for k, want := range map[string]string{"format": "pbf", "minzoom": "12", "maxzoom": "14", "name": "citytwin " + demoExportLayers} {
		if meta[k] != want {
			t.Errorf("metadata %s = %q, want %q", k, meta[k], want)
		}
	}
	var bounds [4]float64
	if _, err := fmt.Sscanf(meta["bounds"], "%g,%g,%g,%g", &bounds[0], &bounds[1], &bounds[2], &bounds[3]); err != nil || bounds[0] < 7.3 || bounds[2] > 7.5 {
		t.Errorf("metadata bounds %q: want Monaco's (about 7.4 E, 43.7 N)", meta["bounds"])
	}
	var j struct {
		VectorLayers []struct {
			ID      string            `json:"id"`
			MinZoom int               `json:"minzoom"`
			Fields  map[string]string `json:"fields"`
		} `json:"vector_layers"`
	}
	if err := json.Unmarshal([]byte(meta["json"]), &j); err != nil || len(j.VectorLayers) != 5 {
		t.Fatalf("metadata json %q: want vector_layers of the 5 layers (%v)", meta["json"], err)
	}
	if vl := j.VectorLayers[0]; vl.ID != "buildings" || vl.MinZoom != 13 || vl.Fields["floors"] != "Number" || vl.Fields["owner_name"] != "" {
		t.Errorf("vector layer %+v: want buildings from zoom 13 with public fields only", vl)
	}

	stored := map[maptile.Tile][]byte{}
	for _, r := range sqlite(`SELECT zoom_level AS z, tile_column AS x, tile_row AS y, hex(tile_data) AS d FROM tiles`) {
		z := maptile.Zoom(r["z"].(float64))
		row := uint32(r["y"].(float64))
		raw, err := hex.DecodeString(r["d"].(string))
		if err != nil {
			t.Fatal(err)
		}
		// MBTiles rows count from the south: y = 2^z − 1 − row.
		stored[maptile.New(uint32(r["x"].(float64)), uint32(1)<<z-1-row, z)] = gunzip(t, raw)
	}
	d.compareWithServer(t, stored)
}

// TestExportedPMTilesReadByTheReferenceReaderMatchTheServer reads the PMTiles file with the
// npm package pmtiles (what map clients use): header, metadata with vector_layers, tile ids,
// and every tile the same bytes as the live server's, empty ones absent.
func TestExportedPMTilesReadByTheReferenceReaderMatchTheServer(t *testing.T) {
	d := exportDemo(t)
	head, tiles := readPMTilesWithNode(t, d.pmtiles, d.tiles)
	if head.Header.MinZoom != 12 || head.Header.MaxZoom != 14 || head.Header.TileType != 1 || head.Header.TileCompression != 2 {
		t.Errorf("header %+v: want zooms 12-14 of gzipped MVT", head.Header)
	}
	if head.Header.MinLon < 7.3 || head.Header.MaxLon > 7.5 || head.Header.MinLat < 43.6 || head.Header.MaxLat > 43.8 {
		t.Errorf("header bounds %+v: want Monaco's", head.Header)
	}
	if len(head.Metadata.VectorLayers) != 5 || head.Metadata.VectorLayers[0].ID != "buildings" || head.Metadata.Format != "pbf" {
		t.Errorf("metadata %+v: want pbf with the 5 vector layers", head.Metadata)
	}
	d.compareWithServer(t, tiles)
}

type pmtilesHead struct {
	Header struct {
		MinZoom, MaxZoom                int
		TileType                        int `json:"tileType"`
		TileCompression                 int `json:"tileCompression"`
		MinLon, MinLat, MaxLon, MaxLat  float64
		NumAddressedTiles               int `json:"numAddressedTiles"`
		NumTileContents, NumTileEntries int
	} `json:"header"`
	Metadata struct {
		Format       string `json:"format"`
		VectorLayers []struct {
			ID string `json:"id"`
		} `json:"vector_layers"`
	} `json:"metadata"`
}

// readPMTilesWithNode reads the archive for the given tiles with the reference reader.
func readPMTilesWithNode(t *testing.T, path string, want []maptile.Tile) (pmtilesHead, map[maptile.Tile][]byte) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	a := exporttest.ReadPMTiles(t, root, path, want)
	var head pmtilesHead
	if err := json.Unmarshal(a.Head, &head); err != nil {
		t.Fatalf("the reader's header: %v: %s", err, a.Head)
	}
	return head, a.Tiles
}

// TestServeTilesFileServesTheExportedPyramid serves both files by name, as --tiles-file does,
// beside the live layers: each file's tiles are the live tiles' bytes, empty ones 204, and
// its TileJSON names its layers and zooms.
func TestServeTilesFileServesTheExportedPyramid(t *testing.T) {
	d := exportDemo(t)
	var flagValue tileFilesFlag
	if err := flagValue.Set("demo-pm=" + d.pmtiles); err != nil {
		t.Fatal(err)
	}
	if err := flagValue.Set("demo-mb=" + d.mbtiles); err != nil {
		t.Fatal(err)
	}
	files, closeFiles, err := openTileFiles(flagValue, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFiles()
	city, err := spatial.Load(context.Background(), data.NewFileStore(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	srv := web.New(web.Options{Logger: slog.New(slog.DiscardHandler), TileFiles: files, Model: citymodel.Fixed(city)})
	d.server = srv.Handler()
	for _, name := range []string{"demo-pm", "demo-mb"} {
		for _, tile := range d.tiles {
			live, fromFile := d.liveTile(t, demoExportLayers, tile), d.liveTile(t, name, tile)
			if !bytes.Equal(live, fromFile) {
				t.Errorf("%s tile %d/%d/%d: %d bytes, the live tile %d", name, tile.Z, tile.X, tile.Y, len(fromFile), len(live))
			}
		}
		rec := httptest.NewRecorder()
		d.server.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/tiles/"+name+".json", nil))
		var tj struct {
			Tiles        []string
			MinZoom      int                   `json:"minzoom"`
			MaxZoom      int                   `json:"maxzoom"`
			VectorLayers []struct{ ID string } `json:"vector_layers"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &tj); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("TileJSON of %s: %d %s", name, rec.Code, rec.Body.String())
		}
		if len(tj.Tiles) != 1 || !strings.HasSuffix(tj.Tiles[0], "/tiles/"+name+"/{z}/{x}/{y}.mvt") || tj.MinZoom != 12 || tj.MaxZoom != 14 || len(tj.VectorLayers) != 5 {
			t.Errorf("TileJSON of %s: %s", name, rec.Body.String())
		}
	}
}

func TestTilesFileFlagRefusesBadNames(t *testing.T) {
	for _, v := range []string{"buildings=x.pmtiles", "Bad=x.pmtiles", "noequals", "a=", "a,b=x"} {
		var f tileFilesFlag
		if err := f.Set(v); err == nil {
			t.Errorf("--tiles-file %q accepted", v)
		}
	}
	var f tileFilesFlag
	if err := f.Set("a=x.pmtiles,b=y.mbtiles"); err != nil || len(f) != 2 {
		t.Errorf("two files in one value: %v %v", f, err)
	}
	if err := f.Set("a=z.pmtiles"); err == nil {
		t.Errorf("a name given twice is accepted")
	}
	if _, _, err := openTileFiles(tileFilesFlag{"x": filepath.Join(t.TempDir(), "missing.pmtiles")}, nil); err == nil {
		t.Errorf("a missing file is accepted")
	}
}
