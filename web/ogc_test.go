package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/cql2"
	"github.com/citytwin/citytwin/layers"
)

// ogcSamples are the requests the restricted-field scan (restricted_test.go) makes of the OGC
// API routes: every feature of every layer, filtered pages, the metadata, tiles over the
// city, and bad requests (none naming a restricted field).
func (f *demoFixture) ogcSamples(t *testing.T) map[string][]string {
	t.Helper()
	var collections, items, queryables, schemas, tilesets, tilesetOne []string
	for _, l := range layers.All() {
		c := "/ogc/collections/" + l.Name
		collections = append(collections, c)
		items = append(items, c+"/items?limit=10000", c+"/items?limit=3")
		queryables = append(queryables, c+"/queryables")
		schemas = append(schemas, c+"/schema")
		tilesets = append(tilesets, c+"/tiles")
		tilesetOne = append(tilesetOne, c+"/tiles/WebMercatorQuad")
	}
	b := f.city.Bound
	items = append(items,
		"/ogc/collections/parcels/items?limit=10000&filter="+url.QueryEscape("area_m2 > 100 OR ownership = 'private'"),
		"/ogc/collections/parcels/items?filter-lang=cql2-json&filter="+url.QueryEscape(`{"op":"isNull","args":[{"property":"address"}]}`),
		fmt.Sprintf("/ogc/collections/parcels/items?limit=10000&bbox=%f,%f,%f,%f", b.Min[0], b.Min[1], b.Center()[0], b.Center()[1]),
		"/ogc/collections/parcels/items?ownership=private&limit=10000",
		"/ogc/collections/parcels/items?filter="+url.QueryEscape("nosuch = 1"),
		"/ogc/collections/parcels/items?filter="+url.QueryEscape("area_m2 >"),
		"/ogc/collections/parcels/items?limit=0",
		"/ogc/collections/nope/items",
	)
	var parcelTiles, datasetTiles []string
	for _, z := range []maptile.Zoom{15, 16} {
		tl := maptile.At(b.Center(), z)
		for dx := -1; dx <= 1; dx++ {
			for dy := -1; dy <= 1; dy++ {
				x, y := int(tl.X)+dx, int(tl.Y)+dy
				parcelTiles = append(parcelTiles, fmt.Sprintf("/ogc/collections/parcels/tiles/WebMercatorQuad/%d/%d/%d", z, y, x))
				datasetTiles = append(datasetTiles, fmt.Sprintf("/ogc/tiles/WebMercatorQuad/%d/%d/%d", z, y, x))
			}
		}
	}
	parcelTiles = append(parcelTiles, "/ogc/collections/parcels/tiles/WebMercatorQuad/99/0/0", "/ogc/collections/parcels/tiles/Other/1/0/0")
	datasetTiles = append(datasetTiles, datasetTiles[0]+"?collections=parcels,buildings", datasetTiles[0]+"?collections=nope")
	return map[string][]string{
		"GET /ogc":                                       {"/ogc"},
		"GET /ogc/conformance":                           {"/ogc/conformance"},
		"GET /ogc/collections":                           {"/ogc/collections"},
		"GET /ogc/collections/{collectionId}":            append(collections, "/ogc/collections/nope"),
		"GET /ogc/collections/{collectionId}/queryables": queryables,
		"GET /ogc/collections/{collectionId}/schema":     schemas,
		"GET /ogc/collections/{collectionId}/items":      items,
		"GET /ogc/collections/{collectionId}/items/{featureId}": {
			fmt.Sprintf("/ogc/collections/parcels/items/%d", f.parcel), "/ogc/collections/parcels/items/x", "/ogc/collections/parcels/items/1",
		},
		"GET /ogc/collections/{collectionId}/tiles":                                                    tilesets,
		"GET /ogc/collections/{collectionId}/tiles/{tileMatrixSetId}":                                  tilesetOne,
		"GET /ogc/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": parcelTiles,
		"GET /ogc/tiles":                   {"/ogc/tiles"},
		"GET /ogc/tiles/{tileMatrixSetId}": {"/ogc/tiles/WebMercatorQuad", "/ogc/tiles/WebMercatorQuad?collections=parcels"},
		"GET /ogc/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": datasetTiles,
		"GET /ogc/tileMatrixSets":                   {"/ogc/tileMatrixSets"},
		"GET /ogc/tileMatrixSets/{tileMatrixSetId}": {"/ogc/tileMatrixSets/WebMercatorQuad", "/ogc/tileMatrixSets/Other"},
	}
}

