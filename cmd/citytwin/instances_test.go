package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/citytwin/citytwin/internal/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// Two `citytwin serve` processes on one PostGIS: what one server or the import command writes,
// the other serves within a second, through PostgreSQL notifications.

// consistencyWindow is how soon a change made through one server (or an import) must be
// served by every other.
const consistencyWindow = time.Second

// testSchema creates a schema of its own for the test and returns the database URL that
// works in it; the schema is dropped when the test ends.
func testSchema(t *testing.T) (dbURL, schema string) {
	t.Helper()
	return pgtest.Schema(t, "citytwin_instances")
}

// buildBinary builds the citytwin command into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "citytwin")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// instance is one running server.
type instance struct {
	base string
	cmd  *exec.Cmd
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startInstance starts `citytwin serve` and waits until it is ready.
func startInstance(t *testing.T, bin string, args ...string) *instance {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr, "--log-format", "text"}, args...)...)
	cmd.Env = cleanEnv()
	in := &instance{base: "http://" + addr, cmd: cmd, logs: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = in.logs, in.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("server %s log:\n%s", addr, in.logs)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if code, _, _ := in.get(t, "/readyz", nil); code == http.StatusOK {
			return in
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server %s did not become ready:\n%s", addr, in.logs)
	return nil
}

// cleanEnv is the environment without CITYTWIN_* settings, so that only the test's flags
// configure the servers.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CITYTWIN_") {
			out = append(out, kv)
		}
	}
	return out
}

func (in *instance) do(t *testing.T, method, path string, body any, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, in.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func (in *instance) get(t *testing.T, path string, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	return in.do(t, http.MethodGet, path, nil, header)
}

// within polls check until it holds or consistencyWindow has passed since start; it returns
// how long it took.
func within(t *testing.T, start time.Time, what string, check func() bool) time.Duration {
	t.Helper()
	return withinWindow(t, start, consistencyWindow, what, check)
}

// withinWindow polls check, a hundred times in window at most (under the API's rate
// limit), until it holds or window has passed since start; it returns how long it took.
func withinWindow(t *testing.T, start time.Time, window time.Duration, what string, check func() bool) time.Duration {
	t.Helper()
	for {
		if check() {
			took := time.Since(start)
			t.Logf("%s after %v", what, took.Round(time.Millisecond))
			return took
		}
		if time.Since(start) > window {
			t.Fatalf("%s: not within %v", what, window)
		}
		time.Sleep(window / 100)
	}
}

// buildingFile writes a GeoJSON file of one building: a 20 m square at (lon, lat).
func buildingFile(t *testing.T, id int, p orb.Point) string {
	t.Helper()
	d := 0.0002
	ring := [][2]float64{{p[0], p[1]}, {p[0] + d, p[1]}, {p[0] + d, p[1] + d}, {p[0], p[1] + d}, {p[0], p[1]}}
	fc := map[string]any{"type": "FeatureCollection", "features": []any{map[string]any{
		"type": "Feature", "id": id,
		"geometry":   map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}},
		"properties": map[string]any{"layer": "buildings", "use": "residential", "floors": 3, "dwellings": 6},
	}}}
	b, _ := json.Marshal(fc)
	path := filepath.Join(t.TempDir(), fmt.Sprintf("building-%d.geojson", id))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runImportCLI(t *testing.T, bin, dbURL, file string) {
	t.Helper()
	runCLI(t, bin, "import", "--database", dbURL, file)
}

// runCLI runs the citytwin command with the servers' environment and returns its output;
// an exit status other than 0 fails the test.
func runCLI(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("citytwin %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// metricValue reads one series of a /metrics page ("name" or `name{labels}`).
func metricValue(t *testing.T, page []byte, series string) float64 {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(page))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			return f
		}
	}
	t.Fatalf("no series %s in /metrics", series)
	return 0
}

