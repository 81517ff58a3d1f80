// Package data owns the importers (GeoJSON, OpenStreetMap PBF with the rules that derive the
// layers OSM lacks), the GeoJSON writer the data files are made with and the embedded demo
// city; the deterministic synthetic city generator is data/synthcity.
package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
)

// ReadFile reads the features of a file, chosen by its name: .geojson and .json
// (FeatureCollection), .ndjson, .geojsonl and .geojsonseq (one Feature per line), each
// optionally gzip-compressed with a further .gz; .osm.pbf and .pbf (OpenStreetMap, mapped and
// derived by the rules in docs/import-rules.md). Any error fails the whole file.
func ReadFile(path string) ([]layers.Feature, error) {
	name := strings.ToLower(path)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if strings.HasSuffix(name, ".pbf") {
		return ReadOSM(f)
	}
	var r io.Reader = bufio.NewReaderSize(f, 1<<20)
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r, name = zr, strings.TrimSuffix(name, ".gz")
	}
	if !hasAnySuffix(name, ".geojson", ".json", ".ndjson", ".geojsonl", ".geojsonseq", ".jsonl") {
		return nil, fmt.Errorf("%s: unknown file type (want .geojson, .json, .ndjson, .geojsonl, .geojsonseq, optionally .gz, or .osm.pbf)", path)
	}
	return ReadGeoJSON(r)
}

func hasAnySuffix(s string, suffixes ...string) bool {
	for _, x := range suffixes {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

// ReadGeoJSON reads GeoJSON features of catalog layers: a FeatureCollection, or a sequence
// of Features (newline-delimited, or RFC 8142 text sequences), detected from the content.
// Each feature names its layer in properties.layer (or a top-level "layer" member), has a
// positive integer id unique in its layer, WGS84 geometry of the layer's type and properties
// that are exactly catalog fields. An error names the feature (its index in the file, id and
// layer) and nothing is returned with it.
func ReadGeoJSON(r io.Reader) ([]layers.Feature, error) {
	rd := newReader()
	rd.lines = &lineCounter{r: r}
	dec := json.NewDecoder(rd.lines)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, rd.syntaxError(err)
		}
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			return nil, fmt.Errorf("%w GeoJSON: want a FeatureCollection or Feature object, found %v", layers.ErrInvalid, tok)
		}
		if err := rd.readObject(dec); err != nil {
			return nil, err
		}
	}
	return rd.out, nil
}

// lineCounter turns the record separators of RFC 8142 GeoJSON text sequences into spaces,
// so a JSON decoder reads them as a plain stream of Features, and notes where lines end, so
// a syntax error can say on which line it is.
type lineCounter struct {
	r        io.Reader
	read     int64
	newlines []int64 // offsets of the first maxLineMarks newlines
}

// maxLineMarks bounds the memory spent on line numbers (80 MB); errors further on give only
// the byte offset.
const maxLineMarks = 10_000_000

func (lc *lineCounter) Read(p []byte) (int, error) {
	n, err := lc.r.Read(p)
	for i, b := range p[:n] {
		switch b {
		case 0x1e:
			p[i] = ' '
		case '\n':
			if len(lc.newlines) < maxLineMarks {
				lc.newlines = append(lc.newlines, lc.read+int64(i))
			}
		}
	}
	lc.read += int64(n)
	return n, err
}

// line returns the 1-based line of a byte offset, 0 when unknown.
func (lc *lineCounter) line(offset int64) int {
	n := sort.Search(len(lc.newlines), func(i int) bool { return lc.newlines[i] >= offset })
	if n == len(lc.newlines) && len(lc.newlines) == maxLineMarks {
		return 0
	}
	return n + 1
}

// reader accumulates the features of one file and the ids seen in each layer.
type reader struct {
	lines *lineCounter
	out   []layers.Feature
	seen  map[string]map[int64]int // layer -> id -> index of the feature that has it
}

func newReader() *reader { return &reader{seen: map[string]map[int64]int{}} }

