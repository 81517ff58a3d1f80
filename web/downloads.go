package web

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/paulmach/orb/encoding/wkt"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver "sqlite", for GeoPackages

	"github.com/citytwin/citytwin/layers"
)

// Open-data downloads: GET /downloads/{layer}.geojson, .csv and .gpkg — every feature of a
// public base layer with its public fields, under the data's licence. GeoJSON and CSV are
// streamed as the features are read; a GeoPackage is written to a temporary file, then sent
// and removed. Features come from the live model in memory mode and from the PostGIS store
// page by page in PostGIS mode (eachFeature), from one snapshot, so no download holds a whole
// layer twice or mixes two versions of it.

// dataLicense is the licence of the data, the Open Database License that layers.Attribution
// names: the base layers are derived from OpenStreetMap.
const (
	dataLicense      = "https://opendatacommons.org/licenses/odbl/1-0/"
	dataLicenseTitle = "Open Database License (ODbL) 1.0"
)

// downloadFormat is a file format the layers are downloaded in.
type downloadFormat struct {
	ext       string // in the path: /downloads/{layer}.{ext}
	title     string
	mediaType string // its IANA registration, named in the DCAT catalogue
	header    string // the Content-Type served
	write     func(s *Server, w http.ResponseWriter, r *http.Request, l *layers.Layer) error
}

// downloadFormats are the formats of /downloads, in the order the DCAT catalogue lists them.
var downloadFormats = []downloadFormat{
	{ext: "geojson", title: "GeoJSON", mediaType: "application/geo+json", header: "application/geo+json", write: (*Server).downloadGeoJSON},
	{ext: "csv", title: "CSV (geometry as WKT)", mediaType: "text/csv", header: "text/csv; charset=utf-8; header=present", write: (*Server).downloadCSV},
	{ext: "gpkg", title: "GeoPackage", mediaType: "application/geopackage+sqlite3", header: "application/geopackage+sqlite3", write: (*Server).downloadGeoPackage},
}

// maxDBDownloads bounds the downloads read from PostGIS at once, in the process: each holds
// one of the pool's connections (postgis.DefaultMaxConns, 16) in its snapshot's transaction
// for as long as its client takes to receive the file, and the rest of the pool stays for
// tiles and feature queries. One more is 503 "busy" with Retry-After. dbDownloads counts
// those being read.
var (
	maxDBDownloads atomic.Int32
	dbDownloads    atomic.Int32
)

func init() { maxDBDownloads.Store(4) }

// downloadPage is how many features a page of the PostGIS feature source holds while a
// download reads a layer (a variable: tests page through the demo city in smaller pages).
var downloadPage = 5000

