package scenarios

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// starVertices is the size of the largest polygon a change may hold: 4,998 points and the
// closing one, 4,999 positions (MaxVerticesPerPolygon is 5,000).
const starVertices = 4999

// starGeoJSON is a star of (starVertices-1)/2 = 2,499 spikes around (x, y) in tiny-city
// metres, its points alternately 40 m and 20 m from the centre: a simple polygon whose
// self-intersection check compares millions of pairs of edges.
func starGeoJSON(c *spatial.City, x, y float64) []byte {
	const n = starVertices - 1
	ring := make(orb.Ring, 0, n+1)
	for i := range n {
		r := 40.0
		if i%2 == 1 {
			r = 20
		}
		a := 2 * math.Pi * float64(i) / n
		ring = append(ring, wgs(c, x+r*math.Cos(a), y+r*math.Sin(a)))
	}
	ring = append(ring, ring[0])
	return geoJSON(orb.Polygon{ring})
}

func starChange(t testing.TB, c *spatial.City, x, y float64) ChangeInput {
	return mustChange(t, AddBuilding, "", starGeoJSON(c, x, y), map[string]any{"use": "residential", "floors": 3.0})
}

// A stored change was checked for self-intersection when it was added and its geometry
// never changes: rebuilding the scenario (for a new change, a run, a comparison, a variant
// tile, a removal) applies it without checking again, so that work per request does not grow
// with the square of the vertices stored. A crossed polygon (a bow tie) that somehow got
// stored therefore builds, while the same polygon being added is refused.
func TestRebuildingAScenarioDoesNotRecheckStoredPolygonsForSelfIntersection(t *testing.T) {
	c := tinyCity(t)
	bowTie := geoJSON(orb.Polygon{{wgs(c, 100, 100), wgs(c, 140, 140), wgs(c, 140, 100), wgs(c, 100, 140), wgs(c, 100, 100)}})
	stored := prepared(t, c, nil, mustChange(t, AddBuilding, "", bowTie, map[string]any{"use": "residential", "floors": 2.0}))
	if _, err := BuildContext(context.Background(), c, handParameters(), stored); err != nil {
		t.Fatalf("rebuilding a stored change checked its polygon again: %v", err)
	}
	fresh := stored[0]
	fresh.Seq, fresh.ID, fresh.FeatureID = 2, "c2", AddedIDBase+2
	_, err := Validate(context.Background(), c, handParameters(), stored, []Change{fresh})
	var fe *layers.FieldError
	if !errors.As(err, &fe) || fe.Field != "geometry.coordinates[0]" {
		t.Fatalf("adding a bow tie: %v, want a field error on geometry.coordinates[0]", err)
	}
}

// readSignal is a store that says when a scenario has been read, so that a test can cancel
// a request once its build has begun.
type readSignal struct {
	Store
	read chan struct{}
}

func (s *readSignal) Scenario(ctx context.Context, id string) (Scenario, []Change, error) {
	sc, cs, err := s.Store.Scenario(ctx, id)
	select {
	case s.read <- struct{}{}:
	default:
	}
	return sc, cs, err
}

// A run or a build whose request is cancelled once the scenario has been read stops within
// 100 ms with context.Canceled.
func TestACancelledRunOrBuildStopsPromptly(t *testing.T) {
	svc := newService(t)
	c := svc.Model.City()
	ctx := context.Background()
	// Seven stars and 500 small buildings, stored as a clone would store them (already
	// validated): a build applies every one.
	var ins []ChangeInput
	for i := range 7 {
		ins = append(ins, starChange(t, c, 100+30*float64(i), 200))
	}
	for i := range 500 {
		x, y := 100+float64(i%60)*3, 100+float64(i/60)*3 // a 60 × 9 grid, 3 m apart
		ins = append(ins, mustChange(t, AddBuilding, "", rectGeoJSON(c, x, y, x+2, y+2), map[string]any{"use": "residential", "floors": 2.0}))
	}
	changes := prepared(t, c, nil, ins...)
	sc := Scenario{ID: NewID(), Name: "stars", Version: 1, CreatedAt: now(), UpdatedAt: now(), Changes: len(changes), ChangeSeq: int64(len(changes))}
	if err := svc.Store.CreateScenario(ctx, sc, changes); err != nil {
		t.Fatal(err)
	}
	signal := &readSignal{Store: svc.Store}
	svc.Store = signal
	for _, tc := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"a run", func(ctx context.Context) error { _, err := svc.Run(ctx, sc.ID, nil, RunOptions{}); return err }},
		{"a variant build", func(ctx context.Context) error { _, _, err := svc.Variant(ctx, sc.ID); return err }},
		{"a removal", func(ctx context.Context) error { _, err := svc.RemoveChange(ctx, sc.ID, "c1", nil); return err }},
		{"an added change", func(ctx context.Context) error {
			_, _, err := svc.AddChanges(ctx, sc.ID, nil, []ChangeInput{starChange(t, c, 300, 300)})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			signal.read = make(chan struct{}, 1)
			ctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- tc.call(ctx) }()
			<-signal.read
			cancel()
			cancelled := time.Now()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("got %v, want context.Canceled", err)
				}
				if took := time.Since(cancelled); took > 100*time.Millisecond {
					t.Fatalf("stopped %v after the cancellation, want at most 100 ms", took)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("still running 10 s after the cancellation")
			}
		})
	}
}

// BenchmarkAddChangeToAScenarioWithStars adds star polygons of 4,999 positions to one
// scenario, one per request: the time per request stays flat as stars accumulate, since the
// stored stars are not checked again for self-intersection.
func BenchmarkAddChangeToAScenarioWithStars(b *testing.B) {
	svc := newService(b)
	c := svc.Model.City()
	ctx := context.Background()
	sc, err := svc.Create(ctx, "stars", "")
	if err != nil {
		b.Fatal(err)
	}
	in := starChange(b, c, 200, 200)
	var first, last time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if _, _, err := svc.AddChanges(ctx, sc.ID, nil, []ChangeInput{in}); err != nil {
			b.Fatal(err)
		}
		if last = time.Since(start); i == 0 {
			first = last
		}
	}
	b.ReportMetric(float64(first.Microseconds())/1000, "ms-first")
	b.ReportMetric(float64(last.Microseconds())/1000, "ms-last")
}

// Listing scenarios reads each one's metadata, not its changes: a file whose changes are
// damaged past the metadata still lists (reading that scenario itself fails).
func TestListingScenariosReadsOnlyTheirMetadata(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sc := Scenario{ID: NewID(), Name: "listed", Version: 1, CreatedAt: now(), UpdatedAt: now()}
	if err := st.CreateScenario(ctx, sc, nil); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "scenarios", sc.ID+".json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	cut := bytes.Index(b, []byte(`"changes":[`))
	if cut < 0 {
		t.Fatalf("no changes member in %s", b)
	}
	if err := os.WriteFile(p, append(b[:cut:cut], `"changes":[{"damaged`...), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err = OpenDir(dir); err != nil { // a new store: the first one keeps the scenario in memory
		t.Fatal(err)
	}
	if _, _, err := st.Scenario(ctx, sc.ID); err == nil {
		t.Fatal("a damaged scenario file was read whole without an error")
	}
	list, err := st.Scenarios(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "listed" {
		t.Fatalf("listing: %v, %+v; want the one scenario", err, list)
	}
}
