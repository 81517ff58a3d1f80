package web

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// download fetches /downloads/{layer}.{ext} into a file of dir, checking the answer's
// status, type, file name and licence link.
func (f *demoFixture) download(t *testing.T, dir, layer, ext, wantType string) string {
	t.Helper()
	path := "/downloads/" + layer + "." + ext
	r := f.do(t, "GET", path, "", "", "")
	if r.status != http.StatusOK || r.ctype != wantType {
		t.Fatalf("GET %s: %d %q, want 200 %q: %.300s", path, r.status, r.ctype, wantType, r.body)
	}
	out := filepath.Join(dir, layer+"."+ext)
	if err := os.WriteFile(out, r.body, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// downloadHeaders returns the headers of a download answer.
func (f *demoFixture) downloadHeaders(t *testing.T, path string) http.Header {
	t.Helper()
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, w.Code, w.Body.Bytes())
	}
	return w.Header()
}

// readFeatures reads a GeoJSON FeatureCollection: each feature's geometry and properties
// (nulls left out), by id, and the ids in the file's order. idProp names the property that
// holds the id when the file has no feature ids (ogr2ogr's copy of a CSV).
func readFeatures(t *testing.T, b []byte, idProp string) (map[int64]*geojson.Feature, []int64) {
	t.Helper()
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		t.Fatalf("not a GeoJSON FeatureCollection: %v", err)
	}
	byID := map[int64]*geojson.Feature{}
	var order []int64
	for _, ft := range fc.Features {
		var raw any = ft.ID
		if idProp != "" {
			raw = ft.Properties[idProp]
			delete(ft.Properties, idProp)
		}
		id, ok := raw.(float64)
		if !ok || id != math.Trunc(id) {
			t.Fatalf("a feature without a whole id: %v", raw)
		}
		for k, v := range ft.Properties {
			if v == nil {
				delete(ft.Properties, k)
			}
		}
		byID[int64(id)] = ft
		order = append(order, int64(id))
	}
	return byID, order
}

// tabularProps are a feature's public properties as a table holds them: lists comma-joined.
func tabularProps(t *testing.T, f *layers.Feature) map[string]any {
	t.Helper()
	m := expectedProps(t, f)
	for k, v := range m {
		if list, ok := v.([]any); ok {
			parts := make([]string, len(list))
			for i, e := range list {
				parts[i] = e.(string)
			}
			m[k] = strings.Join(parts, ",")
		}
	}
	return m
}

// sameBound tells whether two geometries have the same envelope, to a nanodegree (ogr2ogr
// and WKT write coordinates with 15 significant digits).
func sameBound(a, b orb.Geometry) bool {
	if a == nil || b == nil {
		return false
	}
	x, y := a.Bound(), b.Bound()
	for _, d := range []float64{x.Min[0] - y.Min[0], x.Min[1] - y.Min[1], x.Max[0] - y.Max[0], x.Max[1] - y.Max[1]} {
		if math.Abs(d) > 1e-9 {
			return false
		}
	}
	return true
}

var featureCount = regexp.MustCompile(`(?m)^Feature Count: (\d+)$`)