// syntaxError names the feature being read when the JSON broke, and where.
func (rd *reader) syntaxError(err error) error {
	msg, where := err.Error(), ""
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		where = fmt.Sprintf(" at byte %d", syn.Offset)
		if l := rd.lines.line(syn.Offset - 1); l > 0 {
			where = fmt.Sprintf(" at line %d (byte %d)", l, syn.Offset)
		}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		msg = "unexpected end of input"
	}
	return &inputError{fmt.Sprintf("feature %d: invalid JSON%s: %s", len(rd.out), where, msg)}
}

// readObject reads one top-level object after its opening brace, member by member: a
// FeatureCollection, whose features are decoded one by one as they stream past, or a single
// Feature (a line of newline-delimited GeoJSON), decoded straight into its fields.
func (rd *reader) readObject(dec *json.Decoder) error {
	var f rawFeature
	index := len(rd.out)
	collection := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return rd.syntaxError(err)
		}
		key, _ := tok.(string)
		switch key {
		case "features":
			collection = true
			err = rd.readFeatures(dec)
		case "type":
			err = dec.Decode(&f.Type)
			collection = collection || f.Type == "FeatureCollection"
		case "id":
			err = dec.Decode(&f.ID)
		case "layer":
			err = dec.Decode(&f.Layer)
		case "geometry":
			err = dec.Decode(&f.Geometry)
		case "properties":
			err = dec.Decode(&f.Properties)
		case "crs":
			err = dec.Decode(&f.CRS)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return rd.memberError(index, key, &f, err)
		}
		if collection && len(f.CRS) > 0 {
			// Checked as soon as both are known: before the features when crs comes first.
			if err := checkCRS(f.CRS); err != nil {
				return fmt.Errorf("%w FeatureCollection: %v", layers.ErrInvalid, err)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return rd.syntaxError(err)
	}
	switch {
	case collection:
		return nil
	case f.Type == "Feature":
		return rd.add(&f)
	}
	return fmt.Errorf("%w GeoJSON: top-level object of type %q, want FeatureCollection or Feature", layers.ErrInvalid, f.Type)
}

// memberError reports a failure to decode a member of a top-level object.
func (rd *reader) memberError(index int, key string, f *rawFeature, err error) error {
	if key == "features" {
		return err // readFeatures named the feature
	}
	var syn *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return rd.syntaxError(err)
	case errors.As(err, &typeErr) && typeErr.Field == "":
		typeErr.Field = key
	case errors.As(err, &typeErr):
		typeErr.Field = key + "." + typeErr.Field
	}
	return rd.featureError(index, f, err)
}

func (rd *reader) readFeatures(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return rd.syntaxError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%w FeatureCollection: features must be an array", layers.ErrInvalid)
	}
	for dec.More() {
		var f rawFeature
		if err := dec.Decode(&f); err != nil {
			var syn *json.SyntaxError
			if errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) {
				return rd.syntaxError(err)
			}
			return rd.featureError(len(rd.out), &f, err)
		}
		if err := rd.add(&f); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return rd.syntaxError(err)
	}
	return nil
}

// rawFeature is a GeoJSON Feature as decoded, before it is checked against the catalog.
type rawFeature struct {
	Type       string          `json:"type"`
	ID         json.RawMessage `json:"id"`
	Layer      json.RawMessage `json:"layer"`
	Geometry   *rawGeometry    `json:"geometry"`
	Properties map[string]any  `json:"properties"`
	CRS        json.RawMessage `json:"crs"`

	layer string // the layer and id once found, for naming the feature in errors
	id    int64
}

// rawGeometry is a GeoJSON geometry whose coordinates are parsed by parseCoordinates.
type rawGeometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

// featureError names a feature in a file: its index, and its id and layer when known.
type featureError struct {
	index int
	id    int64 // 0: unknown
	layer string
	err   error
}

