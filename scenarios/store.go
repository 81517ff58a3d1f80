package scenarios

import "context"

// Store keeps scenarios, their changes and their runs. Every method returns only once the
// write is durable (committed, or fsynced), so an acknowledged change survives a crash.
//
// Writes are conditional on the version the caller read (optimistic concurrency): when the
// stored scenario's version is not expected, they fail with ErrConflict and change nothing.
// A missing scenario or run is ErrNotFound.
type Store interface {
	// CreateScenario stores a new scenario with its changes (a clone's copies, or none).
	CreateScenario(ctx context.Context, s Scenario, changes []Change) error
	// Scenario returns a scenario and its changes in order.
	Scenario(ctx context.Context, id string) (Scenario, []Change, error)
	// Scenarios lists every scenario, most recently created first.
	Scenarios(ctx context.Context) ([]Scenario, error)
	// UpdateScenario replaces the scenario's metadata (name, description, version,
	// updated_at) when its stored version is expected.
	UpdateScenario(ctx context.Context, s Scenario, expected int64) error
	// DeleteScenario removes a scenario with its changes and runs when its stored version is
	// expected.
	DeleteScenario(ctx context.Context, id string, expected int64) error
	// AddChanges appends changes and stores the scenario's new metadata s, all or nothing,
	// when its stored version is expected.
	AddChanges(ctx context.Context, s Scenario, expected int64, changes []Change) error
	// RemoveChange removes one change and stores the scenario's new metadata s when its
	// stored version is expected.
	RemoveChange(ctx context.Context, s Scenario, expected int64, changeID string) error
	// SaveRun stores a run of an existing scenario.
	SaveRun(ctx context.Context, r *Run) error
	// PruneRuns keeps the keep most recent runs of a scenario (by created_at, then id) and
	// removes the others.
	PruneRuns(ctx context.Context, scenarioID string, keep int) error
	// AppendAudit appends an entry to the audit log of scenario writes (append-only).
	AppendAudit(ctx context.Context, e AuditEntry) error
	// Audit returns the last n entries of the audit log, most recent first.
	Audit(ctx context.Context, n int) ([]AuditEntry, error)
	// Run returns a stored run of a scenario.
	Run(ctx context.Context, scenarioID, runID string) (*Run, error)
	// Runs lists the stored runs of a scenario, most recent first (by created_at, then id);
	// none for a scenario without runs.
	Runs(ctx context.Context, scenarioID string) ([]RunSummary, error)
}
