// Package citymodel holds the live city model: the one spatial.City that tiles, lookups and
// scenarios read, its data version, its loading and reloading from a layers.Store (PostGIS,
// a data directory, the embedded demo city), and the one error of a model not loaded yet.
package citymodel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// ErrNotReady is returned by whatever needs the model while there is none yet.
var ErrNotReady = errors.New("the city model is not loaded yet")

// Options configure a Model.
type Options struct {
	// Store is where Load reads the whole model; nil: only Set installs one.
	Store layers.Store
	// Logger reports loads and failed reloads; nil: slog.Default().
	Logger *slog.Logger
	// Loaded, when set, is called after each load installed a model, with the time it took.
	Loaded func(c *spatial.City, took time.Duration)
}

// Model holds the current city model, replaced whole by each load while the previous one
// keeps serving. Its data version goes up whenever the data may have changed (a new model, or
// a change announced before the new model is loaded): what was made from older data and is
// kept under an older version (tiles, variants) is no longer served.
type Model struct {
	opts    Options
	city    atomic.Pointer[spatial.City]
	version atomic.Uint64

	loads  sync.Mutex    // one load at a time: a load asked for later starts later, from newer data, and is installed last
	reload chan struct{} // a reload asked for by Changed, waiting for FollowChanges
}

// New returns a model with nothing loaded yet.
func New(opts Options) *Model {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Model{opts: opts, reload: make(chan struct{}, 1)}
}

// Fixed returns a model holding c for good: a city loaded once (an export) or made by a test.
func Fixed(c *spatial.City) *Model {
	m := New(Options{})
	m.Set(c)
	return m
}

// City returns the current model, nil while none is loaded.
func (m *Model) City() *spatial.City { return m.city.Load() }

// Current returns the current model, or ErrNotReady while none is loaded.
func (m *Model) Current() (*spatial.City, error) {
	if c := m.city.Load(); c != nil {
		return c, nil
	}
	return nil, ErrNotReady
}

// Version is the current data version.
func (m *Model) Version() uint64 { return m.version.Load() }

// Set installs (or replaces) the model and bumps the data version. The model is stored
// before the version moves, so whoever reads the new version reads the new model too.
func (m *Model) Set(c *spatial.City) {
	m.city.Store(c)
	m.version.Add(1)
}

// Invalidate bumps the data version without replacing the model: the store's data changed
// (its tiles made elsewhere are stale) and the new model is not loaded yet.
func (m *Model) Invalidate() { m.version.Add(1) }

// Load reads every feature of the store into a new model and installs it. Loads run one at
// a time.
func (m *Model) Load(ctx context.Context) error {
	if m.opts.Store == nil {
		return errors.New("load the city model: no store to load it from")
	}
	m.loads.Lock()
	defer m.loads.Unlock()
	start := time.Now()
	c, err := spatial.Load(ctx, m.opts.Store)
	if err != nil {
		return fmt.Errorf("load the city model: %w", err)
	}
	m.Set(c)
	took := time.Since(start)
	if m.opts.Loaded != nil {
		m.opts.Loaded(c, took)
	}
	m.opts.Logger.Info("model loaded", "seconds", took.Seconds(), "features", c.Counts())
	return nil
}

// Changed says the store's data changed (a change notification, or one that may have been
// missed): the data version goes up at once, and a new load is asked of FollowChanges.
// Requests made while a load runs or waits make one more load, not one each.
func (m *Model) Changed() {
	m.Invalidate()
	select {
	case m.reload <- struct{}{}:
	default:
	}
}

// FollowChanges runs the loads asked for by Changed until ctx ends. A load that fails is
// logged; the model it would have replaced keeps serving.
func (m *Model) FollowChanges(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.reload:
		}
		if err := m.Load(ctx); err != nil && ctx.Err() == nil {
			m.opts.Logger.Error("reload model", "err", err)
		}
	}
}
