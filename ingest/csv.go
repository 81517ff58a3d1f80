package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"golang.org/x/text/transform"
)

// Column names recognised as geometry when the options name none.
var (
	wktColumns = []string{"wkt", "wkt_geom", "geom", "geometry", "the_geom", "shape"}
	lonColumns = []string{"lon", "lng", "long", "longitude"}
	latColumns = []string{"lat", "latitude"}
	xColumns   = []string{"x", "easting"}
	yColumns   = []string{"y", "northing"}
)

type csvSource struct {
	name, path  string
	f           *os.File
	r           *csv.Reader
	header      []string
	fields      []string // header without the geometry columns
	fieldCols   []int
	wkt, x, y   int // column positions, -1 when absent
	format      string
	encoding    string
	crs         crsSource
	index, line int
	first       []string // the first data row, read ahead for an EWKT SRID
	decimal     bool     // numbers may have a decimal comma (';'-separated files)
}

func openCSV(path string, opt OpenOptions) (_ *csvSource, err error) {
	base := filepath.Base(path)
	s := &csvSource{path: path, name: strings.TrimSuffix(base, filepath.Ext(base)), wkt: -1, x: -1, y: -1}
	if s.f, err = os.Open(path); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	defer func() {
		if err != nil {
			s.f.Close()
		}
	}()
	br := bufio.NewReaderSize(s.f, 1<<20)
	var r io.Reader = br
	s.encoding = "UTF-8"
	if opt.Encoding != "" {
		d, err := lookupEncoding(opt.Encoding)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", base, err)
		}
		s.encoding = d.name + " (given)"
		if d.dec != nil {
			r = transform.NewReader(br, d.dec)
		}
	}
	head, _ := br.Peek(64 << 10)
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) { // a byte order mark
		head = head[3:]
		br.Discard(3)
	}
	delim := detectDelimiter(head)
	s.decimal = delim == ';'
	s.r = csv.NewReader(r)
	s.r.Comma = delim
	s.r.FieldsPerRecord = -1
	s.r.ReuseRecord = false
	if s.header, err = s.r.Read(); err != nil {
		return nil, fmt.Errorf("%w: %s: no header row: %v", ErrFormat, base, err)
	}
	s.line = 1
	if err := s.chooseGeometry(opt); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrFormat, base, err)
	}
	for i, h := range s.header {
		if i != s.wkt && i != s.x && i != s.y {
			s.fields = append(s.fields, h)
			s.fieldCols = append(s.fieldCols, i)
		}
	}
	if s.wkt >= 0 {
		if row, err := s.r.Read(); err == nil {
			s.first = row
			if s.wkt < len(row) {
				if _, srid, err := decodeWKT(row[s.wkt]); err == nil && srid > 0 {
					s.crs = crsSource{def: "EPSG:" + strconv.Itoa(srid), from: "the EWKT SRID of the first row"}
				}
			}
		}
	}
	return s, nil
}

// detectDelimiter picks the most frequent of , ; and tab on the header line.
func detectDelimiter(head []byte) rune {
	line, _, _ := bytes.Cut(head, []byte("\n"))
	best, n := ',', bytes.Count(line, []byte(","))
	for _, d := range []rune{';', '\t'} {
		if c := bytes.Count(line, []byte(string(d))); c > n {
			best, n = d, c
		}
	}
	return best
}

func column(header []string, named string, candidates []string) (int, error) {
	if named != "" {
		for i, h := range header {
			if strings.EqualFold(strings.TrimSpace(h), named) {
				return i, nil
			}
		}
		return -1, fmt.Errorf("no column %q (columns: %s)", named, strings.Join(header, ", "))
	}
	for i, h := range header {
		if slices.Contains(candidates, strings.ToLower(strings.TrimSpace(h))) {
			return i, nil
		}
	}
	return -1, nil
}

