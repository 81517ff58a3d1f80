package data

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/layers"
)

// StreetsLayer names the walkable ways the OSM import collects (ReadOSMWithStreets). It is not
// a catalog layer: the streets live beside the model (spatial.City.Streets), never in tiles,
// exports, PostGIS tables or the API's layer list; the engine builds its walking network from
// them.
const StreetsLayer = "streets"

// The demo city's streets: the walkable ways of the Monaco extract, written by mkdemo beside
// demo/monaco.ndjson.gz (TestDemoStreetsMatchAFreshConversion).
//
//go:embed demo/monaco-streets.ndjson.gz
var demoStreetsGzip []byte

// DemoStreets returns the walkable ways of the embedded demo city, a fresh copy on every call.
func DemoStreets() ([]layers.Feature, error) {
	b, err := gunzipAll(demoStreetsGzip)
	if err != nil {
		return nil, fmt.Errorf("demo streets: %w", err)
	}
	fs, err := ReadStreets(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("demo streets: %w", err)
	}
	return fs, nil
}

// WriteStreets writes street features as newline-delimited GeoJSON, one feature a line with
// its id and the properties name and highway.
func WriteStreets(w io.Writer, streets []layers.Feature) error {
	bw := bufio.NewWriter(w)
	for i := range streets {
		f := geojson.NewFeature(streets[i].Geometry)
		f.ID = streets[i].ID
		f.Properties = geojson.Properties(streets[i].Props)
		b, err := f.MarshalJSON()
		if err != nil {
			return fmt.Errorf("write street %d: %w", streets[i].ID, err)
		}
		bw.Write(b)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// ReadStreets reads what WriteStreets wrote: LineString and MultiLineString features with an
// integer id.
func ReadStreets(r io.Reader) ([]layers.Feature, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var out []layers.Feature
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		f, err := geojson.UnmarshalFeature(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("streets line %d: %w", line, err)
		}
		switch f.Geometry.(type) {
		case orb.LineString, orb.MultiLineString:
		default:
			return nil, fmt.Errorf("streets line %d: a street is a LineString or MultiLineString, not %s", line, f.Geometry.GeoJSONType())
		}
		id, ok := f.ID.(float64)
		if !ok || id != float64(int64(id)) {
			return nil, fmt.Errorf("streets line %d: the id %v is not an integer", line, f.ID)
		}
		out = append(out, layers.Feature{Layer: StreetsLayer, ID: int64(id), Geometry: f.Geometry, Props: map[string]any(f.Properties)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read streets: %w", err)
	}
	return out, nil
}

func (s *FileStore) streetsPath() string { return filepath.Join(s.Dir, "streets.ndjson") }

// Streets implements spatial.StreetSource: the streets.ndjson of the data directory (written
// with WriteStreets), none when it has imported layers but no streets file, and the demo
// city's streets when it has neither (the store then serves the demo city).
func (s *FileStore) Streets(ctx context.Context) ([]layers.Feature, error) {
	f, err := os.Open(s.streetsPath())
	if errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(s.path()); errors.Is(err, os.ErrNotExist) {
			return DemoStreets()
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("streets: %w", err)
	}
	defer f.Close()
	return ReadStreets(f)
}
