package scenarios_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/scenarios/pgstore"
)

// Every committed scenario write is announced to every server on the database; a write that
// fails is not. (Other tests write scenarios on the same database at the same time: only this
// test's scenario counts.)
func TestPostGISScenarioWritesAreAnnounced(t *testing.T) {
	st := pgstore.New(pgStore(t).Pool())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	id := scenarios.NewID()
	got := make(chan pgstore.Change, 16)
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- st.Watch(ctx, func() { close(ready) }, func(c pgstore.Change) {
			if c.ID == id {
				got <- c
			}
		})
	}()
	<-ready
	next := func() pgstore.Change {
		t.Helper()
		select {
		case c := <-got:
			return c
		case err := <-done:
			t.Fatalf("watch ended: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("no announcement")
		}
		return pgstore.Change{}
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	sc := scenarios.Scenario{ID: id, Name: "a", Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := st.CreateScenario(ctx, sc, nil); err != nil {
		t.Fatal(err)
	}
	if c := next(); c.Version != 1 {
		t.Errorf("create announced %+v, want version 1", c)
	}
	sc.Name, sc.Version = "b", 2
	if err := st.UpdateScenario(ctx, sc, 7); !errors.Is(err, scenarios.ErrConflict) {
		t.Fatalf("update at a wrong version: %v, want a conflict", err)
	}
	if err := st.UpdateScenario(ctx, sc, 1); err != nil {
		t.Fatal(err)
	}
	// The conflicting update rolled back and said nothing: the next announcement is version 2.
	if c := next(); c.Version != 2 {
		t.Errorf("update announced %+v, want version 2", c)
	}
	if err := st.DeleteScenario(ctx, id, 2); err != nil {
		t.Fatal(err)
	}
	if c := next(); c.Version != 0 {
		t.Errorf("delete announced %+v, want version 0", c)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("watch after its context ended: %v", err)
	}
}
