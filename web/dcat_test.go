package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/citytwin/citytwin/layers"
)

// dcatDoc is what the tests read of the DCAT-AP catalogue.
type dcatDoc struct {
	Context map[string]string `json:"@context"`
	ID      string            `json:"@id"`
	Type    string            `json:"@type"`
	Title   string            `json:"dct:title"`
	License struct {
		ID string `json:"@id"`
	} `json:"dct:license"`
	Modified struct {
		Value string `json:"@value"`
	} `json:"dct:modified"`
	Publisher struct {
		Name string `json:"foaf:name"`
	} `json:"dct:publisher"`
	Datasets []struct {
		Type        string   `json:"@type"`
		Identifier  string   `json:"dct:identifier"`
		Title       string   `json:"dct:title"`
		Description string   `json:"dct:description"`
		Keywords    []string `json:"dcat:keyword"`
		License     struct {
			ID string `json:"@id"`
		} `json:"dct:license"`
		Modified struct {
			Value string `json:"@value"`
		} `json:"dct:modified"`
		Spatial struct {
			BBox struct {
				Value string `json:"@value"`
				Type  string `json:"@type"`
			} `json:"dcat:bbox"`
		} `json:"dct:spatial"`
		Distributions []struct {
			Type   string `json:"@type"`
			Access struct {
				ID string `json:"@id"`
			} `json:"dcat:accessURL"`
			Download *struct {
				ID string `json:"@id"`
			} `json:"dcat:downloadURL"`
			MediaType struct {
				ID string `json:"@id"`
			} `json:"dcat:mediaType"`
			Format struct {
				ID string `json:"@id"`
			} `json:"dct:format"`
		} `json:"dcat:distribution"`
	} `json:"dcat:dataset"`
}

// TestDCATCatalogueListsEveryLayerWithWorkingDistributions reads /catalog.dcat.jsonld in
// memory and on PostGIS, through a proxy's forwarded headers: one dcat:Dataset per public
// base layer with title, description, modified time, licence, keywords and a WKT bbox; five
// distributions each (GeoJSON, CSV, GeoPackage, MVT tiles, OGC API Features) with IANA
// media types; and every access and download URL, at the proxy's address, answers 200.
// Catches a layer left out of the catalogue, a relative URL or one at the server's own
// address behind a proxy, and a distribution URL that no route serves.
func TestDCATCatalogueListsEveryLayerWithWorkingDistributions(t *testing.T) {
	const base = "https://data.example.org/city"
	for _, source := range demoSources {
		t.Run(source, func(t *testing.T) {
			f := newDemoFixture(t, source)
			srv := New(withTrustedProxy(f.srv.opts))
			r := httptest.NewRequest("GET", "/catalog.dcat.jsonld", nil)
			r.Header.Set("X-Forwarded-Proto", "https")
			r.Header.Set("X-Forwarded-Host", "data.example.org")
			r.Header.Set("X-Forwarded-Prefix", "/city")
			w := httptest.NewRecorder()
			srv.Handler().ServeHTTP(w, r)
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/ld+json" {
				t.Fatalf("GET /catalog.dcat.jsonld: %d %q", w.Code, w.Header().Get("Content-Type"))
			}
			var doc dcatDoc
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if doc.Type != "dcat:Catalog" || doc.Context["dcat"] != "http://www.w3.org/ns/dcat#" || doc.Context["dct"] != "http://purl.org/dc/terms/" ||
				doc.ID != base+"/catalog.dcat.jsonld" || doc.Title == "" || doc.Publisher.Name == "" || doc.License.ID != dataLicense {
				t.Errorf("catalog: type %q, id %q, title %q, publisher %q, licence %q", doc.Type, doc.ID, doc.Title, doc.Publisher.Name, doc.License.ID)
			}
			if _, err := time.Parse(time.RFC3339, doc.Modified.Value); err != nil {
				t.Errorf("catalog modified %q: %v", doc.Modified.Value, err)
			}
			all := layers.All()
			if len(doc.Datasets) != len(all) {
				t.Fatalf("%d datasets, want one per public layer: %d", len(doc.Datasets), len(all))
			}
			for i, ds := range doc.Datasets {
				l := all[i]
				if ds.Type != "dcat:Dataset" || ds.Identifier != l.Name || ds.Title != l.Title || !strings.HasPrefix(ds.Description, l.Description) ||
					ds.License.ID != dataLicense || ds.Modified.Value != doc.Modified.Value || len(ds.Keywords) == 0 {
					t.Errorf("dataset %d: %+v", i, ds)
				}
				if !strings.HasPrefix(ds.Spatial.BBox.Value, "POLYGON((") || ds.Spatial.BBox.Type != "gsp:wktLiteral" {
					t.Errorf("%s: bbox %+v", l.Name, ds.Spatial.BBox)
				}
				media := map[string]bool{}
				for _, d := range ds.Distributions {
					media[d.MediaType.ID] = true
					if d.Type != "dcat:Distribution" || d.Format.ID != d.MediaType.ID || !strings.HasPrefix(d.MediaType.ID, "http://www.iana.org/assignments/media-types/") {
						t.Errorf("%s: distribution %+v", l.Name, d)
					}
					urls := []string{d.Access.ID}
					if d.Download != nil {
						urls = append(urls, d.Download.ID)
					}
					for _, u := range urls {
						path, ok := strings.CutPrefix(u, base)
						if !ok {
							t.Errorf("%s: %q is not at the proxy's address %s", l.Name, u, base)
							continue
						}
						if a := f.do(t, "GET", path, "", "", ""); a.status != http.StatusOK {
							t.Errorf("%s: GET %s: %d", l.Name, path, a.status)
						}
					}
				}
				for _, m := range []string{"application/geo+json", "text/csv", "application/geopackage+sqlite3", "application/vnd.mapbox-vector-tile"} {
					if !media["http://www.iana.org/assignments/media-types/"+m] {
						t.Errorf("%s: no distribution as %s", l.Name, m)
					}
				}
				if len(ds.Distributions) != 5 {
					t.Errorf("%s: %d distributions, want 5: GeoJSON, CSV, GeoPackage, tiles, OGC API", l.Name, len(ds.Distributions))
				}
			}
		})
	}
}

func withTrustedProxy(o Options) Options {
	o.TrustProxy = true
	o.Metrics = nil // a Metrics serves one Server
	return o
}
