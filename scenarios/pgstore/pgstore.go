// Package pgstore keeps scenarios, their changes and their runs in PostGIS, beside the base
// layers, so an acknowledged write survives a crash. The tables come from the embedded
// migrations of layers/postgis.
package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/internal/pglisten"
	"github.com/citytwin/citytwin/scenarios"
)

// Store keeps scenarios, their changes and their runs in the tables of migration
// 0002_scenarios.sql. Every write is one transaction, committed before the method returns,
// and conditional on the scenario's version (optimistic concurrency).
type Store struct {
	pool *pgxpool.Pool
}

var _ scenarios.Store = (*Store)(nil)

// New returns the scenario store on a migrated database.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

const scenarioColumns = `s.id, s.name, s.description, s.version, coalesce(s.parent, ''), s.change_seq, s.created_at, s.updated_at, s.owner, s.visibility,
	(SELECT count(*) FROM scenario_changes c WHERE c.scenario_id = s.id)`

func scanScenario(row pgx.Row) (scenarios.Scenario, error) {
	var sc scenarios.Scenario
	var n int64
	err := row.Scan(&sc.ID, &sc.Name, &sc.Description, &sc.Version, &sc.Parent, &sc.ChangeSeq, &sc.CreatedAt, &sc.UpdatedAt, &sc.Owner, &sc.Visibility, &n)
	sc.Changes = int(n)
	sc.CreatedAt, sc.UpdatedAt = sc.CreatedAt.UTC(), sc.UpdatedAt.UTC()
	return sc, err
}

// CreateScenario implements scenarios.Store.
func (s *Store) CreateScenario(ctx context.Context, sc scenarios.Scenario, changes []scenarios.Change) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO scenarios (id, name, description, version, parent, change_seq, created_at, updated_at, owner, visibility)
			VALUES ($1, $2, $3, $4, nullif($5, ''), $6, $7, $8, $9, $10)`,
			sc.ID, sc.Name, sc.Description, sc.Version, sc.Parent, sc.ChangeSeq, sc.CreatedAt, sc.UpdatedAt, sc.Owner, sc.Visibility.OrDefault())
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return fmt.Errorf("scenario %s exists: %w", sc.ID, scenarios.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("insert scenario: %w", err)
		}
		if err := insertChanges(ctx, tx, sc.ID, changes); err != nil {
			return err
		}
		return notifyChange(ctx, tx, sc.ID, sc.Version)
	})
}

func insertChanges(ctx context.Context, tx pgx.Tx, id string, changes []scenarios.Change) error {
	if len(changes) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, c := range changes {
		var g []byte
		if c.Geometry != nil && c.Geometry.Coordinates != nil {
			var err error
			if g, err = wkb.Marshal(c.Geometry.Coordinates); err != nil {
				return fmt.Errorf("change %s: %w", c.ID, err)
			}
		}
		props := c.Properties
		if props == nil {
			props = map[string]any{}
		}
		pj, err := json.Marshal(props)
		if err != nil {
			return fmt.Errorf("change %s: %w", c.ID, err)
		}
		var feature *int64
		if c.FeatureID != 0 {
			feature = &c.FeatureID
		}
		b.Queue(`INSERT INTO scenario_changes (scenario_id, id, seq, kind, target, feature_id, geom, properties, created_at)
			VALUES ($1, $2, $3, $4, nullif($5, ''), $6, ST_SetSRID(ST_GeomFromWKB($7), 4326), $8, $9)`,
			id, c.ID, c.Seq, string(c.Kind), c.Target, feature, g, pj, c.CreatedAt)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("insert changes: %w", err)
	}
	return nil
}

// Scenario implements scenarios.Store.
func (s *Store) Scenario(ctx context.Context, id string) (scenarios.Scenario, []scenarios.Change, error) {
	var sc scenarios.Scenario
	var changes []scenarios.Change
	// One read-only transaction with repeatable read: the scenario and its changes are
	// from the same moment.
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		sc, err = scanScenario(tx.QueryRow(ctx, `SELECT `+scenarioColumns+` FROM scenarios s WHERE s.id = $1`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("scenario %s: %w", id, scenarios.ErrNotFound)
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, seq, kind, coalesce(target, ''), coalesce(feature_id, 0), ST_AsBinary(geom), properties, created_at
			FROM scenario_changes WHERE scenario_id = $1 ORDER BY seq`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c scenarios.Change
			var kind string
			var g, props []byte
			if err := rows.Scan(&c.ID, &c.Seq, &kind, &c.Target, &c.FeatureID, &g, &props, &c.CreatedAt); err != nil {
				return err
			}
			c.Kind = scenarios.Kind(kind)
			c.CreatedAt = c.CreatedAt.UTC()
			if g != nil {
				geom, err := wkb.Unmarshal(g)
				if err != nil {
					return fmt.Errorf("change %s geometry: %w", c.ID, err)
				}
				c.Geometry = geojson.NewGeometry(geom)
			}
			if err := json.Unmarshal(props, &c.Properties); err != nil {
				return fmt.Errorf("change %s properties: %w", c.ID, err)
			}
			if len(c.Properties) == 0 {
				c.Properties = nil
			}
			changes = append(changes, c)
		}
		return rows.Err()
	})
	if err != nil {
		return scenarios.Scenario{}, nil, err
	}
	if changes == nil {
		changes = []scenarios.Change{}
	}
	return sc, changes, nil
}

