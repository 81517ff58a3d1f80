// Command citytwin-load is a bounded load generator for a CityTwin server on this machine:
// a mix of tiles (zooms 12–16 over the city), the catalog, TileJSON, nearest-facility
// lookups, scenario writes and scenario runs, sent by closed-loop workers (each sends its
// next request when the last is answered, so the rate is the highest the server sustains)
// for a fixed time and at most a fixed number of requests. It then checks that no answer
// was a 5xx and that every write the server acknowledged is in its scenario, and reports
// requests by kind, latency percentiles and the server's resident memory.
//
//	citytwin-load --url http://127.0.0.1:18093 --token T --duration 60s --server-pid PID
//
// It exits 1 when an answer was a 5xx (or not the status expected), a request failed, or an
// acknowledged write is missing.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"time"
)

type config struct {
	url         string
	token       string
	duration    time.Duration
	workers     int
	maxRequests int64
	serverPID   int
	seed        uint64
	// changesPerScenario: a worker starts a new scenario after this many changes, so that
	// writes and runs stay at the cost of a typical scenario.
	changesPerScenario int
}

func main() {
	var cfg config
	flag.StringVar(&cfg.url, "url", "http://127.0.0.1:8080", "the server's base URL (loopback only)")
	flag.StringVar(&cfg.token, "token", os.Getenv("CITYTWIN_PLANNER_TOKEN"), "a planner token, for the scenario writes and runs")
	flag.DurationVar(&cfg.duration, "duration", 60*time.Second, "how long to send requests")
	flag.IntVar(&cfg.workers, "workers", 16, "concurrent closed-loop clients")
	flag.Int64Var(&cfg.maxRequests, "max-requests", 5_000_000, "stop after this many requests even before --duration")
	flag.IntVar(&cfg.serverPID, "server-pid", 0, "the server's process id, to report its resident memory (0: not reported)")
	flag.Uint64Var(&cfg.seed, "seed", 1, "seed of the request mix")
	flag.IntVar(&cfg.changesPerScenario, "changes-per-scenario", 100, "changes a worker adds to one scenario before it starts another")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ok, err := run(ctx, cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "citytwin-load:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, out io.Writer) (bool, error) {
	if err := checkLoopback(cfg.url); err != nil {
		return false, err
	}
	if cfg.token == "" {
		return false, errors.New("--token (a planner token) is required for the scenario writes and runs")
	}
	c := newClient(cfg)
	city, err := c.discover(ctx)
	if err != nil {
		return false, fmt.Errorf("read the city: %w", err)
	}
	// RSS at the start, at half time (caches and scenario states warmed up) and at the end:
	// flat memory shows as the last two close together.
	var rss rssSamples
	rss.start = rssKiB(cfg.serverPID)
	half := time.AfterFunc(cfg.duration/2, func() { rss.half.Store(rssKiB(cfg.serverPID)) })
	start := time.Now()
	res := c.load(ctx, city)
	elapsed := time.Since(start)
	half.Stop()
	rss.end = rssKiB(cfg.serverPID)
	lost, acked, err := c.lostWrites(ctx, res.acked)
	if err != nil {
		return false, fmt.Errorf("check the writes: %w", err)
	}
	return report(out, res, elapsed, acked, lost, &rss), nil
}

// checkLoopback refuses any target but this machine.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	switch h := u.Hostname(); {
	case h == "localhost", h == "::1", strings.HasPrefix(h, "127."):
		return nil
	}
	return fmt.Errorf("--url %s: only loopback addresses (127.0.0.0/8, ::1, localhost) are load-tested", raw)
}

// rssSamples are the server's resident memory in KiB during a run; 0 when unknown.
type rssSamples struct {
	start, end int64
	half       atomic.Int64
}

// rssKiB reads VmRSS of a process from /proc; 0 when unknown.
func rssKiB(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kib int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kib)
			return kib
		}
	}
	return 0
}

// client sends requests to the server.
type client struct {
	cfg  config
	http *http.Client
}

func newClient(cfg config) *client {
	tr := &http.Transport{MaxIdleConns: cfg.workers * 2, MaxIdleConnsPerHost: cfg.workers * 2, IdleConnTimeout: time.Minute}
	return &client{cfg: cfg, http: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
}

// do sends one request and reads the whole answer.
func (c *client) do(ctx context.Context, method, path string, body any, auth bool) (int, []byte, error) {
	status, b, _, err := c.send(ctx, method, path, body, auth, "")
	return status, b, err
}

// send sends one request, with If-Match when ifMatch is not empty, and reads the whole
// answer and its ETag.
func (c *client) send(ctx context.Context, method, path string, body any, auth bool, ifMatch string) (int, []byte, string, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, "", err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.url+path, rd)
	if err != nil {
		return 0, nil, "", err
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+c.cfg.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header.Get("ETag"), err
}

// getJSON GETs path and decodes a 200 answer into v.
func (c *client) getJSON(ctx context.Context, path string, auth bool, v any) error {
	status, b, err := c.do(ctx, http.MethodGet, path, nil, auth)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: %d %.200s", path, status, b)
	}
	return json.Unmarshal(b, v)
}

// cityInfo is what the workers need to know of the city.
type cityInfo struct {
	bounds    [4]float64 // west, south, east, north
	layers    []tileLayer
	buildings []int64
}

type tileLayer struct {
	name             string
	minZoom, maxZoom int
}

// discover reads the catalog and a page of building ids.
func (c *client) discover(ctx context.Context) (*cityInfo, error) {
	var cat struct {
		Bounds *[4]float64 `json:"bounds"`
		Layers []struct {
			Name    string `json:"name"`
			MinZoom int    `json:"minzoom"`
			MaxZoom int    `json:"maxzoom"`
		} `json:"layers"`
	}
	if err := c.getJSON(ctx, "/catalog", false, &cat); err != nil {
		return nil, err
	}
	if cat.Bounds == nil {
		return nil, errors.New("the catalog has no bounds: is the model loaded?")
	}
	city := &cityInfo{bounds: *cat.Bounds}
	for _, l := range cat.Layers {
		city.layers = append(city.layers, tileLayer{l.Name, l.MinZoom, l.MaxZoom})
	}
	b := city.bounds
	var fc struct {
		Features []struct {
			ID int64 `json:"id"`
		} `json:"features"`
	}
	path := fmt.Sprintf("/api/features/buildings?bbox=%v,%v,%v,%v&limit=1000", b[0], b[1], b[2], b[3])
	if err := c.getJSON(ctx, path, false, &fc); err != nil {
		return nil, err
	}
	for _, f := range fc.Features {
		city.buildings = append(city.buildings, f.ID)
	}
	if len(city.buildings) == 0 || len(city.layers) == 0 {
		return nil, errors.New("the city has no buildings or no layers")
	}
	return city, nil
}
