package ingest

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/layers"
)

const cadastreMapping = `
[[source]]
name = "parcele"
layer = "parcels"
ignore = ["CNP"]
[source.fields]
cad_number = "NR_CAD"
area_m2 = { from = "SUPRAFATA", unit = "ha" }
land_use = "CATEGORIE"
intravilan = "INTRAV"
owner_name = "PROPRIETAR"
address = "ADRESA"
ownership = { value = "unknown" }
derived = { value = false }
`

func mustMapping(tb testing.TB, text, dir string) *Mapping {
	tb.Helper()
	m, err := ParseMapping(text, dir)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func byID(fs []layers.Feature) map[int64]layers.Feature {
	out := map[int64]layers.Feature{}
	for _, f := range fs {
		out[f.ID] = f
	}
	return out
}

// checkAgainstGDAL holds every imported geometry to ogr2ogr's reprojection of the same file
// (features in the same order): within 1 cm.
func checkAgainstGDAL(t *testing.T, got []layers.Feature, ref []*geojson.Feature) {
	t.Helper()
	if len(got) != len(ref) {
		t.Fatalf("imported %d features, ogr2ogr reads %d", len(got), len(ref))
	}
	for i := range got {
		if d := maxDistanceToNearest(t, got[i].Geometry, ref[i].Geometry); d > 0.01 {
			t.Errorf("feature %d: a position is %.4f m from ogr2ogr's, want within 0.01 m", got[i].ID, d)
		}
	}
}

func TestZippedStereo70ShapefileWithCP1250Attributes(t *testing.T) {
	dir := t.TempDir()
	shp := stereo70Parcels(t, dir)
	archive := zipFiles(t, filepath.Join(dir, "cadastru.zip"), shapefileParts(shp)...)

	fs, rep, err := Import(context.Background(), archive, Options{Mapping: mustMapping(t, cadastreMapping, dir)})
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstGDAL(t, fs, gdalWGS84(t, shp))

	s := rep.Sources[0]
	if s.Format != "ESRI Shapefile (zipped)" || !strings.HasPrefix(s.Encoding, "windows-1250") || !strings.Contains(s.CRS, "Stereo70") {
		t.Errorf("detected %q, %q, %q; want a zipped Shapefile, windows-1250 from the .cpg, Stereo 70 from the .prj", s.Format, s.Encoding, s.CRS)
	}
	if rep.Layers["parcels"] != 4 || rep.Rejected != 0 {
		t.Errorf("layers %v, rejected %d; want 4 parcels, none rejected", rep.Layers, rep.Rejected)
	}
	if strings.Join(s.Ignored, ",") != "CNP" || len(s.Unmapped) != 0 {
		t.Errorf("ignored %v, unmapped %v; want CNP ignored and nothing unmapped", s.Ignored, s.Unmapped)
	}

	p := byID(fs)
	first := p[1]
	// Shapefile record numbers are the ids: the first parcel is 1.
	want := map[string]any{
		"cad_number": "230001",
		"land_use":   "Curţi construcţii", // cedilla ţ: all CP1250 has
		"intravilan": true,
		"address":    "Strada Mărăşeşti 5, Bucureşti",
		"ownership":  "unknown",
		"derived":    false,
	}
	for k, v := range want {
		if first.Props[k] != v {
			t.Errorf("parcel 1 %s = %#v, want %#v", k, first.Props[k], v)
		}
	}
	// 0.0850 ha × 10,000 m²/ha = 850 m².
	if a := first.Props["area_m2"].(float64); math.Abs(a-850) > 1e-9 {
		t.Errorf("parcel 1 area_m2 = %v, want 850 (0.085 ha)", a)
	}
	if first.Restricted["owner_name"] != "Ştefan Ţuţuianu" || first.Props["owner_name"] != nil {
		t.Errorf("owner_name: restricted %#v, public %#v; want the name kept apart as personal data", first.Restricted["owner_name"], first.Props["owner_name"])
	}
	if _, ok := p[4].Props["address"]; ok {
		t.Errorf("parcel 4 has an empty address, imported as %#v; want it left out", p[4].Props["address"])
	}
	// The parcel with a hole keeps it, as GeoJSON orients rings; the MultiPolygon keeps both parts.
	poly, ok := first.Geometry.(orb.Polygon)
	if !ok || len(poly) != 2 || poly[0].Orientation() != orb.CCW || poly[1].Orientation() != orb.CW {
		t.Errorf("parcel 1 = %T with %d rings; want a Polygon, outer ring counter-clockwise, one clockwise hole", first.Geometry, len(poly))
	}
	if mp, ok := p[2].Geometry.(orb.MultiPolygon); !ok || len(mp) != 2 {
		t.Errorf("parcel 2 = %T; want a MultiPolygon of 2 parts", p[2].Geometry)
	}
}

func TestCommaBelowOptionWritesRomanianLetters(t *testing.T) {
	dir := t.TempDir()
	shp := stereo70Parcels(t, dir)
	fs, _, err := Import(context.Background(), shp, Options{Mapping: mustMapping(t, cadastreMapping, dir), CommaBelow: true})
	if err != nil {
		t.Fatal(err)
	}
	p := byID(fs)
	if got := p[1].Restricted["owner_name"]; got != "Ștefan Țuțuianu" {
		t.Errorf("owner_name = %q, want comma-below Ștefan Țuțuianu", got)
	}
	if got := p[2].Props["address"]; got != "Șoseaua Olteniței 210" {
		t.Errorf("address = %q, want Șoseaua Olteniței 210", got)
	}
}

func TestGeoPackageInUTM35NMapsCatalogNamesToThemselves(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, filepath.Join(dir, "b.geojson"), buildingsGeoJSON)
	gpkg := filepath.Join(dir, "cladiri.gpkg")
	ogr2ogr(t, "-f", "GPKG", "-t_srs", "EPSG:25835", "-nln", "buildings", gpkg, src)

	fs, rep, err := Import(context.Background(), gpkg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstGDAL(t, fs, gdalWGS84(t, gpkg))
	s := rep.Sources[0]
	if s.Format != "GeoPackage" || !strings.HasPrefix(s.CRS, "EPSG:25835") || s.Layer != "buildings" {
		t.Errorf("detected %q in %q to layer %q; want a GeoPackage in EPSG:25835 to buildings", s.Format, s.CRS, s.Layer)
	}
	if strings.Join(s.Unmapped, ",") != "nume" {
		t.Errorf("unmapped %v; want nume, the one field the catalog lacks", s.Unmapped)
	}
	b := byID(fs)
	if b[12].Props["use"] != "office" || b[12].Props["floors"] != int64(10) || b[12].Props["height_m"] != 38.0 {
		t.Errorf("building 12 = %v; want office, 10 floors, 38 m (ids from the id field)", b[12].Props)
	}
}

func TestCSVWithWKTInStereo70(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, filepath.Join(dir, "f.geojson"), facilitiesGeoJSON)
	csvPath := filepath.Join(dir, "unitati.csv")
	ogr2ogr(t, "-f", "CSV", "-lco", "GEOMETRY=AS_WKT", "-t_srs", "EPSG:3844", csvPath, src)

	m := mustMapping(t, `
srid = 3844
[[source]]
layer = "facilities"
id = "cod"
[source.fields]
name = "denumire"
kind = { from = "tip", values = { "Grădiniță" = "kindergarten", "Școală" = "school", "Farmacie" = "pharmacy" } }
capacity = "locuri"
`, dir)
	fs, rep, err := Import(context.Background(), csvPath, Options{Mapping: m})
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstGDAL(t, fs, gdalWGS84(t, csvPath, "-s_srs", "EPSG:3844", "-oo", "GEOM_POSSIBLE_NAMES=WKT"))
	if s := rep.Sources[0]; s.Format != "CSV (WKT column WKT)" || !strings.HasPrefix(s.CRS, "EPSG:3844") {
		t.Errorf("detected %q in %q; want the WKT column and EPSG:3844 from the mapping", s.Format, s.CRS)
	}
	f := byID(fs)
	if f[102].Props["kind"] != "school" || f[102].Props["name"] != "Școala Gimnazială nr. 3" || f[102].Props["capacity"] != int64(640) {
		t.Errorf("facility 102 = %v; want a school named Școala Gimnazială nr. 3 with 640 places", f[102].Props)
	}
}

