package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb/maptile"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/tiles"
)

// Metrics are the server's Prometheus metrics, served at GET /metrics. They live in a
// registry of their own (with the Go runtime's and the process's collectors), not the
// global one, so that two servers in one process (tests) never share counters. Every label
// has a bounded set of values: routes are the router's path templates, never raw paths.
type Metrics struct {
	reg *prometheus.Registry

	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	tileBytes    *prometheus.HistogramVec
	scenarioRuns *prometheus.HistogramVec
	modelLoad    prometheus.Gauge
	modelLoads   prometheus.Counter
}

// NewMetrics returns the metrics of one server.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "citytwin_http_requests_total",
			Help: "HTTP requests answered, by route template, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "citytwin_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route template and method.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 10), // 1 ms .. 3.8 s
		}, []string{"route", "method"}),
		tileBytes: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "citytwin_tile_bytes",
			Help:    `Uncompressed size of base-layer tiles served, by layer ("composite" for several layers in one tile) and zoom; 0 for an empty tile.`,
			Buckets: prometheus.ExponentialBuckets(256, 4, 8), // 256 B .. 4 MiB
		}, []string{"layer", "zoom"}),
		scenarioRuns: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "citytwin_scenario_run_duration_seconds",
			Help:    "Time the engine took to compute a stored scenario run, by kind (full or incremental).",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12), // 5 ms .. 10 s
		}, []string{"kind"}),
		modelLoad: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "citytwin_model_load_seconds",
			Help: "Time the last load of the city model into memory took.",
		}),
		modelLoads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "citytwin_model_loads_total",
			Help: "Loads of the city model into memory (at start, and after each data change).",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.tileBytes, m.scenarioRuns, m.modelLoad, m.modelLoads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where the metrics live; callers may register collectors of their own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveModelLoad records a load of the city model that took d.
func (m *Metrics) ObserveModelLoad(d time.Duration) {
	m.modelLoad.Set(d.Seconds())
	m.modelLoads.Inc()
}

// RegisterPool exports the statistics of a PostgreSQL connection pool.
func (m *Metrics) RegisterPool(pool *pgxpool.Pool) { m.reg.MustRegister(poolCollector{pool.Stat}) }

// MeasureRuns returns st recording the engine's time of every run stored through it.
func (m *Metrics) MeasureRuns(st scenarios.Store) scenarios.Store { return measuredRuns{st, m} }

type measuredRuns struct {
	scenarios.Store
	m *Metrics
}

func (s measuredRuns) SaveRun(ctx context.Context, r *scenarios.Run) error {
	if err := s.Store.SaveRun(ctx, r); err != nil {
		return err
	}
	kind := "full"
	if r.Incremental {
		kind = "incremental"
	}
	s.m.scenarioRuns.WithLabelValues(kind).Observe(r.DurationMS / 1000)
	return nil
}

// metricsHandler serves GET /metrics in the Prometheus text format.
func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{Registry: s.metrics.reg})
}

// registerServerMetrics exports what the server itself holds: the tile cache's statistics,
// the model's feature counts and the tile data version.
func (s *Server) registerServerMetrics() {
	s.metrics.reg.MustRegister(serverCollector{s})
}

// observeTile records the size of a tile served.
func (s *Server) observeTile(ls []*layers.Layer, z maptile.Zoom, size int) {
	layer := "composite"
	if len(ls) == 1 {
		layer = ls[0].Name
	}
	s.metrics.tileBytes.WithLabelValues(layer, strconv.Itoa(int(z))).Observe(float64(size))
}

// routeSlot carries the matched route's template from the router (nameRoute) out to
// measureRequests, which wraps the router and cannot see its match.
type routeSlot struct{ template string }

type routeSlotKey struct{}

// measureRequests counts and times every request by route template, method and status.
// Requests no route matched are counted under the route "unmatched".
func (s *Server) measureRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slot := &routeSlot{}
		r = r.WithContext(context.WithValue(r.Context(), routeSlotKey{}, slot))
		rec := &statusRecorder{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(rec, r)
		route, status := slot.template, rec.status
		if route == "" {
			route = "unmatched"
		}
		if status == 0 {
			status = http.StatusOK
		}
		method := metricMethod(r.Method)
		s.metrics.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
		s.metrics.latency.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
	})
}

// nameRoute is router middleware: it hands the matched route's template to measureRequests.
func nameRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slot, ok := r.Context().Value(routeSlotKey{}).(*routeSlot); ok {
			if rt := mux.CurrentRoute(r); rt != nil {
				slot.template, _ = rt.GetPathTemplate()
			}
		}
		next.ServeHTTP(w, r)
	})
}

// metricMethod bounds the method label: clients may send any token as a method.
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