// Scenarios implements scenarios.Store.
func (s *Store) Scenarios(ctx context.Context) ([]scenarios.Scenario, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+scenarioColumns+` FROM scenarios s ORDER BY s.created_at DESC, s.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []scenarios.Scenario{}
	for rows.Next() {
		sc, err := scanScenario(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// bump writes the scenario's metadata when its version is expected; otherwise it tells a
// missing scenario (ErrNotFound) from a moved-on one (ErrConflict).
func bump(ctx context.Context, tx pgx.Tx, sc scenarios.Scenario, expected int64) error {
	tag, err := tx.Exec(ctx, `UPDATE scenarios SET name = $2, description = $3, version = $4, change_seq = $5, updated_at = $6, visibility = $8
		WHERE id = $1 AND version = $7`, sc.ID, sc.Name, sc.Description, sc.Version, sc.ChangeSeq, sc.UpdatedAt, expected, sc.Visibility.OrDefault())
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 1 {
		return notifyChange(ctx, tx, sc.ID, sc.Version)
	}
	return missingOrConflict(ctx, tx, sc.ID, expected)
}

func missingOrConflict(ctx context.Context, tx pgx.Tx, id string, expected int64) error {
	var v int64
	err := tx.QueryRow(ctx, `SELECT version FROM scenarios WHERE id = $1`, id).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("scenario %s: %w", id, scenarios.ErrNotFound)
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("scenario %s is at version %d, not %d: %w", id, v, expected, scenarios.ErrConflict)
}

// UpdateScenario implements scenarios.Store.
func (s *Store) UpdateScenario(ctx context.Context, sc scenarios.Scenario, expected int64) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// change_seq is not the caller's to change here: keep the stored one.
		var seq int64
		if err := tx.QueryRow(ctx, `SELECT change_seq FROM scenarios WHERE id = $1`, sc.ID).Scan(&seq); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("scenario %s: %w", sc.ID, scenarios.ErrNotFound)
			}
			return err
		}
		sc.ChangeSeq = seq
		return bump(ctx, tx, sc, expected)
	})
}

// AddChanges implements scenarios.Store.
func (s *Store) AddChanges(ctx context.Context, sc scenarios.Scenario, expected int64, changes []scenarios.Change) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := bump(ctx, tx, sc, expected); err != nil {
			return err
		}
		return insertChanges(ctx, tx, sc.ID, changes)
	})
}

// RemoveChange implements scenarios.Store.
func (s *Store) RemoveChange(ctx context.Context, sc scenarios.Scenario, expected int64, changeID string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := bump(ctx, tx, sc, expected); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM scenario_changes WHERE scenario_id = $1 AND id = $2`, sc.ID, changeID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("change %s: %w", changeID, scenarios.ErrNotFound)
		}
		return nil
	})
}

// DeleteScenario implements scenarios.Store.
func (s *Store) DeleteScenario(ctx context.Context, id string, expected int64) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM scenarios WHERE id = $1 AND version = $2`, id, expected)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			return notifyChange(ctx, tx, id, 0)
		}
		return missingOrConflict(ctx, tx, id, expected)
	})
}

// SaveRun implements scenarios.Store.
func (s *Store) SaveRun(ctx context.Context, r *scenarios.Run) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO scenario_runs (scenario_id, id, scenario_version, created_at, duration_ms, result)
		VALUES ($1, $2, $3, $4, $5, $6)`, r.ScenarioID, r.ID, r.ScenarioVersion, r.CreatedAt, r.DurationMS, b)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" { // foreign key: the scenario is gone
		return fmt.Errorf("scenario %s: %w", r.ScenarioID, scenarios.ErrNotFound)
	}
	return err
}

