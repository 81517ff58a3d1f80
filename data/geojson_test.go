package data

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
)

// pointFeature is a valid facility as one line of GeoJSON, with the given id and extra
// properties (a JSON fragment starting with a comma, or "").
func pointFeature(id, extra string) string {
	return `{"type":"Feature","id":` + id + `,"geometry":{"type":"Point","coordinates":[7.42,43.73]},"properties":{"layer":"facilities","kind":"school"` + extra + `}}`
}

// buildingFeature is a building with the given ring (a JSON array of positions) and extra
// properties.
func buildingFeature(id, ring, extra string) string {
	return `{"type":"Feature","id":` + id + `,"geometry":{"type":"Polygon","coordinates":[` + ring + `]},"properties":{"layer":"buildings","use":"residential"` + extra + `}}`
}

const square = `[[7.42,43.73],[7.421,43.73],[7.421,43.731],[7.42,43.731],[7.42,43.73]]`

func collection(features ...string) string {
	return `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
}

func TestReadGeoJSONRejectsBadInput(t *testing.T) {
	known := strings.Join(layers.Names(), ", ")
	tests := []struct {
		name, in, want string
	}{
		{"a property outside the catalog names the feature and the property",
			collection(pointFeature("1", ""), pointFeature("40", `,"colour":"red"`)),
			`feature 1 (id 40, layer facilities): properties.colour: unknown property for layer facilities`},
		{"a fractional number of floors is rejected",
			collection(buildingFeature("40", square, `,"floors":2.5`)),
			`feature 0 (id 40, layer buildings): properties.floors: want a whole number, got 2.5`},
		{"a value of the wrong type is rejected",
			collection(buildingFeature("40", square, `,"floors":"5"`)),
			`feature 0 (id 40, layer buildings): properties.floors: want a number, got string`},
		{"a value outside the layer's list is rejected",
			collection(buildingFeature("40", square, `,"use":"castle"`)),
			`feature 0 (id 40, layer buildings): properties.use: "castle" is not one of [residential mixed commercial office industrial education health culture other]`},
		{"an unknown layer is rejected",
			`{"type":"Feature","id":3,"geometry":{"type":"Point","coordinates":[7.42,43.73]},"properties":{"layer":"roads"}}`,
			`feature 0 (id 3, layer roads): properties.layer: unknown layer "roads" (known: ` + known + `)`},
		{"a feature without a layer is rejected",
			`{"type":"Feature","id":3,"geometry":{"type":"Point","coordinates":[7.42,43.73]},"properties":{"kind":"school"}}`,
			`feature 0 (id 3): properties.layer: missing: name the feature's layer (` + known + `)`},
		{"a top-level layer that disagrees with properties.layer is rejected",
			`{"type":"Feature","id":3,"layer":"parcels","geometry":{"type":"Point","coordinates":[7.42,43.73]},"properties":{"layer":"facilities"}}`,
			`feature 0 (id 3, layer facilities): properties.layer: "facilities" disagrees with the top-level layer "parcels"`},
		{"a point in a polygon layer is rejected",
			`{"type":"Feature","id":3,"geometry":{"type":"Point","coordinates":[7.42,43.73]},"properties":{"layer":"buildings"}}`,
			`feature 0 (id 3, layer buildings): geometry: layer buildings holds Polygons, got a Point`},
		{"a line in a polygon layer is rejected",
			`{"type":"Feature","id":3,"geometry":{"type":"LineString","coordinates":[[7.42,43.73],[7.43,43.74]]},"properties":{"layer":"buildings"}}`,
			`feature 0 (id 3, layer buildings): geometry: layer buildings holds Polygons, got a LineString`},
		{"a feature without geometry is rejected",
			`{"type":"Feature","id":3,"geometry":null,"properties":{"layer":"buildings"}}`,
			`feature 0 (id 3, layer buildings): geometry: missing`},
		{"an unknown geometry type is rejected",
			`{"type":"Feature","id":3,"geometry":{"type":"Circle","coordinates":[7.42,43.73]},"properties":{"layer":"facilities"}}`,
			`feature 0 (id 3, layer facilities): geometry.type: "Circle" is not a GeoJSON geometry type`},
		{"malformed coordinates are rejected",
			`{"type":"Feature","id":3,"geometry":{"type":"Point","coordinates":"here"},"properties":{"layer":"facilities"}}`,
			`feature 0 (id 3, layer facilities): geometry.coordinates: malformed for a Point`},
		{"an unclosed ring is rejected",
			buildingFeature("40", `[[7.42,43.73],[7.421,43.73],[7.421,43.731],[7.42,43.731]]`, ""),
			`feature 0 (id 40, layer buildings): geometry.coordinates[0]: ring is not closed: its first and last positions differ`},
		{"a ring of three positions is rejected",
			buildingFeature("40", `[[7.42,43.73],[7.421,43.73],[7.42,43.73]]`, ""),
			`feature 0 (id 40, layer buildings): geometry.coordinates[0]: ring has 3 positions, needs at least 4`},
		{"coordinates in Stereo 70 (EPSG:3844) are rejected with a hint to reproject",
			buildingFeature("40", `[[587000,489000],[587010,489000],[587010,489010],[587000,489000]]`, ""),
			`feature 0 (id 40, layer buildings): geometry.coordinates[0][0]: (587000, 489000) is not a WGS84 longitude/latitude; reproject to EPSG:4326`},
		{"a crs member naming a projected system is rejected",
			`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3857"}},"features":[` + pointFeature("1", "") + `]}`,
			`invalid FeatureCollection: crs: "urn:ogc:def:crs:EPSG::3857" is not WGS84 longitude/latitude; reproject to EPSG:4326 (e.g. ogr2ogr -t_srs EPSG:4326)`},
		{"a crs member on a feature is checked too",
			`{"type":"Feature","id":3,"crs":{"type":"name","properties":{"name":"EPSG:3844"}},"geometry":{"type":"Point","coordinates":[7.42,43.73]},"properties":{"layer":"facilities"}}`,
			`feature 0 (id 3, layer facilities): crs: "EPSG:3844" is not WGS84 longitude/latitude; reproject to EPSG:4326 (e.g. ogr2ogr -t_srs EPSG:4326)`},
		{"a duplicate id in a layer is rejected",
			pointFeature("7", "") + "\n" + pointFeature("8", "") + "\n" + pointFeature("7", "") + "\n",
			`feature 2 (id 7, layer facilities): id: duplicate: feature 0 has the same id in layer facilities`},
		{"a feature without an id is rejected",
			`{"type":"Feature","geometry":{"type":"Point","coordinates":[7.42,43.73]},"properties":{"layer":"facilities"}}`,
			`feature 0 (layer facilities): id: missing: every feature needs an integer id, unique in its layer`},
		{"a string id is rejected",
			pointFeature(`"a7"`, ""),
			`feature 0 (layer facilities): id: want an integer, got the string "a7"`},
		{"a fractional id is rejected",
			pointFeature("7.5", ""),
			`feature 0 (layer facilities): id: want an integer, got 7.5`},
		{"a zero id is rejected",
			pointFeature("0", ""),
			`feature 0 (layer facilities): id: 0 is outside 1..2^53`},
		{"properties that are not an object are rejected",
			`{"type":"Feature","id":3,"geometry":{"type":"Point","coordinates":[7.42,43.73]},"properties":5}`,
			`feature 0 (id 3): properties: want a JSON object, got number`},
		{"an object that is not a Feature is rejected",
			`{"type":"Point","coordinates":[7.42,43.73]}`,
			`invalid GeoJSON: top-level object of type "Point", want FeatureCollection or Feature`},
		{"a feature of the wrong type inside a collection is rejected",
			collection(`{"type":"Point","id":3,"geometry":{"type":"Point","coordinates":[7.42,43.73]},"properties":{"layer":"facilities"}}`),
			`feature 0 (id 3, layer facilities): type: "Point", want "Feature"`},
		{"broken JSON names the feature and the line",
			pointFeature("1", "") + "\n" + pointFeature("2", ",") + "\n",
			`feature 1: invalid JSON at line 2 (byte 247): invalid character '}' looking for beginning of object key string`},
		{"a truncated file is rejected",
			collection(pointFeature("1", ""), pointFeature("2", ""))[:250],
			`feature 1: invalid JSON: unexpected end of input`},
		{"a position of one number is malformed",
			`{"type":"Feature","id":3,"geometry":{"type":"Point","coordinates":[7.42]},"properties":{"layer":"facilities"}}`,
			`feature 0 (id 3, layer facilities): geometry.coordinates: malformed for a Point`},
		{"a geometry collection is not a layer's geometry",
			`{"type":"Feature","id":3,"geometry":{"type":"GeometryCollection","geometries":[]},"properties":{"layer":"facilities"}}`,
			`feature 0 (id 3, layer facilities): geometry: layer facilities holds Points, got a GeometryCollection`},
		{"a geometry that is not an object is rejected",
			`{"type":"Feature","id":3,"geometry":"POINT(7 43)","properties":{"layer":"facilities"}}`,
			`feature 0 (id 3): geometry: want a JSON object, got string`},
		{"an id in properties is checked like a top-level one",
			`{"type":"Feature","geometry":{"type":"Point","coordinates":[7.42,43.73]},"properties":{"layer":"facilities","id":-4}}`,
			`feature 0 (layer facilities): properties.id: -4 is outside 1..2^53`},
		{"a JSON array is not GeoJSON",
			`[1, 2]`,
			`invalid GeoJSON: want a FeatureCollection or Feature object, found [`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := ReadGeoJSON(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("accepted %d features, want error %q", len(fs), tt.want)
			}
			if err.Error() != tt.want {
				t.Fatalf("error\n got %q\nwant %q", err.Error(), tt.want)
			}
			if !errors.Is(err, layers.ErrInvalid) {
				t.Errorf("error %q does not match layers.ErrInvalid", err)
			}
			if fs != nil {
				t.Errorf("returned %d features with the error, want none", len(fs))
			}
		})
	}
}

