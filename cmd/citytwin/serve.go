package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/data"
	"github.com/citytwin/citytwin/ingest"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/layers/postgis"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/scenarios/pgstore"
	"github.com/citytwin/citytwin/spatial"
	"github.com/citytwin/citytwin/tiles"
	"github.com/citytwin/citytwin/web"
)

type serveConfig struct {
	addr      string
	database  string
	dataDir   string
	logFormat string
	shutdown  time.Duration

	statementTimeout time.Duration // statement_timeout of the pool's connections; 0: the URL's, else 30 s

	tileCacheMB int    // tile cache budget in MiB; 0: off
	tileMaxAge  int    // Cache-Control max-age of tiles, seconds
	corsOrigins string // comma-separated origins allowed by CORS; "*": any; "": none

	backgroundTiles       string // XYZ raster tiles drawn under the city style; "": none
	backgroundAttribution string

	tileFiles tileFilesFlag // exported tile pyramids served by name (export.go)

	quotas scenarios.Quotas // per scenario and per token; 0: the defaults
}

// mode names the store the server runs on, for /readyz and the logs.
func (cfg *serveConfig) mode() string {
	if cfg.database != "" {
		return "postgis"
	}
	return "memory"
}

// runServe serves the city: it reads the configuration, opens the stores, wires the live
// model, the scenario service and the HTTP server, loads the model and follows the
// database's changes, and serves until ctx ends.
func runServe(ctx context.Context, args []string) error {
	cfg, err := loadServeConfig(args, envValue) // flags, CITYTWIN_*, --config (config.go)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.logFormat, os.Stderr)
	if err != nil {
		return err
	}
	store, closeStore, err := openStore(ctx, &cfg.serveConfig, log)
	if err != nil {
		return err
	}
	defer closeStore()
	metrics := web.NewMetrics()
	model := citymodel.New(citymodel.Options{Store: store, Logger: log,
		Loaded: func(_ *spatial.City, took time.Duration) { metrics.ObserveModelLoad(took) }})
	scen, err := newScenarioService(cfg, store, model, metrics)
	if err != nil {
		return err
	}
	opts, closeTileFiles, err := webOptions(ctx, cfg, store, model, scen, metrics, log)
	if err != nil {
		return err
	}
	defer closeTileFiles()
	srv := web.New(opts)
	if pg, ok := store.(*postgis.Store); ok {
		followDatabase(ctx, pg, model, scen.Engine, metrics, log)
	}
	if fs, ok := store.(*data.FileStore); ok {
		followDataDir(ctx, fs, model, log)
	}
	return serveUntilDone(ctx, cfg, srv, model, log)
}

// newScenarioService makes the scenario service: the engine with the configured parameters,
// over the live model, on the scenario store beside the layers' (runs measured).
func newScenarioService(cfg *Config, store layers.Store, model *citymodel.Model, metrics *web.Metrics) (*scenarios.Service, error) {
	engine, err := scenarios.NewEngine(cfg.params)
	if err != nil {
		return nil, err
	}
	calibrateToCensus(engine, store)
	st, err := openScenarioStore(&cfg.serveConfig, store)
	if err != nil {
		return nil, err
	}
	svc := scenarios.NewService(metrics.MeasureRuns(st), engine, model)
	svc.Quotas = cfg.quotas
	return svc, nil
}

// webOptions gathers what the HTTP server needs: base-layer tiles made by PostGIS when there
// is a database (ST_AsMVT), else by the memory source over the model (TileSource nil);
// tokens, limits, the published extra layers and the tile files served by name. The
// returned function closes the tile files.
func webOptions(ctx context.Context, cfg *Config, store layers.Store, model *citymodel.Model, scen *scenarios.Service,
	metrics *web.Metrics, log *slog.Logger) (web.Options, func(), error) {
	tokenStore := serverTokens(store, cfg.dataDir)
	opts := web.Options{Logger: log, Mode: cfg.mode(), Model: model, Metrics: metrics, Scenarios: scen,
		Tokens: tokenVerifier(tokenStore, cfg.plannerToken, log), TokenStore: tokenStore,
		TileCache:   tiles.NewCache(int64(cfg.tileCacheMB) << 20),
		TileMaxAge:  time.Duration(cfg.tileMaxAge) * time.Second,
		CORSOrigins: splitList(cfg.corsOrigins),
	}
	if cfg.backgroundTiles != "" {
		opts.Background = &web.RasterBackground{TilesURL: cfg.backgroundTiles, Attribution: cfg.backgroundAttribution}
	}
	pg, _ := store.(*postgis.Store)
	if pg != nil {
		opts.TileSource, opts.TileSourceName = pg, "postgis"
		opts.DatabaseCheck = pg.Ping
	}
	if err := cfg.limits.apply(&opts); err != nil {
		return opts, nil, err
	}
	opts.Import.Store, _ = store.(ingest.Writer) // the admin upload page (web/adminimport.go)
	var err error
	if opts.Published, err = publishLayers(ctx, cfg, pg); err != nil {
		return opts, nil, err
	}
	var closeTileFiles func()
	if opts.TileFiles, closeTileFiles, err = openTileFiles(cfg.tileFiles, opts.Published); err != nil {
		return opts, nil, err
	}
	return opts, closeTileFiles, nil
}