func (e *featureError) Error() string {
	var who []string
	if e.id != 0 {
		who = append(who, fmt.Sprintf("id %d", e.id))
	}
	if e.layer != "" {
		who = append(who, "layer "+e.layer)
	}
	s := fmt.Sprintf("feature %d", e.index)
	if len(who) > 0 {
		s += " (" + strings.Join(who, ", ") + ")"
	}
	return s + ": " + e.err.Error()
}

func (e *featureError) Unwrap() error { return e.err }

// inputError is a fault of the file's content that is not about one field; it matches
// layers.ErrInvalid so callers can tell bad input from failed I/O.
type inputError struct{ msg string }

func (e *inputError) Error() string   { return e.msg }
func (e *inputError) Is(t error) bool { return t == layers.ErrInvalid }

// featureError wraps err with the name of the feature being read.
func (rd *reader) featureError(index int, f *rawFeature, err error) error {
	fe := &featureError{index: index, err: err}
	if f != nil {
		fe.id = f.id
		if fe.id == 0 {
			fe.id, _ = parseID(f.ID)
		}
		fe.layer = layerName(f)
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		fe.err = &layers.FieldError{Field: typeErr.Field, Message: "want a JSON " + jsonKind(typeErr.Type.Kind().String()) + ", got " + typeErr.Value}
	case !errors.Is(err, layers.ErrInvalid):
		fe.err = &inputError{err.Error()}
	}
	return fe
}

// layerName is the layer a feature names, "" when it names none.
func layerName(f *rawFeature) string {
	if f.layer != "" {
		return f.layer
	}
	if s, ok := f.Properties["layer"].(string); ok {
		return s
	}
	var s string
	_ = json.Unmarshal(f.Layer, &s)
	return s
}

// add checks a decoded feature against the catalog and keeps it.
func (rd *reader) add(f *rawFeature) error {
	index := len(rd.out)
	feat, err := rd.check(f)
	if err != nil {
		return rd.featureError(index, f, err)
	}
	ids := rd.seen[feat.Layer]
	if ids == nil {
		ids = map[int64]int{}
		rd.seen[feat.Layer] = ids
	}
	if first, dup := ids[feat.ID]; dup {
		return rd.featureError(index, f, &layers.FieldError{Field: "id", Message: fmt.Sprintf("duplicate: feature %d has the same id in layer %s", first, feat.Layer)})
	}
	ids[feat.ID] = index
	rd.out = append(rd.out, feat)
	return nil
}

func (rd *reader) check(f *rawFeature) (layers.Feature, error) {
	if f.Type != "Feature" {
		return layers.Feature{}, &layers.FieldError{Field: "type", Message: fmt.Sprintf("%q, want \"Feature\"", f.Type)}
	}
	if len(f.CRS) > 0 {
		if err := checkCRS(f.CRS); err != nil {
			return layers.Feature{}, err
		}
	}
	l, err := featureLayer(f)
	if err != nil {
		return layers.Feature{}, err
	}
	f.layer = l.Name
	id, err := featureID(f)
	if err != nil {
		return layers.Feature{}, err
	}
	f.id = id
	g, err := decodeGeometry(f.Geometry)
	if err != nil {
		return layers.Feature{}, err
	}
	if err := l.CheckGeometry(g); err != nil {
		return layers.Feature{}, err
	}
	delete(f.Properties, "layer") // the decoded map is ours: no copy
	delete(f.Properties, "id")
	pub, restricted, err := l.Normalize(f.Properties)
	if err != nil {
		return layers.Feature{}, err
	}
	return layers.Feature{Layer: l.Name, ID: id, Geometry: g, Props: pub, Restricted: restricted}, nil
}

func decodeGeometry(g *rawGeometry) (orb.Geometry, error) {
	if g == nil {
		return nil, nil // CheckGeometry says it is missing
	}
	switch g.Type {
	case "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon":
	case "GeometryCollection":
		return orb.Collection{}, nil // CheckGeometry rejects it by type
	default:
		return nil, &layers.FieldError{Field: "geometry.type", Message: fmt.Sprintf("%q is not a GeoJSON geometry type", g.Type)}
	}
	geom, ok := parseCoordinates(g.Type, g.Coordinates)
	if !ok {
		return nil, &layers.FieldError{Field: "geometry.coordinates", Message: "malformed for a " + g.Type}
	}
	return geom, nil
}