// download: GET /downloads/{layer}.{format}.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	vars := mux.Vars(r)
	ls, err := s.opts.Published.ParseBaseList(vars["layer"])
	if err == nil && len(ls) != 1 {
		err = fmt.Errorf("%w %q: a download is one layer", layers.ErrUnknownLayer, vars["layer"])
	}
	if err != nil {
		s.writeErr(w, r, badParam("layer", "invalid", err))
		return
	}
	l := ls[0]
	for _, f := range downloadFormats {
		if f.ext != vars["format"] {
			continue
		}
		if _, paged := s.featureSource().(pagedFeatureSource); paged {
			// A download from PostGIS holds a pool connection (its snapshot's transaction)
			// until the client has the whole file.
			if n := dbDownloads.Add(1); n > maxDBDownloads.Load() {
				dbDownloads.Add(-1)
				w.Header().Set("Retry-After", unavailableRetryAfter)
				writeError(w, http.StatusServiceUnavailable, "busy",
					fmt.Sprintf("%d downloads are being read from the database at once, the most there may be; retry shortly", maxDBDownloads.Load()))
				return
			}
			defer dbDownloads.Add(-1)
		}
		h := w.Header()
		h.Set("Content-Type", f.header)
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="citytwin-%s.%s"`, l.Name, f.ext))
		h.Add("Link", fmt.Sprintf(`<%s>; rel="license"; title=%q`, dataLicense, dataLicenseTitle))
		h.Set("X-Attribution", layers.Attribution)
		h.Set("Cache-Control", metaCacheControl)
		if err := f.write(s, w, r, l); err != nil {
			s.downloadFailed(w, r, l, err)
		}
		return
	}
	writeError(w, http.StatusNotFound, "not_found", "no such download format: "+vars["format"])
}

// errAnswerBegun wraps an error met after the answer began: the status is sent, so the only
// way left to tell the client is to break the connection.
var errAnswerBegun = errors.New("the download was cut short")

// downloadFailed answers a failed download: an error before the answer began gets its status
// (503 while the model loads or the database is away); one after is logged, and the connection
// is broken so that the client sees a truncated file, not a complete-looking one.
func (s *Server) downloadFailed(w http.ResponseWriter, r *http.Request, l *layers.Layer, err error) {
	if !errors.Is(err, errAnswerBegun) {
		s.writeErr(w, r, err)
		return
	}
	s.log.Warn("download cut short", "layer", l.Name, "path", r.URL.Path, "err", err)
	panic(http.ErrAbortHandler)
}

// eachFeature calls fn with every feature of a base layer, public fields in Props, in
// ascending id order, and stops at fn's first error. In memory mode it reads one model (the
// one current at the call) through layerFeatures; in PostGIS mode the feature source page
// after page, keyed on the last id, so that at most a page is held, every page from one
// snapshot of the layer (pagedFeatureSource). A streamed answer begins
// in first, called once the first page is read (so that an unreachable database or a model
// still loading fails before it), even for an empty layer; from then on, the request's
// deadline no longer cuts the reads short (a write to a client that left fails instead), and
// a failed read is errAnswerBegun. first is nil for an answer that begins later.
func (s *Server) eachFeature(ctx context.Context, layer string, first func() error, fn func(*layers.Feature) error) error {
	streamed := first != nil
	if !streamed {
		first = func() error { return nil }
	}
	src := s.featureSource()
	if _, inMemory := src.(memoryFeatures); inMemory {
		c, err := s.model.Current()
		if err != nil {
			return err
		}
		if err := first(); err != nil {
			return err
		}
		for _, f := range layerFeatures(c, layer, nil, nil) {
			if err := fn(f); err != nil {
				return err
			}
		}
		return nil
	}
	paged, ok := src.(pagedFeatureSource)
	if !ok {
		return fmt.Errorf("features of %s: the feature source cannot read a layer page by page", layer)
	}
	// The pages are read in one transaction, begun under the request's context; once a
	// streamed answer has begun, the request's end no longer cancels it (readCtx outlives
	// ctx from then on).
	readCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	page := 0
	err := paged.EachPage(readCtx, layer, downloadPage, func(fs []layers.Feature) error {
		if page == 0 {
			if err := first(); err != nil {
				return err
			}
			if streamed {
				stop()
			}
		}
		page++
		for i := range fs {
			if err := fn(&fs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && page > 0 && streamed {
		return begun(err)
	}
	return err
}

// pagedFeatureSource is a feature source that reads a whole layer page after page from one
// snapshot (the PostGIS store: postgis.Store.EachPage), so that a download holds one version
// of the layer even when an import commits while it is read.
type pagedFeatureSource interface {
	EachPage(ctx context.Context, layer string, pageSize int, fn func([]layers.Feature) error) error
}

// begun marks an error met while writing an answer already begun.
func begun(err error) error {
	if err == nil || errors.Is(err, errAnswerBegun) {
		return err
	}
	return fmt.Errorf("%w: %w", errAnswerBegun, err)
}

// downloadGeoJSON streams the layer as a GeoJSON FeatureCollection, with its name, licence
// and attribution as foreign members.
func (s *Server) downloadGeoJSON(w http.ResponseWriter, r *http.Request, l *layers.Layer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	n := 0
	err := s.eachFeature(r.Context(), l.Name,
		func() error {
			head, err := json.Marshal(map[string]any{
				"type": "FeatureCollection", "name": l.Name, "title": l.Title,
				"license": dataLicense, "attribution": layers.Attribution,
			})
			if err != nil {
				return err
			}
			w.WriteHeader(http.StatusOK)
			_, err = bw.Write(head[:len(head)-1]) // without its closing brace
			if err == nil {
				_, err = bw.WriteString(`,"features":[` + "\n")
			}
			return begun(err)
		},
		func(f *layers.Feature) error {
			b, err := json.Marshal(publicFeature(f))
			if err != nil {
				return begun(fmt.Errorf("feature %d: %w", f.ID, err))
			}
			if n > 0 {
				if err := bw.WriteByte(','); err != nil {
					return begun(err)
				}
			}
			n++
			if _, err := bw.Write(b); err != nil {
				return begun(err)
			}
			return begun(bw.WriteByte('\n'))
		})
	if err != nil {
		return err
	}
	if _, err := bw.WriteString("]}\n"); err != nil {
		return begun(err)
	}
	return begun(bw.Flush())
}

// downloadCSV streams the layer as CSV, UTF-8 with a header: id, the geometry as WKT
// (WGS84 longitude, latitude), then the public fields; lists are comma-joined, as in tiles.
func (s *Server) downloadCSV(w http.ResponseWriter, r *http.Request, l *layers.Layer) error {
	fields := l.PublicFields()
	cw := csv.NewWriter(w)
	row := make([]string, 2+len(fields))
	err := s.eachFeature(r.Context(), l.Name,
		func() error {
			w.WriteHeader(http.StatusOK)
			row[0], row[1] = "id", "wkt"
			for i, f := range fields {
				row[2+i] = f.Name
			}
			return begun(cw.Write(row))
		},
		func(f *layers.Feature) error {
			row[0] = strconv.FormatInt(f.ID, 10)
			row[1] = wkt.MarshalString(f.Geometry)
			for i, fd := range fields {
				row[2+i] = csvValue(f.Props[fd.Name])
			}
			return begun(cw.Write(row))
		})
	if err != nil {
		return err
	}
	cw.Flush()
	return begun(cw.Error())
}

// csvValue writes a field's value as CSV text: "" when missing.
func csvValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case []string:
		return strings.Join(v, ",")
	}
	return fmt.Sprint(v)
}

// downloadGeoPackage writes the layer into a GeoPackage in a temporary file, then sends it
// with its length; the file is removed afterwards.
func (s *Server) downloadGeoPackage(w http.ResponseWriter, r *http.Request, l *layers.Layer) error {
	tmp, err := os.CreateTemp("", "citytwin-*.gpkg")
	if err != nil {
		return fmt.Errorf("GeoPackage of %s: %w", l.Name, err)
	}
	path := tmp.Name()
	tmp.Close()
	defer os.Remove(path)
	if err := s.writeGeoPackage(r.Context(), path, l); err != nil {
		return fmt.Errorf("GeoPackage of %s: %w", l.Name, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("GeoPackage of %s: %w", l.Name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("GeoPackage of %s: %w", l.Name, err)
	}
	w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err = io.Copy(w, f)
	return begun(err)
}

// GeoPackage 1.3 (OGC 12-128r18): a SQLite file with application_id "GPKG", the spatial
// reference systems it uses, the contents, and a feature table whose geometry column holds
// GeoPackage binary (a header with the SRS and envelope, then ISO WKB).
const gpkgSRS = 4326

// gpkgSchema: application_id 0x47504B47 ("GPKG"), user_version 10300 (1.3.0), the tables
// every GeoPackage has, and the three SRS rows it must hold.
const gpkgSchema = `
PRAGMA application_id = 1196444487;
PRAGMA user_version = 10300;
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
INSERT INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
`

// gpkgColumnType is the GeoPackage column type of a catalog field.
func gpkgColumnType(t layers.FieldType) string {
	switch t {
	case layers.Number:
		return "DOUBLE"
	case layers.Integer:
		return "INTEGER"
	case layers.Boolean:
		return "BOOLEAN"
	}
	return "TEXT" // strings, and lists comma-joined as in tiles
}

// gpkgGeometryType is the geometry type a layer's table declares: polygons are written as
// multipolygons and lines as multilinestrings, so that one type holds both.
func gpkgGeometryType(l *layers.Layer) string {
	switch l.Geometry {
	case layers.Point:
		return "POINT"
	case layers.LineString:
		return "MULTILINESTRING"
	}
	return "MULTIPOLYGON"
}

// writeGeoPackage writes the layer's features, public fields only, into a new GeoPackage at
// path: a table named after the layer whose fid is the feature's id.
func (s *Server) writeGeoPackage(ctx context.Context, path string, l *layers.Layer) (err error) {
	q := url.Values{}
	// A temporary file: no journal, no syncing.
	q.Add("_pragma", "journal_mode(off)")
	q.Add("_pragma", "synchronous(off)")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer func() {
		if cerr := db.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close: %w", cerr)
		}
	}()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, gpkgSchema); err != nil {
		return fmt.Errorf("create the GeoPackage tables: %w", err)
	}
	fields := l.PublicFields()
	table := quoteSQLite(l.Name)
	cols := []string{`"fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL`, `"geom" ` + gpkgGeometryType(l)}
	marks := []string{"?", "?"}
	for _, f := range fields {
		cols = append(cols, quoteSQLite(f.Name)+" "+gpkgColumnType(f.Type))
		marks = append(marks, "?")
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE "+table+" ("+strings.Join(cols, ", ")+")"); err != nil {
		return fmt.Errorf("create table %s: %w", l.Name, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, "INSERT INTO "+table+" VALUES ("+strings.Join(marks, ", ")+")")
	if err != nil {
		return fmt.Errorf("insert into %s: %w", l.Name, err)
	}
	defer ins.Close()
	var (
		bound orb.Bound
		n     int
		args  = make([]any, 2+len(fields))
	)
	err = s.eachFeature(ctx, l.Name, nil, func(f *layers.Feature) error {
		g := f.Geometry
		switch t := g.(type) {
		case orb.Polygon:
			g = orb.MultiPolygon{t}
		case orb.LineString:
			g = orb.MultiLineString{t}
		}
		blob, err := gpkgGeometry(g)
		if err != nil {
			return fmt.Errorf("feature %d: %w", f.ID, err)
		}
		args[0], args[1] = f.ID, blob
		for i, fd := range fields {
			args[2+i] = gpkgValue(f.Props[fd.Name])
		}
		if _, err := ins.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("feature %d: %w", f.ID, err)
		}
		if b := g.Bound(); n == 0 {
			bound = b
		} else {
			bound = bound.Union(b)
		}
		n++
		return nil
	})
	if err != nil {
		return err
	}
	contents := []any{l.Name, l.Title, l.Description + " " + layers.Attribution + ". Licence: " + dataLicenseTitle + ", " + dataLicense,
		time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), nil, nil, nil, nil}
	if n > 0 {
		contents[4], contents[5], contents[6], contents[7] = bound.Min[0], bound.Min[1], bound.Max[0], bound.Max[1]
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, min_x, min_y, max_x, max_y, srs_id)
		VALUES (?, 'features', ?, ?, ?, ?, ?, ?, ?, 4326)`, contents...); err != nil {
		return fmt.Errorf("gpkg_contents: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4326, 0, 0)`, l.Name, gpkgGeometryType(l)); err != nil {
		return fmt.Errorf("gpkg_geometry_columns: %w", err)
	}
	return tx.Commit()
}

