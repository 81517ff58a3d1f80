package export

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
	"github.com/citytwin/citytwin/tiles"
)

// Archive is a PMTiles or MBTiles file opened as a tile source: the tiles it holds, whatever
// layers they carry.
type Archive struct {
	path string
	meta tiles.TileJSON
	// read returns the stored bytes of a tile (gzipped or not), nil when the file has none.
	read  func(ctx context.Context, t maptile.Tile) ([]byte, error)
	close func() error
}

var _ layers.Source = (*Archive)(nil)

// Open opens a PMTiles or MBTiles file, told apart by their first bytes.
func Open(path string) (*Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open tile archive: %w", err)
	}
	magic := make([]byte, 16)
	_, err = io.ReadFull(f, magic)
	switch {
	case err != nil:
		f.Close()
		return nil, fmt.Errorf("%s: too short for a tile archive", path)
	case bytes.HasPrefix(magic, []byte("PMTiles")):
		a, err := openPMTiles(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		a.path = path
		return a, nil
	case bytes.Equal(magic, []byte("SQLite format 3\x00")):
		f.Close()
		a, err := openMBTiles(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		a.path = path
		return a, nil
	}
	f.Close()
	return nil, fmt.Errorf("%s is neither a PMTiles nor an MBTiles file", path)
}

// Tile implements layers.Source: the uncompressed MVT the file holds for t, nil when it holds
// none. The layers argument is ignored: the file's tiles carry the layers they were made of.
func (a *Archive) Tile(ctx context.Context, t maptile.Tile, _ []*layers.Layer) ([]byte, error) {
	if int(t.Z) < a.meta.MinZoom || int(t.Z) > a.meta.MaxZoom {
		return nil, nil
	}
	b, err := a.read(ctx, t)
	if err != nil || len(b) == 0 {
		return nil, err
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return b, nil // MBTiles may hold tiles uncompressed
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("tile %d/%d/%d of %s: %w", t.Z, t.X, t.Y, a.path, err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("tile %d/%d/%d of %s: %w", t.Z, t.X, t.Y, a.path, err)
	}
	return out, nil
}

// TileJSON describes the file's tiles (name, zoom range, bounds, center, vector_layers), with
// no tile URL: whoever serves the file adds it.
func (a *Archive) TileJSON() tiles.TileJSON { return a.meta }

// Close closes the file.
func (a *Archive) Close() error { return a.close() }

// openPMTiles reads the header and root directory; leaf directories are read when first
// needed and kept.
func openPMTiles(f *os.File) (*Archive, error) {
	head := make([]byte, pmHeaderLen)
	if _, err := f.ReadAt(head, 0); err != nil {
		return nil, fmt.Errorf("read PMTiles header: %w", err)
	}
	h, err := parseHeader(head)
	if err != nil {
		return nil, err
	}
	if h.internalComp != pmGzip || h.tileType != pmMVT {
		return nil, fmt.Errorf("PMTiles with directory compression %d and tile type %d: only gzip (2) and MVT (1) are read", h.internalComp, h.tileType)
	}
	readAt := func(off, n uint64) ([]byte, error) {
		if n > 1<<30 {
			return nil, fmt.Errorf("PMTiles section of %d bytes: corrupt", n)
		}
		b := make([]byte, n)
		_, err := f.ReadAt(b, int64(off))
		return b, err
	}
	rootBytes, err := readAt(h.rootOff, h.rootLen)
	if err != nil {
		return nil, fmt.Errorf("read PMTiles root directory: %w", err)
	}
	root, err := parseEntries(rootBytes)
	if err != nil {
		return nil, err
	}
	meta, err := pmMetadata(h, readAt)
	if err != nil {
		return nil, err
	}
	r := &pmReader{h: h, root: root, readAt: readAt}
	return &Archive{meta: meta, read: r.tile, close: f.Close}, nil
}

// pmReader finds tiles in a PMTiles file.
type pmReader struct {
	h      pmHeader
	root   []pmEntry
	leaves sync.Map // leaf directory offset → []pmEntry
	readAt func(off, n uint64) ([]byte, error)
}

func (r *pmReader) tile(_ context.Context, t maptile.Tile) ([]byte, error) {
	id := tileID(t)
	dir := r.root
	for range pmMaxDepth {
		e, ok := findEntry(dir, id)
		if !ok {
			return nil, nil
		}
		if e.run > 0 {
			b, err := r.readAt(r.h.dataOff+e.offset, uint64(e.length))
			if err != nil {
				return nil, fmt.Errorf("read tile %d/%d/%d: %w", t.Z, t.X, t.Y, err)
			}
			return b, nil
		}
		leaf, err := r.leaf(e)
		if err != nil {
			return nil, err
		}
		dir = leaf
	}
	return nil, fmt.Errorf("tile %d/%d/%d: PMTiles directories nested too deep", t.Z, t.X, t.Y)
}

func (r *pmReader) leaf(e pmEntry) ([]pmEntry, error) {
	if v, ok := r.leaves.Load(e.offset); ok {
		return v.([]pmEntry), nil
	}
	b, err := r.readAt(r.h.leafOff+e.offset, uint64(e.length))
	if err != nil {
		return nil, fmt.Errorf("read PMTiles leaf directory: %w", err)
	}
	es, err := parseEntries(b)
	if err != nil {
		return nil, err
	}
	r.leaves.Store(e.offset, es)
	return es, nil
}

// pmMetadata is the archive's TileJSON: zooms, bounds and center from the header, the rest
// from the JSON metadata.
func pmMetadata(h pmHeader, readAt func(off, n uint64) ([]byte, error)) (tiles.TileJSON, error) {
	tj := tiles.TileJSON{TileJSON: "3.0.0", Version: "1.0.0", Scheme: "xyz",
		MinZoom: int(h.minZoom), MaxZoom: int(h.maxZoom),
		Bounds: [4]float64{e7f(h.minLon), e7f(h.minLat), e7f(h.maxLon), e7f(h.maxLat)},
		Center: [3]float64{e7f(h.centerLon), e7f(h.centerLat), float64(h.centerZoom)},
	}
	raw, err := readAt(h.metaOff, h.metaLen)
	if err != nil {
		return tj, fmt.Errorf("read PMTiles metadata: %w", err)
	}
	if len(raw) == 0 {
		return tj, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return tj, fmt.Errorf("PMTiles metadata: %w", err)
	}
	if err := json.NewDecoder(zr).Decode(&tj); err != nil {
		return tj, fmt.Errorf("PMTiles metadata: %w", err)
	}
	// The JSON's own fields must not override the header's figures or the TileJSON version.
	tj.TileJSON, tj.Version, tj.Scheme = "3.0.0", "1.0.0", "xyz"
	tj.MinZoom, tj.MaxZoom = int(h.minZoom), int(h.maxZoom)
	return tj, nil
}

func e7f(v int32) float64 { return float64(v) / 1e7 }

// openMBTiles opens an MBTiles file read-only.
func openMBTiles(path string) (*Archive, error) {
	db, err := openSQLite(path, true)
	if err != nil {
		return nil, err
	}
	meta, err := readMetadataTable(context.Background(), db)
	if err != nil {
		db.Close()
		return nil, err
	}
	tj, err := mbtilesTileJSON(meta)
	if err != nil {
		db.Close()
		return nil, err
	}
	stmt, err := db.Prepare(`SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("read MBTiles tiles: %w", err)
	}
	read := func(ctx context.Context, t maptile.Tile) ([]byte, error) {
		var b []byte
		err := stmt.QueryRowContext(ctx, int(t.Z), t.X, tmsRow(t.Z, t.Y)).Scan(&b)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read tile %d/%d/%d: %w", t.Z, t.X, t.Y, err)
		}
		return b, nil
	}
	return &Archive{meta: tj, read: read, close: func() error { return errors.Join(stmt.Close(), db.Close()) }}, nil
}

// mbtilesTileJSON reads the TileJSON of an MBTiles metadata table.
func mbtilesTileJSON(m map[string]string) (tiles.TileJSON, error) {
	tj := tiles.TileJSON{TileJSON: "3.0.0", Version: "1.0.0", Scheme: "xyz", Name: m["name"],
		Description: m["description"], Attribution: m["attribution"], MinZoom: 0, MaxZoom: tiles.MaxZoom,
		Bounds: [4]float64{-180, -spatial.MaxLatitude, 180, spatial.MaxLatitude}}
	var zooms [2]float64
	for key, out := range map[string][]float64{
		"minzoom": zooms[:1], "maxzoom": zooms[1:], "bounds": tj.Bounds[:], "center": tj.Center[:],
	} {
		if v, ok := m[key]; ok {
			if err := parseNumbers(v, out); err != nil {
				return tj, fmt.Errorf("MBTiles metadata %s=%q: %w", key, v, err)
			}
		}
	}
	if _, ok := m["minzoom"]; ok {
		tj.MinZoom = int(zooms[0])
	}
	if _, ok := m["maxzoom"]; ok {
		tj.MaxZoom = int(zooms[1])
	}
	if v, ok := m["json"]; ok {
		var j struct {
			VectorLayers []tiles.VectorLayer `json:"vector_layers"`
		}
		if err := json.Unmarshal([]byte(v), &j); err != nil {
			return tj, fmt.Errorf("MBTiles metadata json: %w", err)
		}
		tj.VectorLayers = j.VectorLayers
	}
	return tj, nil
}

// parseNumbers reads comma-separated numbers into out, which says how many there must be.
func parseNumbers(s string, out []float64) error {
	parts := strings.Split(s, ",")
	if len(parts) != len(out) {
		return fmt.Errorf("want %d numbers", len(out))
	}
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return err
		}
		out[i] = f
	}
	return nil
}
