package processtest

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Bounds of the outage test. unavailableWithin is how soon after PostgreSQL is down a
// request that needs it must be answered 503 (a refused connection fails at once; the bound
// is for a slow machine). recoverWithin is how soon after PostgreSQL is back the server must
// serve again: /readyz caches its check for a second, the change watcher retries within 5 s.
const (
	unavailableWithin = 5 * time.Second
	recoverWithin     = 20 * time.Second
)

// TestDatabaseOutage stops PostgreSQL under a running server and starts it again: cached
// tiles are served throughout, every other request that needs the database is answered 503
// JSON with Retry-After at once, /readyz says unready, and the server recovers by itself,
// its change watcher included.
func TestDatabaseOutage(t *testing.T) {
	pg := pgCluster(t)
	db := pg.newCityDatabase(t)
	srv := startServer(t, "--database", db)
	srv.waitReady(60 * time.Second)
	t.Cleanup(func() {
		// Leave the cluster running for the next test whatever happened.
		if err := pg.ensureRunning(); err != nil {
			t.Error(err)
		}
	})

	lon, lat := cityCenter(t, srv)
	tiles := tilesAround(lon, lat, 15, 12)
	warm, cold := tiles[:6], tiles[6:]
	cached := map[string][]byte{}
	for _, p := range warm {
		a := srv.get(p)
		if a.status != http.StatusOK && a.status != http.StatusNoContent {
			t.Fatalf("warm %s: status %d %v %s", p, a.status, a.err, a.body)
		}
		cached[p] = a.body
	}
	var scen struct{ ID string }
	mustJSON(t, "create scenario", srv.do("POST", "/api/scenarios", map[string]any{"name": "outage"}, nil), &scen)

	stopping := time.Now()
	if err := pg.stop(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	t.Logf("pg_ctl stop -m fast took %s", stopped.Sub(stopping).Round(time.Millisecond))

	// A tile nobody asked for yet needs the database: 503, Retry-After, JSON, quickly.
	a := srv.get(cold[0])
	took := time.Since(stopped)
	t.Logf("first uncached tile after PostgreSQL stopped: %d in %s", a.status, took.Round(time.Millisecond))
	wantUnavailable(t, "an uncached tile", a)
	if took > unavailableWithin {
		t.Errorf("the uncached tile took %s to answer; want under %s", took, unavailableWithin)
	}
	for _, p := range cold[1:3] {
		wantUnavailable(t, "another uncached tile", srv.get(p))
	}
	for _, p := range []string{"/api/scenarios", "/api/scenarios/" + scen.ID} {
		wantUnavailable(t, "GET "+p, srv.get(p))
	}

	// Tiles already made are still served, byte for byte.
	for p, body := range cached {
		if a := srv.get(p); a.status/100 != 2 || !bytes.Equal(a.body, body) {
			t.Errorf("cached %s while PostgreSQL is down: status %d, %d bytes (want %d) %v", p, a.status, len(a.body), len(body), a.err)
		}
	}

	// /readyz says unready within its check's cache time.
	notReady, ok := pollUntil(unavailableWithin, func() bool { return srv.get("/readyz").status == http.StatusServiceUnavailable })
	if !ok {
		t.Fatalf("/readyz still ready %s after PostgreSQL stopped", unavailableWithin)
	}
	t.Logf("/readyz unready %s after PostgreSQL stopped", (notReady + took).Round(time.Millisecond))
	if a := srv.get("/readyz"); a.header.Get("Retry-After") == "" || !strings.Contains(string(a.body), "database_unavailable") {
		t.Errorf("/readyz while PostgreSQL is down: %d %q, Retry-After %q", a.status, a.body, a.header.Get("Retry-After"))
	}
	srv.waitLog(10*time.Second, `"msg":"watching layer changes failed`)

	starting := time.Now()
	if err := pg.start(); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	t.Logf("pg_ctl start took %s", restarted.Sub(starting).Round(time.Millisecond))
	readyIn, ok := pollUntil(recoverWithin, func() bool { return srv.get("/readyz").status == http.StatusOK })
	if !ok {
		t.Fatalf("/readyz not ready %s after PostgreSQL started again", recoverWithin)
	}
	tileIn, ok := pollUntil(recoverWithin, func() bool { return srv.get(cold[3]).status/100 == 2 })
	if !ok {
		t.Fatalf("uncached tiles still failing %s after PostgreSQL started again", recoverWithin)
	}
	if a := srv.get("/api/scenarios/" + scen.ID); a.status != http.StatusOK {
		t.Errorf("the scenario after PostgreSQL came back: %d %s", a.status, a.body)
	}
	srv.waitLog(recoverWithin, `"msg":"watching layer changes again`)
	t.Logf("after PostgreSQL started again: /readyz ready in %s, uncached tiles served in %s, watcher listening in %s",
		readyIn.Round(time.Millisecond), (readyIn + tileIn).Round(time.Millisecond), time.Since(restarted).Round(time.Millisecond))

	// The watcher listens again: an import by another process reaches this server.
	station := filepath.Join(t.TempDir(), "station.geojson")
	if err := os.WriteFile(station, []byte(fmt.Sprintf(`{"type":"Feature","id":900001,`+
		`"geometry":{"type":"Point","coordinates":[%f,%f]},`+
		`"properties":{"layer":"air_stations","name":"Outage test","no2":20,"pm10":20,"pm25":10,"year":2024}}`, lon, lat)), 0o644); err != nil {
		t.Fatal(err)
	}
	runCommand(t, "import", "--database", db, station)
	srv.waitLog(10*time.Second, `"msg":"layers changed`)

	// And the server still stops cleanly, closing its pool.
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := srv.waitExit(30 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM; want 0", code)
	}
	if !srv.logHas(`"msg":"database connections closed"`) {
		t.Error("no log line saying the pool was closed")
	}
}

// wantUnavailable checks a 503 JSON error with Retry-After.
func wantUnavailable(t *testing.T, what string, a answer) {
	t.Helper()
	if a.err != nil || a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" ||
		!strings.HasPrefix(a.header.Get("Content-Type"), "application/json") || a.errorCode() == "" {
		t.Errorf("%s while PostgreSQL is down: status %d, Retry-After %q, Content-Type %q, err %v, body %s",
			what, a.status, a.header.Get("Retry-After"), a.header.Get("Content-Type"), a.err, a.body)
	}
}

// tilesAround returns the paths of n tiles of every base layer at zoom z, spiralling out
// from the tile that holds lon, lat.
func tilesAround(lon, lat float64, z, n int) []string {
	scale := math.Exp2(float64(z))
	x0 := int((lon + 180) / 360 * scale)
	r := lat * math.Pi / 180
	y0 := int((1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * scale)
	var out []string
	for ring := 0; len(out) < n; ring++ {
		for dx := -ring; dx <= ring && len(out) < n; dx++ {
			for dy := -ring; dy <= ring && len(out) < n; dy++ {
				if max(abs(dx), abs(dy)) != ring {
					continue
				}
				out = append(out, fmt.Sprintf("/tiles/parcels,buildings,facilities/%d/%s/%s.mvt",
					z, strconv.Itoa(x0+dx), strconv.Itoa(y0+dy)))
			}
		}
	}
	return out
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// hungRequestTimeout is the --request-timeout of the server of TestDatabaseHangs.
const hungRequestTimeout = 3 * time.Second

// TestDatabaseHangs freezes PostgreSQL (SIGSTOP: connections are accepted and never
// answered, as with a hung host or a network partition) under a running server: requests
// that need it are answered 503 with Retry-After within the request timeout instead of
// hanging, cached tiles are served, /readyz turns unready within its ping timeout, and all
// recovers once PostgreSQL runs again.
func TestDatabaseHangs(t *testing.T) {
	pg := pgCluster(t)
	srv := startServer(t, "--database", pg.newCityDatabase(t), "--request-timeout", hungRequestTimeout.String())
	srv.waitReady(60 * time.Second)
	t.Cleanup(func() {
		if err := pg.signal(syscall.SIGCONT); err != nil {
			t.Error(err)
		}
	})
	lon, lat := cityCenter(t, srv)
	tiles := tilesAround(lon, lat, 15, 6)
	warm, cold := tiles[:2], tiles[2:]
	cached := map[string][]byte{}
	for _, p := range warm {
		a := srv.get(p)
		if a.status/100 != 2 {
			t.Fatalf("warm %s: status %d %v %s", p, a.status, a.err, a.body)
		}
		cached[p] = a.body
	}

	if err := pg.signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	a := srv.get(cold[0])
	took := time.Since(start)
	t.Logf("uncached tile while PostgreSQL hangs: %d in %s", a.status, took.Round(time.Millisecond))
	wantUnavailable(t, "an uncached tile", a)
	if took > hungRequestTimeout+2*time.Second {
		t.Errorf("the uncached tile took %s; want about the request timeout, %s", took, hungRequestTimeout)
	}
	for p, body := range cached {
		if a := srv.get(p); a.status/100 != 2 || !bytes.Equal(a.body, body) {
			t.Errorf("cached %s while PostgreSQL hangs: status %d %v", p, a.status, a.err)
		}
	}
	notReady, ok := pollUntil(unavailableWithin, func() bool { return srv.get("/readyz").status == http.StatusServiceUnavailable })
	if !ok {
		t.Fatalf("/readyz still ready %s after PostgreSQL hung", unavailableWithin)
	}
	t.Logf("/readyz unready %s after the first probe (its ping gives up after 1 s)", notReady.Round(time.Millisecond))

	if err := pg.signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	readyIn, ok := pollUntil(recoverWithin, func() bool { return srv.get("/readyz").status == http.StatusOK })
	if !ok {
		t.Fatalf("/readyz not ready %s after PostgreSQL resumed", recoverWithin)
	}
	tileIn, ok := pollUntil(recoverWithin, func() bool { return srv.get(cold[1]).status/100 == 2 })
	if !ok {
		t.Fatalf("uncached tiles still failing %s after PostgreSQL resumed", recoverWithin)
	}
	t.Logf("after PostgreSQL resumed: /readyz ready in %s, uncached tiles served in %s",
		readyIn.Round(time.Millisecond), (readyIn + tileIn).Round(time.Millisecond))
}
