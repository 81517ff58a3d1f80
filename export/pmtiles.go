package export

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/spatial"
	"github.com/citytwin/citytwin/tiles"
)

// PMTiles version 3 (https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md):
// a 127-byte header, a root directory within the first 16 KiB, JSON metadata, leaf
// directories, then the tile data. Directories list tiles by Hilbert tile id, each entry an
// offset and length into the tile data and a run length (how many consecutive ids share the
// bytes; 0: the entry points to a leaf directory instead). Directories and metadata are
// gzipped, and so are the tiles.
//
// The format is written here from the specification rather than with the go-pmtiles module,
// whose one package also links cloud-storage clients (S3, GCS, Azure) and registers metrics
// of its own at init; the archives are checked in tests with the reference reader, the npm
// package pmtiles.

const (
	pmHeaderLen = 127
	// pmRootMax is the most the root directory may take: header and root fit in 16 KiB, the
	// first request a client makes.
	pmRootMax = 16384 - pmHeaderLen
	// pmLeafMin is the fewest entries per leaf directory.
	pmLeafMin = 4096
	// Compression and tile type codes of the header.
	pmGzip = 2
	pmMVT  = 1
	// pmMaxDepth bounds the directory levels a reader follows (the spec needs at most 3
	// below the root), so a corrupt file cannot loop.
	pmMaxDepth = 4
)

// pmEntry is one directory entry.
type pmEntry struct {
	id     uint64
	offset uint64
	length uint32
	run    uint32
}

// tileID is the PMTiles id of a tile: the tiles of all lower zooms (4^0 + … + 4^(z−1)) plus
// the tile's position along the Hilbert curve of its zoom.
func tileID(t maptile.Tile) uint64 {
	z := uint64(t.Z)
	return (uint64(1)<<(2*z)-1)/3 + spatial.Hilbert(uint64(1)<<z, uint64(t.X), uint64(t.Y))
}

// pmHeader is the fixed header.
type pmHeader struct {
	rootOff, rootLen, metaOff, metaLen, leafOff, leafLen, dataOff, dataLen uint64
	addressed, entries, contents                                           uint64
	clustered                                                              bool
	internalComp, tileComp, tileType, minZoom, maxZoom, centerZoom         uint8
	minLon, minLat, maxLon, maxLat, centerLon, centerLat                   int32
}

func (h pmHeader) marshal() []byte {
	b := make([]byte, pmHeaderLen)
	copy(b, "PMTiles")
	b[7] = 3
	le := binary.LittleEndian
	for i, v := range []uint64{h.rootOff, h.rootLen, h.metaOff, h.metaLen, h.leafOff, h.leafLen,
		h.dataOff, h.dataLen, h.addressed, h.entries, h.contents} {
		le.PutUint64(b[8+8*i:], v)
	}
	if h.clustered {
		b[96] = 1
	}
	b[97], b[98], b[99], b[100], b[101] = h.internalComp, h.tileComp, h.tileType, h.minZoom, h.maxZoom
	for i, v := range []int32{h.minLon, h.minLat, h.maxLon, h.maxLat} {
		le.PutUint32(b[102+4*i:], uint32(v))
	}
	b[118] = h.centerZoom
	le.PutUint32(b[119:], uint32(h.centerLon))
	le.PutUint32(b[123:], uint32(h.centerLat))
	return b
}

func parseHeader(b []byte) (pmHeader, error) {
	var h pmHeader
	if len(b) < pmHeaderLen || string(b[:7]) != "PMTiles" {
		return h, errors.New("not a PMTiles archive")
	}
	if b[7] != 3 {
		return h, fmt.Errorf("PMTiles version %d: only version 3 is read", b[7])
	}
	le := binary.LittleEndian
	for i, p := range []*uint64{&h.rootOff, &h.rootLen, &h.metaOff, &h.metaLen, &h.leafOff, &h.leafLen,
		&h.dataOff, &h.dataLen, &h.addressed, &h.entries, &h.contents} {
		*p = le.Uint64(b[8+8*i:])
	}
	h.clustered = b[96] == 1
	h.internalComp, h.tileComp, h.tileType, h.minZoom, h.maxZoom = b[97], b[98], b[99], b[100], b[101]
	for i, p := range []*int32{&h.minLon, &h.minLat, &h.maxLon, &h.maxLat} {
		*p = int32(le.Uint32(b[102+4*i:]))
	}
	h.centerZoom = b[118]
	h.centerLon, h.centerLat = int32(le.Uint32(b[119:])), int32(le.Uint32(b[123:]))
	return h, nil
}

