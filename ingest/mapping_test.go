package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/layers"
)

// zonesGeoJSON: four PUG zones; V9 has no row in the rules file.
const zonesGeoJSON = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"UTR":"L1a","DENUMIRE":"Locuințe individuale"},"geometry":{"type":"Polygon","coordinates":[[[26.10,44.43],[26.11,44.43],[26.11,44.44],[26.10,44.44],[26.10,44.43]]]}},
{"type":"Feature","properties":{"UTR":"M2","DENUMIRE":"Zonă mixtă"},"geometry":{"type":"Polygon","coordinates":[[[26.11,44.43],[26.12,44.43],[26.12,44.44],[26.11,44.44],[26.11,44.43]]]}},
{"type":"Feature","properties":{"UTR":"V1","DENUMIRE":"Spații verzi"},"geometry":{"type":"Polygon","coordinates":[[[26.12,44.43],[26.13,44.43],[26.13,44.44],[26.12,44.44],[26.12,44.43]]]}},
{"type":"Feature","properties":{"UTR":"V9","DENUMIRE":"Zonă fără regulament"},"geometry":{"type":"Polygon","coordinates":[[[26.13,44.43],[26.14,44.43],[26.14,44.44],[26.13,44.44],[26.13,44.43]]]}}
]}`

const pugRules = `utr;pot_max;cut_max;h_max;functiuni
L1a;35;0,9;10;Locuinte
M2;60;2,4;24;Locuinte|Comert|Birouri
V1;10;0,1;6;Agrement
`

const pugMapping = `
[[source]]
name = "zonificare"
layer = "zoning"
[source.fields]
code = "UTR"
name = "DENUMIRE"
max_pot_pct = "join.pot_max"
max_cut = "join.cut_max"
max_height_m = "join.h_max"
allowed_uses = { from = "join.functiuni", split = "|", values = { "Locuinte" = "residential", "Comert" = "commercial", "Birouri" = "office", "Agrement" = "other" } }
derived = { value = false }
[source.join]
file = "reglement-pug.csv"
key = "UTR"
column = "utr"
`

func TestPUGZonesTakeTheirRulesFromACSVByUTRCode(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "reglement-pug.csv"), pugRules)
	src := writeFile(t, filepath.Join(dir, "z.geojson"), zonesGeoJSON)
	gpkg := filepath.Join(dir, "pug.gpkg")
	ogr2ogr(t, "-f", "GPKG", "-t_srs", "EPSG:25835", "-nln", "zonificare", gpkg, src)

	var rejects bytes.Buffer
	fs, rep, err := Import(context.Background(), gpkg, Options{Mapping: mustMapping(t, pugMapping, dir), MaxErrors: 1, Rejects: &rejects})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 3 {
		t.Fatalf("%d zones imported, want 3 (V9 has no rules)", len(fs))
	}
	m2 := fs[1].Props
	if m2["code"] != "M2" || m2["max_pot_pct"] != 60.0 || m2["max_cut"] != 2.4 || m2["max_height_m"] != 24.0 {
		t.Errorf("zone M2 = %v; want POT 60, CUT 2.4 (a decimal comma), 24 m", m2)
	}
	if got := m2["allowed_uses"].([]string); !slices.Equal(got, []string{"residential", "commercial", "office"}) {
		t.Errorf("zone M2 allowed_uses = %v, want residential, commercial, office", got)
	}
	if s := rep.Sources[0]; s.Rejections["join"] != 1 || rep.Rejects[0].ID != 4 || !strings.Contains(rep.Rejects[0].Reason, `no row of reglement-pug.csv has utr = "V9"`) {
		t.Errorf("rejections %v, first %+v; want zone 4 (V9) rejected for its missing rules", s.Rejections, rep.Rejects)
	}

	// The rejects file is GeoJSON with the zone's attributes, WGS 84 geometry and the reason.
	var fc geojson.FeatureCollection
	if err := json.Unmarshal(rejects.Bytes(), &fc); err != nil {
		t.Fatalf("rejects are not GeoJSON: %v\n%s", err, rejects.String())
	}
	if len(fc.Features) != 1 {
		t.Fatalf("%d rejects written, want 1", len(fc.Features))
	}
	r := fc.Features[0]
	if r.Properties["UTR"] != "V9" || !strings.Contains(r.Properties["_reason"].(string), "V9") {
		t.Errorf("reject properties %v; want UTR V9 and the reason", r.Properties)
	}
	if b := r.Geometry.Bound(); math.Abs(b.Min[0]-26.13) > 1e-6 || math.Abs(b.Max[1]-44.44) > 1e-6 {
		t.Errorf("reject geometry bounds %v; want the zone in WGS 84, 26.13–26.14 E, 44.43–44.44 N", b)
	}
}

// wktCSV writes a CSV of WGS 84 WKT geometries for the buildings layer.
func wktCSV(t *testing.T, rows ...string) string {
	return writeFile(t, filepath.Join(t.TempDir(), "cladiri.csv"), "id,functiune,etaje,wkt\n"+strings.Join(rows, "\n")+"\n")
}

const usesMapping = `
srid = 4326
[[source]]
layer = "buildings"
id = "id"
[source.fields]
use = { from = "functiune", values = { "Locuinte" = "residential", "Locuințe" = "residential", "Birouri" = "office" } }
floors = "etaje"
`

const square = `"POLYGON((26.1 44.43, 26.101 44.43, 26.101 44.431, 26.1 44.431, 26.1 44.43))"`

func TestFeaturesAreRepairedOrRejectedByRule(t *testing.T) {
	csvPath := wktCSV(t,
		`1,Locuinte,4,`+square,
		// Repeated position, ring not closed: repaired.
		`2,Locuinţe,4,"POLYGON((26.2 44.43, 26.2 44.43, 26.201 44.43, 26.201 44.431, 26.2 44.431))"`,
		// Three distinct positions in a line: no area, rejected.
		`3,Birouri,2,"POLYGON((26.3 44.43, 26.301 44.43, 26.302 44.43, 26.3 44.43))"`,
		// 250 floors: over the catalog's 200.
		`4,Birouri,250,`+square,
		// A use the value map lacks.
		`5,Depozit,1,`+square,
		// Far outside the city.
		`6,Locuinte,3,"POLYGON((23.59 46.77, 23.6 46.77, 23.6 46.78, 23.59 46.77))"`,
		// The id of feature 1 again.
		`1,Birouri,3,`+square,
		// Not WKT.
		`8,Birouri,3,"POLYGON((26.1 44.43, 26.2"`,
	)
	city := orb.Bound{Min: orb.Point{25.9, 44.3}, Max: orb.Point{26.4, 44.6}}
	fs, rep, err := Import(context.Background(), csvPath, Options{Mapping: mustMapping(t, usesMapping, ""), Extent: &city, MaxErrors: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0].ID != 1 || fs[1].ID != 2 {
		t.Fatalf("imported %v; want buildings 1 and 2; rejects %+v", fs, rep.Rejects)
	}
	// Building 2's use is spelt with a cedilla ţ; the value map's key, with a comma-below ț, matches it.
	if fs[1].Props["use"] != "residential" {
		t.Errorf("building 2 use = %v, want residential", fs[1].Props["use"])
	}
	ring := fs[1].Geometry.(orb.Polygon)[0]
	if len(ring) != 5 || ring[0] != ring[4] {
		t.Errorf("building 2 ring %v; want 4 distinct positions and the closing one", ring)
	}
	s := rep.Sources[0]
	if s.Repairs[RepairRepeated] != 1 || s.Repairs[RepairClosed] != 1 {
		t.Errorf("repairs %v; want one repeated position removed and one ring closed", s.Repairs)
	}
	if s.OutOfRange["floors"] != 1 || s.OutsideExtent != 1 {
		t.Errorf("out of range %v, outside extent %d; want floors once, one feature outside", s.OutOfRange, s.OutsideExtent)
	}
	reasons := map[int64]string{}
	for _, r := range rep.Rejects {
		reasons[r.ID] = r.Kind + ": " + r.Reason
	}
	want := map[int64]string{
		3: "geometry: geometry: outer ring has 3 distinct positions and an area of 0",
		4: "value: properties.floors: 250 is outside 0..200",
		5: `value: use: from functiune: "Depozit" is not in the value map`,
		6: "extent: outside the extent",
		1: "id: id 1 is taken in layer buildings by feature 0",
		8: "geometry: WKT:",
	}
	for id, w := range want {
		if !strings.HasPrefix(reasons[id], w) {
			t.Errorf("feature %d rejected as %q, want %q", id, reasons[id], w)
		}
	}
}

func TestMoreRejectsThanMaxErrorsFailsWithNothingReturned(t *testing.T) {
	csvPath := wktCSV(t, `1,Locuinte,4,`+square, `2,Depozit,4,`+square, `3,Depozit,4,`+square)
	m := mustMapping(t, usesMapping, "")
	cases := []struct {
		name      string
		maxErrors int
		features  int
	}{
		{"no rejects allowed, two found: fails", 0, 0},
		{"one allowed, two found: fails", 1, 0},
		{"two allowed, two found: imports the rest", 2, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs, rep, err := Import(context.Background(), csvPath, Options{Mapping: m, MaxErrors: c.maxErrors})
			if len(fs) != c.features {
				t.Errorf("%d features returned, want %d", len(fs), c.features)
			}
			if c.features == 0 && (!errors.Is(err, ErrTooManyErrors) || rep == nil || rep.Rejected != c.maxErrors+1) {
				t.Errorf("error %v, report %+v; want ErrTooManyErrors after %d rejects", err, rep, c.maxErrors+1)
			}
			if c.features > 0 && err != nil {
				t.Errorf("error %v, want none", err)
			}
		})
	}
}

func TestDryRunReportNamesFormatEncodingCRSAndFields(t *testing.T) {
	dir := t.TempDir()
	shp := stereo70Parcels(t, dir)
	m := mustMapping(t, `
[[source]]
layer = "parcels"
[source.fields]
cad_number = "NR_CAD"
owner_name = "PROPRIETAR"
`, dir)
	rep, err := Read(context.Background(), shp, Options{Mapping: m}, func(layers.Feature) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"read 4, accepted 4 (parcels 4), rejected 0",
		"format:   ESRI Shapefile",
		"encoding: windows-1250 (from parcele.cpg)",
		"CRS:      Pulkovo 1942(58) / Stereo70 from parcele.prj",
		"field:    owner_name <- PROPRIETAR [restricted]",
		"unmapped: SUPRAFATA, CATEGORIE, ADRESA, INTRAV, CNP",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

func TestExampleMappingsFitTheCatalog(t *testing.T) {
	files, err := filepath.Glob("../docs/import-mapping-examples/*.toml")
	if err != nil || len(files) < 3 {
		t.Fatalf("example mappings: %v, %v; want at least 3", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := LoadMapping(f); err != nil {
				t.Error(err)
			}
		})
	}
}
