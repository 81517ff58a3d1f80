package scenarios_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/internal/pgtest"
	"github.com/citytwin/citytwin/layers/postgis"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/scenarios/pgstore"
)

// databaseURL is the test database's address, which scripts/with-postgis.sh provides.
// Without it PostGIS tests fail rather than skip: a green run must have exercised PostGIS.
func databaseURL(tb testing.TB) string { return pgtest.DatabaseURL(tb) }

// pgSchema creates a schema of this test's own (other packages' tests share the database)
// and returns a URL whose search_path is it; the schema is dropped when the test ends.
func pgSchema(tb testing.TB) string {
	tb.Helper()
	return createSchema(tb, true)
}

// pgSchemaKeep is pgSchema without the drop, for data shared by benchmarks (the whole test
// cluster is thrown away afterwards).
func pgSchemaKeep(tb testing.TB) string {
	tb.Helper()
	return createSchema(tb, false)
}

func createSchema(tb testing.TB, drop bool) string {
	tb.Helper()
	if drop {
		u, _ := pgtest.Schema(tb, "citytwin_scen")
		return u
	}
	u, _, _ := pgtest.Create(tb, "citytwin_scen")
	return u
}

// pgStore opens a migrated PostGIS store in a fresh schema.
func pgStore(tb testing.TB) *postgis.Store {
	tb.Helper()
	ctx := context.Background()
	s, err := postgis.Open(ctx, pgSchema(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	if err := postgis.Migrate(ctx, s.Pool()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return s
}

func TestStores(t *testing.T) {
	t.Run("directory", func(t *testing.T) {
		st, err := scenarios.OpenDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		testStore(t, st)
	})
	t.Run("postgis", func(t *testing.T) {
		testStore(t, pgstore.New(pgStore(t).Pool()))
	})
}

// Every kind of change the engine knows is one each store keeps: a store with its own list
// of kinds (a database check) must not lag behind scenarios.Kinds.
func TestStoresKeepEveryKindOfChange(t *testing.T) {
	stores := map[string]func(t *testing.T) scenarios.Store{
		"directory": func(t *testing.T) scenarios.Store {
			st, err := scenarios.OpenDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		"postgis": func(t *testing.T) scenarios.Store { return pgstore.New(pgStore(t).Pool()) },
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
			sc := scenarios.Scenario{ID: scenarios.NewID(), Name: "kinds", Version: 1, CreatedAt: t0, UpdatedAt: t0, Visibility: scenarios.Team}
			if err := st.CreateScenario(ctx, sc, nil); err != nil {
				t.Fatal(err)
			}
			var changes []scenarios.Change
			for i, k := range scenarios.Kinds {
				changes = append(changes, scenarios.Change{ID: fmt.Sprintf("c%d", i+1), Seq: int64(i + 1), Kind: k, Target: "1", CreatedAt: t0})
			}
			next := sc
			next.Version, next.ChangeSeq, next.Changes = 2, int64(len(changes)), len(changes)
			if err := st.AddChanges(ctx, next, 1, changes); err != nil {
				t.Fatalf("storing one change of each of the %d kinds: %v", len(changes), err)
			}
			_, got, err := st.Scenario(ctx, sc.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(scenarios.Kinds) {
				t.Fatalf("%d changes read back, want %d", len(got), len(scenarios.Kinds))
			}
			for i, c := range got {
				if c.Kind != scenarios.Kinds[i] {
					t.Errorf("change %d is %s, want %s", i+1, c.Kind, scenarios.Kinds[i])
				}
			}
		})
	}
}

// testStore is what every scenarios.Store must do.
func testStore(t *testing.T, st scenarios.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	a := scenarios.Scenario{ID: scenarios.NewID(), Name: "A", Description: "first", Version: 1, CreatedAt: t0, UpdatedAt: t0, Owner: "t0123456789abcdef", Visibility: scenarios.Published}
	if err := st.CreateScenario(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateScenario(ctx, a, nil); !errors.Is(err, scenarios.ErrConflict) {
		t.Fatalf("creating an existing id: %v, want ErrConflict", err)
	}
	if _, _, err := st.Scenario(ctx, scenarios.NewID()); !errors.Is(err, scenarios.ErrNotFound) {
		t.Fatalf("a missing scenario: %v", err)
	}

	// Changes round-trip exactly: geometry (bit for bit), properties, ids.
	poly := orb.Polygon{{{23.5912345678901, 46.7712345678901}, {23.5922, 46.7711}, {23.5923, 46.7721}, {23.5912345678901, 46.7712345678901}}}
	c1 := scenarios.Change{ID: "c1", Seq: 1, Kind: scenarios.AddBuilding, Geometry: geojson.NewGeometry(poly), FeatureID: scenarios.AddedIDBase + 1,
		Properties: map[string]any{"use": "residential", "floors": 5.0, "height_m": 16.5}, CreatedAt: t0}
	c2 := scenarios.Change{ID: "c2", Seq: 2, Kind: scenarios.DemolishBuilding, Target: "17", CreatedAt: t0}
	c3 := scenarios.Change{ID: "c3", Seq: 3, Kind: scenarios.AddFacility, Geometry: geojson.NewGeometry(orb.Point{23.59, 46.77}), FeatureID: scenarios.AddedIDBase + 3,
		Properties: map[string]any{"kind": "school", "capacity": 400.0}, CreatedAt: t0}
	a2 := a
	a2.Version, a2.ChangeSeq, a2.Changes, a2.UpdatedAt = 2, 3, 3, t0.Add(time.Second)
	if err := st.AddChanges(ctx, a2, 1, []scenarios.Change{c1, c2, c3}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddChanges(ctx, a2, 1, []scenarios.Change{c1}); !errors.Is(err, scenarios.ErrConflict) {
		t.Fatalf("adding on a stale version: %v, want ErrConflict", err)
	}
	missing := a2
	missing.ID = scenarios.NewID()
	if err := st.AddChanges(ctx, missing, 1, nil); !errors.Is(err, scenarios.ErrNotFound) {
		t.Fatalf("adding to a missing scenario: %v", err)
	}
	got, changes, err := st.Scenario(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, a2) {
		t.Fatalf("scenario read back\n%+v\nwant\n%+v", got, a2)
	}
	want := []scenarios.Change{c1, c2, c3}
	gj := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	if gj(changes) != gj(want) {
		t.Fatalf("changes read back\n%s\nwant\n%s", gj(changes), gj(want))
	}
	if g := changes[0].Geometry.Coordinates.(orb.Polygon); g[0][0] != poly[0][0] {
		t.Fatalf("geometry not exact: %v", g[0][0])
	}

	// Metadata update keeps changes; remove a change.
	a3 := a2
	a3.Name, a3.Version, a3.UpdatedAt = "A'", 3, t0.Add(2*time.Second)
	if err := st.UpdateScenario(ctx, a3, 2); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateScenario(ctx, a3, 2); !errors.Is(err, scenarios.ErrConflict) {
		t.Fatalf("update on a stale version: %v", err)
	}
	a4 := a3
	a4.Version, a4.Changes = 4, 2
	if err := st.RemoveChange(ctx, a4, 3, "c9"); !errors.Is(err, scenarios.ErrNotFound) {
		t.Fatalf("removing a missing change: %v", err)
	}
	if err := st.RemoveChange(ctx, a4, 3, "c2"); err != nil {
		t.Fatal(err)
	}
	got, changes, _ = st.Scenario(ctx, a.ID)
	if got.Version != 4 || got.Name != "A'" || got.Changes != 2 || len(changes) != 2 || changes[1].ID != "c3" || got.ChangeSeq != 3 {
		t.Fatalf("after remove: %+v %d changes", got, len(changes))
	}

	// A clone; the list, newest first.
	b := scenarios.Scenario{ID: scenarios.NewID(), Name: "B", Version: 1, Parent: a.ID, ChangeSeq: 3, CreatedAt: t0.Add(time.Hour), UpdatedAt: t0.Add(time.Hour)}
	if err := st.CreateScenario(ctx, b, changes); err != nil {
		t.Fatal(err)
	}
	list, err := st.Scenarios(ctx)
	if err != nil || len(list) != 2 || list[0].ID != b.ID || list[0].Parent != a.ID || list[0].Changes != 2 {
		t.Fatalf("list: %+v %v", list, err)
	}

	// Runs.
	run := &scenarios.Run{ID: scenarios.NewID(), ScenarioID: a.ID, ScenarioVersion: 4, CreatedAt: t0, DurationMS: 12.5,
		Indicators: map[string]scenarios.Value{"residents": {Baseline: 10, Variant: 12.5, Diff: 2.5}},
		Districts:  []scenarios.DistrictResult{}, Violations: []scenarios.Violation{}}
	if err := st.SaveRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	r, err := st.Run(ctx, a.ID, run.ID)
	if err != nil || r.Indicators["residents"] != run.Indicators["residents"] || r.DurationMS != 12.5 {
		t.Fatalf("run read back: %+v %v", r, err)
	}
	if _, err := st.Run(ctx, b.ID, run.ID); !errors.Is(err, scenarios.ErrNotFound) {
		t.Fatalf("a run of another scenario: %v", err)
	}
	// The list: most recent first, each with its version; none for a scenario without runs.
	later := *run
	later.ID, later.ScenarioVersion, later.CreatedAt = scenarios.NewID(), 5, t0.Add(time.Minute)
	if err := st.SaveRun(ctx, &later); err != nil {
		t.Fatal(err)
	}
	runs, err := st.Runs(ctx, a.ID)
	wantRuns := []scenarios.RunSummary{
		{ID: later.ID, ScenarioID: a.ID, ScenarioVersion: 5, CreatedAt: later.CreatedAt, DurationMS: 12.5},
		{ID: run.ID, ScenarioID: a.ID, ScenarioVersion: 4, CreatedAt: t0, DurationMS: 12.5},
	}
	if err != nil || !reflect.DeepEqual(runs, wantRuns) {
		t.Fatalf("runs listed: %+v %v\nwant %+v", runs, err, wantRuns)
	}
	if runs, err := st.Runs(ctx, b.ID); err != nil || len(runs) != 0 || runs == nil {
		t.Fatalf("runs of a scenario without runs: %#v %v", runs, err)
	}
	orphan := *run
	orphan.ID, orphan.ScenarioID = scenarios.NewID(), scenarios.NewID()
	if err := st.SaveRun(ctx, &orphan); !errors.Is(err, scenarios.ErrNotFound) {
		t.Fatalf("a run of a missing scenario: %v", err)
	}

	// Concurrent writers on one version: exactly one wins.
	var wg sync.WaitGroup
	wins := atomic.Int32{}
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := a4
			next.Version, next.ChangeSeq, next.Changes = 5, 4, 3
			c := scenarios.Change{ID: "c4", Seq: 4, Kind: scenarios.DemolishBuilding, Target: fmt.Sprint(100 + i), CreatedAt: t0}
			err := st.AddChanges(ctx, next, 4, []scenarios.Change{c})
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, scenarios.ErrConflict):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent writers on one version succeeded, want 1", wins.Load())
	}

	// Delete takes changes and runs with it.
	if err := st.DeleteScenario(ctx, a.ID, 4); !errors.Is(err, scenarios.ErrConflict) {
		t.Fatalf("delete on a stale version: %v", err)
	}
	if err := st.DeleteScenario(ctx, a.ID, 5); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteScenario(ctx, a.ID, 5); !errors.Is(err, scenarios.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := st.Run(ctx, a.ID, run.ID); !errors.Is(err, scenarios.ErrNotFound) {
		t.Fatalf("a deleted scenario's run: %v", err)
	}
	if _, changes, err := st.Scenario(ctx, b.ID); err != nil || len(changes) != 2 {
		t.Fatalf("the clone lost its changes with its parent: %v", err)
	}
}