// TestDownloadsReadByGDALMatchTheModel downloads every base layer in the three formats, in
// memory and on PostGIS, and reads the files with independent readers:
//   - GeoPackage: `ogrinfo -ro -so` opens it without a warning and counts the layer's
//     features, as many as the model and the OGC API's numberMatched; ogr2ogr copies every
//     feature with its id (fid), its public properties and its geometry's envelope;
//   - CSV: ogr2ogr, told that the geometry is the wkt column, reads every feature with its
//     id and envelope;
//   - GeoJSON: it parses, with the model's ids in ascending order and their public
//     properties, and names its licence.
//
// Catches a GeoPackage binary header GDAL cannot read (wrong flags, SRS or envelope), a
// missing required table or SRS, a layer written from a page of the PostGIS source only, a
// CSV whose geometry column GDAL does not take, a cursor that skips or repeats the feature at a
// page's edge, and properties written in the wrong column.
func TestDownloadsReadByGDALMatchTheModel(t *testing.T) {
	// Pages of 500 features: the demo's 1,207 buildings and parcels are read from PostGIS in
	// three pages (500 + 500 + 207), its 517 noise bands in two.
	defer func(n int) { downloadPage = n }(downloadPage)
	downloadPage = 500
	for _, source := range demoSources {
		t.Run(source, func(t *testing.T) {
			f := newDemoFixture(t, source)
			dir := t.TempDir()
			for _, l := range layers.All() {
				items := f.city.Layer(l.Name).Items()
				_, matched, _ := f.ogcAll(t, "/ogc/collections/"+l.Name+"/items?limit="+strconv.Itoa(MaxOGCItems))
				if matched != int64(len(items)) || len(items) == 0 {
					t.Fatalf("%s: the OGC API matches %d features, the model has %d", l.Name, matched, len(items))
				}

				gpkg := f.download(t, dir, l.Name, "gpkg", "application/geopackage+sqlite3")
				info := gdal(t, "ogrinfo", "-ro", "-so", gpkg, l.Name)
				if strings.Contains(info, "Warning") || strings.Contains(info, "ERROR") {
					t.Errorf("%s.gpkg: ogrinfo complains:\n%s", l.Name, info)
				}
				if m := featureCount.FindStringSubmatch(info); m == nil || m[1] != strconv.Itoa(len(items)) {
					t.Errorf("%s.gpkg: ogrinfo counts %v, the model has %d:\n%s", l.Name, m, len(items), info)
				}
				fromGPKG := filepath.Join(dir, l.Name+"-gpkg.json")
				gdal(t, "ogr2ogr", "-f", "GeoJSON", "-preserve_fid", fromGPKG, gpkg, l.Name)
				b, err := os.ReadFile(fromGPKG)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := readFeatures(t, b, "")
				checkFeatures(t, l.Name+".gpkg", got, items, true)

				csvFile := f.download(t, dir, l.Name, "csv", "text/csv; charset=utf-8; header=present")
				fromCSV := filepath.Join(dir, l.Name+"-csv.json")
				gdal(t, "ogr2ogr", "-f", "GeoJSON", "-oo", "GEOM_POSSIBLE_NAMES=wkt", "-oo", "KEEP_GEOM_COLUMNS=NO",
					"-oo", "AUTODETECT_TYPE=YES", fromCSV, csvFile)
				if b, err = os.ReadFile(fromCSV); err != nil {
					t.Fatal(err)
				}
				got, _ = readFeatures(t, b, "id")
				checkFeatures(t, l.Name+".csv", got, items, false)

				gj := f.download(t, dir, l.Name, "geojson", "application/geo+json")
				if b, err = os.ReadFile(gj); err != nil {
					t.Fatal(err)
				}
				var head struct{ License, Attribution string }
				if err := json.Unmarshal(b, &head); err != nil || head.License != dataLicense || head.Attribution != layers.Attribution {
					t.Errorf("%s.geojson: licence %q, attribution %q (%v)", l.Name, head.License, head.Attribution, err)
				}
				got, order := readFeatures(t, b, "")
				if !slices.IsSorted(order) {
					t.Errorf("%s.geojson: the ids are not in ascending order", l.Name)
				}
				checkFeatures(t, l.Name+".geojson", got, items, true)
			}
		})
	}
}

// checkFeatures compares the features a reader got with the model's: the same ids, the same
// envelopes, and with props the same public properties (lists as a table holds them unless
// GeoJSON).
func checkFeatures(t *testing.T, what string, got map[int64]*geojson.Feature, items []*spatial.Item, props bool) {
	t.Helper()
	want := make([]int64, len(items))
	for i, it := range items {
		want[i] = it.Feature.ID
	}
	slices.Sort(want)
	if ids := sortedIDs(got); !slices.Equal(ids, want) {
		t.Errorf("%s: %d features read, the model has %d; %s", what, len(ids), len(want), firstDiff(ids, want))
		return
	}
	for _, it := range items {
		g := got[it.Feature.ID]
		if !sameBound(g.Geometry, it.Feature.Geometry) {
			t.Errorf("%s: feature %d has the envelope %v, the model's is %v", what, it.Feature.ID, g.Geometry.Bound(), it.Feature.Geometry.Bound())
			return
		}
		if !props {
			continue
		}
		wantProps := expectedProps(t, it.Feature)
		if strings.HasSuffix(what, ".gpkg") {
			wantProps = tabularProps(t, it.Feature)
		}
		if !reflect.DeepEqual(map[string]any(g.Properties), wantProps) {
			t.Errorf("%s: feature %d has %v, want %v", what, it.Feature.ID, g.Properties, wantProps)
			return
		}
	}
}

// TestDownloadsSayTheLicenceAndRefuseUnknownLayers checks the answer's headers: an
// attachment named after the layer, the ODbL as the licence link, the attribution; and 404
// for a layer that is not a public base layer.
func TestDownloadsSayTheLicenceAndRefuseUnknownLayers(t *testing.T) {
	f := newDemoFixture(t, "memory")
	for _, ext := range []string{"geojson", "csv", "gpkg"} {
		h := f.downloadHeaders(t, "/downloads/buildings."+ext)
		if got, want := h.Get("Content-Disposition"), `attachment; filename="citytwin-buildings.`+ext+`"`; got != want {
			t.Errorf("%s: Content-Disposition %q, want %q", ext, got, want)
		}
		if got := h.Get("Link"); !strings.Contains(got, "<"+dataLicense+`>; rel="license"`) {
			t.Errorf("%s: Link %q names no licence", ext, got)
		}
		if h.Get("X-Attribution") != layers.Attribution {
			t.Errorf("%s: X-Attribution %q", ext, h.Get("X-Attribution"))
		}
	}
	for _, p := range []string{"/downloads/nope.csv", "/downloads/buildings,parcels.csv", "/downloads/buildings.shp"} {
		if a := f.do(t, "GET", p, "", "", ""); a.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, a.status)
		}
	}
}

