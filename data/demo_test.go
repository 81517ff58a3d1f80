package data

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/citytwin/citytwin/internal/testcity"
)

func TestDemoMatchesAFreshConversion(t *testing.T) {
	fresh := monacoFeatures(t)
	var want bytes.Buffer
	if err := WriteGeoJSON(&want, fresh); err != nil {
		t.Fatal(err)
	}
	embedded, err := gunzipAll(demoGzip)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(embedded, want.Bytes()) {
		return
	}
	demo, err := Demo()
	if err != nil {
		t.Fatalf("the embedded demo city differs from a fresh conversion and does not even load: %v; run go generate ./data", err)
	}
	t.Fatalf("the embedded demo city differs from a fresh conversion of the Monaco extract (embedded %v, fresh %v); run go generate ./data",
		countByLayer(demo), countByLayer(fresh))
}

func TestDemoLoadsTheSameFeatures(t *testing.T) {
	demo, err := Demo()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(demo, monacoFeatures(t)) {
		t.Fatal("Demo() differs from ReadOSM of the extract")
	}
	// Each call returns its own copy: changing one must not change the next.
	demo[0].Props["derived"] = "changed"
	again, _ := Demo()
	if again[0].Props["derived"] == "changed" {
		t.Fatal("Demo() shares its features between calls")
	}
}

func TestDemoIsSmallAndLicensed(t *testing.T) {
	if n := len(demoGzip); n > 1<<20 {
		t.Errorf("the embedded demo city is %d bytes, want under 1 MiB", n)
	}
	lic, err := os.ReadFile("demo/LICENSE.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"© OpenStreetMap contributors", "Open Database License 1.0", "April 2021", "derived"} {
		if !strings.Contains(string(lic), want) {
			t.Errorf("demo/LICENSE.md does not say %q", want)
		}
	}
}

// BenchmarkDemo is the embedded demo city's load, which every memory-mode start pays (goal:
// well under a second; a benchmark, not a timed test).
func BenchmarkDemo(b *testing.B) {
	for b.Loop() {
		if _, err := Demo(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadOSMMonaco(b *testing.B) {
	path := testcity.MonacoPBF(b)
	for b.Loop() {
		if _, err := ReadFile(path); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleWriteGeoJSON() {
	fs, _ := ReadGeoJSON(strings.NewReader(`{"type":"FeatureCollection","features":[
		{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[7.4246,43.7308]},
		 "properties":{"layer":"facilities","kind":"pharmacy","name":"Pharmacie du Rocher"}}]}`))
	var buf bytes.Buffer
	WriteGeoJSON(&buf, fs)
	fmt.Print(buf.String())
	// Output:
	// {"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[7.4246,43.7308]},"properties":{"layer":"facilities","kind":"pharmacy","name":"Pharmacie du Rocher"}}
}