// getJSON requests path and decodes its JSON answer.
func (f *demoFixture) getJSON(t *testing.T, path string) (int, map[string]any) {
	t.Helper()
	a := f.do(t, "GET", path, "", "", "")
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("GET %s: %d, not JSON: %v: %.200s", path, a.status, err, a.body)
	}
	return a.status, m
}

// ogcPage is a decoded page of items.
type ogcPage struct {
	Features []struct {
		ID         int64          `json:"id"`
		Properties map[string]any `json:"properties"`
	} `json:"features"`
	Links          []ogcLink `json:"links"`
	NumberMatched  int64     `json:"numberMatched"`
	NumberReturned int       `json:"numberReturned"`
}

// ogcAll follows the next links from path and returns every feature's public properties by
// id, and the numberMatched of the first page.
func (f *demoFixture) ogcAll(t *testing.T, path string) (map[int64]map[string]any, int64, int) {
	t.Helper()
	out := map[int64]map[string]any{}
	var matched int64 = -1
	pages := 0
	last := int64(-1 << 63)
	for path != "" {
		a := f.do(t, "GET", path, "", "", "")
		if a.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, a.status, a.body)
		}
		var p ogcPage
		if err := json.Unmarshal(a.body, &p); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		pages++
		if matched < 0 {
			matched = p.NumberMatched
		} else if p.NumberMatched != matched {
			t.Errorf("page %d of %s: numberMatched %d, the first page said %d", pages, path, p.NumberMatched, matched)
		}
		if p.NumberReturned != len(p.Features) {
			t.Errorf("GET %s: numberReturned %d for %d features", path, p.NumberReturned, len(p.Features))
		}
		for _, ft := range p.Features {
			if ft.ID <= last {
				t.Fatalf("GET %s: feature %d after %d: not in ascending id order", path, ft.ID, last)
			}
			last = ft.ID
			out[ft.ID] = ft.Properties
		}
		path = ""
		for _, l := range p.Links {
			if l.Rel == "next" {
				u, err := url.Parse(l.Href)
				if err != nil {
					t.Fatal(err)
				}
				path = u.RequestURI()
			}
		}
	}
	return out, matched, pages
}

