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

	tileCacheMB int    // tile cache budget in MiB; 0: off
	tileMaxAge  int    // Cache-Control max-age of tiles, seconds
	corsOrigins string // comma-separated origins allowed by CORS; "*": any; "": none
}

func runServe(ctx context.Context, args []string) error {
	var cfg serveConfig
	fs := newFlagSet("serve", "serve [flags]")
	fs.StringVar(&cfg.addr, "addr", ":8080", "address to listen on")
	fs.StringVar(&cfg.database, "database", "", "PostgreSQL/PostGIS URL (also DATABASE_URL); empty: the embedded demo city in memory")
	fs.StringVar(&cfg.dataDir, "data-dir", "citytwin-data", "directory of the memory mode's files: imported layers and scenarios")
	fs.StringVar(&cfg.logFormat, "log-format", "json", "log format: json or text")
	fs.DurationVar(&cfg.shutdown, "shutdown-timeout", 20*time.Second, "how long in-flight requests may take to finish on SIGTERM")
	fs.IntVar(&cfg.tileCacheMB, "tile-cache-mb", 256, "memory for cached tiles, in MiB; 0 turns the tile cache off")
	fs.IntVar(&cfg.tileMaxAge, "tile-max-age", 3600, "how long browsers and CDNs may keep a tile without revalidating, in seconds (Cache-Control max-age)")
	fs.StringVar(&cfg.corsOrigins, "cors-origins", "*", `origins whose web pages may call the server, comma-separated ("*": any; empty: no CORS headers)`)
	plannerToken := fs.String("planner-token", "", "bearer token of the planner role (the /planner workspace, /api/scenarios); empty: no planner can sign in")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := newLogger(cfg.logFormat, os.Stderr)
	if err != nil {
		return err
	}

	mode := "memory"
	if cfg.database != "" {
		mode = "postgis"
	}
	// Scenarios run on the engine in memory; their store is opened with the layers' below.
	engine, err := scenarios.NewEngine(scenarios.DefaultParameters())
	if err != nil {
		return err
	}
	scen := scenarios.NewService(nil, engine, nil)
	var tokens web.TokenVerifier
	if *plannerToken != "" {
		tokens = web.StaticTokens{web.NewStaticToken(*plannerToken, web.RolePlanner)}
	}
	if cfg.tileCacheMB < 0 || cfg.tileMaxAge < 0 {
		return fmt.Errorf("--tile-cache-mb and --tile-max-age cannot be negative")
	}
	store, closeStore, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeStore()
	// Base-layer tiles: PostGIS makes them when there is a database (ST_AsMVT); else the
	// memory source does, over the model (web.Options.TileSource nil).
	opts := web.Options{Logger: log, Mode: mode, Scenarios: scen, Tokens: tokens,
		TileCache:   tiles.NewCache(int64(cfg.tileCacheMB) << 20),
		TileMaxAge:  time.Duration(cfg.tileMaxAge) * time.Second,
		CORSOrigins: splitList(cfg.corsOrigins),
	}
	pg, _ := store.(*postgis.Store)
	if pg != nil {
		opts.TileSource, opts.TileSourceName = pg, "postgis"
	}
	srv := web.New(opts)
	scen.City = srv.City
	if pg != nil {
		go watchTileVersions(ctx, pg, srv, log)
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
	pg, err := postgis.Open(ctx, cfg.database)
	if err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	if err := postgis.Migrate(ctx, pg.Pool()); err != nil {
		pg.Close()
		return nil, nil, fmt.Errorf("migrate: %w", err)
	}
	log.Info("database ready")
	return pg, pg.Close, nil
}

// loadModel loads every layer into the in-memory index and hands it to the server.
func loadModel(ctx context.Context, store layers.Store, srv *web.Server, log *slog.Logger) error {
	start := time.Now()
	city, err := spatial.Load(ctx, store)
	if err != nil {
		return err
	}
	srv.SetCity(city)
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

// watchTileVersions invalidates cached tiles whenever a layer changes in the database (an
// import by this or any other process), reconnecting after a failure.
func watchTileVersions(ctx context.Context, pg *postgis.Store, srv *web.Server, log *slog.Logger) {
	for ctx.Err() == nil {
		err := pg.WatchVersions(ctx, func(versions map[string]int64) {
			srv.InvalidateTiles()
			log.Info("layers changed: tile cache invalidated", "versions", versions)
		})
		if err != nil {
			log.Warn("watching layer changes; retrying in 5 s", "err", err)
			// Something may have changed while we were not listening.
			srv.InvalidateTiles()
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
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
