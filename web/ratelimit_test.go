package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/citytwin/citytwin/citymodel"
)

// rateServer is a server whose API allows each client two requests and then (at one a
// thousand seconds) none for the length of any test; tiles allow four.
func rateServer(t *testing.T, trustProxy bool) http.Handler {
	t.Helper()
	srv := New(Options{Logger: scenarioTestLogger(),
		Tokens:     StaticTokens{NewStaticToken(plannerToken, RolePlanner), NewStaticToken(viewerToken, RolePublic)},
		APIRate:    RateLimit{Rate: 0.001, Burst: 2},
		TileRate:   RateLimit{Rate: 0.001, Burst: 4},
		TrustProxy: trustProxy,
		Model:      citymodel.Fixed(apiCity(t)),
	})
	return srv.Handler()
}

func send(h http.Handler, path, remote, token string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	req.RemoteAddr = remote
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// spend sends n requests that must all pass the limit.
func spend(t *testing.T, h http.Handler, n int, path, remote, token string, headers ...string) {
	t.Helper()
	for i := range n {
		if rec := send(h, path, remote, token, headers...); rec.Code == http.StatusTooManyRequests {
			t.Fatalf("request %d of %s from %s was limited: %s", i+1, path, remote, rec.Body)
		}
	}
}

func wantLimited(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429: %s", rec.Code, rec.Body)
	}
	var e struct{ Error apiError }
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code != "rate_limited" || e.Error.Message == "" {
		t.Fatalf("not a rate_limited JSON error: %v %s", err, rec.Body)
	}
	// One token comes back every 1000 s.
	if got := rec.Header().Get("Retry-After"); got != "1000" {
		t.Fatalf("Retry-After %q, want 1000", got)
	}
}

const nearestPath = "/api/nearest?lon=23.59&lat=46.77"

func TestRateLimitPerClient(t *testing.T) {
	h := rateServer(t, false)
	spend(t, h, 2, nearestPath, "192.0.2.1:1000", "")
	wantLimited(t, send(h, nearestPath, "192.0.2.1:1001", ""))
	wantLimited(t, send(h, "/api/features/buildings?bbox=1,2,3,4", "192.0.2.1:1002", "")) // every /api/ path shares the bucket

	// Another address, and a token from the same address, have buckets of their own.
	spend(t, h, 2, nearestPath, "192.0.2.2:1000", "")
	spend(t, h, 2, nearestPath, "192.0.2.1:1000", viewerToken)
	wantLimited(t, send(h, nearestPath, "192.0.2.3:1000", viewerToken)) // the token, wherever it comes from

	// Addresses of one IPv6 /64 are one client.
	spend(t, h, 2, nearestPath, "[2001:db8:1:2::1]:1000", "")
	wantLimited(t, send(h, nearestPath, "[2001:db8:1:2::ffff]:1000", ""))
	spend(t, h, 1, nearestPath, "[2001:db8:1:3::1]:1000", "")

	// Tiles have their own, larger limit; pages, health and the catalog have none.
	spend(t, h, 4, "/tiles/buildings/14/9265/5743.mvt", "192.0.2.1:1000", "")
	wantLimited(t, send(h, "/tiles/buildings/14/9265/5744.mvt", "192.0.2.1:1000", ""))
	spend(t, h, 10, "/healthz", "192.0.2.1:1000", "")
	spend(t, h, 10, "/catalog", "192.0.2.1:1000", "")
}

func TestRateLimitVariantTilesCountAsTiles(t *testing.T) {
	h := rateServer(t, false)
	path := "/api/scenarios/0123456789abcdef/tiles/buildings/14/9265/5743.mvt"
	spend(t, h, 4, path, "192.0.2.1:1000", plannerToken)
	wantLimited(t, send(h, path, "192.0.2.1:1000", plannerToken))
	spend(t, h, 2, nearestPath, "192.0.2.1:1000", plannerToken)
}

