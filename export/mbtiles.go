package export

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/paulmach/orb/maptile"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver "sqlite"

	"github.com/citytwin/citytwin/tiles"
)

// MBTiles 1.3 (https://github.com/mapbox/mbtiles-spec): a SQLite database with a metadata
// table of name/value pairs and a tiles table addressed by zoom, column and TMS row (rows
// counted from the south, unlike XYZ's y).

const mbtilesSchema = `
CREATE TABLE IF NOT EXISTS metadata (name TEXT NOT NULL, value TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS metadata_name ON metadata (name);
CREATE TABLE IF NOT EXISTS tiles (zoom_level INTEGER NOT NULL, tile_column INTEGER NOT NULL, tile_row INTEGER NOT NULL, tile_data BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS tile_index ON tiles (zoom_level, tile_column, tile_row);`

// commitEvery bounds how many tiles, or how long, a write transaction holds: what an
// interrupted export loses and makes again on resuming.
const (
	commitEveryTiles = 2000
	commitEveryTime  = 2 * time.Second
)

// tmsRow turns an XYZ row into MBTiles' TMS row and back (the flip is its own inverse).
func tmsRow(z maptile.Zoom, y uint32) uint32 { return uint32(1)<<z - 1 - y }

// openSQLite opens a SQLite file with one connection (SQLite has one writer; the tile writer
// is one goroutine).
func openSQLite(path string, readOnly bool) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	if readOnly {
		q.Add("mode", "ro")
	} else {
		q.Add("_pragma", "synchronous(normal)")
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if !readOnly {
		db.SetMaxOpenConns(1)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// mbtilesWriter stores tiles into an MBTiles file in batched transactions.
type mbtilesWriter struct {
	db      *sql.DB
	tx      *sql.Tx
	insert  *sql.Stmt
	pending int
	since   time.Time
	// have holds the tiles already in the file when it was opened (resume).
	have map[maptile.Tile]struct{}
}

// createMBTiles creates the file at path with its metadata, or with resume reopens an
// existing one written with the same metadata.
func createMBTiles(ctx context.Context, path string, meta map[string]string, resume bool) (*mbtilesWriter, error) {
	_, statErr := os.Stat(path)
	exists := statErr == nil
	if exists && !resume {
		return nil, fmt.Errorf("%s exists: remove it, or pass --resume to continue the export that wrote it", path)
	}
	db, err := openSQLite(path, false)
	if err != nil {
		return nil, err
	}
	w := &mbtilesWriter{db: db, have: map[maptile.Tile]struct{}{}}
	if err := w.init(ctx, path, meta, exists); err != nil {
		db.Close()
		return nil, err
	}
	return w, nil
}

func (w *mbtilesWriter) init(ctx context.Context, path string, meta map[string]string, exists bool) error {
	if _, err := w.db.ExecContext(ctx, mbtilesSchema); err != nil {
		return fmt.Errorf("create MBTiles schema in %s: %w", path, err)
	}
	if exists {
		old, err := readMetadataTable(ctx, w.db)
		if err != nil {
			return err
		}
		for k, v := range meta {
			if old[k] != v {
				return fmt.Errorf("resume %s: it was exported with %s %q, this export has %q: remove the file or export as before", path, k, old[k], v)
			}
		}
		if err := w.loadExisting(ctx); err != nil {
			return err
		}
	}
	for k, v := range meta {
		if _, err := w.db.ExecContext(ctx, `INSERT OR REPLACE INTO metadata (name, value) VALUES (?, ?)`, k, v); err != nil {
			return fmt.Errorf("write MBTiles metadata: %w", err)
		}
	}
	return nil
}

// loadExisting remembers the tiles the file already holds.
func (w *mbtilesWriter) loadExisting(ctx context.Context) error {
	return eachStoredTile(ctx, w.db, false, func(t maptile.Tile, _ []byte) error {
		w.have[t] = struct{}{}
		return nil
	})
}

// eachStoredTile calls fn with every tile of an MBTiles database, in XYZ coordinates, with
// its data when withData is set.
func eachStoredTile(ctx context.Context, db *sql.DB, withData bool, fn func(maptile.Tile, []byte) error) error {
	q := `SELECT zoom_level, tile_column, tile_row, length(tile_data) FROM tiles`
	if withData {
		q = `SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles`
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("read MBTiles tiles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var z, x, row uint32
		var data []byte
		var n int64
		dest := any(&n)
		if withData {
			dest = &data
		}
		if err := rows.Scan(&z, &x, &row, dest); err != nil {
			return fmt.Errorf("read MBTiles tiles: %w", err)
		}
		if z > tiles.MaxZoom {
			return fmt.Errorf("MBTiles tile at zoom %d: deeper than %d", z, tiles.MaxZoom)
		}
		zoom := maptile.Zoom(z)
		if err := fn(maptile.New(x, tmsRow(zoom, row), zoom), data); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (w *mbtilesWriter) done(t maptile.Tile) bool {
	_, ok := w.have[t]
	return ok
}

// put stores one gzipped tile, committing every commitEveryTiles tiles or commitEveryTime.
func (w *mbtilesWriter) put(m made) error {
	if w.tx == nil {
		tx, err := w.db.Begin()
		if err != nil {
			return fmt.Errorf("begin MBTiles transaction: %w", err)
		}
		stmt, err := tx.Prepare(`INSERT OR REPLACE INTO tiles (zoom_level, tile_column, tile_row, tile_data) VALUES (?, ?, ?, ?)`)
		if err != nil {
			tx.Rollback()
			return fmt.Errorf("prepare MBTiles insert: %w", err)
		}
		w.tx, w.insert, w.since = tx, stmt, time.Now()
	}
	if _, err := w.insert.Exec(int(m.t.Z), m.t.X, tmsRow(m.t.Z, m.t.Y), m.gz); err != nil {
		return fmt.Errorf("write tile %d/%d/%d: %w", m.t.Z, m.t.X, m.t.Y, err)
	}
	w.pending++
	if w.pending >= commitEveryTiles || time.Since(w.since) >= commitEveryTime {
		return w.commit()
	}
	return nil
}

func (w *mbtilesWriter) commit() error {
	if w.tx == nil {
		return nil
	}
	w.insert.Close()
	err := w.tx.Commit()
	w.tx, w.insert, w.pending = nil, nil, 0
	if err != nil {
		return fmt.Errorf("commit MBTiles tiles: %w", err)
	}
	return nil
}

// close commits what is pending — also after a failed or interrupted export, so that a
// resumed one need not make those tiles again — and closes the file.
func (w *mbtilesWriter) close() error {
	return errors.Join(w.commit(), w.db.Close())
}

// writeMBTiles exports into an MBTiles file.
func writeMBTiles(ctx context.Context, path string, o Options) (Progress, error) {
	meta, err := mbtilesMetadata(metadata(o))
	if err != nil {
		return Progress{}, err
	}
	w, err := createMBTiles(ctx, path, meta, o.Resume)
	if err != nil {
		return Progress{}, err
	}
	p, err := run(ctx, o, w.done, w.put)
	if cerr := w.close(); err == nil {
		err = cerr
	}
	return p, err
}

// mbtilesMetadata is the metadata table of a pyramid: MBTiles 1.3's keys, and vector_layers
// in "json".
func mbtilesMetadata(tj tiles.TileJSON) (map[string]string, error) {
	vl, err := json.Marshal(map[string]any{"vector_layers": tj.VectorLayers})
	if err != nil {
		return nil, fmt.Errorf("encode vector_layers: %w", err)
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	b, c := tj.Bounds, tj.Center
	return map[string]string{
		"name":        tj.Name,
		"format":      "pbf",
		"type":        "overlay",
		"version":     "1",
		"description": tj.Description,
		"attribution": tj.Attribution,
		"bounds":      num(b[0]) + "," + num(b[1]) + "," + num(b[2]) + "," + num(b[3]),
		"center":      num(c[0]) + "," + num(c[1]) + "," + strconv.Itoa(int(c[2])),
		"minzoom":     strconv.Itoa(tj.MinZoom),
		"maxzoom":     strconv.Itoa(tj.MaxZoom),
		"json":        string(vl),
	}, nil
}

// readMetadataTable reads an MBTiles metadata table.
func readMetadataTable(ctx context.Context, db *sql.DB) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name, value FROM metadata`)
	if err != nil {
		return nil, fmt.Errorf("read MBTiles metadata: %w", err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var k string
		var v sql.NullString
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("read MBTiles metadata: %w", err)
		}
		m[k] = v.String
	}
	return m, rows.Err()
}
