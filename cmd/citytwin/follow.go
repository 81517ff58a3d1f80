package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/scenarios/pgstore"
)

// Several servers on one database stay consistent through PostgreSQL notifications: an
// import anywhere invalidates every server's tiles and reloads its model (watchTileVersions
// and citymodel.Model.FollowChanges); a scenario write anywhere is announced too (watchScenarios), though
// every server already reads scenarios from the database on each request.

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
