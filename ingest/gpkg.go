package ingest

// GeoPackages are read with modernc.org/sqlite, the pure-Go SQLite the module already uses
// for MBTiles export: no C library to install, and the binary stays as it is built today
// (mattn/go-sqlite3 would add a second SQLite, in C, and libsqlite3-dev to the build).

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/paulmach/orb"
	_ "modernc.org/sqlite" // the pure-Go driver "sqlite"
)

type gpkgTable struct {
	file      string
	db        *sql.DB
	rows      *sql.Rows
	table     string
	geomCol   string
	geomType  string
	pk        string
	records   int
	fields    []string
	booleans  map[int]bool // field positions declared BOOLEAN
	crs       crsSource
	index     int
	scan      []any
	scanPtrs  []any
	closeOnce bool
}

func openGPKGDB(path string) (*sql.DB, error) {
	q := url.Values{}
	q.Add("mode", "ro")
	q.Add("_pragma", "query_only(1)")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %v", ErrFormat, path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// openGeoPackage opens every feature table of the file, or the named one.
func openGeoPackage(path, only string) ([]Source, error) {
	base := filepath.Base(path)
	db, err := openGPKGDB(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT g.table_name, g.column_name, g.geometry_type_name, g.srs_id
		FROM gpkg_contents c JOIN gpkg_geometry_columns g ON g.table_name = c.table_name
		WHERE c.data_type = 'features' ORDER BY g.table_name`)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not a GeoPackage: %v", ErrFormat, base, err)
	}
	var tables []*gpkgTable
	var srids []int
	var names []string
	for rows.Next() {
		t := &gpkgTable{file: path}
		var srid int
		if err := rows.Scan(&t.table, &t.geomCol, &t.geomType, &srid); err != nil {
			rows.Close()
			return nil, fmt.Errorf("%w: %s: gpkg_geometry_columns: %v", ErrFormat, base, err)
		}
		names = append(names, t.table)
		if only == "" || t.table == only {
			tables = append(tables, t)
			srids = append(srids, srid)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrFormat, base, err)
	}
	if len(tables) == 0 {
		if only != "" {
			return nil, fmt.Errorf("%w: %s has no feature table %q (it has: %s)", ErrFormat, base, only, strings.Join(names, ", "))
		}
		return nil, fmt.Errorf("%w: %s has no feature table", ErrFormat, base)
	}
	var out []Source
	fail := func(err error) ([]Source, error) {
		for _, s := range out {
			s.Close()
		}
		return nil, err
	}
	for i, t := range tables {
		if t.crs, err = gpkgCRS(db, srids[i]); err != nil {
			return fail(fmt.Errorf("%w: %s: table %s: %v", ErrFormat, base, t.table, err))
		}
		if err := t.columns(db); err != nil {
			return fail(fmt.Errorf("%w: %s: table %s: %v", ErrFormat, base, t.table, err))
		}
		if err := t.start(); err != nil {
			return fail(err)
		}
		out = append(out, t)
	}
	return out, nil
}

func gpkgCRS(db *sql.DB, srid int) (crsSource, error) {
	var org, def string
	var code int
	err := db.QueryRow(`SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?`, srid).Scan(&org, &code, &def)
	if errors.Is(err, sql.ErrNoRows) {
		return crsSource{}, fmt.Errorf("srs_id %d is not in gpkg_spatial_ref_sys", srid)
	}
	if err != nil {
		return crsSource{}, err
	}
	from := fmt.Sprintf("gpkg_spatial_ref_sys srs_id %d", srid)
	switch {
	case strings.EqualFold(org, "EPSG") && code > 0:
		return crsSource{def: fmt.Sprintf("EPSG:%d", code), from: from}, nil
	case srid <= 0 || strings.EqualFold(strings.TrimSpace(def), "undefined") || def == "":
		return crsSource{from: from + ", an undefined system"}, nil
	}
	return crsSource{def: def, from: from}, nil
}

func (t *gpkgTable) columns(db *sql.DB) error {
	rows, err := db.Query(`SELECT name, type, pk FROM pragma_table_info(?)`, t.table)
	if err != nil {
		return err
	}
	defer rows.Close()
	t.booleans = map[int]bool{}
	for rows.Next() {
		var name, typ string
		var pk int
		if err := rows.Scan(&name, &typ, &pk); err != nil {
			return err
		}
		switch {
		case pk == 1 && strings.EqualFold(typ, "INTEGER"):
			t.pk = name
		case strings.EqualFold(name, t.geomCol):
		default:
			if strings.EqualFold(typ, "BOOLEAN") {
				t.booleans[len(t.fields)] = true
			}
			t.fields = append(t.fields, name)
		}
	}
	return rows.Err()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// start opens the table's own connection and query; rows stream as Next reads them.
func (t *gpkgTable) start() error {
	db, err := openGPKGDB(t.file)
	if err != nil {
		return err
	}
	t.db = db
	cols := []string{"rowid", quoteIdent(t.geomCol)}
	if t.pk != "" {
		cols[0] = quoteIdent(t.pk)
	}
	for _, f := range t.fields {
		cols = append(cols, quoteIdent(f))
	}
	// The count first: the table's one connection then streams the rows.
	if err := db.QueryRow("SELECT count(*) FROM " + quoteIdent(t.table)).Scan(&t.records); err != nil {
		t.records = 0 // only for progress
	}
	q := "SELECT " + strings.Join(cols, ", ") + " FROM " + quoteIdent(t.table) + " ORDER BY 1"
	if t.rows, err = db.Query(q); err != nil {
		db.Close()
		return fmt.Errorf("%w: %s: table %s: %v", ErrFormat, filepath.Base(t.file), t.table, err)
	}
	t.scan = make([]any, len(cols))
	t.scanPtrs = make([]any, len(cols))
	for i := range t.scan {
		t.scanPtrs[i] = &t.scan[i]
	}
	return nil
}

func (t *gpkgTable) Info() SourceInfo {
	return SourceInfo{
		Name: t.table, Format: "GeoPackage", Encoding: "UTF-8 (SQLite)",
		Geometry: gpkgGeometryType(t.geomType), Fields: append([]string(nil), t.fields...), FIDColumn: t.pk, Records: t.records, crs: t.crs,
	}
}

// gpkgGeometryType names GeoPackage's upper-case types as SourceInfo does.
func gpkgGeometryType(s string) string {
	switch strings.ToUpper(s) {
	case "POINT":
		return "Point"
	case "MULTIPOINT":
		return "MultiPoint"
	case "LINESTRING":
		return "LineString"
	case "MULTILINESTRING":
		return "MultiLineString"
	case "POLYGON":
		return "Polygon"
	case "MULTIPOLYGON":
		return "MultiPolygon"
	}
	return "Geometry"
}

func (t *gpkgTable) Close() error {
	if t.closeOnce {
		return nil
	}
	t.closeOnce = true
	var errs []error
	if t.rows != nil {
		errs = append(errs, t.rows.Close())
	}
	if t.db != nil {
		errs = append(errs, t.db.Close())
	}
	return errors.Join(errs...)
}

func (t *gpkgTable) Next() (Record, error) {
	if !t.rows.Next() {
		if err := t.rows.Err(); err != nil {
			return Record{}, fmt.Errorf("%w: %s: table %s: %v", ErrFormat, filepath.Base(t.file), t.table, err)
		}
		return Record{}, io.EOF
	}
	if err := t.rows.Scan(t.scanPtrs...); err != nil {
		return Record{}, fmt.Errorf("%w: %s: table %s: row %d: %v", ErrFormat, filepath.Base(t.file), t.table, t.index+1, err)
	}
	index := t.index
	t.index++
	fid, _ := t.scan[0].(int64)
	rec := Record{Index: index, FID: fid, Attrs: make(map[string]any, len(t.fields))}
	if blob, ok := t.scan[1].([]byte); ok {
		g, err := decodeGPKGBlob(blob)
		if err != nil {
			// A broken geometry is the feature's problem, reported with it.
			rec.GeometryErr = err
		} else {
			rec.Geometry = g
		}
	}
	for i, name := range t.fields {
		v := t.scan[i+2]
		switch x := v.(type) {
		case []byte:
			v = string(x)
		case time.Time:
			v = x.Format(time.RFC3339)
		case int64:
			if t.booleans[i] {
				v = x != 0
			}
		}
		rec.Attrs[name] = v
	}
	return rec, nil
}

// decodeGPKGBlob reads a GeoPackage geometry blob: "GP", version, flags, srs_id, an
// envelope of the size the flags give, then WKB.
func decodeGPKGBlob(b []byte) (orb.Geometry, error) {
	if len(b) < 8 || b[0] != 'G' || b[1] != 'P' {
		return nil, fmt.Errorf("not a GeoPackage geometry blob")
	}
	flags := b[3]
	if flags&0x10 != 0 { // empty geometry
		return nil, nil
	}
	env := [...]int{0, 32, 48, 48, 64}
	et := int(flags>>1) & 7
	if et >= len(env) {
		return nil, fmt.Errorf("bad envelope type %d", et)
	}
	start := 8 + env[et]
	if len(b) < start {
		return nil, fmt.Errorf("blob shorter than its header")
	}
	return decodeWKB(b[start:])
}
