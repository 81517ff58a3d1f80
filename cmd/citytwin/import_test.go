package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/layers/postgis"
)

// The fixtures: a city's own files, written by GDAL's ogr2ogr from WGS 84 GeoJSON.

// cadastreGeoJSON: two parcels as the land registry exports them; CP1250 has ş and ţ only
// with a cedilla.
const cadastreGeoJSON = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"OBJECTID":7001,"NR_CAD":"230001","SUPRAFATA":0.085,"CATEGORIE":"CC","INTRAV":"DA","TIP_PROPR":"PRIVATA","ADRESA":"Strada Mărăşeşti 5, Bucureşti","PROPRIETAR":"Ştefan Ţuţuianu","NR_CF":"CF 12345","CNP":"1800101400011","TELEFON":"0722000000"},
 "geometry":{"type":"Polygon","coordinates":[[[26.1000,44.4300],[26.1010,44.4300],[26.1010,44.4308],[26.1000,44.4308],[26.1000,44.4300]]]}},
{"type":"Feature","properties":{"OBJECTID":7002,"NR_CAD":"230002","SUPRAFATA":1.25,"CATEGORIE":"A","INTRAV":"NU","TIP_PROPR":"PUBLICA","ADRESA":"Şoseaua Olteniţei 210","PROPRIETAR":"Primăria Sectorului 4","NR_CF":"CF 67890","CNP":"","TELEFON":""},
 "geometry":{"type":"Polygon","coordinates":[[[26.1100,44.4100],[26.1120,44.4100],[26.1120,44.4115],[26.1100,44.4115],[26.1100,44.4100]]]}}
]}`

// zoningGeoJSON: two PUG zoning units, whose rules are in docs/import-mapping-examples/pug-rules.csv.
const zoningGeoJSON = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"UTR":"L2","DENUMIRE":"Locuinţe colective"},
 "geometry":{"type":"Polygon","coordinates":[[[26.0900,44.4200],[26.0950,44.4200],[26.0950,44.4240],[26.0900,44.4240],[26.0900,44.4200]]]}},
{"type":"Feature","properties":{"UTR":"CB","DENUMIRE":"Zona centrală"},
 "geometry":{"type":"Polygon","coordinates":[[[26.1000,44.4350],[26.1060,44.4350],[26.1060,44.4390],[26.1000,44.4390],[26.1000,44.4350]]]}}
]}`