func (s *csvSource) chooseGeometry(opt OpenOptions) error {
	var err error
	if opt.XColumn == "" && opt.YColumn == "" {
		if s.wkt, err = column(s.header, opt.WKTColumn, wktColumns); err != nil {
			return err
		}
		if s.wkt >= 0 {
			s.format = "CSV (WKT column " + s.header[s.wkt] + ")"
			s.crs = crsSource{from: "a CSV file with WKT names no CRS"}
			return nil
		}
		if opt.WKTColumn == "" {
			if s.x, _ = column(s.header, "", lonColumns); s.x >= 0 {
				if s.y, _ = column(s.header, "", latColumns); s.y >= 0 {
					s.format = "CSV (lon/lat columns " + s.header[s.x] + ", " + s.header[s.y] + ")"
					s.crs = crsSource{def: "EPSG:4326", from: "the lon/lat column names"}
					return nil
				}
			}
		}
	}
	if s.x, err = column(s.header, opt.XColumn, xColumns); err != nil {
		return err
	}
	if s.y, err = column(s.header, opt.YColumn, yColumns); err != nil {
		return err
	}
	if s.x < 0 || s.y < 0 {
		return fmt.Errorf("no geometry column: want a WKT column (%s) or x/y columns (%s and %s, or %s and %s), or name them", strings.Join(wktColumns, ", "), strings.Join(lonColumns, "/"), strings.Join(latColumns, "/"), strings.Join(xColumns, "/"), strings.Join(yColumns, "/"))
	}
	s.format = "CSV (x/y columns " + s.header[s.x] + ", " + s.header[s.y] + ")"
	s.crs = crsSource{from: "a CSV file with x/y columns names no CRS"}
	if slices.Contains(lonColumns, strings.ToLower(s.header[s.x])) {
		s.crs = crsSource{def: "EPSG:4326", from: "the lon/lat column names"}
	}
	return nil
}

func (s *csvSource) Info() SourceInfo {
	geom := "Point"
	if s.wkt >= 0 {
		geom = "Geometry"
	}
	return SourceInfo{Name: s.name, Format: s.format, Encoding: s.encoding, Geometry: geom, Fields: append([]string(nil), s.fields...), crs: s.crs}
}

func (s *csvSource) Close() error { return s.f.Close() }

func (s *csvSource) Next() (Record, error) {
	row := s.first
	s.first = nil
	if row == nil {
		var err error
		if row, err = s.r.Read(); err == io.EOF {
			return Record{}, io.EOF
		} else if err != nil {
			return Record{}, fmt.Errorf("%w: %s: %v", ErrFormat, filepath.Base(s.path), err)
		}
	}
	index := s.index
	s.index++
	rec := Record{Index: index, FID: int64(index + 1), Attrs: make(map[string]any, len(s.fields))}
	for k, i := range s.fieldCols {
		if i < len(row) && row[i] != "" {
			rec.Attrs[s.fields[k]] = row[i]
		} else {
			rec.Attrs[s.fields[k]] = nil
		}
	}
	cell := func(i int) string {
		if i < len(row) {
			return strings.TrimSpace(row[i])
		}
		return ""
	}
	switch {
	case s.wkt >= 0:
		if w := cell(s.wkt); w != "" {
			g, srid, err := decodeWKT(w)
			switch {
			case err != nil:
				rec.GeometryErr = err
			case srid > 0 && s.crs.def != "EPSG:"+strconv.Itoa(srid):
				rec.GeometryErr = fmt.Errorf("EWKT SRID %d differs from the file's CRS (%s, from %s)", srid, s.crs.def, s.crs.from)
			default:
				rec.Geometry = g
			}
		}
	default:
		xs, ys := cell(s.x), cell(s.y)
		if xs == "" && ys == "" {
			break
		}
		x, err1 := s.number(xs)
		y, err2 := s.number(ys)
		if err1 != nil || err2 != nil {
			rec.GeometryErr = fmt.Errorf("coordinates (%q, %q) are not numbers", xs, ys)
			break
		}
		rec.Geometry = orb.Point{x, y}
	}
	return rec, nil
}

func (s *csvSource) number(t string) (float64, error) {
	if s.decimal {
		t = strings.Replace(t, ",", ".", 1)
	}
	return strconv.ParseFloat(t, 64)
}