// TestDownloadWhileTheModelLoadsIs503 asks for a download before the model is loaded: 503
// "loading", not an empty file.
func TestDownloadWhileTheModelLoadsIs503(t *testing.T) {
	h := New(Options{Logger: quietLogger}).Handler()
	for _, ext := range []string{"geojson", "csv", "gpkg"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/downloads/buildings."+ext, nil))
		if w.Code != http.StatusServiceUnavailable {
			t.Errorf("%s while loading: %d %s, want 503", ext, w.Code, w.Body.Bytes())
		}
	}
}

// TestGeoPackageGeometryHeader checks the binary header of a polygon and a point against
// the bytes GeoPackage 1.3 §2.1.3 lays out.
func TestGeoPackageGeometryHeader(t *testing.T) {
	square := orb.MultiPolygon{{{{1, 2}, {3, 2}, {3, 5}, {1, 5}, {1, 2}}}}
	b, err := gpkgGeometry(square)
	if err != nil {
		t.Fatal(err)
	}
	// "GP", version 0, flags 0b011 (little endian 1, envelope kind 1 = minx, maxx, miny, maxy
	// shifted left by 1: 2; 1|2 = 3), SRS 4326 = 0x10E6 little endian: E6 10 00 00.
	if want := []byte{'G', 'P', 0, 3, 0xE6, 0x10, 0, 0}; !slices.Equal(b[:8], want) {
		t.Errorf("polygon header % x, want % x", b[:8], want)
	}
	env := make([]float64, 4)
	for i := range env {
		env[i] = math.Float64frombits(leUint64(b[8+8*i:]))
	}
	if want := []float64{1, 3, 2, 5}; !slices.Equal(env, want) { // minx 1, maxx 3, miny 2, maxy 5
		t.Errorf("envelope %v, want %v", env, want)
	}
	// WKB follows: byte order 1, type 6 (MultiPolygon) as a little-endian uint32.
	if want := []byte{1, 6, 0, 0, 0}; !slices.Equal(b[40:45], want) {
		t.Errorf("WKB starts % x, want % x", b[40:45], want)
	}
	p, err := gpkgGeometry(orb.Point{7, 43})
	if err != nil {
		t.Fatal(err)
	}
	// A point has no envelope: flags 1 (little endian), WKB at byte 8 with type 1.
	if want := []byte{'G', 'P', 0, 1, 0xE6, 0x10, 0, 0, 1, 1, 0, 0, 0}; !slices.Equal(p[:13], want) {
		t.Errorf("point % x, want % x", p[:13], want)
	}
	if len(p) != 8+21 { // header 8 + WKB point 1+4+8+8 = 21
		t.Errorf("point is %d bytes, want 29", len(p))
	}
}

func leUint64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// TestPostGISDownloadsAreBoundedAndGiveBackTheirPlace: a PostGIS download holds a pool
// connection until its client has the file, so at most maxDBDownloads are read at once; one
// more is 503 "busy" with Retry-After. A finished or refused download gives its place back:
// with room for one, downloads one after another all succeed, and memory mode has no bound.
func TestPostGISDownloadsAreBoundedAndGiveBackTheirPlace(t *testing.T) {
	defer func(n int32) { maxDBDownloads.Store(n) }(maxDBDownloads.Load())
	pg := newDemoFixture(t, "PostGIS")
	mem := newDemoFixture(t, "memory")

	maxDBDownloads.Store(0)
	a := pg.do(t, "GET", "/downloads/facilities.csv", "", "", "")
	if a.status != http.StatusServiceUnavailable || !strings.Contains(string(a.body), `"busy"`) {
		t.Errorf("a PostGIS download with no room: %d %s, want 503 busy", a.status, a.body)
	}
	if a := mem.do(t, "GET", "/downloads/facilities.csv", "", "", ""); a.status != http.StatusOK {
		t.Errorf("a memory-mode download with no room for PostGIS ones: %d, want 200", a.status)
	}

	maxDBDownloads.Store(1)
	for i, ext := range []string{"csv", "geojson", "gpkg", "csv"} {
		if a := pg.do(t, "GET", "/downloads/facilities."+ext, "", "", ""); a.status != http.StatusOK {
			t.Errorf("PostGIS download %d (%s) with room for one at a time: %d %.200s", i+1, ext, a.status, a.body)
		}
	}
	if n := dbDownloads.Load(); n != 0 {
		t.Errorf("%d downloads still counted as being read", n)
	}
}
