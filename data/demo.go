package data

import (
	"bytes"
	_ "embed"
	"fmt"

	"github.com/citytwin/citytwin/layers"
)

// The demo city is the OpenStreetMap extract of Monaco (© OpenStreetMap contributors, ODbL
// 1.0; see demo/LICENSE.md) converted once by ReadOSM and stored as gzip-compressed
// newline-delimited GeoJSON. TestDemoMatchesAFreshConversion fails when the import rules
// change and the file was not regenerated with:
//
//go:generate go run ./internal/mkdemo -in demo/monaco-latest.osm.pbf -out demo/monaco.ndjson.gz
//go:embed demo/monaco.ndjson.gz
var demoGzip []byte

// Demo returns the features of the embedded demo city, a fresh copy on every call.
func Demo() ([]layers.Feature, error) {
	b, err := gunzipAll(demoGzip)
	if err != nil {
		return nil, fmt.Errorf("demo city: %w", err)
	}
	fs, err := ReadGeoJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("demo city: %w", err)
	}
	return fs, nil
}
