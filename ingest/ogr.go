package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/paulmach/orb/geojson"
)

// ErrNoGDAL is returned for a format only GDAL reads when ogr2ogr is not installed.
var ErrNoGDAL = errors.New("GDAL's ogr2ogr is not installed")

// ogrSource reads one layer of any format GDAL knows (INSPIRE GML, KML, FlatGeobuf,
// MapInfo...) as GeoJSON that ogr2ogr streams to its standard output, in the layer's own
// CRS: ogrinfo names the CRS, and PROJ reprojects as for every other source.
type ogrSource struct {
	path, layer, driver string
	geometry            string
	fields              []string
	crs                 crsSource
	cmd                 *exec.Cmd
	stdout              io.ReadCloser
	stderr              bytes.Buffer
	dec                 *json.Decoder
	index               int
	done                bool
}

func gdalTool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: reading this format needs %s (Debian: apt-get install gdal-bin), or convert the file to a GeoPackage or Shapefile first", ErrNoGDAL, name)
	}
	return p, nil
}

var ogrLayerLine = regexp.MustCompile(`^\d+: (.+?)(?: \(([^()]*)\))?$`)

func openOGR(path, only string) ([]Source, error) {
	ogrinfo, err := gdalTool("ogrinfo")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	if _, err := gdalTool("ogr2ogr"); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	out, err := exec.Command(ogrinfo, "-ro", "-q", path).Output()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: GDAL cannot read it: %v%s", ErrFormat, filepath.Base(path), err, exitMessage(err))
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		if m := ogrLayerLine.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			names = append(names, m[1])
		}
	}
	var srcs []Source
	for _, n := range names {
		if only != "" && n != only {
			continue
		}
		s := &ogrSource{path: path, layer: n}
		if err := s.describe(ogrinfo); err != nil {
			return nil, err
		}
		srcs = append(srcs, s)
	}
	if len(srcs) == 0 {
		if only != "" {
			return nil, fmt.Errorf("%w: %s has no layer %q (it has: %s)", ErrFormat, filepath.Base(path), only, strings.Join(names, ", "))
		}
		return nil, fmt.Errorf("%w: %s: GDAL finds no layer in it", ErrFormat, filepath.Base(path))
	}
	return srcs, nil
}

func exitMessage(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}

var ogrFieldLine = regexp.MustCompile(`^(.+): (Integer|Integer64|Real|String|Date|Time|DateTime|Binary|IntegerList|Integer64List|RealList|StringList)(\(\w+\))? \(`)

// describe reads the layer's driver, geometry type, CRS and fields from ogrinfo -so.
func (s *ogrSource) describe(ogrinfo string) error {
	out, err := exec.Command(ogrinfo, "-ro", "-so", s.path, s.layer).Output()
	if err != nil {
		return fmt.Errorf("%w: %s: layer %s: %v%s", ErrFormat, filepath.Base(s.path), s.layer, err, exitMessage(err))
	}
	var wkt []string
	inWKT := false
	s.geometry = "Geometry"
	s.crs = crsSource{from: "GDAL names no CRS for layer " + s.layer}
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "INFO: Open of"):
		case strings.Contains(line, "using driver `"):
			_, d, _ := strings.Cut(line, "`")
			s.driver, _, _ = strings.Cut(d, "'")
		case strings.HasPrefix(line, "Geometry: "):
			s.geometry = ogrGeometryType(strings.TrimPrefix(line, "Geometry: "))
		case strings.HasPrefix(line, "Layer SRS WKT:"):
			inWKT = true
		case inWKT && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "PROJCRS") || strings.HasPrefix(line, "GEOGCRS") || strings.HasPrefix(line, "COMPOUNDCRS") || strings.HasPrefix(line, "BOUNDCRS") || strings.HasPrefix(line, "PROJCS") || strings.HasPrefix(line, "GEOGCS")):
			wkt = append(wkt, line)
		default:
			inWKT = false
			if m := ogrFieldLine.FindStringSubmatch(line); m != nil {
				s.fields = append(s.fields, m[1])
			}
		}
	}
	if len(wkt) > 0 {
		s.crs = crsSource{def: strings.Join(wkt, "\n"), from: "the layer's CRS as GDAL reads it"}
	}
	return nil
}

