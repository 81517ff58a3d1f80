package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkOGCItemsPagesOf1000 asks for the buildings of a generated city
// (CITYTWIN_BENCH_ITEMS_PARCELS parcels, default 20,000: about 15,000 buildings) as OGC API
// items pages of 1,000 features, in memory and on PostGIS, every page in turn (the cursor of
// each page read once from the next links), by one client and by four at a time. It reports
// the pages served per second of wall time (req/s), the 99th percentile of a page's time
// (p99-ms) and the mean size of a page's GeoJSON (page-KiB; gzip is not asked for).
func BenchmarkOGCItemsPagesOf1000(b *testing.B) {
	fs := generatedCity(b, benchParcels(20_000, "CITYTWIN_BENCH_ITEMS_PARCELS"))
	for _, source := range demoSources {
		b.Run(source, func(b *testing.B) {
			h, c := benchServer(b, source, fs)
			pages := itemsPages(b, h, "/ogc/collections/buildings/items?limit=1000")
			for _, clients := range []int{1, 4} {
				b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
					var (
						mu    sync.Mutex
						times []time.Duration
						bytes int64
						next  int
					)
					start := time.Now()
					work := make(chan string)
					var wg sync.WaitGroup
					for range clients {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for path := range work {
								w := &discard{h: http.Header{}}
								t0 := time.Now()
								h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
								d := time.Since(t0)
								if w.code != http.StatusOK {
									b.Errorf("GET %s: %d", path, w.code)
								}
								mu.Lock()
								times = append(times, d)
								bytes += w.n
								mu.Unlock()
							}
						}()
					}
					for b.Loop() {
						work <- pages[next%len(pages)]
						next++
					}
					close(work)
					wg.Wait()
					wall := time.Since(start)
					slices.Sort(times)
					p99 := times[min(len(times)-1, len(times)*99/100)]
					b.ReportMetric(float64(len(times))/wall.Seconds(), "req/s")
					b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
					b.ReportMetric(float64(bytes)/float64(len(times))/1024, "page-KiB")
					b.ReportMetric(float64(c.Layer("buildings").Len()), "buildings")
				})
			}
		})
	}
}

// itemsPages follows the next links from path and returns the path of every page.
func itemsPages(b *testing.B, h http.Handler, path string) []string {
	b.Helper()
	var out []string
	for path != "" {
		out = append(out, path)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != http.StatusOK {
			b.Fatalf("GET %s: %d %.200s", path, w.Code, w.Body)
		}
		var p ogcPage
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			b.Fatalf("GET %s: %v", path, err)
		}
		path = ""
		for _, l := range p.Links {
			if l.Rel == "next" {
				u, err := url.Parse(l.Href)
				if err != nil {
					b.Fatal(err)
				}
				path = u.RequestURI()
			}
		}
	}
	return out
}