// expectedProps are a feature's public properties as JSON gives them back.
func expectedProps(t *testing.T, f *layers.Feature) map[string]any {
	t.Helper()
	b, err := json.Marshal(publicFeature(f).Properties)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestOGCItemsPageThroughEveryFeatureInBothStores follows the next links of every layer's
// items, 250 to a page, in memory and on PostGIS: every feature of the model comes once, in
// ascending id order, with its public properties exactly, and numberMatched is the layer's
// size. Catches a page that skips or repeats the feature at its edge (the cursor compared
// with >= instead of >), and a PostGIS row read with the wrong columns.
func TestOGCItemsPageThroughEveryFeatureInBothStores(t *testing.T) {
	for _, source := range demoSources {
		t.Run(source, func(t *testing.T) {
			f := newDemoFixture(t, source)
			for _, l := range layers.All() {
				got, matched, pages := f.ogcAll(t, "/ogc/collections/"+l.Name+"/items?limit=250")
				items := f.city.Layer(l.Name).Items()
				if matched != int64(len(items)) || len(got) != len(items) {
					t.Errorf("%s: numberMatched %d, %d features paged, the model has %d", l.Name, matched, len(got), len(items))
				}
				// ceil(n/250) pages, at least one.
				if want := max(1, (len(items)+249)/250); pages != want {
					t.Errorf("%s: %d pages, want %d for %d features", l.Name, pages, want, len(items))
				}
				for _, it := range items {
					if want := expectedProps(t, it.Feature); !reflect.DeepEqual(got[it.Feature.ID], want) {
						t.Errorf("%s %d: properties %v, want %v", l.Name, it.Feature.ID, got[it.Feature.ID], want)
						break
					}
				}
			}
		})
	}
}

// ogcFilterCases are filters over the demo city and the brute-force selection they must make.
var ogcFilterCases = []struct {
	name, layer, query string
	text               string // the same selection in CQL2 Text, matched over the model
}{
	{"a property equal to a string", "buildings", "filter=" + url.QueryEscape("use = 'residential'"), "use = 'residential'"},
	{"a property parameter is the same equality", "buildings", "use=residential", "use = 'residential'"},
	{"an integer parameter compares as a number", "buildings", "floors=5", "floors = 5"},
	{"comparisons joined by AND and OR", "buildings", "filter=" + url.QueryEscape("floors >= 6 AND (use = 'office' OR height_m > 30)"), "floors >= 6 AND (use = 'office' OR height_m > 30)"},
	{"LIKE, BETWEEN and IN", "buildings", "filter=" + url.QueryEscape("cad_number LIKE 'MC-00_1%' AND floors BETWEEN 2 AND 4 AND use IN ('office', 'residential')"), "cad_number LIKE 'MC-00_1%' AND floors BETWEEN 2 AND 4 AND use IN ('office', 'residential')"},
	{"IS NULL of an absent property", "parcels", "filter=" + url.QueryEscape("address IS NULL"), "address IS NULL"},
	{"CQL2 JSON", "buildings", "filter-lang=cql2-json&filter=" + url.QueryEscape(`{"op":"and","args":[{"op":">","args":[{"property":"dwellings"},10]},{"op":"=","args":[{"property":"use"},"residential"]}]}`), "dwellings > 10 AND use = 'residential'"},
	{"bbox is S_INTERSECTS with the box", "buildings", "bbox=7.42,43.73,7.425,43.735", "S_INTERSECTS(geometry, BBOX(7.42, 43.73, 7.425, 43.735))"},
	{"bbox, a parameter and a filter together", "facilities", "bbox=7.40,43.72,7.43,43.745&kind=pharmacy&filter=" + url.QueryEscape("name IS NOT NULL"), "S_INTERSECTS(geometry, BBOX(7.40, 43.72, 7.43, 43.745)) AND kind = 'pharmacy' AND name IS NOT NULL"},
	{"S_INTERSECTS with a polygon", "parcels", "filter=" + url.QueryEscape("S_INTERSECTS(geometry, POLYGON((7.415 43.725, 7.425 43.725, 7.425 43.735, 7.415 43.725)))"), "S_INTERSECTS(geometry, POLYGON((7.415 43.725, 7.425 43.725, 7.425 43.735, 7.415 43.725)))"},
	{"NOT of a comparison leaves out the unknown", "parcels", "filter=" + url.QueryEscape("NOT (ownership = 'public')"), "NOT (ownership = 'public')"},
}

// TestOGCFiltersSelectWhatTheFilterSaysInBothStores runs filters, property parameters and
// bbox in memory and on PostGIS (SQL made by cql2.Filter.SQL): both select exactly the
// features the filter matches over the model, by brute force, 40 to a page. Catches a bbox
// that is ignored, a property parameter read as a string for a number, a next link that
// drops the filter, and a SQL translation that differs from Match.
func TestOGCFiltersSelectWhatTheFilterSaysInBothStores(t *testing.T) {
	for _, source := range demoSources {
		t.Run(source, func(t *testing.T) {
			f := newDemoFixture(t, source)
			for _, c := range ogcFilterCases {
				t.Run(c.name, func(t *testing.T) {
					l, _ := layers.Lookup(c.layer)
					e, err := cql2.Parse(c.text)
					if err != nil {
						t.Fatal(err)
					}
					flt, err := cql2.Check(e, cql2.QueryablesOf(l))
					if err != nil {
						t.Fatal(err)
					}
					var want []int64
					for _, it := range f.city.Layer(c.layer).Items() {
						if flt.Match(*it.Feature) {
							want = append(want, it.Feature.ID)
						}
					}
					gotProps, matched, _ := f.ogcAll(t, "/ogc/collections/"+c.layer+"/items?limit=40&"+c.query)
					got := make([]int64, 0, len(gotProps))
					for id := range gotProps {
						got = append(got, id)
					}
					slices.Sort(got)
					if len(want) == 0 {
						t.Fatalf("the filter selects nothing in the demo city: the case proves nothing")
					}
					if !slices.Equal(got, want) || matched != int64(len(want)) {
						t.Errorf("%d features (numberMatched %d), want %d; first differences: %v", len(got), matched, len(want), firstDiff(got, want))
					}
				})
			}
		})
	}
}

// firstDiff names a few ids in one list and not the other.
func firstDiff(got, want []int64) string {
	var extra, missing []int64
	for _, id := range got {
		if _, ok := slices.BinarySearch(want, id); !ok && len(extra) < 5 {
			extra = append(extra, id)
		}
	}
	for _, id := range want {
		if _, ok := slices.BinarySearch(got, id); !ok && len(missing) < 5 {
			missing = append(missing, id)
		}
	}
	return fmt.Sprintf("extra %v, missing %v", extra, missing)
}

// TestOGCBadRequestsAre400NamingTheParameterAndThePosition sends wrong filters and
// parameters: each is 400 JSON through writeErr, naming the parameter, and a filter's error
// gives its column. A restricted field is answered as a property that does not exist.
func TestOGCBadRequestsAre400NamingTheParameterAndThePosition(t *testing.T) {
	f := newDemoFixture(t, "memory")
	cases := []struct {
		name, path, field, code, says string
	}{
		{"a syntax error gives its column", "/ogc/collections/buildings/items?filter=" + url.QueryEscape("floors > "), "filter", "invalid_filter", "column 10"},
		{"a filter longer than the limit", "/ogc/collections/buildings/items?filter=" + url.QueryEscape("floors = 1"+strings.Repeat(" OR floors = 1", MaxItemsFilter/14)), "filter", "invalid_filter", fmt.Sprintf("at most %d", MaxItemsFilter)},
		{"an unknown property gives its column", "/ogc/collections/buildings/items?filter=" + url.QueryEscape("floors > 2 AND colour = 'red'"), "filter", "invalid_filter", `column 16: unknown property "colour"`},
		{"a restricted field is an unknown property", "/ogc/collections/parcels/items?filter=" + url.QueryEscape("owner_name = 'x'"), "filter", "invalid_filter", `column 1: unknown property "owner_name"`},
		{"a restricted field as a parameter is an unknown parameter", "/ogc/collections/parcels/items?land_book=x", "land_book", "invalid_parameter", "unknown parameter"},
		{"a type mismatch gives the literal's column", "/ogc/collections/buildings/items?filter=" + url.QueryEscape("floors = 'three'"), "filter", "invalid_filter", "column 10: cannot compare property floors (integer) with the string 'three'"},
		{"a bad CQL2 JSON filter", "/ogc/collections/buildings/items?filter-lang=cql2-json&filter=" + url.QueryEscape(`{"op":"=","args":[{"property":"floors"}]}`), "filter", "invalid_filter", "column"},
		{"an unknown filter language", "/ogc/collections/buildings/items?filter-lang=sql&filter=1", "filter-lang", "invalid_parameter", "cql2-text or cql2-json"},
		{"a number parameter that is no number", "/ogc/collections/buildings/items?floors=many", "floors", "invalid_parameter", "not a number"},
		{"limit above the maximum", "/ogc/collections/buildings/items?limit=10001", "limit", "invalid_parameter", "outside 1..10000"},
		{"a malformed bbox", "/ogc/collections/buildings/items?bbox=1,2,3", "bbox", "invalid_parameter", "3 values"},
		{"another CRS", "/ogc/collections/buildings/items?bbox-crs=EPSG:3857&bbox=1,2,3,4", "bbox-crs", "invalid_parameter", "CRS84"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, m := f.getJSON(t, c.path)
			e, _ := m["error"].(map[string]any)
			if status != http.StatusBadRequest || e["field"] != c.field || e["code"] != c.code || !strings.Contains(fmt.Sprint(e["message"]), c.says) {
				t.Errorf("%d %v; want 400 %s on %s saying %q", status, m, c.code, c.field, c.says)
			}
		})
	}
	for _, p := range []string{"/ogc/collections/nope/items", "/ogc/collections/buildings/items/12345678901", "/ogc/collections/buildings/tiles/WorldCRS84Quad"} {
		if status, m := f.getJSON(t, p); status != http.StatusNotFound {
			t.Errorf("GET %s: %d %v, want 404", p, status, m)
		}
	}
}

