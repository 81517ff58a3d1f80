package ingest

// A Shapefile reader written here rather than taken from a library: the one Go library in
// wide use (github.com/jonas-p/go-shp) has had no release since 2019, reads every record
// through reflection, panics on truncated files and knows nothing of .cpg files. The format
// is small and fixed (ESRI Shapefile Technical Description, July 1998; dBASE III+ tables):
// this file reads it in a stream, one record of each file at a time, and checks the parts
// against one another.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

type shapefile struct {
	name, path string
	shp, dbf   *os.File
	shpR, dbfR *bufio.Reader
	shapeType  int32
	shpEnd     int64 // bytes of .shp declared by its header
	shpPos     int64
	records    int // rows of the .dbf
	row        int // rows read
	fields     []dbfField
	recLen     int
	rec, buf   []byte
	text       *textDecoder
	encoding   string
	crs        crsSource
}

type dbfField struct {
	name     string
	typ      byte
	offset   int
	length   int
	decimals int
}

var shapeTypes = map[int32]string{
	0: "None", 1: "Point", 11: "Point", 21: "Point",
	8: "MultiPoint", 18: "MultiPoint", 28: "MultiPoint",
	3: "LineString", 13: "LineString", 23: "LineString",
	5: "Polygon", 15: "Polygon", 25: "Polygon",
}

// sibling finds the file beside path with the same base name and extension ext, in any
// letter case (Shapefiles made on Windows mix FOO.SHP and foo.dbf).
func sibling(path, ext string) (string, bool) {
	dir, base := filepath.Split(path)
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", false
	}
	for _, e := range entries {
		if strings.EqualFold(e.Name(), stem+ext) {
			return filepath.Join(dir, e.Name()), true
		}
	}
	return "", false
}

func openShapefile(path, encoding string) (_ *shapefile, err error) {
	base := filepath.Base(path)
	s := &shapefile{path: path, name: strings.TrimSuffix(base, filepath.Ext(base))}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.shp, err = os.Open(path); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if err := s.readHeader(); err != nil {
		return nil, err
	}
	dbfPath, ok := sibling(path, ".dbf")
	if !ok {
		return nil, fmt.Errorf("%w: %s has no .dbf file beside it (a Shapefile is at least .shp and .dbf)", ErrFormat, base)
	}
	if s.dbf, err = os.Open(dbfPath); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	ldid, err := s.readDBFHeader()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(dbfPath), err)
	}
	if err := s.chooseEncoding(encoding, ldid); err != nil {
		return nil, err
	}
	if err := s.decodeFieldNames(); err != nil {
		return nil, err
	}
	if shx, ok := sibling(path, ".shx"); ok {
		if fi, err := os.Stat(shx); err == nil && fi.Size() >= 100 {
			if n := int((fi.Size() - 100) / 8); n != s.records {
				return nil, fmt.Errorf("%w: %s: the .shx indexes %d shapes but the .dbf has %d rows; the parts do not belong together or one is truncated", ErrFormat, base, n, s.records)
			}
		}
	}
	if prj, ok := sibling(path, ".prj"); ok {
		b, err := os.ReadFile(prj)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
		s.crs = crsSource{def: strings.TrimSpace(string(b)), from: filepath.Base(prj)}
	} else {
		s.crs = crsSource{from: "no .prj file beside " + base}
	}
	s.shpR = bufio.NewReaderSize(s.shp, 1<<20) // after the header, read by readHeader
	s.shpPos = 100
	s.dbfR = bufio.NewReaderSize(s.dbf, 1<<20)
	s.rec = make([]byte, s.recLen)
	return s, nil
}