func TestCSVWithLonLatColumns(t *testing.T) {
	dir := t.TempDir()
	csvPath := writeFile(t, filepath.Join(dir, "statii.csv"),
		"name;lon;lat;pm25;year\nStația Berceni;26,1250;44,3900;21,5;2024\nStația Titan;26.1690;44.4230;18;2024\n")
	fs, rep, err := Import(context.Background(), csvPath, Options{Layer: "air_stations"})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0].Geometry != (orb.Point{26.125, 44.39}) || fs[0].Props["pm25"] != 21.5 || fs[0].Props["name"] != "Stația Berceni" {
		t.Errorf("features %v; want Stația Berceni at (26.125, 44.39) with pm25 21.5 (decimal commas of a ;-separated file)", fs)
	}
	if s := rep.Sources[0]; !strings.HasPrefix(s.CRS, "EPSG:4326") {
		t.Errorf("CRS %q; want EPSG:4326 from the lon/lat column names", s.CRS)
	}
}

func TestGMLThroughOGR2OGR(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, filepath.Join(dir, "b.geojson"), buildingsGeoJSON)
	gml := filepath.Join(dir, "buildings.gml")
	ogr2ogr(t, "-f", "GML", "-t_srs", "EPSG:3035", gml, src)

	fs, rep, err := Import(context.Background(), gml, Options{Layer: "buildings"})
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstGDAL(t, fs, gdalWGS84(t, gml))
	s := rep.Sources[0]
	if s.Format != "GML (read with ogr2ogr)" || !strings.Contains(s.CRS, "LAEA") {
		t.Errorf("detected %q in %q; want GML read with ogr2ogr, in ETRS89-extended / LAEA Europe", s.Format, s.CRS)
	}
	if b := byID(fs); b[13].Props["use"] != "education" {
		t.Errorf("building 13 = %v; want education", b[13].Props)
	}
}

