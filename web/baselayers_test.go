package web

import (
	"strings"
	"testing"

	"github.com/paulmach/orb/geojson"
)

// The base map's layers leave the server with their own geometry types: GDAL reads the
// streets' GeoPackage as lines, the water's as polygons and the places' as points, in both
// sources; and OGC API items of streets are GeoJSON lines.
func TestBaseMapLayersKeepTheirGeometryTypesInDownloads(t *testing.T) {
	want := map[string]string{
		"streets": "Geometry: Multi Line String",
		"water":   "Geometry: Multi Polygon",
		"places":  "Geometry: Point",
	}
	for _, source := range demoSources {
		t.Run(source, func(t *testing.T) {
			f := newDemoFixture(t, source)
			dir := t.TempDir()
			for layer, geom := range want {
				gpkg := f.download(t, dir, layer, "gpkg", "application/geopackage+sqlite3")
				if info := gdal(t, "ogrinfo", "-ro", "-so", gpkg, layer); !strings.Contains(info, geom) {
					t.Errorf("%s.gpkg: ogrinfo does not say %q:\n%s", layer, geom, info)
				}
			}
			r := f.do(t, "GET", "/ogc/collections/streets/items?limit=50", "", "", "")
			fc, err := geojson.UnmarshalFeatureCollection(r.body)
			if err != nil || len(fc.Features) == 0 {
				t.Fatalf("OGC API items of streets: %d, %v: %.300s", r.status, err, r.body)
			}
			for _, it := range fc.Features {
				if typ := it.Geometry.GeoJSONType(); typ != "LineString" && typ != "MultiLineString" {
					t.Fatalf("street %v is a %s", it.ID, typ)
				}
			}
		})
	}
}