// marshalEntries writes a directory: the count, then the id deltas, run lengths, lengths and
// offsets as varints (an offset written 0 follows on from the previous entry; others are
// written plus one), gzipped.
func marshalEntries(es []pmEntry) []byte {
	var raw []byte
	raw = binary.AppendUvarint(raw, uint64(len(es)))
	var last uint64
	for _, e := range es {
		raw = binary.AppendUvarint(raw, e.id-last)
		last = e.id
	}
	for _, e := range es {
		raw = binary.AppendUvarint(raw, uint64(e.run))
	}
	for _, e := range es {
		raw = binary.AppendUvarint(raw, uint64(e.length))
	}
	for i, e := range es {
		if i > 0 && e.offset == es[i-1].offset+uint64(es[i-1].length) {
			raw = binary.AppendUvarint(raw, 0)
		} else {
			raw = binary.AppendUvarint(raw, e.offset+1)
		}
	}
	return gzipBest(raw)
}

// gzipBest compresses what is written once and read by every client: directories, metadata.
func gzipBest(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// parseEntries reads a gzipped directory.
func parseEntries(b []byte) ([]pmEntry, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("PMTiles directory: %w", err)
	}
	r := bufio.NewReader(zr)
	n, err := binary.ReadUvarint(r)
	if err != nil || n > uint64(len(b))*64 {
		return nil, fmt.Errorf("PMTiles directory: bad entry count")
	}
	es := make([]pmEntry, n)
	var last uint64
	read := func(set func(i int, v uint64)) error {
		for i := range es {
			v, err := binary.ReadUvarint(r)
			if err != nil {
				return fmt.Errorf("PMTiles directory: %w", err)
			}
			set(i, v)
		}
		return nil
	}
	if err := errors.Join(
		read(func(i int, v uint64) { last += v; es[i].id = last }),
		read(func(i int, v uint64) { es[i].run = uint32(v) }),
		read(func(i int, v uint64) { es[i].length = uint32(v) }),
		read(func(i int, v uint64) {
			if i > 0 && v == 0 {
				es[i].offset = es[i-1].offset + uint64(es[i-1].length)
			} else {
				es[i].offset = v - 1
			}
		}),
	); err != nil {
		return nil, err
	}
	return es, nil
}

// findEntry returns the entry that holds id: a tile entry whose run covers it, or the leaf
// directory entry (run 0) to look in next.
func findEntry(es []pmEntry, id uint64) (pmEntry, bool) {
	// The last entry whose id is at most id.
	i, found := slices.BinarySearchFunc(es, id, func(e pmEntry, id uint64) int {
		switch {
		case e.id < id:
			return -1
		case e.id > id:
			return 1
		}
		return 0
	})
	if !found {
		i--
	}
	if i < 0 {
		return pmEntry{}, false
	}
	e := es[i]
	if e.run == 0 || id-e.id < uint64(e.run) {
		return e, true
	}
	return pmEntry{}, false
}

// buildDirectories returns the root directory and the leaf directories: the entries in the
// root when they fit, else in leaves of pmLeafMin entries or more (grown by a fifth until
// the root of leaf pointers fits).
func buildDirectories(es []pmEntry) (root, leaves []byte) {
	if root = marshalEntries(es); len(root) <= pmRootMax {
		return root, nil
	}
	size := max(pmLeafMin, len(es)/3500)
	for {
		var ptrs []pmEntry
		leaves = leaves[:0]
		for i := 0; i < len(es); i += size {
			leaf := marshalEntries(es[i:min(i+size, len(es))])
			ptrs = append(ptrs, pmEntry{id: es[i].id, offset: uint64(len(leaves)), length: uint32(len(leaf))})
			leaves = append(leaves, leaf...)
		}
		if root = marshalEntries(ptrs); len(root) <= pmRootMax {
			return root, leaves
		}
		size += size / 5
	}
}

// writePMTiles exports through an MBTiles spool beside path, then assembles the archive.
func writePMTiles(ctx context.Context, path string, o Options) (Progress, error) {
	if _, err := os.Stat(path); err == nil && !o.Resume {
		return Progress{}, fmt.Errorf("%s exists: remove it, or pass --resume", path)
	}
	tj := metadata(o)
	meta, err := mbtilesMetadata(tj)
	if err != nil {
		return Progress{}, err
	}
	spool := SpoolPath(path)
	w, err := createMBTiles(ctx, spool, meta, o.Resume)
	if err != nil {
		return Progress{}, err
	}
	p, err := run(ctx, o, w.done, w.put)
	if cerr := w.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return p, err
	}
	if err := assemblePMTiles(ctx, spool, path, tj); err != nil {
		return p, err
	}
	if err := os.Remove(spool); err != nil {
		return p, fmt.Errorf("remove spool: %w", err)
	}
	return p, nil
}

// SpoolPath is where a PMTiles export keeps its tiles until it assembles the archive at path:
// an MBTiles file that a resumed export continues.
func SpoolPath(path string) string { return path + ".spool.mbtiles" }

// spooled is a tile of the spool, by PMTiles id, with its length and a hash of its bytes.
type spooled struct {
	t    maptile.Tile
	id   uint64
	n    uint32
	hash [sha256.Size]byte
}

