package ingest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/paulmach/orb"
)

// ErrFormat marks a file that cannot be read: an unknown or broken format, a truncated
// file, parts that disagree.
var ErrFormat = errors.New("unreadable source")

// Source streams the features of one table of a file (a Shapefile, one GeoPackage table,
// a CSV file, one layer read by ogr2ogr) in the source's own CRS.
type Source interface {
	Info() SourceInfo
	// Next returns the next record, or io.EOF after the last one.
	Next() (Record, error)
	Close() error
}

// SourceInfo describes a source before its records are read.
type SourceInfo struct {
	Name     string // table or layer name: the Shapefile's base name, the GeoPackage table
	Format   string // "ESRI Shapefile", "GeoPackage", "CSV (WKT column geom)", "GML (ogr2ogr)"...
	Encoding string // text encoding of the attributes and where it came from
	Geometry string // declared geometry type: Point, MultiPoint, LineString, Polygon... or Geometry
	Fields   []string
	// FIDColumn names the column the record ids come from when it is not among Fields
	// (a GeoPackage table's primary key); a mapping's id may name it.
	FIDColumn string
	// Records is how many records the source announces (a Shapefile's .dbf rows, a
	// GeoPackage table's rows); 0 when unknown.
	Records int
	crs     crsSource
}

// Record is one feature of a source: attributes as string, float64, int64 or bool (nil when
// empty) and geometry in the source's CRS (nil when it has none).
type Record struct {
	Index    int   // 0-based position in the source
	FID      int64 // the source's feature id: record number, fid, row number (from 1)
	Geometry orb.Geometry
	// GeometryErr is set when the geometry could not be decoded; the feature is rejected
	// with it.
	GeometryErr error
	Attrs       map[string]any
}

// OpenOptions choose how a file is read.
type OpenOptions struct {
	Table    string // GeoPackage table or ogr2ogr layer to read; "": every feature table
	Encoding string // attribute encoding overriding .cpg and the DBF header; CSV default UTF-8
	// CSV geometry columns; "": detected from the header (wkt, geom, geometry, the_geom;
	// lon/lng/longitude/x and lat/latitude/y).
	WKTColumn, XColumn, YColumn string
	Unzip                       UnzipLimits
}

// Open opens a file by its name: .shp (with .dbf, .shx, .prj, .cpg beside it), .gpkg, .csv,
// .zip (holding any of these; unpacked into a temporary folder within limits), or any other
// format GDAL reads, through ogr2ogr. The returned close function removes what Open made.
func Open(path string, opt OpenOptions) ([]Source, func() error, error) {
	closers := []func() error{}
	closeAll := func() error {
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i]())
		}
		return errors.Join(errs...)
	}
	fail := func(err error) ([]Source, func() error, error) {
		closeAll()
		return nil, nil, err
	}
	paths := []string{path}
	zipped := false
	if strings.EqualFold(filepath.Ext(path), ".zip") {
		dir, err := os.MkdirTemp("", "citytwin-import-")
		if err != nil {
			return nil, nil, fmt.Errorf("unzip %s: %w", path, err)
		}
		closers = append(closers, func() error { return os.RemoveAll(dir) })
		files, err := unzip(path, dir, opt.Unzip)
		if err != nil {
			return fail(err)
		}
		paths = readableFiles(files)
		if len(paths) == 0 {
			return fail(fmt.Errorf("%w: %s holds no .shp, .gpkg, .csv, .gml, .geojson or .kml file", ErrFormat, path))
		}
		zipped = true
	}
	var out []Source
	for _, p := range paths {
		srcs, err := openFile(p, opt)
		if err != nil {
			return fail(err)
		}
		for _, s := range srcs {
			closers = append(closers, s.Close)
			if zipped {
				s = zippedSource{s}
			}
			out = append(out, s)
		}
	}
	return out, closeAll, nil
}

func openFile(path string, opt OpenOptions) ([]Source, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".shp":
		s, err := openShapefile(path, opt.Encoding)
		if err != nil {
			return nil, err
		}
		return []Source{s}, nil
	case ".gpkg":
		return openGeoPackage(path, opt.Table)
	case ".csv":
		s, err := openCSV(path, opt)
		if err != nil {
			return nil, err
		}
		return []Source{s}, nil
	case ".dbf", ".shx", ".prj", ".cpg":
		return nil, fmt.Errorf("%w: %s is a part of a Shapefile: open its .shp", ErrFormat, path)
	}
	return openOGR(path, opt.Table)
}

// readableFiles picks from unzipped files those Open reads: Shapefiles by their .shp, the
// other formats by their own name, in name order.
func readableFiles(files []string) []string {
	var out []string
	for _, f := range files {
		switch strings.ToLower(filepath.Ext(f)) {
		case ".shp", ".gpkg", ".csv", ".gml", ".geojson", ".json", ".kml", ".fgb", ".gpx", ".tab", ".mif", ".dxf":
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// zippedSource notes in the format that the file came out of a zip archive.
type zippedSource struct{ Source }

func (z zippedSource) Info() SourceInfo {
	i := z.Source.Info()
	i.Format += " (zipped)"
	return i
}