func (s *shapefile) readHeader() error {
	var h [100]byte
	if _, err := io.ReadFull(s.shp, h[:]); err != nil {
		return fmt.Errorf("%w: %s is truncated: shorter than the 100-byte header", ErrFormat, filepath.Base(s.path))
	}
	if code := binary.BigEndian.Uint32(h[0:]); code != 9994 {
		return fmt.Errorf("%w: %s is not a Shapefile (file code %d, want 9994)", ErrFormat, filepath.Base(s.path), code)
	}
	s.shpEnd = int64(binary.BigEndian.Uint32(h[24:])) * 2
	s.shapeType = int32(binary.LittleEndian.Uint32(h[32:]))
	if _, ok := shapeTypes[s.shapeType]; !ok {
		return fmt.Errorf("%w: %s holds shape type %d, which is not supported (points, lines and polygons are)", ErrFormat, filepath.Base(s.path), s.shapeType)
	}
	fi, err := s.shp.Stat()
	if err != nil {
		return err
	}
	if fi.Size() < s.shpEnd {
		return fmt.Errorf("%w: %s is truncated: its header says %d bytes, the file has %d", ErrFormat, filepath.Base(s.path), s.shpEnd, fi.Size())
	}
	return nil
}

func (s *shapefile) readDBFHeader() (ldid byte, err error) {
	var h [32]byte
	if _, err := io.ReadFull(s.dbf, h[:]); err != nil {
		return 0, fmt.Errorf("%w: truncated header", ErrFormat)
	}
	s.records = int(binary.LittleEndian.Uint32(h[4:]))
	headerLen := int(binary.LittleEndian.Uint16(h[8:]))
	s.recLen = int(binary.LittleEndian.Uint16(h[10:]))
	if headerLen < 33 || s.recLen < 1 {
		return 0, fmt.Errorf("%w: not a dBASE table (header %d bytes, records %d bytes)", ErrFormat, headerLen, s.recLen)
	}
	desc := make([]byte, headerLen-32)
	if _, err := io.ReadFull(s.dbf, desc); err != nil {
		return 0, fmt.Errorf("%w: truncated field descriptors", ErrFormat)
	}
	offset := 1 // after the deletion flag
	for i := 0; i+32 <= len(desc) && desc[i] != 0x0D; i += 32 {
		d := desc[i : i+32]
		name := d[:11]
		if n := indexByte(name, 0); n >= 0 {
			name = name[:n]
		}
		f := dbfField{name: string(name), typ: d[11], offset: offset, length: int(d[16]), decimals: int(d[17])}
		offset += f.length
		s.fields = append(s.fields, f)
	}
	if offset > s.recLen {
		return 0, fmt.Errorf("%w: fields take %d bytes but records have %d", ErrFormat, offset, s.recLen)
	}
	fi, err := s.dbf.Stat()
	if err != nil {
		return 0, err
	}
	if want := int64(headerLen) + int64(s.records)*int64(s.recLen); fi.Size() < want {
		return 0, fmt.Errorf("%w: truncated: the header announces %d rows of %d bytes (%d bytes in all), the file has %d", ErrFormat, s.records, s.recLen, want, fi.Size())
	}
	return h[29], nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// chooseEncoding follows GDAL: an explicit encoding, then the .cpg file, then the DBF's
// language driver byte, then ISO-8859-1.
func (s *shapefile) chooseEncoding(explicit string, ldid byte) error {
	base := filepath.Base(s.path)
	switch {
	case explicit != "":
		d, err := lookupEncoding(explicit)
		if err != nil {
			return fmt.Errorf("%s: %w", base, err)
		}
		s.text, s.encoding = d, d.name+" (given)"
		return nil
	}
	if cpg, ok := sibling(s.path, ".cpg"); ok {
		b, err := os.ReadFile(cpg)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrFormat, err)
		}
		d, err := lookupEncoding(string(b))
		if err != nil {
			return fmt.Errorf("%s: %s: %w", base, filepath.Base(cpg), err)
		}
		s.text, s.encoding = d, d.name+" (from "+filepath.Base(cpg)+")"
		return nil
	}
	if enc, ok := dbfLanguageDrivers[ldid]; ok {
		s.text = &textDecoder{name: fmt.Sprintf("%v", enc), dec: enc.NewDecoder()}
		s.encoding = fmt.Sprintf("%v (from the .dbf language driver 0x%02X)", enc, ldid)
		return nil
	}
	d, _ := lookupEncoding("ISO-8859-1")
	s.text, s.encoding = d, d.name+" (no .cpg file; GDAL's default; name another with --encoding)"
	return nil
}

