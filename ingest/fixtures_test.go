package ingest

import (
	"archive/zip"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// The fixtures are made in the tests: a few features in WGS 84, written as GeoJSON and
// converted by GDAL's ogr2ogr into the formats and CRSs a city's GIS team holds.

// parcelsGeoJSON: four parcels in Bucharest, one with a hole, one a MultiPolygon of two
// parts, with Romanian field names and values. CP1250 has ş and ţ only with a cedilla, so the
// values use those; the comma-below letters are checked on the UTF-8 formats.
const parcelsGeoJSON = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"NR_CAD":"230001","SUPRAFATA":0.0850,"CATEGORIE":"Curţi construcţii","PROPRIETAR":"Ştefan Ţuţuianu","ADRESA":"Strada Mărăşeşti 5, Bucureşti","INTRAV":"DA","CNP":"1800101400011"},
 "geometry":{"type":"Polygon","coordinates":[[[26.1000,44.4300],[26.1010,44.4300],[26.1010,44.4308],[26.1000,44.4308],[26.1000,44.4300]],[[26.1003,44.4302],[26.1003,44.4305],[26.1006,44.4305],[26.1006,44.4302],[26.1003,44.4302]]]}},
{"type":"Feature","properties":{"NR_CAD":"230002","SUPRAFATA":1.25,"CATEGORIE":"Arabil","PROPRIETAR":"Ioana Pîrvu","ADRESA":"Şoseaua Olteniţei 210","INTRAV":"NU","CNP":"2900202400022"},
 "geometry":{"type":"MultiPolygon","coordinates":[[[[26.1100,44.4100],[26.1120,44.4100],[26.1120,44.4115],[26.1100,44.4115],[26.1100,44.4100]]],[[[26.1130,44.4100],[26.1140,44.4100],[26.1140,44.4110],[26.1130,44.4100]]]]}},
{"type":"Feature","properties":{"NR_CAD":"230003","SUPRAFATA":0.031,"CATEGORIE":"Curţi construcţii","PROPRIETAR":"Andrei Ţăranu","ADRESA":"Aleea Câmpina 3","INTRAV":"DA","CNP":"1750303400033"},
 "geometry":{"type":"Polygon","coordinates":[[[26.0500,44.4500],[26.0504,44.4500],[26.0504,44.4503],[26.0500,44.4503],[26.0500,44.4500]]]}},
{"type":"Feature","properties":{"NR_CAD":"230004","SUPRAFATA":0.5,"CATEGORIE":"Păşune","PROPRIETAR":"Primăria Sectorului 4","ADRESA":"","INTRAV":"NU","CNP":""},
 "geometry":{"type":"Polygon","coordinates":[[[26.1200,44.3900],[26.1230,44.3900],[26.1230,44.3920],[26.1200,44.3920],[26.1200,44.3900]]]}}
]}`

// buildingsGeoJSON: three buildings with catalog field names, comma-below diacritics in an
// extra field, for the UTF-8 formats.
const buildingsGeoJSON = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"id":11,"use":"residential","floors":4,"height_m":12.5,"nume":"Bloc Țiglina, scara Ș"},
 "geometry":{"type":"Polygon","coordinates":[[[26.1000,44.4300],[26.1004,44.4300],[26.1004,44.4302],[26.1000,44.4302],[26.1000,44.4300]]]}},
{"type":"Feature","properties":{"id":12,"use":"office","floors":10,"height_m":38.0,"nume":"Turnul Șoimilor"},
 "geometry":{"type":"Polygon","coordinates":[[[26.1010,44.4310],[26.1013,44.4310],[26.1013,44.4313],[26.1010,44.4313],[26.1010,44.4310]]]}},
{"type":"Feature","properties":{"id":13,"use":"education","floors":2,"height_m":8.0,"nume":"Școala nr. 5 „Mihai Viteazul”"},
 "geometry":{"type":"Polygon","coordinates":[[[26.0900,44.4400],[26.0906,44.4400],[26.0906,44.4404],[26.0900,44.4404],[26.0900,44.4400]]]}}
]}`