// followDatabase keeps a server on a database in step with the others until ctx ends: the
// pool's statistics in the metrics, the model reloaded when layers change, the engine's state
// of scenarios deleted elsewhere forgotten.
func followDatabase(ctx context.Context, pg *postgis.Store, model *citymodel.Model, engine *scenarios.Engine, metrics *web.Metrics, log *slog.Logger) {
	metrics.RegisterPool(pg.Pool())
	go model.FollowChanges(ctx)
	go watchTileVersions(ctx, pg, model, log)
	go watchScenarios(ctx, pgstore.New(pg.Pool()), engine, log)
}

// serveUntilDone loads the model while serving HTTP, and shuts the server down when ctx ends;
// a model that fails to load, or a listener that fails, ends it with that error.
func serveUntilDone(ctx context.Context, cfg *Config, srv *web.Server, model *citymodel.Model, log *slog.Logger) error {
	httpSrv := &http.Server{
		Addr:              cfg.addr,
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	loadErr := make(chan error, 1)
	go func() { loadErr <- model.Load(ctx) }()

	serveErr := make(chan error, 1)
	go func() {
		log.Info("listening", "addr", cfg.addr, "mode", cfg.mode())
		serveErr <- httpSrv.ListenAndServe()
	}()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case err := <-loadErr:
		if err != nil {
			return err
		}
	case <-ctx.Done():
	}
	if ctx.Err() == nil {
		select {
		case err := <-serveErr:
			return fmt.Errorf("serve: %w", err)
		case <-ctx.Done():
		}
	}
	return shutdown(httpSrv, cfg.shutdown, log)
}

// shutdown lets the requests in flight finish within timeout, then cuts those still running.
func shutdown(httpSrv *http.Server, timeout time.Duration, log *slog.Logger) error {
	log.Info("shutting down", "timeout", timeout)
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := httpSrv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		// Cut the requests still running: their contexts end, so their statements are
		// cancelled and the pool can close.
		httpSrv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// openStore opens the store the server runs on: PostGIS (migrated) when a database is
// configured, else the memory mode's files.
func openStore(ctx context.Context, cfg *serveConfig, log *slog.Logger) (layers.Store, func(), error) {
	if cfg.database == "" {
		return data.NewFileStore(cfg.dataDir), func() {}, nil
	}
	pg, err := openMigrated(ctx, cfg.database, postgis.Options{StatementTimeout: cfg.statementTimeout})
	if err != nil {
		return nil, nil, err
	}
	log.Info("database ready")
	return pg, func() {
		// Close waits for connections in use; one stuck on a database that does not answer
		// would hold the exit for ever.
		closed := make(chan struct{})
		go func() {
			pg.Close()
			close(closed)
		}()
		select {
		case <-closed:
			log.Info("database connections closed")
		case <-time.After(5 * time.Second):
			log.Warn("database connections still busy after 5 s: exiting without them")
		}
	}, nil
}

// openScenarioStore opens where scenarios, changes and runs live: PostGIS beside the layers,
// or the scenarios/ directory of the data directory in memory mode.
func openScenarioStore(cfg *serveConfig, store layers.Store) (scenarios.Store, error) {
	if pg, ok := store.(*postgis.Store); ok {
		return pgstore.New(pg.Pool()), nil
	}
	st, err := scenarios.OpenDir(filepath.Join(cfg.dataDir, "scenarios"))
	if err != nil {
		return nil, fmt.Errorf("open scenario store: %w", err)
	}
	return st, nil
}

// watchTileVersions tells the model whenever a layer changes in the database (an import by
// this or any other process): its data version goes up, which invalidates cached tiles, and
// it reloads. While the database is away cached tiles stay: they are still right, and all a
// client can be served. Once listening again the model is told too, since a change may have
// been missed meanwhile.
func watchTileVersions(ctx context.Context, pg *postgis.Store, model *citymodel.Model, log *slog.Logger) {
	pg.FollowVersions(ctx, postgis.VersionFollower{
		Changed: func(versions map[string]int64) {
			model.Changed()
			log.Info("layers changed: tile cache invalidated, model reloading", "versions", versions)
		},
		Resumed: func() {
			model.Changed()
			log.Info("watching layer changes again: tile cache invalidated, model reloading")
		},
		Failed: func(err error, retryIn time.Duration) {
			log.Warn("watching layer changes failed", "err", err, "retry_in", retryIn.String())
		},
	})
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