// OGC API tiles share the tile limit, and its feature queries and the open-data downloads the
// API's: no route family is a way around the limits.
func TestRateLimitOGCAndDownloadsCountAsTilesAndAPI(t *testing.T) {
	h := rateServer(t, false)
	tile := "/ogc/collections/buildings/tiles/WebMercatorQuad/14/5743/9265"
	spend(t, h, 4, tile, "192.0.2.1:1000", "")
	wantLimited(t, send(h, tile, "192.0.2.1:1000", ""))
	items := "/ogc/collections/buildings/items?limit=1"
	spend(t, h, 2, items, "192.0.2.2:1000", "")
	wantLimited(t, send(h, items, "192.0.2.2:1000", ""))
	download := "/downloads/buildings.csv"
	spend(t, h, 2, download, "192.0.2.3:1000", "")
	wantLimited(t, send(h, download, "192.0.2.3:1000", ""))
}

func TestRateLimitForwardedFor(t *testing.T) {
	// Untrusted: X-Forwarded-For is the client's own text and changes nothing.
	h := rateServer(t, false)
	spend(t, h, 2, nearestPath, "192.0.2.1:1000", "", "X-Forwarded-For", "198.51.100.1")
	wantLimited(t, send(h, nearestPath, "192.0.2.1:1000", "", "X-Forwarded-For", "198.51.100.2"))

	// Behind a trusted proxy (one peer address) each forwarded client has its bucket, keyed
	// by the last address, the one the proxy appended.
	h = rateServer(t, true)
	spend(t, h, 2, nearestPath, "10.0.0.1:1000", "", "X-Forwarded-For", "203.0.113.9, 198.51.100.1")
	spend(t, h, 2, nearestPath, "10.0.0.1:1000", "", "X-Forwarded-For", "198.51.100.2")
	wantLimited(t, send(h, nearestPath, "10.0.0.1:1000", "", "X-Forwarded-For", "203.0.113.7, 198.51.100.1"))
	// An unreadable header falls back to the peer.
	spend(t, h, 2, nearestPath, "10.0.0.1:1000", "", "X-Forwarded-For", "unknown")
	wantLimited(t, send(h, nearestPath, "10.0.0.1:1000", ""))
}

func TestRateLimitOff(t *testing.T) {
	f := newAPIFixture(t, nil) // zero RateLimit
	for i := range 50 {
		if a := f.do(t, "GET", nearestPath, "", nil); a.status == http.StatusTooManyRequests {
			t.Fatalf("request %d limited without a limit", i)
		}
	}
}

// fakeClock is a clock the test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestClientLimiterRefillsAndForgets(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cl := newClientLimiter(RateLimit{Rate: 2, Burst: 4}, 100, clock.now)
	for i := range 4 {
		if ok, _ := cl.allow("a"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := cl.allow("a")
	if ok || wait != 500*time.Millisecond { // 2 a second: the next token in 0.5 s
		t.Fatalf("fifth request: ok %v, wait %v; want refused, 500ms", ok, wait)
	}
	if got := retryAfter(wait); got != "1" {
		t.Fatalf("Retry-After %q for %v, want 1 (whole seconds, rounded up)", got, wait)
	}
	clock.t = clock.t.Add(500 * time.Millisecond)
	if ok, _ := cl.allow("a"); !ok {
		t.Fatal("a token did not come back after 0.5 s")
	}

	// Idle clients are forgotten at the next sweep: a client idle for 2 s (burst / rate) has a
	// full bucket again, so nothing is lost.
	for i := range 50 {
		cl.allow(fmt.Sprintf("idle-%d", i))
	}
	if n := cl.size(); n != 51 {
		t.Fatalf("%d clients, want 51", n)
	}
	clock.t = clock.t.Add(rateSweepEvery)
	cl.allow("b")
	if n := cl.size(); n != 1 {
		t.Fatalf("%d clients after the sweep, want 1 (b)", n)
	}
}

func TestClientLimiterMemoryIsBounded(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cl := newClientLimiter(RateLimit{Rate: 1, Burst: 1}, 100, clock.now)
	for i := range 10_000 { // all active at once: none idle
		cl.allow(fmt.Sprintf("client-%d", i))
		if n := cl.size(); n > 100 {
			t.Fatalf("%d clients remembered after %d, want at most 100", n, i+1)
		}
	}
}
