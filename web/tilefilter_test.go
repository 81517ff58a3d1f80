package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/cql2"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/tiles"
)

// mvtIDs decodes a tile's body into the sorted feature ids of one layer.
func mvtIDs(t *testing.T, body []byte, layer string) []int64 {
	t.Helper()
	if len(body) == 0 {
		return nil
	}
	ls, err := mvt.Unmarshal(body)
	if err != nil {
		t.Fatalf("the tile does not decode: %v", err)
	}
	var out []int64
	for _, l := range ls {
		if l.Name != layer {
			t.Fatalf("the tile has a layer %s besides %s", l.Name, layer)
		}
		for _, f := range l.Features {
			out = append(out, int64(f.ID.(float64)))
		}
	}
	slices.Sort(out)
	return out
}

// TestFilteredTilesSelectWhatMatchSaysInBothStores asks the demo city's tiles around its
// centre with filters, through /tiles and the OGC collection tiles, in memory and on
// PostGIS: each tile holds exactly the features of the unfiltered tile that the filter
// matches over the model, the OGC tile is the same bytes and ETag, and both stores serve
// the same feature ids. Catches a route that ignores the filter or its language, and the
// OGC route not filtering.
func TestFilteredTilesSelectWhatMatchSaysInBothStores(t *testing.T) {
	cases := []struct{ name, layer, query, text string }{
		{"CQL2 Text", "buildings", "filter=" + url.QueryEscape("use = 'residential' AND floors >= 4"), "use = 'residential' AND floors >= 4"},
		{"CQL2 JSON", "buildings", "filter-lang=cql2-json&filter=" + url.QueryEscape(`{"op":"<>","args":[{"property":"use"},"residential"]}`), "use <> 'residential'"},
		{"on points", "facilities", "filter=" + url.QueryEscape("kind IN ('pharmacy', 'school')"), "kind IN ('pharmacy', 'school')"},
	}
	ids := map[string]map[string][]int64{} // source → case and tile → ids
	for _, source := range demoSources {
		t.Run(source, func(t *testing.T) {
			f := newDemoFixture(t, source)
			ids[source] = map[string][]int64{}
			for _, c := range cases {
				l, _ := layers.Lookup(c.layer)
				e, err := cql2.Parse(c.text)
				if err != nil {
					t.Fatal(err)
				}
				flt, err := cql2.Check(e, cql2.QueryablesOf(l))
				if err != nil {
					t.Fatal(err)
				}
				kept, left := 0, 0
				for _, z := range []maptile.Zoom{15, 16} {
					ctr := maptile.At(f.city.Bound.Center(), z)
					for _, d := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {-1, -1}} {
						x, y := int(ctr.X)+d[0], int(ctr.Y)+d[1]
						all := get(t, f.h, fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt", c.layer, z, x, y), nil)
						tl := get(t, f.h, fmt.Sprintf("/tiles/%s/%d/%d/%d.mvt?%s", c.layer, z, x, y, c.query), nil)
						ogc := get(t, f.h, fmt.Sprintf("/ogc/collections/%s/tiles/WebMercatorQuad/%d/%d/%d?%s", c.layer, z, y, x, c.query), nil)
						if tl.Code != http.StatusOK && tl.Code != http.StatusNoContent {
							t.Fatalf("%s: %d %s", c.name, tl.Code, tl.Body)
						}
						var want []int64
						for _, id := range mvtIDs(t, all.Body.Bytes(), c.layer) {
							it, _ := f.city.Layer(c.layer).Get(id)
							if flt.Match(*it.Feature) {
								want = append(want, id)
							} else {
								left++
							}
						}
						kept += len(want)
						got := mvtIDs(t, tl.Body.Bytes(), c.layer)
						if !slices.Equal(got, want) {
							t.Errorf("%s, tile %d/%d/%d: %d features, want %d; %s", c.name, z, x, y, len(got), len(want), firstDiff(got, want))
						}
						if ogc.Code != tl.Code || ogc.Header().Get("ETag") != tl.Header().Get("ETag") || !slices.Equal(ogc.Body.Bytes(), tl.Body.Bytes()) {
							t.Errorf("%s, tile %d/%d/%d: the OGC tile is %d %s, the tile %d %s", c.name, z, x, y, ogc.Code, ogc.Header().Get("ETag"), tl.Code, tl.Header().Get("ETag"))
						}
						ids[source][fmt.Sprintf("%s %d/%d/%d", c.name, z, x, y)] = got
					}
				}
				if kept == 0 || left == 0 {
					t.Errorf("%s: %d features kept, %d left out: the case proves little", c.name, kept, left)
				}
			}
		})
	}
	if len(ids) == len(demoSources) {
		for k, m := range ids["memory"] {
			if p := ids["PostGIS"][k]; !slices.Equal(m, p) {
				t.Errorf("%s: memory serves %d features, PostGIS %d; %s", k, len(m), len(p), firstDiff(p, m))
			}
		}
	}
}