// parseCoordinates parses the coordinates of a geometry type in one pass, without
// reflection: most of a data file is coordinates. Positions may carry a third (ignored) value.
func parseCoordinates(typ string, b []byte) (orb.Geometry, bool) {
	p := &coordParser{b: b}
	var g orb.Geometry
	var ok bool
	switch typ {
	case "Point":
		var pt orb.Point
		pt, ok = p.position()
		g = pt
	case "MultiPoint":
		var ps []orb.Point
		ps, ok = p.positions()
		g = orb.MultiPoint(ps)
	case "LineString":
		var ps []orb.Point
		ps, ok = p.positions()
		g = orb.LineString(ps)
	case "MultiLineString":
		var ls orb.MultiLineString
		ok = p.list(func() bool {
			ps, ok := p.positions()
			ls = append(ls, ps)
			return ok
		})
		g = ls
	case "Polygon":
		var poly orb.Polygon
		poly, ok = p.polygon()
		g = poly
	case "MultiPolygon":
		var mp orb.MultiPolygon
		ok = p.list(func() bool {
			poly, ok := p.polygon()
			mp = append(mp, poly)
			return ok
		})
		g = mp
	}
	p.space()
	return g, ok && p.i == len(p.b)
}

type coordParser struct {
	b []byte
	i int
}

func (p *coordParser) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

