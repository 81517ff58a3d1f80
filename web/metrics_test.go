package web

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/citytwin/citytwin/scenarios"
)

// scrape reads /metrics through the handler and parses it as Prometheus does.
func scrape(t *testing.T, f *tileFixture) map[string]*dto.MetricFamily {
	t.Helper()
	w := f.do(http.MethodGet, "/metrics")
	if w.Code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("/metrics Content-Type %q, want the text format", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(w.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mfs
}

// sample finds the sample of a family whose labels include every given name=value pair.
func sample(mfs map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	mf := mfs[name]
	if mf == nil {
		return nil
	}
next:
	for _, m := range mf.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		return m
	}
	return nil
}

// value is a counter's, gauge's or untyped sample's value, or a histogram's count; NaN when
// the series is missing.
func value(mfs map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	m := sample(mfs, name, labels...)
	switch {
	case m == nil:
		return math.NaN()
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return math.NaN()
}

const tileRoute = "/tiles/{layers}/{z}/{x}/{y}.{format:mvt|pbf}"

func TestMetricsMoveWithRequests(t *testing.T) {
	f := newTileFixture(t)
	path := "/tiles/buildings/" + centreTile(15) + ".mvt"
	first := f.do(http.MethodGet, path)
	second := f.do(http.MethodGet, path)
	if first.Code != http.StatusOK || second.Code != http.StatusOK {
		t.Fatalf("tile: %d, %d", first.Code, second.Code)
	}
	f.do(http.MethodGet, "/no/such/thing")
	f.do(http.MethodGet, "/tiles/buildings/99/0/0.mvt")

	before := scrape(t, f)
	checks := []struct {
		name   string
		metric string
		labels []string
		want   float64
	}{
		{"two tiles answered 200 under the route's template", "citytwin_http_requests_total", []string{"route", tileRoute, "method", "GET", "status", "200"}, 2},
		{"a bad zoom answered 400 under the same template", "citytwin_http_requests_total", []string{"route", tileRoute, "status", "400"}, 1},
		{"an unknown path is counted as unmatched", "citytwin_http_requests_total", []string{"route", "unmatched", "status", "404"}, 1},
		{"latency observed once per tile request", "citytwin_http_request_duration_seconds", []string{"route", tileRoute, "method", "GET"}, 3},
		{"the first tile missed the cache", "citytwin_tile_cache_misses_total", nil, 1},
		{"the second tile hit it", "citytwin_tile_cache_hits_total", nil, 1},
		{"the cache holds one tile", "citytwin_tile_cache_entries", nil, 1},
		{"the cache's budget", "citytwin_tile_cache_budget_bytes", nil, 8 << 20},
		{"tile sizes by layer and zoom", "citytwin_tile_bytes", []string{"layer", "buildings", "zoom", "15"}, 2},
		{"the model's buildings", "citytwin_model_features", []string{"layer", "buildings"}, 100},
	}
	for _, c := range checks {
		if got := value(before, c.metric, c.labels...); got != c.want {
			t.Errorf("%s: %s%v = %v, want %v", c.name, c.metric, c.labels, got, c.want)
		}
	}
	if b := value(before, "citytwin_tile_cache_bytes"); !(b >= float64(first.Body.Len())) {
		t.Errorf("cache bytes %v, want at least the tile's %d", b, first.Body.Len())
	}
	if h := sample(before, "citytwin_tile_bytes", "layer", "buildings").GetHistogram(); h.GetSampleSum() != float64(2*first.Body.Len()) {
		t.Errorf("tile bytes sum %v, want 2 × %d", h.GetSampleSum(), first.Body.Len())
	}
	for _, name := range []string{"go_goroutines", "process_start_time_seconds", "citytwin_tile_data_version"} {
		if before[name] == nil {
			t.Errorf("%s is missing", name)
		}
	}
	// Cardinality: no label holds a raw path.
	for name, mf := range before {
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if strings.Contains(l.GetValue(), "/buildings/") || strings.Contains(l.GetValue(), "/no/such") {
					t.Errorf("%s has a raw path in label %s=%q", name, l.GetName(), l.GetValue())
				}
			}
		}
	}

	// More traffic moves the series; an invalidation moves the data version.
	f.do(http.MethodHead, path)
	f.model.Invalidate()
	after := scrape(t, f)
	if d := value(after, "citytwin_http_requests_total", "route", tileRoute, "method", "HEAD", "status", "200"); d != 1 {
		t.Errorf("HEAD tile requests: %v, want 1", d)
	}
	if d := value(after, "citytwin_tile_cache_hits_total") - value(before, "citytwin_tile_cache_hits_total"); d != 1 {
		t.Errorf("cache hits moved by %v, want 1", d)
	}
	if d := value(after, "citytwin_http_requests_total", "route", "/metrics", "status", "200"); d != 1 {
		t.Errorf("the first scrape counted %v times, want 1", d)
	}
	if d := value(after, "citytwin_tile_data_version") - value(before, "citytwin_tile_data_version"); d != 1 {
		t.Errorf("data version moved by %v, want 1", d)
	}
}

func TestMetricsOfModelLoadsRunsAndThePool(t *testing.T) {
	f := newTileFixture(t)
	m := f.srv.Metrics()
	m.ObserveModelLoad(1500 * time.Millisecond)

	ctx := context.Background()
	dir, err := scenarios.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st := m.MeasureRuns(dir)
	now := time.Now().UTC()
	id := scenarios.NewID()
	if err := st.CreateScenario(ctx, scenarios.Scenario{ID: id, Name: "a", Version: 1, CreatedAt: now, UpdatedAt: now}, nil); err != nil {
		t.Fatal(err)
	}
	for i, r := range []*scenarios.Run{
		{ID: scenarios.NewID(), ScenarioID: id, ScenarioVersion: 1, DurationMS: 40},
		{ID: scenarios.NewID(), ScenarioID: id, ScenarioVersion: 1, DurationMS: 8, Incremental: true},
		{ID: scenarios.NewID(), ScenarioID: scenarios.NewID(), ScenarioVersion: 1, DurationMS: 8, Incremental: true},
	} {
		err := st.SaveRun(ctx, r)
		if (err != nil) != (i == 2) {
			t.Fatalf("save run %s: %v", r.ID, err)
		}
	}

	// A pool that has not connected yet still reports its settings.
	pool, err := pgxpool.New(ctx, "postgres://nobody@127.0.0.1:1/none?pool_max_conns=4")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	m.RegisterPool(pool)

	mfs := scrape(t, f)
	checks := []struct {
		metric string
		labels []string
		want   float64
	}{
		{"citytwin_model_load_seconds", nil, 1.5},
		{"citytwin_model_loads_total", nil, 1},
		{"citytwin_scenario_run_duration_seconds", []string{"kind", "full"}, 1},
		// The run of a missing scenario was not stored, so it is not counted.
		{"citytwin_scenario_run_duration_seconds", []string{"kind", "incremental"}, 1},
		{"citytwin_db_pool_max_conns", nil, 4},
		{"citytwin_db_pool_acquired_conns", nil, 0},
		{"citytwin_db_pool_acquires_total", nil, 0},
	}
	for _, c := range checks {
		if got := value(mfs, c.metric, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.metric, c.labels, got, c.want)
		}
	}
	if s := sample(mfs, "citytwin_scenario_run_duration_seconds", "kind", "full").GetHistogram().GetSampleSum(); s != 0.04 {
		t.Errorf("full run seconds %v, want 0.04 (40 ms)", s)
	}
}
