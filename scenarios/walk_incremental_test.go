package scenarios

import (
	"math/rand"
	"testing"

	"github.com/paulmach/orb"

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
