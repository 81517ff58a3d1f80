package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/layers"
)

// gdal runs a GDAL command and returns its output; the test fails, naming Debian's
// gdal-bin, when the command is missing.
func gdal(t *testing.T, name string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is missing: install Debian's gdal-bin (scripts/install-deps.sh does)", name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// gdalFeatures reads a GeoJSON file ogr2ogr wrote: each feature's properties (nulls left
// out) by id.
func gdalFeatures(t *testing.T, path string) map[int64]map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			ID         int64          `json:"id"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[int64]map[string]any{}
	for _, f := range fc.Features {
		for k, v := range f.Properties {
			if v == nil {
				delete(f.Properties, k)
			}
		}
		out[f.ID] = f.Properties
	}
	return out
}

func sortedIDs[V any](m map[int64]V) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// TestOGCWithGDAL serves the demo city on a real TCP port, in memory and on PostGIS, and reads
// it with GDAL, an independent OGC API client:
//   - ogrinfo -so on the landing page lists every base layer as a collection;
//   - ogr2ogr copies every building and every facility, paging 500 at a time through the
//     next links, with the public properties /api/features gives (publicFeature), typed from
//     the schema;
//   - ogr2ogr with -where and -spat selects the same features as the server's CQL2 filter
//     with S_INTERSECTS of the same box (GDAL 3.6 sends the box as bbox and evaluates -where
//     itself: it knows only the pre-1.0 filter-lang cql-text);
//   - GDAL's MVT driver reads an OGC API tile and finds the features of the same tile of
//     /tiles, decoded here.
func TestOGCWithGDAL(t *testing.T) {
	for _, source := range demoSources {
		t.Run(source, func(t *testing.T) {
			f := newDemoFixture(t, source)
			ts := httptest.NewServer(f.h)
			defer ts.Close()
			root := "OAPIF:" + ts.URL + "/ogc"
			dir := t.TempDir()

			listed := gdal(t, "ogrinfo", "-ro", "-so", root)
			for _, l := range layers.All() {
				if !regexp.MustCompile(`(?m)^\d+: ` + l.Name + ` \(`).MatchString(listed) {
					t.Errorf("ogrinfo does not list %s:\n%s", l.Name, listed)
				}
			}

			for _, layer := range []string{"buildings", "facilities"} {
				out := filepath.Join(dir, layer+".json")
				gdal(t, "ogr2ogr", "-f", "GeoJSON", "-preserve_fid", out, root, layer, "-oo", "PAGE_SIZE=500")
				got := gdalFeatures(t, out)
				items := f.city.Layer(layer).Items()
				if len(got) != len(items) {
					t.Errorf("%s: GDAL read %d features, the model has %d", layer, len(got), len(items))
				}
				for _, it := range items {
					if want := expectedProps(t, it.Feature); !reflect.DeepEqual(got[it.Feature.ID], want) {
						t.Errorf("%s %d: GDAL read %v, want %v", layer, it.Feature.ID, got[it.Feature.ID], want)
						break
					}
				}
			}

			// A box over the west of the centre, and a filter of two properties.
			c := f.city.Bound.Center()
			w, s, e, n := c[0]-0.008, c[1]-0.006, c[0]+0.002, c[1]+0.004
			where := "use = 'residential' AND floors >= 5"
			out := filepath.Join(dir, "filtered.json")
			gdal(t, "ogr2ogr", "-f", "GeoJSON", "-preserve_fid", out, root, "buildings", "-oo", "PAGE_SIZE=500",
				"-where", where, "-spat", fmt.Sprint(w), fmt.Sprint(s), fmt.Sprint(e), fmt.Sprint(n))
			viaGDAL := sortedIDs(gdalFeatures(t, out))
			filter := fmt.Sprintf("%s AND S_INTERSECTS(geometry, BBOX(%v, %v, %v, %v))", where, w, s, e, n)
			server, _, _ := f.ogcAll(t, "/ogc/collections/buildings/items?limit=500&filter="+url.QueryEscape(filter))
			if len(viaGDAL) == 0 || !slices.Equal(viaGDAL, sortedIDs(server)) {
				t.Errorf("ogr2ogr -where %q -spat: %d features; the server's filter %q: %d; %s",
					where, len(viaGDAL), filter, len(server), firstDiff(viaGDAL, sortedIDs(server)))
			}

			// A tile at zoom 15 over the centre, through the OGC API, read by GDAL's MVT driver.
			tl := maptile.At(c, 15)
			resp, err := http.Get(fmt.Sprintf("%s/ogc/collections/buildings/tiles/WebMercatorQuad/%d/%d/%d", ts.URL, tl.Z, tl.Y, tl.X))
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("OGC API tile %v: %d %v", tl, resp.StatusCode, err)
			}
			// The MVT driver takes the tile's place from its path, z/x/y.pbf; CLIP=NO keeps the
			// features that are only in the tile's buffer.
			file := filepath.Join(dir, "tile", strconv.Itoa(int(tl.Z)), strconv.Itoa(int(tl.X)), strconv.Itoa(int(tl.Y))+".pbf")
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, body, 0o644); err != nil {
				t.Fatal(err)
			}
			var viaMVT []int64
			for _, m := range regexp.MustCompile(`mvt_id \(Integer64\) = (\d+)`).FindAllStringSubmatch(gdal(t, "ogrinfo", "-ro", "-al", "-q", "-oo", "CLIP=NO", file), -1) {
				id, _ := strconv.ParseInt(m[1], 10, 64)
				viaMVT = append(viaMVT, id)
			}
			slices.Sort(viaMVT)
			a := f.do(t, "GET", fmt.Sprintf("/tiles/buildings/%d/%d/%d.mvt", tl.Z, tl.X, tl.Y), "", "", "")
			ls, err := mvt.Unmarshal(a.body)
			if err != nil {
				t.Fatal(err)
			}
			var want []int64
			for _, l := range ls {
				for _, ft := range l.Features {
					want = append(want, int64(ft.ID.(float64)))
				}
			}
			slices.Sort(want)
			if len(want) == 0 || !slices.Equal(viaMVT, want) {
				t.Errorf("GDAL read %d features from the OGC API tile, /tiles has %d", len(viaMVT), len(want))
			}
		})
	}
}