// facilitiesGeoJSON: points for the facility register.
const facilitiesGeoJSON = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"cod":101,"denumire":"Grădinița nr. 12","tip":"Grădiniță","locuri":120},"geometry":{"type":"Point","coordinates":[26.1025,44.4268]}},
{"type":"Feature","properties":{"cod":102,"denumire":"Școala Gimnazială nr. 3","tip":"Școală","locuri":640},"geometry":{"type":"Point","coordinates":[26.0972,44.4381]}},
{"type":"Feature","properties":{"cod":103,"denumire":"Farmacia Ștefan cel Mare","tip":"Farmacie","locuri":0},"geometry":{"type":"Point","coordinates":[26.1131,44.4475]}}
]}`

// needGDAL fails the test when ogr2ogr is missing: the fixtures cannot be made without it.
func needGDAL(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("ogr2ogr"); err != nil {
		tb.Fatal("ogr2ogr is not installed: the import tests make their fixtures with GDAL; run scripts/install-deps.sh (Debian's gdal-bin)")
	}
}

func ogr2ogr(tb testing.TB, args ...string) {
	tb.Helper()
	needGDAL(tb)
	out, err := exec.Command("ogr2ogr", args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("ogr2ogr %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func writeFile(tb testing.TB, path, text string) string {
	tb.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// zipFiles writes an archive of the named files, each under its base name.
func zipFiles(tb testing.TB, archive string, files ...string) string {
	tb.Helper()
	f, err := os.Create(archive)
	if err != nil {
		tb.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		w, err := zw.Create(filepath.Base(name))
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return archive
}

// shapefileParts lists the files of a Shapefile that exist.
func shapefileParts(shp string) []string {
	var out []string
	stem := strings.TrimSuffix(shp, ".shp")
	for _, ext := range []string{".shp", ".shx", ".dbf", ".prj", ".cpg"} {
		if _, err := os.Stat(stem + ext); err == nil {
			out = append(out, stem+ext)
		}
	}
	return out
}

// stereo70Parcels writes the parcels as a Shapefile in Stereo 70 with CP1250 attributes and
// returns the .shp path.
func stereo70Parcels(tb testing.TB, dir string) string {
	src := writeFile(tb, filepath.Join(dir, "parcels-src.geojson"), parcelsGeoJSON)
	shp := filepath.Join(dir, "parcele.shp")
	ogr2ogr(tb, "-f", "ESRI Shapefile", "-t_srs", "EPSG:3844", "-lco", "ENCODING=CP1250", shp, src)
	return shp
}

// gdalWGS84 reprojects a file's features to WGS 84 with ogr2ogr, the reference the
// imported coordinates are held to.
func gdalWGS84(tb testing.TB, path string, extra ...string) []*geojson.Feature {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "gdal-4326.geojson")
	args := append([]string{"-f", "GeoJSON", "-t_srs", "EPSG:4326", "-lco", "COORDINATE_PRECISION=12", "-lco", "RFC7946=NO"}, extra...)
	ogr2ogr(tb, append(args, out, path)...)
	b, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	var fc geojson.FeatureCollection
	if err := json.Unmarshal(b, &fc); err != nil {
		tb.Fatal(err)
	}
	return fc.Features
}

// metresApart is the distance between two WGS 84 positions, on a sphere of 6371 km: ample
// for centimetres.
func metresApart(a, b orb.Point) float64 {
	const r = 6371008.8
	lat := (a[1] + b[1]) / 2 * math.Pi / 180
	dx := (a[0] - b[0]) * math.Pi / 180 * r * math.Cos(lat)
	dy := (a[1] - b[1]) * math.Pi / 180 * r
	return math.Hypot(dx, dy)
}

// allPoints lists a geometry's positions in order, rings' closing positions included.
func allPoints(g orb.Geometry) []orb.Point {
	var out []orb.Point
	switch t := g.(type) {
	case orb.Point:
		out = append(out, t)
	case orb.MultiPoint:
		out = append(out, t...)
	case orb.Polygon:
		for _, r := range t {
			out = append(out, r...)
		}
	case orb.MultiPolygon:
		for _, p := range t {
			for _, r := range p {
				out = append(out, r...)
			}
		}
	}
	return out
}

// maxDistanceToNearest is the farthest any position of one geometry lies from the nearest
// position of the other: ring starts and turning directions may differ between readers.
func maxDistanceToNearest(tb testing.TB, got, want orb.Geometry) float64 {
	tb.Helper()
	gp, wp := allPoints(got), allPoints(want)
	if len(gp) == 0 || len(wp) == 0 {
		tb.Fatalf("empty geometry: got %d positions, want %d", len(gp), len(wp))
	}
	worst := 0.0
	for _, set := range [][2][]orb.Point{{gp, wp}, {wp, gp}} {
		for _, p := range set[0] {
			best := math.Inf(1)
			for _, q := range set[1] {
				best = min(best, metresApart(p, q))
			}
			worst = max(worst, best)
		}
	}
	return worst
}
