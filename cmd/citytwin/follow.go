package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/scenarios/pgstore"
	"github.com/citytwin/citytwin/web"
)

// Several servers on one database stay consistent through PostgreSQL notifications: an
// import anywhere invalidates every server's tiles and reloads its model (watchTileVersions
// and modelReloader); a scenario write anywhere is announced too (watchScenarios), though
// every server already reads scenarios from the database on each request.

// modelLoads serializes loads of the model, so that a reload asked for while an earlier load
// runs starts after it, from a newer snapshot, and is the one installed last.
var modelLoads sync.Mutex

// modelReloader returns a function that asks for the model to be loaded again from store.
// Requests made while a load runs or waits make one more load, not one each.
func modelReloader(ctx context.Context, store layers.Store, srv *web.Server, log *slog.Logger) func() {
	kick := make(chan struct{}, 1)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-kick:
			}
			if err := loadModel(ctx, store, srv, log); err != nil && ctx.Err() == nil {
				log.Error("reload model", "err", err)
			}
		}
	}()
	return func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
}

// watchScenarios follows the scenario writes of every server on the database, forgetting the
// engine's cached state of scenarios deleted elsewhere, until ctx ends.
func watchScenarios(ctx context.Context, st *pgstore.Store, engine *scenarios.Engine, log *slog.Logger) {
	for ctx.Err() == nil {
		err := st.Watch(ctx, nil, func(c pgstore.Change) {
			if c.Version == 0 {
				engine.Forget(c.ID)
			}
			log.Debug("scenario changed", "id", c.ID, "version", c.Version)
		})
		if err != nil {
			log.Warn("watching scenario changes failed; retrying in 5 s", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}
