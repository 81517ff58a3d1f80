package scenarios

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/spatial"
)

// costlyChanges returns n new buildings, each a circle of 4,000 vertices in the tiny city:
// checking that such a polygon does not cross itself compares every pair of its edges
// (8 million pairs), so every change takes the build a noticeable time.
func costlyChanges(t *testing.T, c *spatial.City, n int) []Change {
	t.Helper()
	const vertices = 4000
	ring := make(orb.Ring, 0, vertices+1)
	for i := range vertices {
		a := 2 * math.Pi * float64(i) / vertices
		ring = append(ring, wgs(c, 200+40*math.Cos(a), 200+40*math.Sin(a)))
	}
	ring = append(ring, ring[0])
	geom := geoJSON(orb.Polygon{ring})
	first, err := DecodeChange(ChangeInput{Kind: AddBuilding, Geometry: geom,
		Properties: map[string]any{"use": "residential", "floors": 3.0}})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Change, n)
	for i := range out {
		ch := first // the geometry is only read: every change may share it
		ch.Seq = int64(i + 1)
		ch.ID = fmt.Sprintf("c%d", ch.Seq)
		ch.FeatureID = AddedIDBase + ch.Seq
		out[i] = ch
	}
	return out
}

func TestConcurrentCallersBuildAVariantOnce(t *testing.T) {
	c := tinyCity(t)
	svc := NewService(nil, newEngine(t), citymodel.Fixed(c))
	sc := Scenario{ID: "s1", Version: 3}
	changes := costlyChanges(t, c, 2)
	var wg sync.WaitGroup
	got := make([]*Variant, 8)
	for i := range got {
		wg.Go(func() {
			v, err := svc.variant(context.Background(), c, sc, changes)
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		})
	}
	wg.Wait()
	if n := svc.VariantBuilds(); n != 1 {
		t.Fatalf("8 concurrent callers made %d builds, want 1", n)
	}
	for _, v := range got {
		if v != got[0] {
			t.Fatal("callers got different variants")
		}
	}
	// The next version of the scenario is a new variant.
	sc.Version++
	if _, err := svc.variant(context.Background(), c, sc, changes); err != nil {
		t.Fatal(err)
	}
	if n := svc.VariantBuilds(); n != 2 {
		t.Fatalf("after a new version: %d builds, want 2", n)
	}
}

func TestACancelledCallerStopsTheVariantBuild(t *testing.T) {
	c := tinyCity(t)
	svc := NewService(nil, newEngine(t), citymodel.Fixed(c))
	changes := costlyChanges(t, c, 200)

	// What one change costs, to tell a stopped build from one that ran to its end.
	start := time.Now()
	if _, err := BuildContext(context.Background(), c, handParameters(), changes[:1]); err != nil {
		t.Fatal(err)
	}
	perChange := time.Since(start)

	ended := make(chan error, 1)
	svc.builtHook = func(err error) { ended <- err }
	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() {
		_, err := svc.variant(ctx, c, Scenario{ID: "s1", Version: 1}, changes)
		waited <- err
	}()
	for svc.VariantBuilds() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(5 * perChange) // some changes in
	cancel()
	cancelled := time.Now()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller got %v, want context.Canceled", err)
	}
	// The build itself stops within a change or two of the cancellation; running to its end
	// would take about 195 changes more.
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the build ended with %v, want context.Canceled", err)
		}
		if took := time.Since(cancelled); took > 20*perChange+100*time.Millisecond {
			t.Fatalf("the build stopped %v after the cancellation; a change takes %v", took, perChange)
		}
	case <-time.After(20*perChange + time.Second):
		t.Fatalf("the build did not stop within %v of the cancellation (a change takes %v)", 20*perChange+time.Second, perChange)
	}
	// Nothing half-built is kept: the next caller builds afresh.
	svc.builtHook = nil
	if _, ok := svc.keptVariant(variantKey{id: "s1", version: 1, city: c}); ok {
		t.Fatal("a cancelled build kept a variant")
	}
}