// Run implements scenarios.Store.
func (s *Store) Run(ctx context.Context, scenarioID, runID string) (*scenarios.Run, error) {
	var b []byte
	err := s.pool.QueryRow(ctx, `SELECT result FROM scenario_runs WHERE scenario_id = $1 AND id = $2`, scenarioID, runID).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("run %s of scenario %s: %w", runID, scenarioID, scenarios.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var r scenarios.Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("run %s: %w", runID, err)
	}
	return &r, nil
}

// Runs implements scenarios.Store.
func (s *Store) Runs(ctx context.Context, scenarioID string) ([]scenarios.RunSummary, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, scenario_version, created_at, duration_ms FROM scenario_runs
		WHERE scenario_id = $1 ORDER BY created_at DESC, id DESC`, scenarioID)
	if err != nil {
		return nil, fmt.Errorf("list the runs of scenario %s: %w", scenarioID, err)
	}
	defer rows.Close()
	out := []scenarios.RunSummary{}
	for rows.Next() {
		r := scenarios.RunSummary{ScenarioID: scenarioID}
		if err := rows.Scan(&r.ID, &r.ScenarioVersion, &r.CreatedAt, &r.DurationMS); err != nil {
			return nil, fmt.Errorf("list the runs of scenario %s: %w", scenarioID, err)
		}
		r.CreatedAt = r.CreatedAt.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list the runs of scenario %s: %w", scenarioID, err)
	}
	return out, nil
}

// ChangesChannel is the PostgreSQL notification channel on which every committed scenario
// write is announced, as JSON {"id": "...", "version": N} (version 0: deleted), so that
// every server on the database hears of the writes of the others (see Watch).
const ChangesChannel = "citytwin_scenario_changes"

// Change is one announced scenario write.
type Change struct {
	ID      string `json:"id"`
	Version int64  `json:"version"` // 0: the scenario was deleted
}

// notifyChange announces a write of tx; PostgreSQL delivers it when tx commits, and not at all
// when it rolls back.
func notifyChange(ctx context.Context, tx pgx.Tx, id string, version int64) error {
	payload, _ := json.Marshal(Change{ID: id, Version: version})
	if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", ChangesChannel, string(payload)); err != nil {
		return fmt.Errorf("notify scenario change: %w", err)
	}
	return nil
}

// Watch listens on ChangesChannel and calls fn with each scenario write committed by this
// process or any other on the database, until ctx ends (then it returns nil) or the
// connection fails. It holds one connection of the pool while it runs; ready, when not nil,
// is called once listening is in place.
func (s *Store) Watch(ctx context.Context, ready func(), fn func(Change)) error {
	err := pglisten.Listen(ctx, s.pool, ChangesChannel, ready, func(payload string) error {
		var c Change
		if err := json.Unmarshal([]byte(payload), &c); err != nil {
			return fmt.Errorf("payload %q: %w", payload, err)
		}
		fn(c)
		return nil
	})
	if err != nil {
		return fmt.Errorf("watch scenario changes: %w", err)
	}
	return nil
}

// PruneRuns implements scenarios.Store.
func (s *Store) PruneRuns(ctx context.Context, scenarioID string, keep int) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM scenario_runs WHERE scenario_id = $1 AND id NOT IN (
		SELECT id FROM scenario_runs WHERE scenario_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2)`, scenarioID, keep)
	if err != nil {
		return fmt.Errorf("drop the oldest runs of scenario %s: %w", scenarioID, err)
	}
	return nil
}

// AppendAudit implements scenarios.Store.
func (s *Store) AppendAudit(ctx context.Context, e scenarios.AuditEntry) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO scenario_audit (at, who, action, scenario_id, version) VALUES ($1, $2, $3, $4, $5)`,
		e.At, e.Who, e.Action, e.ScenarioID, e.Version)
	if err != nil {
		return fmt.Errorf("insert the audit entry: %w", err)
	}
	return nil
}

// Audit implements scenarios.Store.
func (s *Store) Audit(ctx context.Context, n int) ([]scenarios.AuditEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT at, who, action, scenario_id, version FROM scenario_audit ORDER BY seq DESC LIMIT $1`, n)
	if err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	defer rows.Close()
	out := []scenarios.AuditEntry{}
	for rows.Next() {
		var e scenarios.AuditEntry
		if err := rows.Scan(&e.At, &e.Who, &e.Action, &e.ScenarioID, &e.Version); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