// TestOGCLandingPageConformanceAndCollections checks the documents a client starts from:
// the landing page's links, the conformance classes of Features, Filtering and Tiles, one
// collection per base layer with its extent, items, queryables and tilesets.
func TestOGCLandingPageConformanceAndCollections(t *testing.T) {
	f := newDemoFixture(t, "memory")
	_, land := f.getJSON(t, "/ogc")
	rels := map[string]string{}
	for _, l := range land["links"].([]any) {
		m := l.(map[string]any)
		rels[m["rel"].(string)] = m["href"].(string)
	}
	for rel, href := range map[string]string{
		"self": "http://example.com/ogc", "service-desc": "http://example.com/openapi.json",
		"conformance": "http://example.com/ogc/conformance", "data": "http://example.com/ogc/collections",
	} {
		if rels[rel] != href {
			t.Errorf("landing page link %s: %q, want %q", rel, rels[rel], href)
		}
	}
	_, conf := f.getJSON(t, "/ogc/conformance")
	var classes []string
	for _, c := range conf["conformsTo"].([]any) {
		classes = append(classes, c.(string))
	}
	for _, want := range []string{"ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson", "ogcapi-features-3/1.0/conf/features-filter", "cql2/1.0/conf/cql2-text", "cql2/1.0/conf/cql2-json", "cql2/1.0/conf/basic-spatial-functions", "ogcapi-tiles-1/1.0/conf/mvt", "ogcapi-tiles-1/1.0/conf/geodata-tilesets"} {
		if !slices.ContainsFunc(classes, func(c string) bool { return strings.HasSuffix(c, want) }) {
			t.Errorf("conformance lacks %s", want)
		}
	}
	_, cs := f.getJSON(t, "/ogc/collections")
	var ids []string
	for _, c := range cs["collections"].([]any) {
		m := c.(map[string]any)
		ids = append(ids, m["id"].(string))
		bbox := m["extent"].(map[string]any)["spatial"].(map[string]any)["bbox"].([]any)[0].([]any)
		if len(bbox) != 4 || bbox[0].(float64) >= bbox[2].(float64) {
			t.Errorf("collection %s: bbox %v", m["id"], bbox)
		}
	}
	if want := layers.Names(); !slices.Equal(ids, want) {
		t.Errorf("collections %v, want the base layers %v", ids, want)
	}
	_, q := f.getJSON(t, "/ogc/collections/parcels/queryables")
	var names []string
	for n := range q["properties"].(map[string]any) {
		names = append(names, n)
	}
	sort.Strings(names)
	if want := []string{"address", "area_m2", "cad_number", "derived", "geometry", "intravilan", "land_use", "ownership"}; !slices.Equal(names, want) {
		t.Errorf("parcels' queryables %v, want %v (public fields and the geometry)", names, want)
	}
}