func TestReadGeoJSONAcceptsEveryForm(t *testing.T) {
	two := []string{pointFeature("1", ""), buildingFeature("1", square, `,"floors":5`)}
	tests := []struct {
		name, in string
	}{
		{"a FeatureCollection", collection(two...)},
		{"a pretty-printed FeatureCollection with a WGS84 crs after the features",
			"{\n  \"type\": \"FeatureCollection\",\n  \"features\": [\n    " + strings.Join(two, ",\n    ") +
				"\n  ],\n  \"crs\": {\"type\": \"name\", \"properties\": {\"name\": \"urn:ogc:def:crs:OGC:1.3:CRS84\"}}\n}\n"},
		{"newline-delimited Features", strings.Join(two, "\n") + "\n"},
		{"newline-delimited Features with CRLF and blank lines", "\r\n" + strings.Join(two, "\r\n\r\n") + "\r\n"},
		{"an RFC 8142 text sequence", "\x1e" + two[0] + "\n\x1e" + two[1] + "\n"},
		{"positions with an elevation and an id in properties",
			`{"type":"Feature","geometry":{"type":"Point","coordinates":[7.42,43.73,12.5]},"properties":{"layer":"facilities","id":1,"kind":"school"}}` + "\n" +
				`{"type":"Feature","id":1,"geometry":{"type":"Polygon","coordinates":[[[7.42,43.73,1],[7.421,43.73,1],[7.421,43.731,1],[7.42,43.731,1],[7.42,43.73,1]]]},"properties":{"layer":"buildings","use":"residential","floors":5}}`},
		{"a top-level layer member instead of properties.layer",
			`{"type":"Feature","id":1,"layer":"facilities","geometry":{"type":"Point","coordinates":[7.42,43.73]},"properties":{"kind":"school"}}` + "\n" + two[1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := ReadGeoJSON(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != 2 || fs[0].Layer != "facilities" || fs[1].Layer != "buildings" {
				t.Fatalf("got %+v, want a facility and a building", fs)
			}
			// The same id in two layers is fine: ids are unique per layer.
			if fs[0].ID != 1 || fs[1].ID != 1 || fs[1].Props["floors"] != int64(5) {
				t.Fatalf("ids %d, %d and floors %#v, want 1, 1 and int64(5)", fs[0].ID, fs[1].ID, fs[1].Props["floors"])
			}
		})
	}
}

func TestReadGeoJSONOfNothingIsEmpty(t *testing.T) {
	for _, in := range []string{"", "\n\n", collection()} {
		fs, err := ReadGeoJSON(strings.NewReader(in))
		if err != nil || len(fs) != 0 {
			t.Errorf("ReadGeoJSON(%q) = %d features, %v; want none and no error", in, len(fs), err)
		}
	}
}

// roundTripFeatures has every field type, restricted fields, holes and a multipolygon.
func roundTripFeatures() []layers.Feature {
	hole := orb.Ring{{7.4203, 43.7303}, {7.4203, 43.7306}, {7.4206, 43.7306}, {7.4206, 43.7303}, {7.4203, 43.7303}}
	outer := orb.Ring{{7.42, 43.73}, {7.421, 43.73}, {7.421, 43.731}, {7.42, 43.731}, {7.42, 43.73}}
	far := orb.Ring{{7.43, 43.74}, {7.431, 43.74}, {7.431, 43.741}, {7.43, 43.74}}
	return []layers.Feature{
		{Layer: "parcels", ID: 1, Geometry: orb.Polygon{outer, hole},
			Props: map[string]any{"cad_number": "MC-000001", "area_m2": 8483.4, "intravilan": true, "ownership": "private",
				"address": `Quai "Antoine 1er" 4` + "\n\\ \u2028 \x01 ü", "derived": true},
			Restricted: map[string]any{"owner_name": "Owner 7", "land_book": "LB-000001"}},
		{Layer: "buildings", ID: 1_000_000_000_042, Geometry: orb.MultiPolygon{{outer}, {far}},
			Props: map[string]any{"use": "mixed", "floors": int64(12), "height_m": 36.0, "gfa_m2": 0.1, "year_built": int64(0), "derived": false}},
		{Layer: "zoning", ID: 3, Geometry: orb.Polygon{outer},
			Props: map[string]any{"code": "UTR-LC1", "allowed_uses": []string{"residential", "mixed"}, "max_pot_pct": 40.0, "max_cut": 2.5, "max_floors": int64(10)}},
		{Layer: "facilities", ID: 9_007_199_254_740_992, Geometry: orb.Point{-179.9999999, -89.5},
			Props: map[string]any{"kind": "school", "name": "École de la Condamine", "capacity": int64(500)}},
		{Layer: "noise", ID: 5, Geometry: orb.Polygon{outer}, Props: map[string]any{"source": "road", "lden_db": 75.0, "lnight_db": 65.0, "derived": true}},
	}
}

func TestGeoJSONRoundTripGivesIdenticalFeatures(t *testing.T) {
	want := roundTripFeatures()
	var buf bytes.Buffer
	if err := WriteGeoJSON(&buf, want); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != len(want) {
		t.Fatalf("wrote %d lines for %d features:\n%s", n, len(want), buf.String())
	}
	got, err := ReadGeoJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip changed the features:\n got %#v\nwant %#v", got, want)
	}
}