func (s *shapefile) decodeFieldNames() error {
	for i := range s.fields {
		n, err := s.text.decode([]byte(s.fields[i].name))
		if err != nil {
			return fmt.Errorf("%w: %s: field name: %v", ErrFormat, filepath.Base(s.path), err)
		}
		s.fields[i].name = n
	}
	return nil
}

func (s *shapefile) Info() SourceInfo {
	names := make([]string, len(s.fields))
	for i, f := range s.fields {
		names[i] = f.name
	}
	return SourceInfo{Name: s.name, Format: "ESRI Shapefile", Encoding: s.encoding, Geometry: shapeTypes[s.shapeType], Fields: names, Records: s.records, crs: s.crs}
}

func (s *shapefile) Close() error {
	var errs []error
	for _, f := range []*os.File{s.shp, s.dbf} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}

// Next reads the next shape and its row; rows marked deleted are skipped with their shape,
// as GDAL does.
func (s *shapefile) Next() (Record, error) {
	for {
		if s.shpPos >= s.shpEnd {
			if s.row != s.records {
				return Record{}, fmt.Errorf("%w: %s: the .shp has %d shapes but the .dbf has %d rows", ErrFormat, s.name, s.row, s.records)
			}
			return Record{}, io.EOF
		}
		index := s.row
		g, err := s.readShape()
		if err != nil {
			return Record{}, fmt.Errorf("%w: %s: shape %d: %v", ErrFormat, s.name, index+1, err)
		}
		if s.row >= s.records {
			return Record{}, fmt.Errorf("%w: %s: the .shp has more shapes than the %d rows of the .dbf", ErrFormat, s.name, s.records)
		}
		if _, err := io.ReadFull(s.dbfR, s.rec); err != nil {
			return Record{}, fmt.Errorf("%w: %s.dbf: row %d: %v", ErrFormat, s.name, index+1, err)
		}
		s.row++
		if s.rec[0] == '*' {
			continue
		}
		attrs, err := s.attributes()
		if err != nil {
			return Record{}, fmt.Errorf("%w: %s.dbf: row %d: %v", ErrFormat, s.name, index+1, err)
		}
		return Record{Index: index, FID: int64(index + 1), Geometry: g, Attrs: attrs}, nil
	}
}

func (s *shapefile) attributes() (map[string]any, error) {
	attrs := make(map[string]any, len(s.fields))
	for _, f := range s.fields {
		raw := s.rec[f.offset : f.offset+f.length]
		v, err := s.value(f, raw)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.name, err)
		}
		attrs[f.name] = v
	}
	return attrs, nil
}

func (s *shapefile) value(f dbfField, raw []byte) (any, error) {
	switch f.typ {
	case 'N', 'F':
		t := strings.TrimSpace(string(raw))
		if t == "" || strings.Trim(t, "*") == "" {
			return nil, nil
		}
		if f.decimals == 0 {
			if n, err := strconv.ParseInt(t, 10, 64); err == nil {
				return n, nil
			}
		}
		x, err := strconv.ParseFloat(strings.Replace(t, ",", ".", 1), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", t)
		}
		return x, nil
	case 'L':
		switch t := strings.TrimSpace(string(raw)); t {
		case "T", "t", "Y", "y":
			return true, nil
		case "F", "f", "N", "n":
			return false, nil
		}
		return nil, nil
	case 'D':
		t := strings.TrimSpace(string(raw))
		if len(t) == 8 {
			return t[:4] + "-" + t[4:6] + "-" + t[6:], nil
		}
		if t == "" || strings.Trim(t, "0") == "" {
			return nil, nil
		}
		return t, nil
	}
	raw = trimRightSpace(raw)
	if len(raw) == 0 {
		return nil, nil
	}
	return s.text.decode(raw)
}

func trimRightSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == 0) {
		b = b[:len(b)-1]
	}
	return b
}

