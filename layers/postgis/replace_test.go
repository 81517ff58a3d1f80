package postgis

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// layerState is what a reader sees of the buildings: their count and id range.
type layerState struct{ count, min, max int64 }

func readBuildings(ctx context.Context, s *Store) (layerState, error) {
	var st layerState
	err := s.pool.QueryRow(ctx, "SELECT count(*), coalesce(min(id), 0), coalesce(max(id), 0) FROM buildings").Scan(&st.count, &st.min, &st.max)
	return st, err
}

func TestAReaderDuringAReplaceSeesTheOldLayerOrTheNewNeverAMixOrNothing(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t)
	if _, err := s.Import(ctx, syntheticBuildings(3000, 1)); err != nil {
		t.Fatal(err)
	}
	old := layerState{3000, 1, 3000}
	fresh := layerState{20000, 100001, 120000} // ids 100001 .. 100001+20000-1
	next := syntheticBuildings(20000, 100001)

	stop := make(chan struct{})
	var (
		wg    sync.WaitGroup
		reads int
		seen  = map[layerState]int{}
		bad   error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			st, err := readBuildings(ctx, s)
			if err != nil {
				bad = err
				return
			}
			reads++
			seen[st]++
		}
	}()
	counts, err := s.Replace(ctx, []string{"buildings"}, next)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if bad != nil {
		t.Fatal(bad)
	}
	if counts["buildings"] != 20000 {
		t.Errorf("replace counted %v, want 20000 buildings", counts)
	}
	for st, n := range seen {
		if st != old && st != fresh {
			t.Errorf("a reader saw %d buildings, ids %d..%d (%d times): neither the old layer %+v nor the new %+v", st.count, st.min, st.max, n, old, fresh)
		}
	}
	if seen[old] == 0 {
		t.Errorf("no read during the replace saw the old layer (%d reads): readers waited for the import instead of reading the old layer", reads)
	}
	if st, err := readBuildings(ctx, s); err != nil || st != fresh {
		t.Errorf("after the replace: %+v, %v; want %+v", st, err, fresh)
	}
	t.Logf("%d reads during the replace: %v", reads, seen)
}

func TestAReplaceTheDatabaseRefusesLeavesTheOldLayer(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t)
	if _, err := s.Import(ctx, syntheticBuildings(10, 1)); err != nil {
		t.Fatal(err)
	}
	next := syntheticBuildings(5, 100)
	next = append(next, next[0]) // id 100 twice
	if _, err := s.Replace(ctx, []string{"buildings"}, next); !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("replace with an id twice: %v, want ErrDuplicateID", err)
	}
	if st, err := readBuildings(ctx, s); err != nil || st != (layerState{10, 1, 10}) {
		t.Errorf("after the failed replace: %+v, %v; want the 10 old buildings", st, err)
	}
	if _, err := s.Replace(ctx, []string{"buildings"}, syntheticBuildings(1, 1)[:0]); err != nil {
		t.Fatal(err)
	}
	if st, _ := readBuildings(ctx, s); st.count != 0 {
		t.Errorf("a replace with no features left %d buildings, want the layer emptied", st.count)
	}
}

func TestAReplaceAndAnUpsertBumpTheLayersDataVersion(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t)
	version := func() int64 {
		var v int64
		if err := s.pool.QueryRow(ctx, "SELECT coalesce((SELECT version FROM data_versions WHERE layer = 'buildings'), 0)").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if _, err := s.Import(ctx, syntheticBuildings(10, 1)); err != nil {
		t.Fatal(err)
	}
	v0 := version()
	if _, err := s.Replace(ctx, []string{"buildings"}, syntheticBuildings(10, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Upsert(ctx, "cad_number", syntheticBuildings(12, 1)); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != v0+2 {
		t.Errorf("data version %d after a replace and an upsert from %d, want %d (each announces a change)", v, v0, v0+2)
	}
	st, _ := readBuildings(ctx, s)
	if want := (layerState{12, 1, 12}); st != want {
		t.Errorf("after upserting CJ-0000000..11 over CJ-0000000..9: %+v, want %+v", st, want)
	}
}
