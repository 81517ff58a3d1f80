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

	"github.com/citytwin/citytwin/data"
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

	tileFiles tileFilesFlag // exported tile pyramids served by name (export.go)
}

func runServe(ctx context.Context, args []string) error {
	conf, err := loadServeConfig(args, envValue) // flags, CITYTWIN_*, --config (config.go)
	if err != nil {
		return err
	}
	cfg := conf.serveConfig
	log, err := newLogger(cfg.logFormat, os.Stderr)
	if err != nil {
		return err
	}

	mode := "memory"
	if cfg.database != "" {
		mode = "postgis"
	}
	// Scenarios run on the engine in memory; their store is opened with the layers' below.
	engine, err := scenarios.NewEngine(conf.params)
	if err != nil {
		return err
	}
	scen := scenarios.NewService(nil, engine, nil)
	store, closeStore, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeStore()
	tokenStore := serverTokens(store, cfg.dataDir)
	tokens := tokenVerifier(tokenStore, conf.plannerToken, log)
	// Base-layer tiles: PostGIS makes them when there is a database (ST_AsMVT); else the
	// memory source does, over the model (web.Options.TileSource nil).
	opts := web.Options{Logger: log, Mode: mode, Scenarios: scen, Tokens: tokens, TokenStore: tokenStore,
		TileCache:   tiles.NewCache(int64(cfg.tileCacheMB) << 20),
		TileMaxAge:  time.Duration(cfg.tileMaxAge) * time.Second,
		CORSOrigins: splitList(cfg.corsOrigins),
	}
	pg, _ := store.(*postgis.Store)
	if pg != nil {
		opts.TileSource, opts.TileSourceName = pg, "postgis"
		opts.DatabaseCheck = pg.Ping
	}
	if err := conf.limits.apply(&opts); err != nil {
		return err
	}
	if opts.Published, err = publishLayers(ctx, conf, pg); err != nil {
		return err
	}
	var closeTileFiles func()
	if opts.TileFiles, closeTileFiles, err = openTileFiles(cfg.tileFiles, opts.Published); err != nil {
		return err
	}
	defer closeTileFiles()
	srv := web.New(opts)
	scen.City = srv.City
	if pg != nil {
		srv.Metrics().RegisterPool(pg.Pool())
		go watchTileVersions(ctx, pg, srv, modelReloader(ctx, store, srv, log), log)
		go watchScenarios(ctx, pgstore.New(pg.Pool()), engine, log)
	}
	httpSrv := &http.Server{
		Addr:              cfg.addr,
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	if scen.Store, err = openScenarioStore(cfg, store); err != nil {
		return err
	}
	scen.Store = srv.Metrics().MeasureRuns(scen.Store)
	loadErr := make(chan error, 1)
	go func() { loadErr <- loadModel(ctx, store, srv, log) }()

	serveErr := make(chan error, 1)
	go func() {
		log.Info("listening", "addr", cfg.addr, "mode", mode)
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
	log.Info("shutting down", "timeout", cfg.shutdown)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdown)
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
func openStore(ctx context.Context, cfg serveConfig, log *slog.Logger) (layers.Store, func(), error) {
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

// loadModel loads every layer into the in-memory index and hands it to the server.
func loadModel(ctx context.Context, store layers.Store, srv *web.Server, log *slog.Logger) error {
	modelLoads.Lock()
	defer modelLoads.Unlock()
	start := time.Now()
	city, err := spatial.Load(ctx, store)
	if err != nil {
		return err
	}
	srv.SetCity(city)
	srv.Metrics().ObserveModelLoad(time.Since(start))
	log.Info("model loaded", "seconds", time.Since(start).Seconds(), "features", city.Counts())
	return nil
}

// openScenarioStore opens where scenarios, changes and runs live: PostGIS beside the layers,
// or the scenarios/ directory of the data directory in memory mode.
func openScenarioStore(cfg serveConfig, store layers.Store) (scenarios.Store, error) {
	if pg, ok := store.(*postgis.Store); ok {
		return pgstore.New(pg.Pool()), nil
	}
	st, err := scenarios.OpenDir(filepath.Join(cfg.dataDir, "scenarios"))
	if err != nil {
		return nil, fmt.Errorf("open scenario store: %w", err)
	}
	return st, nil
}

// watchTileVersions invalidates cached tiles and reloads the model whenever a layer changes in
// the database (an import by this or any other process). While the database is away cached tiles stay: they
// are still right, and all a client can be served. Once listening again it invalidates them,
// since a change may have been missed meanwhile.
func watchTileVersions(ctx context.Context, pg *postgis.Store, srv *web.Server, reload func(), log *slog.Logger) {
	pg.FollowVersions(ctx, postgis.VersionFollower{
		Changed: func(versions map[string]int64) {
			srv.InvalidateTiles()
			reload()
			log.Info("layers changed: tile cache invalidated, model reloading", "versions", versions)
		},
		Resumed: func() {
			srv.InvalidateTiles()
			reload()
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