// TestFilterSpellingsShareOneTileAndFiltersHaveTheirOwn: three spellings of one filter
// (keyword case and spacing, number form, CQL2 JSON) are one cache entry and one ETag; a
// different filter is another entry with another ETag, and so is the unfiltered tile; TileJSON
// with any of the spellings gives one tile URL, with the canonical text. Catches a cache key
// or a TileJSON URL made of the filter as written.
func TestFilterSpellingsShareOneTileAndFiltersHaveTheirOwn(t *testing.T) {
	f := newTileFixture(t)
	path := "/tiles/buildings/" + centreTile(16) + ".mvt"
	spellings := []string{
		"filter=" + url.QueryEscape("floors = 4 AND use = 'residential'"),
		"filter=" + url.QueryEscape("(floors=4.0) and use='residential'"),
		"filter-lang=cql2-json&filter=" + url.QueryEscape(`{"op":"and","args":[{"op":"=","args":[{"property":"floors"},4]},{"op":"=","args":[{"property":"use"},"residential"]}]}`),
	}
	var etags []string
	for _, q := range spellings {
		w := f.do("GET", path+"?"+q)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", q, w.Code, w.Body)
		}
		etags = append(etags, w.Header().Get("ETag"))
	}
	if st := f.cache.Stats(); st.Entries != 1 || st.Computations != 1 || etags[1] != etags[0] || etags[2] != etags[0] {
		t.Errorf("three spellings: %d entries, %d computations, ETags %v; want 1, 1 and one ETag", st.Entries, st.Computations, etags)
	}
	other := f.do("GET", path+"?filter="+url.QueryEscape("floors = 5"))
	all := f.do("GET", path)
	if other.Header().Get("ETag") == etags[0] || all.Header().Get("ETag") == etags[0] || all.Header().Get("ETag") == other.Header().Get("ETag") {
		t.Errorf("ETags %s (floors = 4 ...), %s (floors = 5), %s (no filter): want three", etags[0], other.Header().Get("ETag"), all.Header().Get("ETag"))
	}
	if st := f.cache.Stats(); st.Entries != 3 {
		t.Errorf("%d cache entries, want 3: one filter, another, none", st.Entries)
	}

	want := "http://example.com/tiles/buildings/{z}/{x}/{y}.mvt?filter=" + url.QueryEscape("floors = 4 AND use = 'residential'")
	for _, q := range spellings {
		w := f.do("GET", "/tiles/buildings.json?"+q)
		var tj tiles.TileJSON
		if err := json.Unmarshal(w.Body.Bytes(), &tj); err != nil || w.Code != http.StatusOK {
			t.Fatalf("TileJSON with %s: %d %s", q, w.Code, w.Body)
		}
		if len(tj.Tiles) != 1 || tj.Tiles[0] != want {
			t.Errorf("TileJSON with %s: tiles %v, want [%s]", q, tj.Tiles, want)
		}
	}
}

// fixedTileFile is a tile file of one tile for every coordinate.
type fixedTileFile struct{}

func (fixedTileFile) Tile(context.Context, maptile.Tile, []*layers.Layer) ([]byte, error) {
	return []byte{0x1a, 0}, nil
}
func (fixedTileFile) TileJSON() tiles.TileJSON { return tiles.TileJSON{TileJSON: "3.0.0"} }

