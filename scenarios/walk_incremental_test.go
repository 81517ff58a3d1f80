package scenarios

import (
	"context"
	"math/rand"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// randomWalkChange is randomChange with, one time in three, a change of the walking network:
// a footpath between two points of the network up to 400 m apart (over blocks, like a
// footbridge), or a street or footpath closed.
func randomWalkChange(rng *rand.Rand, c *spatial.City, v *Variant) ChangeInput {
	g, err := v.walkNetwork()
	if err != nil || g == nil || rng.Intn(3) > 0 {
		return randomChange(rng, c, v)
	}
	b := c.Proj.Bound(c.Bound)
	randPt := func() orb.Point {
		return orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
	}
	if rng.Intn(2) == 0 {
		// Close the street (or footpath) nearest to a random point.
		a, ok := g.Attach(c.Proj.ToWGS84(randPt()), 0)
		if !ok {
			return randomChange(rng, c, v)
		}
		return ChangeInput{Kind: CloseStreet, Target: targetJSON(g.Edge(a.Edge).Source)}
	}
	p := randPt()
	q := orb.Point{p[0] + (rng.Float64()-0.5)*800, p[1] + (rng.Float64()-0.5)*800}
	q = orb.Point{min(max(q[0], b.Min[0]), b.Max[0]), min(max(q[1], b.Min[1]), b.Max[1])}
	from, ok1 := g.Attach(c.Proj.ToWGS84(p), 0)
	to, ok2 := g.Attach(c.Proj.ToWGS84(q), 0)
	if !ok1 || !ok2 {
		return randomChange(rng, c, v)
	}
	line := orb.LineString{from.At, c.Proj.ToWGS84(orb.Point{(p[0] + q[0]) / 2, (p[1] + q[1]) / 2}), to.At}
	return ChangeInput{Kind: AddFootpath, Geometry: geoJSON(line)}
}

// Footpaths added and streets closed, with facilities and green spaces changed between them:
// every incremental run on the network equals the full run.
func TestIncrementalRunsEqualFullRunsWithFootpathsAndClosedStreets(t *testing.T) {
	c := withGridStreets(synthCityT(t, 3000, 11), 160)
	incrementalEqualsFull(t, c, randomWalkChange)
}

// TestAClosedStreetMovesAHomeOntoAnotherStreetInAnIncrementalRun: a home 5 m from a street
// that leads nowhere near a school, and 35 m from one that does. Closing the first moves the
// home onto the second, whose walk is short although nothing near the closed street reaches a
// school: the incremental run must find that home as the full run does.
//
//	y = 0    ──────────────── street 1, x 0..2000, joined to nothing
//	         home at (1000, -5)
//	y = -40  ──────── street 2, x 500..1500
//	         school at (1000, -50)
func TestAClosedStreetMovesAHomeOntoAnotherStreetInAnIncrementalRun(t *testing.T) {
	p := spatial.NewProjection(orb.Point{23.59, 46.77})
	pt := func(x, y float64) orb.Point { return p.ToWGS84(orb.Point{x, y}) }
	c, err := spatial.NewCity([]layers.Feature{
		{Layer: "buildings", ID: 1, Geometry: rect(p, 995, -10, 1005, 0), Props: map[string]any{"use": "residential", "dwellings": int64(4), "floors": int64(2)}},
		{Layer: "facilities", ID: 1, Geometry: pt(1000, -50), Props: map[string]any{"kind": "school", "capacity": int64(600)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Streets = []layers.Feature{
		{Layer: "streets", ID: 1, Geometry: orb.LineString{pt(0, 0), pt(2000, 0)}},
		{Layer: "streets", ID: 2, Geometry: orb.LineString{pt(500, -40), pt(1500, -40)}},
	}
	e := newEngine(t)
	ctx := context.Background()
	sc := Scenario{ID: "close"}
	if _, err := e.Run(ctx, c, sc, nil, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	closed := prepared(t, c, nil, ChangeInput{Kind: CloseStreet, Target: targetJSON(1)})
	got, err := e.Run(ctx, c, sc, closed, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Open: the home walks street 1, which meets nothing: no school. Closed: 35 m stub to
	// street 2, 10 m stub to the school, 35 + 10 = 45 m <= 800 m.
	if a := got.Indicators["access_school"]; !got.Incremental || a.Baseline != 0 || a.Variant != 1 {
		t.Fatalf("access_school = %+v (incremental %v), want 0 open and 1 with street 1 closed", a, got.Incremental)
	}
}