// facilitiesGeoJSON: the register of public facilities, the last with a type the
// mapping does not know.
const facilitiesGeoJSON = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"cod":101,"denumire":"Grădinița nr. 12","tip":"Grădiniță","locuri":120},"geometry":{"type":"Point","coordinates":[26.1025,44.4268]}},
{"type":"Feature","properties":{"cod":102,"denumire":"Școala Gimnazială nr. 5","tip":"Școală gimnazială","locuri":300},"geometry":{"type":"Point","coordinates":[26.0960,44.4250]}},
{"type":"Feature","properties":{"cod":103,"denumire":"Farmacia Ștefan cel Mare","tip":"Farmacie","locuri":0},"geometry":{"type":"Point","coordinates":[26.1131,44.4475]}},
{"type":"Feature","properties":{"cod":104,"denumire":"Cinema Patria","tip":"Cinematograf","locuri":800},"geometry":{"type":"Point","coordinates":[26.0990,44.4450]}}
]}`

func ogr2ogr(t *testing.T, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("ogr2ogr"); err != nil {
		t.Fatal("ogr2ogr is not installed: the import tests make their fixtures with GDAL; run scripts/install-deps.sh (Debian's gdal-bin)")
	}
	if out, err := exec.Command("ogr2ogr", args...).CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func writeText(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// cityFiles are the fixtures and the mapping each is imported with.
type cityFile struct {
	path string
	args []string
}

func cityFiles(t *testing.T) (cadastre, zoning, facilities cityFile) {
	t.Helper()
	dir := t.TempDir()
	examples, err := filepath.Abs("../../docs/import-mapping-examples")
	if err != nil {
		t.Fatal(err)
	}

	// A zipped Shapefile in Stereo 70 with CP1250 attributes (.cpg written by GDAL).
	shpDir := filepath.Join(dir, "shp")
	os.Mkdir(shpDir, 0o755)
	ogr2ogr(t, "-f", "ESRI Shapefile", "-t_srs", "EPSG:3844", "-lco", "ENCODING=CP1250",
		"-nln", "parcele", filepath.Join(shpDir, "parcele.shp"), writeText(t, filepath.Join(dir, "parcele.geojson"), cadastreGeoJSON))
	archive := filepath.Join(dir, "parcele.zip")
	zf, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(zf)
	parts, _ := filepath.Glob(filepath.Join(shpDir, "parcele.*"))
	for _, p := range parts {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := zw.Create(filepath.Base(p))
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zf.Close()
	cadastre = cityFile{archive, []string{"--mapping", filepath.Join(examples, "cadastre.toml")}}

	// A GeoPackage in ETRS89 / UTM 35N; the rules CSV is found beside the mapping.
	gpkg := filepath.Join(dir, "pug.gpkg")
	ogr2ogr(t, "-f", "GPKG", "-t_srs", "EPSG:25835", "-nln", "zonificare", gpkg, writeText(t, filepath.Join(dir, "pug.geojson"), zoningGeoJSON))
	zoning = cityFile{gpkg, []string{"--mapping", filepath.Join(examples, "pug-zoning.toml")}}

	// A CSV register with X and Y columns, named with --x-column and --y-column.
	csv := filepath.Join(dir, "registru-unitati.csv")
	ogr2ogr(t, "-f", "CSV", "-lco", "GEOMETRY=AS_XY", csv, writeText(t, filepath.Join(dir, "facilities.geojson"), facilitiesGeoJSON))
	facilities = cityFile{csv, []string{"--mapping", filepath.Join(examples, "facilities.toml"),
		"--x-column", "X", "--y-column", "Y", "--srid", "4326", "--max-errors", "1"}}
	return cadastre, zoning, facilities
}

func importArgs(target []string, f cityFile, extra ...string) []string {
	args := append(append(append([]string{}, target...), f.args...), extra...)
	return append(args, f.path)
}

// storeFeatures loads a store's features by layer and id.
func storeFeatures(t *testing.T, s layers.Store) map[string]map[int64]layers.Feature {
	t.Helper()
	out := map[string]map[int64]layers.Feature{}
	err := s.Load(context.Background(), func(f layers.Feature) error {
		if out[f.Layer] == nil {
			out[f.Layer] = map[int64]layers.Feature{}
		}
		out[f.Layer][f.ID] = f
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkImported checks the mapped fields of the imported features.
func checkImported(t *testing.T, got map[string]map[int64]layers.Feature) {
	t.Helper()
	parcel, ok := got["parcels"][7001]
	if !ok {
		t.Fatalf("no parcel 7001 (the registry's OBJECTID); layers: %v", layerSizes(got))
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"the parcel's cadastral number", parcel.Props["cad_number"], "230001"},
		{"the parcel's area, 0.085 ha = 850 m²", parcel.Props["area_m2"], 850.0},
		{"the parcel's land use, CC mapped", parcel.Props["land_use"], "curți construcții"},
		{"the parcel's address, decoded from CP1250", parcel.Props["address"], "Strada Mărăşeşti 5, Bucureşti"},
		{"the parcel's ownership, PRIVATA mapped", parcel.Props["ownership"], "private"},
		{"the owner, kept restricted", parcel.Restricted["owner_name"], "Ştefan Ţuţuianu"},
		{"no owner among the public fields", parcel.Props["owner_name"], nil},
		{"the personal number left out", parcel.Props["CNP"], nil},
		{"zone L2's maximum CUT, 1,6 with a decimal comma", got["zoning"][1].Props["max_cut"], 1.6},
		{"zone CB's code", got["zoning"][2].Props["code"], "CB"},
		{"the kindergarten's name", got["facilities"][101].Props["name"], "Grădinița nr. 12"},
		{"the kindergarten's kind, mapped", got["facilities"][101].Props["kind"], "kindergarten"},
		{"the pharmacy's kind, mapped", got["facilities"][103].Props["kind"], "pharmacy"},
		{"the cinema, of a type the mapping lacks, rejected", got["facilities"][104].Layer, ""},
	}
	for _, c := range checks {
		if !equalValue(c.got, c.want) {
			t.Errorf("%s: got %v (%T), want %v", c.name, c.got, c.got, c.want)
		}
	}
	// Stereo 70 and back: the first corner within a centimetre of where it was drawn.
	if b := parcel.Geometry.Bound(); metres(b.Min, orb.Point{26.1000, 44.4300}) > 0.01 {
		t.Errorf("parcel 7001's south-west corner is at %v, %.3f m from (26.1, 44.43)", b.Min, metres(b.Min, orb.Point{26.1000, 44.4300}))
	}
	if p, ok := got["facilities"][101].Geometry.(orb.Point); !ok || metres(p, orb.Point{26.1025, 44.4268}) > 0.01 {
		t.Errorf("the kindergarten is at %v, want (26.1025, 44.4268)", got["facilities"][101].Geometry)
	}
}

func equalValue(a, b any) bool {
	if x, ok := a.(float64); ok {
		if y, ok := b.(float64); ok {
			return math.Abs(x-y) < 1e-9
		}
	}
	if x, ok := a.(int64); ok {
		if y, ok := b.(float64); ok {
			return float64(x) == y
		}
	}
	return a == b
}

func metres(a, b orb.Point) float64 {
	const r = 6371008.8
	lat := (a[1] + b[1]) / 2 * math.Pi / 180
	return math.Hypot((a[0]-b[0])*math.Pi/180*r*math.Cos(lat), (a[1]-b[1])*math.Pi/180*r)
}

func layerSizes(m map[string]map[int64]layers.Feature) map[string]int {
	out := map[string]int{}
	for l, fs := range m {
		out[l] = len(fs)
	}
	return out
}

func TestImportOfACitysOwnFilesIntoTheDataDirectory(t *testing.T) {
	ctx := context.Background()
	cadastre, zoning, facilities := cityFiles(t)
	dir := filepath.Join(t.TempDir(), "data")
	// --database= : not DATABASE_URL, which scripts/with-postgis.sh exports.
	target := []string{"--database=", "--data-dir", dir}

	for _, f := range []cityFile{cadastre, zoning, facilities} {
		if err := runImport(ctx, importArgs(target, f, "--dry-run")); err != nil {
			t.Fatalf("dry run of %s: %v", filepath.Base(f.path), err)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a dry run touched the data directory: stat: %v", err)
	}

	// The register has one feature the mapping rejects: with --max-errors 0 nothing is written.
	err := runImport(ctx, importArgs(target, facilities, "--max-errors", "0"))
	if err == nil || !strings.Contains(err.Error(), "too many rejected features") {
		t.Fatalf("importing the register with --max-errors 0: %v, want too many rejected features", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a failed import touched the data directory: stat: %v", err)
	}

	rejects := filepath.Join(t.TempDir(), "rejects.geojson")
	for _, f := range []cityFile{cadastre, zoning, facilities} {
		if err := runImport(ctx, importArgs(target, f, "--rejects", rejects)); err != nil {
			t.Fatalf("import of %s: %v", filepath.Base(f.path), err)
		}
	}
	checkImported(t, storeFeatures(t, data.NewFileStore(dir)))

	// The last file's rejects: the cinema, with its reason.
	b, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	var fc geojson.FeatureCollection
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatalf("rejects file: %v\n%s", err, b)
	}
	if len(fc.Features) != 1 || fc.Features[0].Properties["denumire"] != "Cinema Patria" || !strings.Contains(fc.Features[0].Properties.MustString("_reason", ""), "Cinematograf") {
		t.Errorf("rejects: %s, want the cinema with a reason naming its type", b)
	}
}

func TestImportOfACitysOwnFilesIntoPostGIS(t *testing.T) {
	ctx := context.Background()
	dbURL, _ := testSchema(t)
	cadastre, zoning, facilities := cityFiles(t)
	target := []string{"--database", dbURL}
	store, err := openMigrated(ctx, dbURL, postgis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	before, err := store.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}

	for _, f := range []cityFile{cadastre, zoning, facilities} {
		if err := runImport(ctx, importArgs(target, f, "--dry-run")); err != nil {
			t.Fatalf("dry run of %s: %v", filepath.Base(f.path), err)
		}
	}
	if err := runImport(ctx, importArgs(target, facilities, "--max-errors", "0")); err == nil {
		t.Fatal("importing the register with --max-errors 0 succeeded, want too many rejected features")
	}
	after, err := store.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"parcels", "zoning", "facilities"} {
		if after[l] != before[l] {
			t.Errorf("layer %s: %d features after dry and failed runs, %d before", l, after[l], before[l])
		}
	}

	for _, f := range []cityFile{cadastre, zoning, facilities} {
		if err := runImport(ctx, importArgs(target, f)); err != nil {
			t.Fatalf("import of %s: %v", filepath.Base(f.path), err)
		}
	}
	checkImported(t, storeFeatures(t, store))
}