// readShape reads one record of the .shp; its content length bounds what is read.
func (s *shapefile) readShape() (orb.Geometry, error) {
	var h [8]byte
	if _, err := io.ReadFull(s.shpR, h[:]); err != nil {
		return nil, fmt.Errorf("record header: %v", err)
	}
	n := int64(binary.BigEndian.Uint32(h[4:])) * 2
	if n < 4 || s.shpPos+8+n > s.shpEnd {
		return nil, fmt.Errorf("record of %d bytes runs past the end of the file", n)
	}
	if int64(cap(s.buf)) < n {
		s.buf = make([]byte, n)
	}
	b := s.buf[:n]
	if _, err := io.ReadFull(s.shpR, b); err != nil {
		return nil, fmt.Errorf("truncated record: %v", err)
	}
	s.shpPos += 8 + n
	typ := int32(binary.LittleEndian.Uint32(b))
	b = b[4:]
	if typ == 0 {
		return nil, nil
	}
	if shapeTypes[typ] != shapeTypes[s.shapeType] {
		return nil, fmt.Errorf("shape type %d in a file of type %d", typ, s.shapeType)
	}
	switch typ {
	case 1, 11, 21:
		if len(b) < 16 {
			return nil, errShort
		}
		return orb.Point{f64(b), f64(b[8:])}, nil
	case 8, 18, 28:
		if len(b) < 36 {
			return nil, errShort
		}
		np := int(binary.LittleEndian.Uint32(b[32:]))
		pts, err := readPoints(b[36:], np)
		return orb.MultiPoint(pts), err
	}
	if len(b) < 40 {
		return nil, errShort
	}
	nParts := int(binary.LittleEndian.Uint32(b[32:]))
	nPoints := int(binary.LittleEndian.Uint32(b[36:]))
	b = b[40:]
	if nParts < 1 || nParts*4 > len(b) {
		return nil, fmt.Errorf("%d parts do not fit in the record", nParts)
	}
	starts := make([]int, nParts+1)
	for i := range nParts {
		starts[i] = int(binary.LittleEndian.Uint32(b[4*i:]))
	}
	starts[nParts] = nPoints
	pts, err := readPoints(b[4*nParts:], nPoints)
	if err != nil {
		return nil, err
	}
	parts := make([][]orb.Point, nParts)
	for i := range nParts {
		if starts[i] < 0 || starts[i] > starts[i+1] || starts[i+1] > nPoints {
			return nil, fmt.Errorf("part %d starts at point %d, outside 0..%d", i, starts[i], nPoints)
		}
		parts[i] = pts[starts[i]:starts[i+1]:starts[i+1]]
	}
	if typ == 3 || typ == 13 || typ == 23 {
		if nParts == 1 {
			return orb.LineString(parts[0]), nil
		}
		ml := make(orb.MultiLineString, nParts)
		for i, p := range parts {
			ml[i] = p
		}
		return ml, nil
	}
	return assemblePolygon(parts), nil
}

var errShort = errors.New("record too short for its shape type")

func f64(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) }

func readPoints(b []byte, n int) ([]orb.Point, error) {
	if n < 0 || n > len(b)/16 {
		return nil, fmt.Errorf("%d points do not fit in the record", n)
	}
	pts := make([]orb.Point, n)
	for i := range pts {
		pts[i] = orb.Point{f64(b[16*i:]), f64(b[16*i+8:])}
	}
	return pts, nil
}

// assemblePolygon groups a Shapefile polygon's rings: each clockwise ring starts a polygon,
// each counter-clockwise ring is a hole of the outer ring that holds it. A hole no outer
// ring holds is made an outer ring, as GDAL does.
func assemblePolygon(rings [][]orb.Point) orb.Geometry {
	if len(rings) == 1 {
		return orb.Polygon{rings[0]}
	}
	var polys orb.MultiPolygon
	var holes []orb.Ring
	for _, r := range rings {
		ring := orb.Ring(r)
		if ring.Orientation() == orb.CCW {
			holes = append(holes, ring)
			continue
		}
		polys = append(polys, orb.Polygon{ring})
	}
	for _, h := range holes {
		placed := false
		if len(h) > 0 {
			for i := range polys {
				if polys[i][0].Bound().Contains(h[0]) && planar.RingContains(polys[i][0], h[0]) {
					polys[i] = append(polys[i], h)
					placed = true
					break
				}
			}
		}
		if !placed {
			polys = append(polys, orb.Polygon{h})
		}
	}
	if len(polys) == 1 {
		return polys[0]
	}
	return polys
}