func TestInstancesStayConsistent(t *testing.T) {
	dbURL, schema := testSchema(t)
	bin := buildBinary(t)
	ctx := context.Background()
	cluj := orb.Point{23.59, 46.77}
	runImportCLI(t, bin, dbURL, buildingFile(t, 1, cluj))

	// An extra layer: the city's trees, in Stereo 70.
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE trees (gid integer PRIMARY KEY, species text, geom geometry(Point, 31700))`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO trees VALUES (1, 'Tilia cordata', ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 4326), 31700))`, cluj[0]+0.0001, cluj[1]+0.0001); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "citytwin.toml")
	err = os.WriteFile(cfg, []byte(fmt.Sprintf(`
[serve]
tile_cache_mb = 16
planner_token = "planner-secret"

[layers.buildings]
minzoom = 12

[[extra_layers]]
name = "trees"
title = "Street trees"
attribution = "Tree register"
table = "%s.trees"
geometry_column = "geom"
id_column = "gid"
fields = ["species"]
minzoom = 12
`, schema)), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	a := startInstance(t, bin, "--database", dbURL, "--config", cfg)
	b := startInstance(t, bin, "--database", dbURL, "--config", cfg)

	tile := maptile.At(cluj, 16)
	tilePath := fmt.Sprintf("/tiles/buildings/%d/%d/%d.mvt", tile.Z, tile.X, tile.Y)

	t.Run("an extra layer is in the catalog, TileJSON and tiles", func(t *testing.T) {
		code, _, body := b.get(t, "/catalog", nil)
		var cat struct {
			Layers []struct {
				Name        string
				Attribution string
				Features    int
			}
		}
		if err := json.Unmarshal(body, &cat); err != nil || code != http.StatusOK {
			t.Fatalf("catalog: %d %v", code, err)
		}
		found := false
		for _, l := range cat.Layers {
			if l.Name == "trees" {
				found = true
				if l.Features != 1 || l.Attribution != "Tree register" {
					t.Errorf("catalog's trees: %+v, want 1 feature and the layer's attribution", l)
				}
			}
		}
		if !found {
			t.Errorf("catalog %s lacks trees", body)
		}
		code, _, body = b.get(t, "/tiles/buildings,trees.json", nil)
		if code != http.StatusOK || !strings.Contains(string(body), `"id":"trees"`) || !strings.Contains(string(body), "Tree register") {
			t.Errorf("TileJSON: %d %s", code, body)
		}
		code, _, body = b.get(t, fmt.Sprintf("/tiles/buildings,trees/%d/%d/%d.mvt", tile.Z, tile.X, tile.Y), nil)
		if code != http.StatusOK || !bytes.Contains(body, []byte("Tilia cordata")) || !bytes.Contains(body, []byte("buildings")) {
			t.Errorf("composite tile: %d, %d bytes", code, len(body))
		}
		if code, _, _ := b.get(t, "/tiles/trees/11/0/0.mvt", nil); code != http.StatusNoContent {
			t.Errorf("trees below minzoom: %d, want 204", code)
		}
	})

	t.Run("an import shows in the other server's tiles and model within a second", func(t *testing.T) {
		code, h, _ := b.get(t, tilePath, nil)
		if code != http.StatusOK {
			t.Fatalf("tile: %d", code)
		}
		before := h.Get("ETag")
		// Cached on both: only an invalidation can change what they serve.
		b.get(t, tilePath, nil)
		a.get(t, tilePath, nil)
		runImportCLI(t, bin, dbURL, buildingFile(t, 2, orb.Point{cluj[0] + 0.0004, cluj[1]}))
		start := time.Now()
		within(t, start, "server B serves the new tile", func() bool {
			_, h, _ := b.get(t, tilePath, nil)
			return h.Get("ETag") != before
		})
		within(t, start, "server B's model holds the new building", func() bool {
			_, _, body := b.get(t, "/readyz", nil)
			var r struct{ Features map[string]int }
			_ = json.Unmarshal(body, &r)
			return r.Features["buildings"] == 2
		})
		_, ha, _ := a.get(t, tilePath, nil)
		_, hb, _ := b.get(t, tilePath, nil)
		if ha.Get("ETag") != hb.Get("ETag") {
			t.Errorf("the servers serve different tiles: %s and %s", ha.Get("ETag"), hb.Get("ETag"))
		}
	})

	t.Run("a scenario written through one server is served by the other", func(t *testing.T) {
		auth := map[string]string{"Authorization": "Bearer planner-secret"}
		code, _, body := a.do(t, http.MethodPost, "/api/scenarios", map[string]any{"name": "Școala nouă"}, auth)
		var sc struct {
			ID      string
			Version int64
		}
		if err := json.Unmarshal(body, &sc); err != nil || code != http.StatusCreated {
			t.Fatalf("create: %d %s", code, body)
		}
		code, _, body = a.do(t, http.MethodPatch, "/api/scenarios/"+sc.ID, map[string]any{"name": "Școala nouă, varianta 2"},
			map[string]string{"Authorization": auth["Authorization"], "If-Match": fmt.Sprintf(`"%d"`, sc.Version)})
		if code != http.StatusOK {
			t.Fatalf("patch: %d %s", code, body)
		}
		start := time.Now()
		within(t, start, "server B serves version 2", func() bool {
			_, _, body := b.get(t, "/api/scenarios/"+sc.ID, auth)
			var got struct{ Scenario struct{ Version int64 } }
			var flat struct{ Version int64 }
			_ = json.Unmarshal(body, &got)
			_ = json.Unmarshal(body, &flat)
			return got.Scenario.Version == 2 || flat.Version == 2
		})
	})

	t.Run("metrics show the pool, the model loads and the tiles", func(t *testing.T) {
		_, _, page := b.get(t, "/metrics", nil)
		if v := metricValue(t, page, "citytwin_db_pool_acquires_total"); v < 1 {
			t.Errorf("pool acquires %v, want some", v)
		}
		if v := metricValue(t, page, "citytwin_model_loads_total"); v < 2 {
			t.Errorf("model loads %v, want the first and the one after the import", v)
		}
		if v := metricValue(t, page, `citytwin_tile_cache_hits_total`); v < 1 {
			t.Errorf("tile cache hits %v, want some", v)
		}
		if v := metricValue(t, page, `citytwin_tile_bytes_count{layer="composite",zoom="16"}`); v != 1 {
			t.Errorf("composite tiles at zoom 16: %v, want 1", v)
		}
	})
}