// TestOGCTilesAreTheSameAsTheTilesRoutes requests tiles through the OGC API and through
// /tiles, in memory and on PostGIS: same status, bytes and ETag, with tileRow the y and
// tileCol the x of /tiles/{layer}/{z}/{x}/{y}.mvt. Catches row and column swapped.
func TestOGCTilesAreTheSameAsTheTilesRoutes(t *testing.T) {
	for _, source := range demoSources {
		t.Run(source, func(t *testing.T) {
			f := newDemoFixture(t, source)
			full := 0
			for _, z := range []maptile.Zoom{14, 15, 16} {
				c := maptile.At(f.city.Bound.Center(), z)
				for _, d := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {-1, 1}} {
					x, y := int(c.X)+d[0], int(c.Y)+d[1]
					pairs := [][2]string{
						{fmt.Sprintf("/ogc/collections/buildings/tiles/WebMercatorQuad/%d/%d/%d", z, y, x), fmt.Sprintf("/tiles/buildings/%d/%d/%d.mvt", z, x, y)},
						{fmt.Sprintf("/ogc/tiles/WebMercatorQuad/%d/%d/%d?collections=buildings,facilities", z, y, x), fmt.Sprintf("/tiles/buildings,facilities/%d/%d/%d.mvt", z, x, y)},
						{fmt.Sprintf("/ogc/tiles/WebMercatorQuad/%d/%d/%d", z, y, x), fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", layerNames(layers.All()), z, x, y)},
					}
					for _, p := range pairs {
						ogc, tl := httptest.NewRecorder(), httptest.NewRecorder()
						f.h.ServeHTTP(ogc, httptest.NewRequest("GET", p[0], nil))
						f.h.ServeHTTP(tl, httptest.NewRequest("GET", p[1], nil))
						if ogc.Code != tl.Code || ogc.Header().Get("ETag") != tl.Header().Get("ETag") || !slices.Equal(ogc.Body.Bytes(), tl.Body.Bytes()) {
							t.Errorf("%s: %d %s (%d bytes); %s: %d %s (%d bytes)", p[0], ogc.Code, ogc.Header().Get("ETag"), ogc.Body.Len(), p[1], tl.Code, tl.Header().Get("ETag"), tl.Body.Len())
						}
						if ogc.Code == http.StatusOK {
							full++
						}
					}
				}
			}
			if full < 10 {
				t.Fatalf("only %d of the tiles compared held features: the comparison proves little", full)
			}
		})
	}
}

