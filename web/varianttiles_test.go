package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/scenarios"
)

// costlyScenario stores a scenario of n new buildings, each a circle of 4,900 vertices
// around the city's origin: building its variant checks every circle for self-crossings, a
// comparison of every pair of its edges, so a build takes a noticeable time. The changes go
// to the store directly, without the API's validation (which would cost as much).
func (f *apiFixture) costlyScenario(t *testing.T, n int) string {
	t.Helper()
	const vertices = 4900
	ring := make(orb.Ring, 0, vertices+1)
	for i := range vertices {
		a := 2 * math.Pi * float64(i) / vertices
		ring = append(ring, f.city.Proj.ToWGS84(orb.Point{30 * math.Cos(a), 30 * math.Sin(a)}))
	}
	ring = append(ring, ring[0])
	geom, err := geojson.NewGeometry(orb.Polygon{ring}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	first, err := scenarios.DecodeChange(scenarios.ChangeInput{Kind: scenarios.AddBuilding, Geometry: geom,
		Properties: map[string]any{"use": "office", "floors": 3.0}})
	if err != nil {
		t.Fatal(err)
	}
	changes := make([]scenarios.Change, n)
	for i := range changes {
		c := first // the geometry is only read: every change may share it
		c.Seq = int64(i + 1)
		c.ID = fmt.Sprintf("c%d", c.Seq)
		c.FeatureID = scenarios.AddedIDBase + c.Seq
		changes[i] = c
	}
	now := time.Now().UTC()
	sc := scenarios.Scenario{ID: scenarios.NewID(), Name: "costly", Version: 1, CreatedAt: now, UpdatedAt: now,
		Changes: n, ChangeSeq: int64(n)}
	if err := f.svc.Store.CreateScenario(context.Background(), sc, changes); err != nil {
		t.Fatal(err)
	}
	return sc.ID
}

// variantTilePath is the path of the variant tile of scenario id at the city's origin.
func (f *apiFixture) variantTilePath(id string, dx uint32) string {
	tile := maptile.At(f.city.Proj.ToWGS84(orb.Point{0, 0}), 16)
	return fmt.Sprintf("/api/scenarios/%s/tiles/buildings/%d/%d/%d.mvt", id, tile.Z, tile.X+dx, tile.Y)
}

func TestConcurrentVariantTilesBuildTheVariantOnce(t *testing.T) {
	f := newAPIFixture(t, nil)
	id := f.costlyScenario(t, 3)
	// Eight requests at once, two for each of four tiles of a variant not built yet.
	var wg sync.WaitGroup
	status := make([]int, 8)
	for i := range status {
		wg.Go(func() {
			status[i] = f.planner(t, "GET", f.variantTilePath(id, uint32(i%4)), nil).status
		})
	}
	wg.Wait()
	for i, s := range status {
		if s != http.StatusOK && s != http.StatusNoContent {
			t.Fatalf("request %d: status %d", i, s)
		}
	}
	if n := f.svc.VariantBuilds(); n != 1 {
		t.Errorf("8 concurrent tile requests built the variant %d times, want 1", n)
	}
	if c := f.cache.Stats().Computations; c != 4 {
		t.Errorf("8 concurrent requests of 4 tiles made %d tiles, want 4", c)
	}
}

func TestVariantTilesAreCachedAndRevalidated(t *testing.T) {
	f := newAPIFixture(t, nil)
	id := f.create(t, "cached")
	add := func(x float64) {
		t.Helper()
		a := f.planner(t, "POST", "/api/scenarios/"+id+"/changes", map[string]any{
			"kind": "add_building", "geometry": f.rect(x, 10, x+20, 30), "properties": map[string]any{"use": "office", "floors": 3}})
		wantStatus(t, "add a building", a, 201)
	}
	add(10)
	path := f.variantTilePath(id, 0)

	first := f.planner(t, "GET", path, nil)
	wantStatus(t, "the first request", first, 200)
	etag := first.header.Get("ETag")
	if cc := first.header.Get("Cache-Control"); cc != "private, no-cache" || etag == "" {
		t.Fatalf("Cache-Control %q, ETag %q", cc, etag)
	}
	second := f.planner(t, "GET", path, nil)
	wantStatus(t, "the second request", second, 200)
	if st := f.cache.Stats(); st.Computations != 1 || st.Hits != 1 || second.header.Get("ETag") != etag {
		t.Fatalf("after two requests: %+v, ETag %q then %q; want 1 computation, 1 hit, the same ETag", st, etag, second.header.Get("ETag"))
	}
	wantStatus(t, "a revalidation", f.planner(t, "GET", path, nil, "If-None-Match", etag), 304)
	if n := f.svc.VariantBuilds(); n != 1 {
		t.Fatalf("three requests of one tile built the variant %d times, want 1", n)
	}

	// A new version of the scenario is a new tile, its variant built once more.
	add(40)
	third := f.planner(t, "GET", path, nil)
	wantStatus(t, "after a change", third, 200)
	if third.header.Get("ETag") == etag || f.cache.Stats().Computations != 2 || f.svc.VariantBuilds() != 2 {
		t.Fatalf("after a change: ETag %q (was %q), %+v, %d builds; want a new tile from a new variant",
			third.header.Get("ETag"), etag, f.cache.Stats(), f.svc.VariantBuilds())
	}
	// So is a new data version of the model, though the bytes (and so the ETag) are the same.
	f.model.Invalidate()
	wantStatus(t, "after the data changed", f.planner(t, "GET", path, nil, "If-None-Match", third.header.Get("ETag")), 304)
	if c := f.cache.Stats().Computations; c != 3 {
		t.Fatalf("after the data version moved: %d computations, want 3", c)
	}
}

func TestACancelledVariantTileRequestStopsTheBuild(t *testing.T) {
	f := newAPIFixture(t, nil)
	id := f.costlyScenario(t, 60)
	get := func(ctx context.Context) chan int {
		r := httptest.NewRequestWithContext(ctx, "GET", f.variantTilePath(id, 0), nil)
		r.Header.Set("Authorization", "Bearer "+plannerToken)
		done := make(chan int, 1)
		go func() {
			w := httptest.NewRecorder()
			f.h.ServeHTTP(w, r)
			done <- w.Code
		}()
		return done
	}
	waitBuilds := func(n int64) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); f.svc.VariantBuilds() < n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d variant builds after 5 s, want %d", f.svc.VariantBuilds(), n)
			}
		}
	}

	goroutines := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	done := get(ctx)
	waitBuilds(1)
	cancel()
	select {
	case code := <-done:
		if code != http.StatusServiceUnavailable {
			t.Fatalf("the cancelled request was answered %d, want 503", code)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the cancelled request was not answered within 2 s")
	}
	// Nobody waits for the build any more: it was given up, so the next request starts a
	// build of its own instead of joining the one still running for nobody. The build leaves
	// its flight when its goroutine sees the cancellation: wait until the goroutines of the
	// first request have ended, else a request quick enough joins the build before its last
	// waiter has left (and there is one build).
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > goroutines; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines 5 s after the cancellation, %d before the request", runtime.NumGoroutine(), goroutines)
		}
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	done = get(ctx)
	waitBuilds(2)
	cancel()
	<-done
}