// TestBadTileFiltersAre400NamingTheFilter sends wrong filters to the tile routes: each is 400
// through writeErr, naming the parameter, a filter's error with its column, as the OGC items
// route answers. A restricted field is an unknown property; a filter on a tile of several
// layers, on an extra layer or on a tile file is refused, and so is a filter over
// MaxTileFilter bytes.
func TestBadTileFiltersAre400NamingTheFilter(t *testing.T) {
	extra := &layers.Extra{Layer: layers.Layer{Name: "bike_lanes", MinZoom: 0, MaxZoom: 22}, Table: "city.bike_lanes", GeometryColumn: "geom"}
	pub, err := layers.NewPublished([]*layers.Extra{extra})
	if err != nil {
		t.Fatal(err)
	}
	f := newTileFixtureWith(t, func(o *Options) {
		o.Published = pub
		o.TileFiles = map[string]TileFile{"basemap": fixedTileFile{}}
	})
	tile := centreTile(16)
	z, x, y := 16, maptile.At(tileOrigin, 16).X, maptile.At(tileOrigin, 16).Y
	long := "floors = 1" + strings.Repeat(" OR floors = 1", MaxTileFilter/14)
	cases := []struct {
		name, path, field, code, says string
	}{
		{"a syntax error gives its column", "/tiles/buildings/" + tile + ".mvt?filter=" + url.QueryEscape("floors > "), "filter", "invalid_filter", "column 10"},
		{"an unknown property gives its column", "/tiles/buildings/" + tile + ".mvt?filter=" + url.QueryEscape("floors > 2 AND colour = 'red'"), "filter", "invalid_filter", `column 16: unknown property "colour"`},
		{"a restricted field is an unknown property", "/tiles/parcels/" + tile + ".mvt?filter=" + url.QueryEscape("owner_name = 'x'"), "filter", "invalid_filter", `column 1: unknown property "owner_name"`},
		{"a type mismatch gives the literal's column", "/tiles/buildings/" + tile + ".mvt?filter=" + url.QueryEscape("floors = 'three'"), "filter", "invalid_filter", "column 10: cannot compare property floors (integer) with the string 'three'"},
		{"a bad CQL2 JSON filter", "/tiles/buildings/" + tile + ".mvt?filter-lang=cql2-json&filter=" + url.QueryEscape(`{"op":"=","args":[{"property":"floors"}]}`), "filter", "invalid_filter", "column"},
		{"an unknown filter language", "/tiles/buildings/" + tile + ".mvt?filter-lang=sql&filter=1", "filter-lang", "invalid_parameter", "cql2-text or cql2-json"},
		{"filter-lang without a filter", "/tiles/buildings/" + tile + ".mvt?filter-lang=cql2-text", "filter-lang", "invalid_parameter", "without a filter"},
		{"another filter CRS", "/tiles/buildings/" + tile + ".mvt?filter-crs=EPSG:3857&filter=" + url.QueryEscape("floors > 2"), "filter-crs", "invalid_parameter", "CRS84"},
		{"a filter longer than the limit", "/tiles/buildings/" + tile + ".mvt?filter=" + url.QueryEscape(long), "filter", "invalid_filter", fmt.Sprintf("at most %d", MaxTileFilter)},
		{"a filter on several layers", "/tiles/buildings,parcels/" + tile + ".mvt?filter=" + url.QueryEscape("floors > 2"), "filter", "invalid_parameter", "one layer, and this tile has 2 (parcels,buildings)"},
		{"a filter on an extra layer", "/tiles/bike_lanes/" + tile + ".mvt?filter=" + url.QueryEscape("geometry IS NULL"), "filter", "invalid_parameter", "extra layer"},
		{"a filter on a tile file", "/tiles/basemap/" + tile + ".mvt?filter=" + url.QueryEscape("floors > 2"), "filter", "invalid_parameter", "tile file"},
		{"TileJSON checks the filter too", "/tiles/buildings.json?filter=" + url.QueryEscape("colour = 'red'"), "filter", "invalid_filter", `column 1: unknown property "colour"`},
		{"the OGC collection tile gives the column", fmt.Sprintf("/ogc/collections/buildings/tiles/WebMercatorQuad/%d/%d/%d?filter=%s", z, y, x, url.QueryEscape("floors >> 2")), "filter", "invalid_filter", "column 9"},
		{"the OGC dataset tile of every layer refuses a filter", fmt.Sprintf("/ogc/tiles/WebMercatorQuad/%d/%d/%d?filter=%s", z, y, x, url.QueryEscape("floors > 2")), "filter", "invalid_parameter", "one layer"},
	}
	if len(long) <= MaxTileFilter {
		t.Fatalf("the long filter is %d bytes, not over %d", len(long), MaxTileFilter)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := f.do("GET", c.path)
			var m map[string]map[string]any
			_ = json.Unmarshal(w.Body.Bytes(), &m)
			e := m["error"]
			if w.Code != http.StatusBadRequest || e["field"] != c.field || e["code"] != c.code || !strings.Contains(fmt.Sprint(e["message"]), c.says) {
				t.Errorf("%d %s; want 400 %s on %s saying %q", w.Code, w.Body, c.code, c.field, c.says)
			}
		})
	}
	// The limit is on the filter, not on what reaches it: the longest filter allowed is served.
	ok := "floors = 4" + strings.Repeat(" OR floors = 1", (MaxTileFilter-10)/14)
	if w := f.do("GET", "/tiles/buildings/"+tile+".mvt?filter="+url.QueryEscape(ok)); w.Code != http.StatusOK {
		t.Errorf("a filter of %d bytes: %d %s", len(ok), w.Code, w.Body)
	}
	// One layer of the OGC dataset tiles takes a filter.
	if w := f.do("GET", fmt.Sprintf("/ogc/tiles/WebMercatorQuad/%d/%d/%d?collections=buildings&filter=%s", z, y, x, url.QueryEscape("floors = 4"))); w.Code != http.StatusOK {
		t.Errorf("a dataset tile of one collection with a filter: %d %s", w.Code, w.Body)
	}
}