func (p *coordParser) accept(c byte) bool {
	p.space()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// list parses a JSON array, calling item for each element.
func (p *coordParser) list(item func() bool) bool {
	if !p.accept('[') {
		return false
	}
	if p.accept(']') {
		return true
	}
	for {
		if !item() {
			return false
		}
		if !p.accept(',') {
			return p.accept(']')
		}
	}
}

func (p *coordParser) number() (float64, bool) {
	p.space()
	start := p.i
	for p.i < len(p.b) && strings.IndexByte("+-0123456789.eE", p.b[p.i]) >= 0 {
		p.i++
	}
	x, err := strconv.ParseFloat(string(p.b[start:p.i]), 64)
	return x, err == nil
}

func (p *coordParser) position() (orb.Point, bool) {
	var pt orb.Point
	n := 0
	ok := p.list(func() bool {
		x, ok := p.number()
		if n < 2 {
			pt[n] = x
		}
		n++
		return ok
	})
	return pt, ok && n >= 2
}

func (p *coordParser) positions() ([]orb.Point, bool) {
	var out []orb.Point
	ok := p.list(func() bool {
		pt, ok := p.position()
		out = append(out, pt)
		return ok
	})
	return out, ok
}

func (p *coordParser) polygon() (orb.Polygon, bool) {
	var poly orb.Polygon
	ok := p.list(func() bool {
		ps, ok := p.positions()
		poly = append(poly, ps)
		return ok
	})
	return poly, ok
}

// jsonKind names a Go kind the way a GeoJSON author would.
func jsonKind(k string) string {
	switch k {
	case "map", "struct":
		return "object"
	case "slice", "array":
		return "array"
	case "float64", "int64", "int":
		return "number"
	}
	return k
}

// featureLayer finds the feature's catalog layer: properties.layer is canonical; a top-level
// "layer" member is accepted too, and must agree when both are given.
func featureLayer(f *rawFeature) (*layers.Layer, error) {
	var top string
	if len(f.Layer) > 0 {
		if err := json.Unmarshal(f.Layer, &top); err != nil {
			return nil, &layers.FieldError{Field: "layer", Message: "want a string"}
		}
	}
	prop, hasProp := f.Properties["layer"]
	name, isString := prop.(string)
	switch {
	case hasProp && !isString:
		return nil, &layers.FieldError{Field: "properties.layer", Message: fmt.Sprintf("want a string, got %T", prop)}
	case hasProp && top != "" && top != name:
		return nil, &layers.FieldError{Field: "properties.layer", Message: fmt.Sprintf("%q disagrees with the top-level layer %q", name, top)}
	case !hasProp && top == "":
		return nil, &layers.FieldError{Field: "properties.layer", Message: "missing: name the feature's layer (" + strings.Join(layers.Names(), ", ") + ")"}
	case !hasProp:
		name = top
	}
	l, err := layers.Lookup(name)
	if err != nil {
		return nil, &layers.FieldError{Field: "properties.layer", Message: err.Error()}
	}
	return l, nil
}

// featureID reads the top-level id, or properties.id when there is none.
func featureID(f *rawFeature) (int64, error) {
	raw := f.ID
	field := "id"
	if len(raw) == 0 || string(raw) == "null" {
		if v, ok := f.Properties["id"]; ok {
			raw, _ = json.Marshal(v)
			field = "properties.id"
		}
	}
	if len(raw) == 0 || string(raw) == "null" {
		return 0, &layers.FieldError{Field: "id", Message: "missing: every feature needs an integer id, unique in its layer"}
	}
	id, err := parseID(raw)
	if err != nil {
		return 0, &layers.FieldError{Field: field, Message: err.Error()}
	}
	return id, nil
}

// maxID keeps ids exact as JSON numbers in every client (2^53).
const maxID = 1 << 53

func parseID(raw json.RawMessage) (int64, error) {
	s := string(raw)
	if len(s) > 0 && s[0] == '"' {
		return 0, fmt.Errorf("want an integer, got the string %s", s)
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		x, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || x != math.Trunc(x) || math.Abs(x) > maxID {
			return 0, fmt.Errorf("want an integer, got %s", s)
		}
		id = int64(x)
	}
	if id <= 0 || id > maxID {
		return 0, fmt.Errorf("%d is outside 1..2^53", id)
	}
	return id, nil
}

// checkCRS accepts the old GeoJSON 2008 crs member only when it names WGS84 longitude/latitude.
func checkCRS(raw json.RawMessage) error {
	if string(raw) == "null" {
		return nil
	}
	var crs struct {
		Properties struct {
			Name string `json:"name"`
		} `json:"properties"`
	}
	_ = json.Unmarshal(raw, &crs)
	name := crs.Properties.Name
	up := strings.ToUpper(name)
	for _, ok := range []string{"CRS84", "EPSG:4326", "EPSG::4326", "WGS84", "WGS 84"} {
		if strings.HasSuffix(up, ok) {
			return nil
		}
	}
	if name == "" {
		name = string(raw)
	}
	return &layers.FieldError{Field: "crs", Message: fmt.Sprintf("%q is not WGS84 longitude/latitude; reproject to EPSG:4326 (e.g. ogr2ogr -t_srs EPSG:4326)", name)}
}

// WriteGeoJSON writes features as newline-delimited GeoJSON, one Feature per line, with the
// id top-level, the layer in properties.layer and the restricted fields beside the public
// ones: a data file for ReadGeoJSON, not public output.
func WriteGeoJSON(w io.Writer, fs []layers.Feature) error {
	gw := NewGeoJSONWriter(w)
	for i := range fs {
		if err := gw.Write(fs[i]); err != nil {
			return err
		}
	}
	return nil
}

// GeoJSONWriter streams features as newline-delimited GeoJSON (see WriteGeoJSON). Each Write
// makes one call to the underlying writer; wrap it in a bufio.Writer for many features.
type GeoJSONWriter struct {
	w    io.Writer
	buf  []byte
	keys []string
}

// NewGeoJSONWriter returns a writer of newline-delimited GeoJSON to w.
func NewGeoJSONWriter(w io.Writer) *GeoJSONWriter { return &GeoJSONWriter{w: w} }

// Write writes one feature as one line. Properties come in a fixed order (layer first, then
// by name), so the same features always make the same bytes.
func (gw *GeoJSONWriter) Write(f layers.Feature) error {
	b := append(gw.buf[:0], `{"type":"Feature","id":`...)
	b = strconv.AppendInt(b, f.ID, 10)
	b = append(b, `,"geometry":`...)
	var err error
	if b, err = appendGeometry(b, f.Geometry); err != nil {
		return fmt.Errorf("feature %d of layer %s: %w", f.ID, f.Layer, err)
	}
	b = append(b, `,"properties":{"layer":`...)
	b = appendString(b, f.Layer)
	if b, err = gw.appendProps(b, f); err != nil {
		return fmt.Errorf("feature %d of layer %s: %w", f.ID, f.Layer, err)
	}
	b = append(b, "}}\n"...)
	gw.buf = b
	_, err = gw.w.Write(b)
	return err
}

func (gw *GeoJSONWriter) appendProps(b []byte, f layers.Feature) ([]byte, error) {
	keys := gw.keys[:0]
	for k, v := range f.Props {
		if v != nil {
			keys = append(keys, k)
		}
	}
	for k, v := range f.Restricted {
		if _, dup := f.Props[k]; !dup && v != nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	gw.keys = keys
	for _, k := range keys {
		v, ok := f.Props[k]
		if !ok {
			v = f.Restricted[k]
		}
		b = append(b, ',')
		b = appendString(b, k)
		b = append(b, ':')
		var err error
		if b, err = appendValue(b, v); err != nil {
			return b, fmt.Errorf("properties.%s: %w", k, err)
		}
	}
	return b, nil
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case string:
		return appendString(b, t), nil
	case bool:
		return strconv.AppendBool(b, t), nil
	case int64:
		return strconv.AppendInt(b, t, 10), nil
	case int:
		return strconv.AppendInt(b, int64(t), 10), nil
	case float64:
		return appendFloat(b, t)
	case []string:
		b = append(b, '[')
		for i, s := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		return append(b, ']'), nil
	}
	return b, fmt.Errorf("cannot write a %T", v)
}

func appendFloat(b []byte, x float64) ([]byte, error) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return b, fmt.Errorf("%v is not a JSON number", x)
	}
	// 'f' with the shortest precision round-trips exactly and never uses an exponent.
	return strconv.AppendFloat(b, x, 'f', -1, 64), nil
}