func TestGeoJSONWriterWritesOneStableLine(t *testing.T) {
	var buf bytes.Buffer
	w := NewGeoJSONWriter(&buf)
	f := layers.Feature{Layer: "parcels", ID: 7, Geometry: orb.Point{7.5, 43},
		Props:      map[string]any{"area_m2": 12.0, "cad_number": "MC-7", "ownership": "public", "intravilan": false, "empty": nil},
		Restricted: map[string]any{"owner_name": "Owner 1"}}
	if err := w.Write(f); err != nil {
		t.Fatal(err)
	}
	// The layer comes first, then the public and restricted properties by name; nil is left out.
	want := `{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[7.5,43]},"properties":{"layer":"parcels","area_m2":12,"cad_number":"MC-7","intravilan":false,"owner_name":"Owner 1","ownership":"public"}}` + "\n"
	if buf.String() != want {
		t.Fatalf("wrote\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestGeoJSONWriterRejectsWhatJSONCannotHold(t *testing.T) {
	tests := []struct {
		name string
		f    layers.Feature
		want string
	}{
		{"a NaN value", layers.Feature{Layer: "noise", ID: 1, Geometry: orb.Point{1, 2}, Props: map[string]any{"lden_db": nanValue()}},
			"feature 1 of layer noise: properties.lden_db: NaN is not a JSON number"},
		{"a value of an unknown type", layers.Feature{Layer: "noise", ID: 2, Geometry: orb.Point{1, 2}, Props: map[string]any{"lden_db": float32(3)}},
			"feature 2 of layer noise: properties.lden_db: cannot write a float32"},
		{"a bound for a geometry", layers.Feature{Layer: "noise", ID: 3, Geometry: orb.Bound{}},
			"feature 3 of layer noise: geometry: cannot write a orb.Bound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewGeoJSONWriter(&bytes.Buffer{}).Write(tt.f)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func nanValue() float64 { var zero float64; return zero / zero }

func TestReadFileChoosesTheFormatByName(t *testing.T) {
	dir := t.TempDir()
	var nd bytes.Buffer
	if err := WriteGeoJSON(&nd, roundTripFeatures()); err != nil {
		t.Fatal(err)
	}
	gz := func(b []byte) []byte {
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		zw.Write(b)
		zw.Close()
		return out.Bytes()
	}
	fc := []byte(collection(strings.Split(strings.TrimSpace(nd.String()), "\n")...))
	files := map[string][]byte{
		"city.geojson":       fc,
		"city.json":          fc,
		"city.GeoJSON.gz":    gz(fc),
		"city.ndjson":        nd.Bytes(),
		"city.geojsonl":      nd.Bytes(),
		"city.ndjson.gz":     gz(nd.Bytes()),
		"city.geojsonseq.gz": gz([]byte("\x1e" + strings.ReplaceAll(nd.String(), "\n", "\n\x1e"))),
	}
	for name, content := range files {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, roundTripFeatures()) {
				t.Fatalf("read %d features that differ from those written", len(got))
			}
		})
	}
	t.Run("an unknown extension is an error", func(t *testing.T) {
		path := filepath.Join(dir, "city.shp")
		os.WriteFile(path, nil, 0o644)
		if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "unknown file type") {
			t.Fatalf("error %v, want unknown file type", err)
		}
	})
	t.Run("a missing file is os.ErrNotExist", func(t *testing.T) {
		if _, err := ReadFile(filepath.Join(dir, "none.ndjson")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("error %v, want os.ErrNotExist", err)
		}
	})
}
