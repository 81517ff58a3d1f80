package data

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/osm"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/network"
)

// StreetsLayer is the catalog layer of street centrelines (layers.StreetsLayer); the walking
// network is built from its features open to pedestrians (layers.WalkingNetwork).
const StreetsLayer = layers.StreetsLayer

// notOnTheGround are highway values of ways that are not (yet, or any more) a way anyone uses:
// they are not streets.
var notOnTheGround = map[string]bool{"construction": true, "proposed": true, "planned": true,
	"abandoned": true, "disused": true, "razed": true, "no": true}

// mapStreets maps every way with a highway tag (but those notOnTheGround) to the streets
// layer, in way id order: kind the highway value, name the name tag, foot whether
// network.Walkable allows pedestrians on it. A way the extract cuts (some of its nodes
// missing) keeps its runs of at least two nodes present, as a MultiLineString when there are
// several.
func (c *city) mapStreets() {
	d := c.d
	ids := make([]osm.WayID, 0, len(d.ways))
	for id, w := range d.ways {
		if hw := w.Tags.Find("highway"); hw != "" && !notOnTheGround[hw] {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		w := d.ways[id]
		var parts orb.MultiLineString
		var run orb.LineString
		flush := func() {
			if len(run) >= 2 {
				parts = append(parts, run)
			}
			run = nil
		}
		for _, n := range w.Nodes {
			p, ok := d.coords.point(n.ID)
			if !ok {
				flush()
				continue
			}
			run = append(run, p)
		}
		flush()
		var g orb.Geometry
		switch len(parts) {
		case 0:
			continue
		case 1:
			g = parts[0]
		default:
			g = parts
		}
		props := map[string]any{"kind": w.Tags.Find("highway"), "foot": network.Walkable(w.Tags.Map()), "derived": false}
		if name := w.Tags.Find("name"); name != "" {
			props["name"] = name
		}
		c.emit(StreetsLayer, wayIDBase+int64(id), g, props, nil)
	}
}

// DemoStreets returns the walking network of the embedded demo city: its streets open to
// pedestrians (layers.WalkingNetwork), a fresh copy on every call.
func DemoStreets() ([]layers.Feature, error) {
	fs, err := Demo()
	if err != nil {
		return nil, err
	}
	return layers.WalkingNetwork(fs), nil
}

// WriteStreets writes street features as newline-delimited GeoJSON, one feature a line with
// its id and its properties: the form of a data directory's streets.ndjson.
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
// with WriteStreets by earlier versions, before streets were a layer), none without it: the
// walking network is then the streets layer's (spatial.NewCity).
func (s *FileStore) Streets(ctx context.Context) ([]layers.Feature, error) {
	f, err := os.Open(s.streetsPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("streets: %w", err)
	}
	defer f.Close()
	return ReadStreets(f)
}