func appendPoint(b []byte, p orb.Point) ([]byte, error) {
	b = append(b, '[')
	b, err := appendFloat(b, p[0])
	if err != nil {
		return b, err
	}
	b = append(b, ',')
	b, err = appendFloat(b, p[1])
	return append(b, ']'), err
}

func appendPoints(b []byte, ps []orb.Point) ([]byte, error) {
	b = append(b, '[')
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendPoint(b, p); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

func appendPolygon(b []byte, p orb.Polygon) ([]byte, error) {
	b = append(b, '[')
	for i, r := range p {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendPoints(b, r); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

func appendGeometry(b []byte, g orb.Geometry) ([]byte, error) {
	if g == nil {
		return append(b, "null"...), nil
	}
	b = append(b, `{"type":"`...)
	b = append(b, g.GeoJSONType()...)
	b = append(b, `","coordinates":`...)
	var err error
	switch t := g.(type) {
	case orb.Point:
		b, err = appendPoint(b, t)
	case orb.MultiPoint:
		b, err = appendPoints(b, t)
	case orb.LineString:
		b, err = appendPoints(b, t)
	case orb.Polygon:
		b, err = appendPolygon(b, t)
	case orb.MultiLineString:
		b = append(b, '[')
		for i, l := range t {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendPoints(b, l); err != nil {
				break
			}
		}
		b = append(b, ']')
	case orb.MultiPolygon:
		b = append(b, '[')
		for i, p := range t {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendPolygon(b, p); err != nil {
				break
			}
		}
		b = append(b, ']')
	default:
		return b, fmt.Errorf("geometry: cannot write a %T", g)
	}
	if err != nil {
		return b, fmt.Errorf("geometry: %w", err)
	}
	return append(b, '}'), nil
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as encoding/json does.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// gunzipAll decompresses a gzip stream held in memory.
func gunzipAll(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(zr)
}
