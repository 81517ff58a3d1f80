// Package postgis is the PostGIS store of CityTwin's base layers: a pgx connection pool, the
// embedded schema migrations, all-or-nothing import by binary COPY, streaming load into the
// in-memory model, per-layer data versions with change notifications, and vector tiles made
// by PostGIS itself (ST_AsMVT, one SQL statement per tile).
//
// Public output never reads restricted fields: they live in a table of their own
// (parcels_private) that only Import, Load and Truncate name.
package postgis

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citytwin/citytwin/layers"
)

// Defaults of Open; a database URL overrides them with pool_max_conns=N,
// statement_timeout=… (any PostgreSQL duration, e.g. 5s or 5000 for milliseconds) and
// connect_timeout=N (seconds), and Options override the URL.
const (
	// DefaultMaxConns bounds the pool. Tile statements are CPU-bound in PostgreSQL: on a
	// 2-core host, zoom-15 throughput under 32 concurrent requests was flat, within the
	// noise, from 4 connections to 32, so more connections only add backends competing for
	// the cores. 16 lets half of 32 concurrent tile requests run while the rest queue
	// briefly in the pool, and leaves room for WatchVersions (which holds one), a Load, an
	// import and scenario writes.
	DefaultMaxConns = 16
	// DefaultStatementTimeout stops a runaway query (a tile at a huge extent, a bad plan).
	// Import and Load lift it for their own transactions.
	DefaultStatementTimeout = 30 * time.Second
	// DefaultConnectTimeout bounds one attempt to open a connection. Without it a database
	// host that drops packets would hold a request until the kernel gives up on TCP (minutes);
	// with it a request fails fast and the client is told to retry.
	DefaultConnectTimeout = 5 * time.Second
)

// Options tune Open beyond the database URL. A zero field keeps the URL's setting, or the
// default when the URL has none.
type Options struct {
	// StatementTimeout is the statement_timeout of every connection of the pool: PostgreSQL
	// cancels a statement that runs longer.
	StatementTimeout time.Duration
	// ConnectTimeout bounds each attempt to open a connection.
	ConnectTimeout time.Duration
}

// Store keeps the base layers in PostGIS. It implements layers.Store and layers.Source.
type Store struct {
	pool *pgxpool.Pool
	// Progress, when set, is called as Import copies a layer: done of total features so
	// far, and once more with done == total when the layer is written.
	Progress func(layer string, done, total int)

	tileMu  sync.RWMutex
	tileSQL map[string]string // tile statement by layer set and zoom class (see tile.go)
	extras  map[string]*table // extra layers by name, set by ResolveExtras (extra.go)
}

var (
	_ layers.Store  = (*Store)(nil)
	_ layers.Source = (*Store)(nil)
)

// Open connects to the database at url (a postgres:// URL or key=value string) with the
// default Options and checks that it answers. It does not migrate: call
// Migrate(ctx, s.Pool()).
func Open(ctx context.Context, url string) (*Store, error) {
	return OpenWith(ctx, url, Options{})
}

// OpenWith is Open with Options.
func OpenWith(ctx context.Context, url string, o Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	switch {
	case o.ConnectTimeout > 0:
		cfg.ConnConfig.ConnectTimeout = o.ConnectTimeout
	case cfg.ConnConfig.ConnectTimeout == 0:
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	rp := cfg.ConnConfig.RuntimeParams
	setDefault(rp, "application_name", "citytwin")
	// A runtime parameter is sent when each connection starts, so every connection of the
	// pool has it, whenever it was (re)opened.
	if o.StatementTimeout > 0 {
		rp["statement_timeout"] = fmt.Sprint(o.StatementTimeout.Milliseconds())
	}
	setDefault(rp, "statement_timeout", fmt.Sprint(DefaultStatementTimeout.Milliseconds()))
	// JIT compilation is triggered by the planner's cost estimate of a tile statement over
	// a big layer and adds tens of milliseconds of compiling to a query that runs in a few.
	setDefault(rp, "jit", "off")
	// A parallel plan splits ST_AsMVT into partial tiles merged in arbitrary order: the same
	// tile would come out in different bytes (breaking ETags shared by several servers),
	// larger, and no faster when 32 tile requests already share the cores.
	setDefault(rp, "max_parallel_workers_per_gather", "0")
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s: %w", cfg.ConnConfig.Host, err)
	}
	return New(pool), nil
}

func setDefault(m map[string]string, k, v string) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

// New returns a store on an existing pool; Close closes the pool.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, tileSQL: map[string]string{}}
}

// Pool returns the connection pool (for Migrate, and for other packages' tables).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that the database answers, on a connection of the pool (opening one when
// none is idle). ctx bounds how long it may take.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Close closes every connection of the pool. It waits for connections in use to come back.
func (s *Store) Close() { s.pool.Close() }