var (
	cacheHitsDesc        = prometheus.NewDesc("citytwin_tile_cache_hits_total", "Tile cache lookups that found the tile.", nil, nil)
	cacheMissesDesc      = prometheus.NewDesc("citytwin_tile_cache_misses_total", "Tile cache lookups that did not find the tile.", nil, nil)
	cacheComputedDesc    = prometheus.NewDesc("citytwin_tile_cache_computations_total", "Tiles made on a miss (concurrent misses of one tile share one).", nil, nil)
	cacheEvictionsDesc   = prometheus.NewDesc("citytwin_tile_cache_evictions_total", "Tiles pushed out of the cache to stay within its budget.", nil, nil)
	cacheBytesDesc       = prometheus.NewDesc("citytwin_tile_cache_bytes", "Bytes of tiles held in the cache.", nil, nil)
	cacheBudgetDesc      = prometheus.NewDesc("citytwin_tile_cache_budget_bytes", "Bytes the cache may hold (0: off).", nil, nil)
	cacheEntriesDesc     = prometheus.NewDesc("citytwin_tile_cache_entries", "Tiles held in the cache.", nil, nil)
	tileVersionDesc      = prometheus.NewDesc("citytwin_tile_data_version", "The tile data version; it moves whenever a layer's data changes.", nil, nil)
	modelFeaturesDesc    = prometheus.NewDesc("citytwin_model_features", "Features of each layer in the in-memory city model.", []string{"layer"}, nil)
	poolAcquiredDesc     = prometheus.NewDesc("citytwin_db_pool_acquired_conns", "Connections of the pool in use.", nil, nil)
	poolIdleDesc         = prometheus.NewDesc("citytwin_db_pool_idle_conns", "Idle connections of the pool.", nil, nil)
	poolTotalDesc        = prometheus.NewDesc("citytwin_db_pool_total_conns", "Connections of the pool, in use, idle or being opened.", nil, nil)
	poolMaxDesc          = prometheus.NewDesc("citytwin_db_pool_max_conns", "Most connections the pool may hold.", nil, nil)
	poolAcquiresDesc     = prometheus.NewDesc("citytwin_db_pool_acquires_total", "Connections taken from the pool.", nil, nil)
	poolEmptyDesc        = prometheus.NewDesc("citytwin_db_pool_empty_acquires_total", "Acquires that had to wait for a connection.", nil, nil)
	poolCanceledDesc     = prometheus.NewDesc("citytwin_db_pool_canceled_acquires_total", "Acquires given up before a connection came.", nil, nil)
	poolWaitDesc         = prometheus.NewDesc("citytwin_db_pool_acquire_seconds_total", "Time spent acquiring connections.", nil, nil)
	poolNewConnsDesc     = prometheus.NewDesc("citytwin_db_pool_new_conns_total", "Connections opened.", nil, nil)
	poolConstructingDesc = prometheus.NewDesc("citytwin_db_pool_constructing_conns", "Connections being opened.", nil, nil)
)

// serverCollector reads the tile cache's statistics and the model's counts at each scrape.
type serverCollector struct{ s *Server }

func (c serverCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{cacheHitsDesc, cacheMissesDesc, cacheComputedDesc, cacheEvictionsDesc,
		cacheBytesDesc, cacheBudgetDesc, cacheEntriesDesc, tileVersionDesc, modelFeaturesDesc} {
		ch <- d
	}
}

func (c serverCollector) Collect(ch chan<- prometheus.Metric) {
	var st tiles.CacheStats
	if cache := c.s.opts.TileCache; cache != nil {
		st = cache.Stats()
	}
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter(cacheHitsDesc, st.Hits)
	counter(cacheMissesDesc, st.Misses)
	counter(cacheComputedDesc, st.Computations)
	counter(cacheEvictionsDesc, st.Evictions)
	gauge(cacheBytesDesc, st.Bytes)
	gauge(cacheBudgetDesc, st.Budget)
	gauge(cacheEntriesDesc, int64(st.Entries))
	gauge(tileVersionDesc, int64(c.s.model.Version()))
	if city := c.s.model.City(); city != nil {
		for layer, n := range city.Counts() {
			ch <- prometheus.MustNewConstMetric(modelFeaturesDesc, prometheus.GaugeValue, float64(n), layer)
		}
	}
}

// poolCollector reads a pgx pool's statistics at each scrape.
type poolCollector struct{ stat func() *pgxpool.Stat }

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolAcquiredDesc, poolIdleDesc, poolTotalDesc, poolMaxDesc, poolAcquiresDesc,
		poolEmptyDesc, poolCanceledDesc, poolWaitDesc, poolNewConnsDesc, poolConstructingDesc} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stat()
	put := func(d *prometheus.Desc, t prometheus.ValueType, v float64) {
		ch <- prometheus.MustNewConstMetric(d, t, v)
	}
	put(poolAcquiredDesc, prometheus.GaugeValue, float64(st.AcquiredConns()))
	put(poolIdleDesc, prometheus.GaugeValue, float64(st.IdleConns()))
	put(poolTotalDesc, prometheus.GaugeValue, float64(st.TotalConns()))
	put(poolMaxDesc, prometheus.GaugeValue, float64(st.MaxConns()))
	put(poolConstructingDesc, prometheus.GaugeValue, float64(st.ConstructingConns()))
	put(poolAcquiresDesc, prometheus.CounterValue, float64(st.AcquireCount()))
	put(poolEmptyDesc, prometheus.CounterValue, float64(st.EmptyAcquireCount()))
	put(poolCanceledDesc, prometheus.CounterValue, float64(st.CanceledAcquireCount()))
	put(poolWaitDesc, prometheus.CounterValue, st.AcquireDuration().Seconds())
	put(poolNewConnsDesc, prometheus.CounterValue, float64(st.NewConnsCount()))
}