// TestOGCWebMercatorQuadIsTheStandardOne checks the tile matrix set against OGC 17-083r4
// annex D.1: zoom 0 is one 256-pixel tile of cell 156543.033928041 m (40075016.6855785 m /
// 256) and scale denominator 559082264.028717 (the cell over 0.00028 m), with its origin at
// the top left corner (-20037508.3427892, 20037508.3427892); zoom 24 is 2^24 = 16777216
// tiles across of cell 0.0093306919293 m (156543.033928041 / 16777216).
func TestOGCWebMercatorQuadIsTheStandardOne(t *testing.T) {
	f := newDemoFixture(t, "memory")
	_, tms := f.getJSON(t, "/ogc/tileMatrixSets/WebMercatorQuad")
	if tms["crs"] != "http://www.opengis.net/def/crs/EPSG/0/3857" || tms["id"] != "WebMercatorQuad" {
		t.Errorf("crs %v, id %v", tms["crs"], tms["id"])
	}
	ms := tms["tileMatrices"].([]any)
	if len(ms) != 25 {
		t.Fatalf("%d tile matrices, want 25 (zoom 0 to 24)", len(ms))
	}
	near := func(got any, want float64) bool {
		g := got.(float64)
		return g-want < want*1e-10 && want-g < want*1e-10 // the standard gives 12 to 15 digits
	}
	z0, z24 := ms[0].(map[string]any), ms[24].(map[string]any)
	origin := z0["pointOfOrigin"].([]any)
	if !near(z0["cellSize"], 156543.033928041) || !near(z0["scaleDenominator"], 559082264.028717) ||
		!near(origin[1], 20037508.3427892) || !near(-origin[0].(float64), 20037508.3427892) || z0["matrixWidth"].(float64) != 1 {
		t.Errorf("zoom 0: %v", z0)
	}
	if !near(z24["cellSize"], 0.0093306919293) || z24["matrixWidth"].(float64) != 16777216 || z24["id"] != "24" {
		t.Errorf("zoom 24: %v", z24)
	}
	// The tileset's limits at zoom 15 are the tiles of the city's corners.
	_, ts := f.getJSON(t, "/ogc/collections/buildings/tiles/WebMercatorQuad")
	b := f.srv.layersBound([]*layers.Layer{mustLayer(t, "buildings")})
	nw, se := maptile.At(orb.Point{b.Min[0], b.Max[1]}, 15), maptile.At(orb.Point{b.Max[0], b.Min[1]}, 15)
	for _, lim := range ts["tileMatrixSetLimits"].([]any) {
		m := lim.(map[string]any)
		if m["tileMatrix"] == "15" && (uint32(m["minTileCol"].(float64)) != nw.X || uint32(m["maxTileRow"].(float64)) != se.Y) {
			t.Errorf("zoom 15 limits %v, want columns from %d and rows to %d", m, nw.X, se.Y)
		}
	}
}

func mustLayer(t *testing.T, name string) *layers.Layer {
	t.Helper()
	l, err := layers.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