// gpkgGeometry encodes a geometry as GeoPackage binary: "GP", version 0, flags (little
// endian, an xy envelope unless a point), the SRS id, the envelope minx, maxx, miny, maxy,
// then little-endian WKB.
func gpkgGeometry(g orb.Geometry) ([]byte, error) {
	body, err := wkb.Marshal(g, binary.LittleEndian)
	if err != nil {
		return nil, err
	}
	const littleEndian, xyEnvelope = 0x01, 0x01 << 1
	flags := byte(littleEndian)
	var env []float64
	if _, point := g.(orb.Point); !point {
		flags |= xyEnvelope
		b := g.Bound()
		env = []float64{b.Min[0], b.Max[0], b.Min[1], b.Max[1]}
	}
	out := make([]byte, 8, 8+8*len(env)+len(body))
	out[0], out[1], out[2], out[3] = 'G', 'P', 0, flags
	binary.LittleEndian.PutUint32(out[4:], uint32(int32(gpkgSRS)))
	for _, v := range env {
		out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
	}
	return append(out, body...), nil
}

// gpkgValue is a field's value as SQLite stores it: booleans as 0 or 1, lists comma-joined.
func gpkgValue(v any) any {
	switch v := v.(type) {
	case bool:
		if v {
			return 1
		}
		return 0
	case []string:
		return strings.Join(v, ",")
	}
	return v
}

// quoteSQLite quotes an SQLite identifier.
func quoteSQLite(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