func TestGeoPackageTablesAreReadAllOrOneByName(t *testing.T) {
	dir := t.TempDir()
	gpkg := filepath.Join(dir, "oras.gpkg")
	ogr2ogr(t, "-f", "GPKG", "-t_srs", "EPSG:25835", "-nln", "buildings", gpkg, writeFile(t, filepath.Join(dir, "b.geojson"), buildingsGeoJSON))
	ogr2ogr(t, "-update", "-t_srs", "EPSG:3844", "-nln", "zonificare", gpkg, writeFile(t, filepath.Join(dir, "z.geojson"), zonesGeoJSON))
	writeFile(t, filepath.Join(dir, "reglement-pug.csv"), pugRules)

	t.Run("one table by name", func(t *testing.T) {
		fs, rep, err := Import(context.Background(), gpkg, Options{OpenOptions: OpenOptions{Table: "buildings"}})
		if err != nil || len(fs) != 3 || len(rep.Sources) != 1 {
			t.Errorf("%d features from %d tables, error %v; want the 3 buildings of one table", len(fs), len(rep.Sources), err)
		}
	})
	t.Run("every table, each by its mapping, each in its own CRS", func(t *testing.T) {
		m := mustMapping(t, pugMapping+"\n[[source]]\nname = \"buildings\"\nlayer = \"buildings\"\nid = \"id\"\n[source.fields]\nuse = \"use\"\n", dir)
		fs, rep, err := Import(context.Background(), gpkg, Options{Mapping: m, MaxErrors: 1})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Layers["buildings"] != 3 || rep.Layers["zoning"] != 3 || len(fs) != 6 {
			t.Errorf("layers %v; want 3 buildings and 3 zones (V9 has no rules)", rep.Layers)
		}
		if !strings.HasPrefix(rep.Sources[0].CRS, "EPSG:25835") || !strings.HasPrefix(rep.Sources[1].CRS, "EPSG:3844") {
			t.Errorf("CRSs %q, %q; want EPSG:25835 and EPSG:3844", rep.Sources[0].CRS, rep.Sources[1].CRS)
		}
	})
	t.Run("a table the mapping does not name is skipped and reported", func(t *testing.T) {
		_, rep, err := Import(context.Background(), gpkg, Options{Mapping: mustMapping(t, pugMapping, dir), MaxErrors: 1})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Sources[0].Name != "buildings" || rep.Sources[0].Skipped == "" {
			t.Errorf("source %q skipped %q; want buildings skipped with a reason", rep.Sources[0].Name, rep.Sources[0].Skipped)
		}
	})
	t.Run("a table the file lacks is named with those it has", func(t *testing.T) {
		_, _, err := Import(context.Background(), gpkg, Options{OpenOptions: OpenOptions{Table: "strazi"}})
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), `no feature table "strazi" (it has: buildings, zonificare)`) {
			t.Errorf("error %v; want the tables listed", err)
		}
	})
}

func TestGDALFormatWithoutOGR2OGRNamesDebiansPackage(t *testing.T) {
	dir := t.TempDir()
	gml := filepath.Join(dir, "buildings.gml")
	ogr2ogr(t, "-f", "GML", gml, writeFile(t, filepath.Join(dir, "b.geojson"), buildingsGeoJSON))
	t.Setenv("PATH", t.TempDir())
	_, _, err := Import(context.Background(), gml, Options{Layer: "buildings"})
	if !errors.Is(err, ErrNoGDAL) || !strings.Contains(err.Error(), "apt-get install gdal-bin") {
		t.Errorf("error %v; want ErrNoGDAL naming gdal-bin", err)
	}
}