// assemblePMTiles writes the archive at path from the spool's tiles: identical tiles are
// stored once (every tile inside one big polygon is the same bytes), runs of consecutive ids
// with the same bytes take one entry, and the tile data is in id order (clustered). The
// archive is written beside path and renamed into place when complete.
func assemblePMTiles(ctx context.Context, spool, path string, tj tiles.TileJSON) error {
	db, err := openSQLite(spool, true)
	if err != nil {
		return err
	}
	defer db.Close()
	var ts []spooled
	err = eachStoredTile(ctx, db, true, func(t maptile.Tile, data []byte) error {
		if len(data) > math.MaxUint32 {
			return fmt.Errorf("tile %d/%d/%d is over 4 GiB", t.Z, t.X, t.Y)
		}
		ts = append(ts, spooled{t: t, id: tileID(t), n: uint32(len(data)), hash: sha256.Sum256(data)})
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(ts, func(a, b spooled) int { return cmpUint(a.id, b.id) })
	entries, unique, dataLen := layoutTiles(ts)
	head, err := pmHead(tj, entries, len(ts), len(unique), dataLen)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := writeArchive(ctx, db, bw, head, unique); err != nil {
		f.Close()
		return err
	}
	if err := errors.Join(bw.Flush(), f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// layoutTiles places the tiles (sorted by id) in the tile data: the directory entries, the
// tiles whose bytes are stored (in offset order) and the length of the tile data.
func layoutTiles(ts []spooled) (entries []pmEntry, unique []spooled, dataLen uint64) {
	at := map[[sha256.Size]byte]uint64{}
	for _, s := range ts {
		off, seen := at[s.hash]
		if !seen {
			off = dataLen
			at[s.hash] = off
			unique = append(unique, s)
			dataLen += uint64(s.n)
		}
		if k := len(entries) - 1; k >= 0 && entries[k].offset == off && entries[k].id+uint64(entries[k].run) == s.id {
			entries[k].run++
			continue
		}
		entries = append(entries, pmEntry{id: s.id, offset: off, length: s.n, run: 1})
	}
	return entries, unique, dataLen
}

// pmHead is the header, root directory, metadata and leaf directories: everything before
// the tile data.
func pmHead(tj tiles.TileJSON, entries []pmEntry, addressed, contents int, dataLen uint64) ([]byte, error) {
	root, leaves := buildDirectories(entries)
	meta, err := json.Marshal(map[string]any{
		"name": tj.Name, "description": tj.Description, "attribution": tj.Attribution,
		"version": "1", "type": "overlay", "format": "pbf", "generator": "citytwin",
		"vector_layers": tj.VectorLayers,
	})
	if err != nil {
		return nil, fmt.Errorf("encode PMTiles metadata: %w", err)
	}
	metaGz := gzipBest(meta)
	e7 := func(v float64) int32 { return int32(math.Round(v * 1e7)) }
	h := pmHeader{
		rootOff: pmHeaderLen, rootLen: uint64(len(root)),
		leafLen: uint64(len(leaves)), dataLen: dataLen,
		addressed: uint64(addressed), entries: uint64(len(entries)), contents: uint64(contents),
		clustered: true, internalComp: pmGzip, tileComp: pmGzip, tileType: pmMVT,
		minZoom: uint8(tj.MinZoom), maxZoom: uint8(tj.MaxZoom), centerZoom: uint8(tj.Center[2]),
		minLon: e7(tj.Bounds[0]), minLat: e7(tj.Bounds[1]), maxLon: e7(tj.Bounds[2]), maxLat: e7(tj.Bounds[3]),
		centerLon: e7(tj.Center[0]), centerLat: e7(tj.Center[1]),
	}
	h.metaOff = h.rootOff + h.rootLen
	h.metaLen = uint64(len(metaGz))
	h.leafOff = h.metaOff + h.metaLen
	h.dataOff = h.leafOff + h.leafLen
	return slices.Concat(h.marshal(), root, metaGz, leaves), nil
}

// writeArchive writes the head, then each stored tile's bytes read back from the spool.
func writeArchive(ctx context.Context, db *sql.DB, w io.Writer, head []byte, unique []spooled) error {
	if _, err := w.Write(head); err != nil {
		return fmt.Errorf("write PMTiles directories: %w", err)
	}
	stmt, err := db.PrepareContext(ctx, `SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?`)
	if err != nil {
		return fmt.Errorf("read spool: %w", err)
	}
	defer stmt.Close()
	var data []byte
	for _, s := range unique {
		if err := stmt.QueryRowContext(ctx, int(s.t.Z), s.t.X, tmsRow(s.t.Z, s.t.Y)).Scan(&data); err != nil {
			return fmt.Errorf("read tile %d/%d/%d from the spool: %w", s.t.Z, s.t.X, s.t.Y, err)
		}
		if uint32(len(data)) != s.n {
			return fmt.Errorf("tile %d/%d/%d changed in the spool while the archive was written", s.t.Z, s.t.X, s.t.Y)
		}
		if _, err := w.Write(data); err != nil {
			return fmt.Errorf("write tile data: %w", err)
		}
	}
	return nil
}
