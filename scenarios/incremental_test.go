package scenarios

import (
	"context"
	"errors"
	"math/rand"
	"reflect"
	"testing"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

func serviceOn(t testing.TB, c *spatial.City) *Service {
	t.Helper()
	st, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return NewService(st, newEngine(t), citymodel.Fixed(c))
}

// sameResults reports the first difference between two runs' numbers (not ids or timings).
func sameResults(t *testing.T, what string, got, want *Run) bool {
	t.Helper()
	if !reflect.DeepEqual(got.Indicators, want.Indicators) {
		for k, v := range want.Indicators {
			if got.Indicators[k] != v {
				t.Errorf("%s: %s = %+v, full run says %+v", what, k, got.Indicators[k], v)
			}
		}
		return false
	}
	if !reflect.DeepEqual(got.Districts, want.Districts) {
		t.Errorf("%s: districts differ", what)
		return false
	}
	if !reflect.DeepEqual(sortedViolations(got.Violations), sortedViolations(want.Violations)) || !reflect.DeepEqual(got.Overloaded, want.Overloaded) {
		t.Errorf("%s: violations or overloads differ: %d vs %d violations", what, len(got.Violations), len(want.Violations))
		return false
	}
	return true
}

// addRandom adds one random change that validates, retrying until one does.
func addRandom(t *testing.T, rng *rand.Rand, svc *Service, id string) Change {
	return addRandomOf(t, rng, svc, id, randomChange)
}

// addRandomOf is addRandom with the changes of gen.
func addRandomOf(t *testing.T, rng *rand.Rand, svc *Service, id string, gen func(*rand.Rand, *spatial.City, *Variant) ChangeInput) Change {
	t.Helper()
	ctx := context.Background()
	for range 50 {
		_, changes, err := svc.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		v, err := Build(svc.Model.City(), svc.Engine.Parameters(), changes)
		if err != nil {
			t.Fatal(err)
		}
		in := gen(rng, svc.Model.City(), v)
		_, added, err := svc.AddChanges(ctx, id, nil, []ChangeInput{in})
		var fe *layers.FieldError
		if errors.As(err, &fe) {
			continue // e.g. a random polygon over a hole in the extent
		}
		if err != nil {
			t.Fatal(err)
		}
		return added[0]
	}
	t.Fatal("no random change validated in 50 tries")
	return Change{}
}

func TestIncrementalRunsEqualFullRunsOnRandomChanges(t *testing.T) {
	incrementalEqualsFull(t, synthCityT(t, 3000, 11), randomChange)
}

// With a walking network the facility and green-space changes recompute their kind's walks.
func TestIncrementalRunsEqualFullRunsOnRandomChangesWithAWalkingNetwork(t *testing.T) {
	c := withGridStreets(synthCityT(t, 3000, 11), 160)
	incrementalEqualsFull(t, c, randomChange)
}

func incrementalEqualsFull(t *testing.T, c *spatial.City, gen func(*rand.Rand, *spatial.City, *Variant) ChangeInput) {
	svc := serviceOn(t, c)
	full := newEngine(t)
	ctx := context.Background()
	rng := rand.New(rand.NewSource(42))
	sc, err := svc.Create(ctx, "random", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Run(ctx, sc.ID, nil, RunOptions{}); err != nil { // the state incremental runs start from
		t.Fatal(err)
	}
	incremental := 0
	for step := range 120 {
		cur, changes, _ := svc.Get(ctx, sc.ID)
		if len(changes) > 0 && rng.Intn(4) == 0 {
			// Remove a random change; one a later change depends on is refused (409).
			victim := changes[rng.Intn(len(changes))]
			if _, err := svc.RemoveChange(ctx, sc.ID, victim.ID, nil); err != nil && !errors.Is(err, ErrInUse) {
				t.Fatal(err)
			}
		} else {
			// One to three changes between runs.
			for range 1 + rng.Intn(3) {
				addRandomOf(t, rng, svc, sc.ID, gen)
			}
		}
		_ = cur
		got, err := svc.Run(ctx, sc.ID, nil, RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Incremental {
			incremental++
		}
		now, changes, _ := svc.Get(ctx, sc.ID)
		want, err := full.Run(ctx, c, now, changes, RunOptions{Full: true})
		if err != nil {
			t.Fatal(err)
		}
		if !sameResults(t, "step "+itoa(int64(step)), got, want) {
			t.Fatalf("step %d: incremental run (%d buildings recomputed) differs from the full run; changes: %+v", step, got.Recomputed, changes[len(changes)-1])
		}
	}
	if incremental < 100 {
		t.Fatalf("only %d of 120 runs were incremental", incremental)
	}
}

func TestApplyingThenRemovingAChangeRestoresTheBaseline(t *testing.T) {
	c := synthCityT(t, 2000, 5)
	svc := serviceOn(t, c)
	ctx := context.Background()
	rng := rand.New(rand.NewSource(7))
	sc, err := svc.Create(ctx, "property", "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		ch := addRandom(t, rng, svc, sc.ID)
		if _, err := svc.Run(ctx, sc.ID, nil, RunOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.RemoveChange(ctx, sc.ID, ch.ID, nil); err != nil {
			t.Fatal(err)
		}
		run, err := svc.Run(ctx, sc.ID, nil, RunOptions{Full: i%2 == 1}) // incremental and full alike
		if err != nil {
			t.Fatal(err)
		}
		for name, v := range run.Indicators {
			if v.Variant != v.Baseline || v.Diff != 0 {
				t.Fatalf("after applying and removing %s %s: %s = %+v", ch.Kind, ch.ID, name, v)
			}
		}
		for _, d := range run.Districts {
			for name, v := range d.Indicators {
				if v.Variant != v.Baseline {
					t.Fatalf("after applying and removing %s: district %s %s = %+v", ch.Kind, d.Name, name, v)
				}
			}
		}
		for _, v := range run.Violations {
			if v.New {
				t.Fatalf("after applying and removing %s: new violation %+v", ch.Kind, v)
			}
		}
		if len(run.Changed) != 0 {
			t.Fatalf("changed features remain: %+v", run.Changed)
		}
	}
}