// ogrGeometryType turns ogrinfo's "3D Multi Polygon" into "MultiPolygon".
func ogrGeometryType(s string) string {
	s = strings.TrimPrefix(s, "3D ")
	s = strings.TrimPrefix(s, "Measured ")
	s = strings.ReplaceAll(s, " ", "")
	switch s {
	case "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon":
		return s
	}
	return "Geometry"
}

func (s *ogrSource) Info() SourceInfo {
	format := s.driver
	if format == "" {
		format = strings.TrimPrefix(strings.ToUpper(filepath.Ext(s.path)), ".")
	}
	return SourceInfo{Name: s.layer, Format: format + " (read with ogr2ogr)", Encoding: "UTF-8 (GDAL)", Geometry: s.geometry, Fields: append([]string(nil), s.fields...), crs: s.crs}
}

// start runs ogr2ogr and reads up to the first feature.
func (s *ogrSource) start() error {
	ogr2ogr, err := gdalTool("ogr2ogr")
	if err != nil {
		return err
	}
	s.cmd = exec.Command(ogr2ogr, "-f", "GeoJSON", "-lco", "RFC7946=NO", "-lco", "WRITE_BBOX=NO", "/vsistdout/", s.path, s.layer)
	s.cmd.Stderr = &s.stderr
	if s.stdout, err = s.cmd.StdoutPipe(); err != nil {
		return err
	}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("run ogr2ogr: %w", err)
	}
	s.dec = json.NewDecoder(bufio.NewReaderSize(s.stdout, 1<<20))
	s.dec.UseNumber()
	if t, err := s.dec.Token(); err != nil || t != json.Delim('{') {
		return s.fail(fmt.Errorf("want a GeoJSON object, got %v", t))
	}
	for s.dec.More() {
		t, err := s.dec.Token()
		if err != nil {
			return s.fail(err)
		}
		if t == "features" {
			if t, err := s.dec.Token(); err != nil || t != json.Delim('[') {
				return s.fail(fmt.Errorf("features is not an array"))
			}
			return nil
		}
		var skip json.RawMessage
		if err := s.dec.Decode(&skip); err != nil {
			return s.fail(err)
		}
	}
	s.done = true
	return nil
}

func (s *ogrSource) fail(err error) error {
	s.Close()
	msg := strings.TrimSpace(s.stderr.String())
	if msg != "" {
		return fmt.Errorf("%w: %s: layer %s: ogr2ogr: %v: %s", ErrFormat, filepath.Base(s.path), s.layer, err, msg)
	}
	return fmt.Errorf("%w: %s: layer %s: ogr2ogr: %v", ErrFormat, filepath.Base(s.path), s.layer, err)
}

type ogrFeature struct {
	ID         json.RawMessage `json:"id"`
	Properties map[string]any  `json:"properties"`
	Geometry   json.RawMessage `json:"geometry"`
}

func (s *ogrSource) Next() (Record, error) {
	if s.cmd == nil && !s.done {
		if err := s.start(); err != nil {
			return Record{}, err
		}
	}
	if s.done || !s.dec.More() {
		s.done = true
		if s.cmd != nil && s.cmd.Process != nil {
			s.stdout.Close()
			err := s.cmd.Wait()
			s.cmd.Process = nil
			if err != nil {
				return Record{}, s.fail(err)
			}
		}
		return Record{}, io.EOF
	}
	var f ogrFeature
	if err := s.dec.Decode(&f); err != nil {
		return Record{}, s.fail(err)
	}
	index := s.index
	s.index++
	rec := Record{Index: index, FID: int64(index + 1), Attrs: make(map[string]any, len(f.Properties))}
	var id json.Number
	if json.Unmarshal(f.ID, &id) == nil {
		if n, err := id.Int64(); err == nil && n > 0 {
			rec.FID = n
		}
	}
	for k, v := range f.Properties {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				v = i
			} else if x, err := n.Float64(); err == nil {
				v = x
			}
		}
		rec.Attrs[k] = v
	}
	if len(f.Geometry) > 0 && string(f.Geometry) != "null" {
		g, err := geojson.UnmarshalGeometry(f.Geometry)
		if err != nil {
			rec.GeometryErr = err
		} else {
			rec.Geometry = g.Geometry()
		}
	}
	return rec, nil
}

func (s *ogrSource) Close() error {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd.Process = nil
	}
	return nil
}
