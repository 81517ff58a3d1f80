package network

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/citytwin/citytwin/spatial"
)

// The hand-made networks are drawn in metres around Monaco and handed to the graph in
// lon/lat; the graph measures them back in the same projection, so lengths come out as drawn
// to about a micrometre.
var testProj = spatial.NewProjection(orb.Point{7.42, 43.73})

const eps = 1e-6 // metres

// m is the lon/lat point x metres east and y metres north of the origin.
func m(x, y float64) orb.Point { return testProj.ToWGS84(orb.Point{x, y}) }

// ls is the lon/lat line through the metric points (x0, y0, x1, y1, ...).
func ls(xy ...float64) orb.LineString {
	out := make(orb.LineString, 0, len(xy)/2)
	for i := 0; i+1 < len(xy); i += 2 {
		out = append(out, m(xy[i], xy[i+1]))
	}
	return out
}

func build(t testing.TB, lines ...orb.LineString) *Graph {
	t.Helper()
	in := make([]Line, len(lines))
	for i, l := range lines {
		in[i] = Line{Source: int64(i + 1), Geom: l}
	}
	g, err := Build(testProj, in)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func node(t testing.TB, g *Graph, x, y float64) NodeID {
	t.Helper()
	n, ok := g.NodeAt(m(x, y))
	if !ok {
		t.Fatalf("no node at (%g, %g)", x, y)
	}
	return n
}

func attach(t testing.TB, g *Graph, x, y float64) Attachment {
	t.Helper()
	a, ok := g.Attach(m(x, y), 0)
	if !ok {
		t.Fatalf("(%g, %g) does not attach", x, y)
	}
	return a
}

// walk is the walking distance between two metric points attached to g, +Inf when there is
// no way.
func walk(t testing.TB, g *Graph, from, to orb.Point) float64 {
	t.Helper()
	d, _, ok := g.Distances([]Attachment{attach(t, g, from[0], from[1])}, math.Inf(1)).At(attach(t, g, to[0], to[1]))
	if !ok {
		return math.Inf(1)
	}
	return d
}

func near(got, want float64) bool {
	if math.IsInf(want, 1) {
		return math.IsInf(got, 1)
	}
	return math.Abs(got-want) <= eps
}

// riverTown is a 300 m × 300 m grid of 100 m blocks cut by a river between y = 100 and
// y = 200, crossed by one bridge at x = 200:
//
//	y=300  +---+---+---+
//	       |   |   |   |
//	y=200  +---+---+---+
//	   ~~~~~~~~~~~|~~~~~~  river, bridge at x = 200
//	y=100  +---+---+---+
//	       |   |   |   |
//	y=0    +---+---+---+
//	      x=0 100 200 300
//
// Each east-west street is one line through its four crossings, each north-south block side
// its own line, so the crossings are shared interior vertices.
func riverTown(t testing.TB) *Graph {
	var lines []orb.LineString
	for _, y := range []float64{0, 100, 200, 300} {
		lines = append(lines, ls(0, y, 100, y, 200, y, 300, y))
	}
	for _, x := range []float64{0, 100, 200, 300} {
		lines = append(lines, ls(x, 0, x, 100), ls(x, 200, x, 300))
	}
	lines = append(lines, ls(200, 100, 200, 200)) // the bridge, source 13
	return build(t, lines...)
}

func TestRiverTown(t *testing.T) {
	g := riverTown(t)
	// 4 crossings on each of 4 streets; 3 blocks on each of 4 streets + 8 block sides + the bridge.
	if g.NumNodes() != 16 || g.NumEdges() != 4*3+8+1 {
		t.Fatalf("%d nodes and %d edges, want 16 and 21", g.NumNodes(), g.NumEdges())
	}
	home, school := orb.Point{50, 130}, orb.Point{50, 230}
	for _, tc := range []struct {
		name     string
		from, to orb.Point
		want     float64
	}{
		// (0,100) east 200 to the bridge, 100 over it, 200 back west: 500 for a 100 m crow-fly.
		{"crossing the river goes round by the bridge", orb.Point{0, 100}, orb.Point{0, 200}, 200 + 100 + 200},
		// stub 30 down to (50,100), 150 east, bridge 100, 150 west, stub 30 up: 460.
		{"a home reaches the school over the bridge, stubs included", home, school, 30 + 150 + 100 + 150 + 30},
		// Undirected: the same the other way.
		{"the school reaches the home as far", school, home, 30 + 150 + 100 + 150 + 30},
		// (0,0) → (300,300): 300 east, 100 north, bridge at 200 costs nothing extra: 300 + 300 = 600.
		{"a Manhattan walk through the bridge is its Manhattan length", orb.Point{0, 0}, orb.Point{300, 300}, 300 + 300},
		// (250,0) stub 0 on the south street, west 50 to x=200, north 300 up the bridge's line: 350.
		{"a point on a street walks along it", orb.Point{250, 0}, orb.Point{200, 300}, 50 + 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := walk(t, g, tc.from, tc.to); !near(got, tc.want) {
				t.Errorf("walk %v → %v = %.6f m, want %g", tc.from, tc.to, got, tc.want)
			}
		})
	}
}

func TestEdits(t *testing.T) {
	g := riverTown(t)
	home, school := orb.Point{50, 130}, orb.Point{50, 230}
	closed := g.WithoutSource(13)
	atNodes, _, err := g.WithLine(ls(0, 100, 0, 200), 100, 5)
	if err != nil {
		t.Fatal(err)
	}
	midEdge, mid, err := g.WithLine(ls(150, 100, 150, 200), 101, 5)
	if err != nil {
		t.Fatal(err)
	}
	offNetwork, off, err := g.WithLine(ls(140, 103, 160, 197), 102, 5)
	if err != nil {
		t.Fatal(err)
	}
	both, _, err := closed.WithLine(ls(300, 100, 300, 200), 103, 5)
	if err != nil {
		t.Fatal(err)
	}
	// A graph with a block of the south street closed, then one derived from it with the
	// bridge closed too: the first must keep its bridge.
	southBlock := attach(t, g, 50, 0).Edge
	oneClosed := g.WithoutEdges(southBlock)
	_ = oneClosed.WithoutSource(13)
	for _, tc := range []struct {
		name  string
		g     *Graph
		edges int
		want  float64
	}{
		{"closing the only bridge cuts the home off the school", closed, 20, math.Inf(1)},
		// stub 30, 50 west to (0,100), footbridge 100, 50 east, stub 30: 260.
		{"a footbridge joined at two crossings shortens the walk", atNodes, 22, 30 + 50 + 100 + 50 + 30},
		// A footbridge at x = 150, mid-block on both banks: each end splits a block (2 edges
		// out, 4 in, plus the bridge): 21 - 2 + 4 + 1 = 24 edges.
		// stub 30, 100 east to x = 150, footbridge 100, 100 west, stub 30: 360.
		{"a footbridge ending inside two blocks splits them", midEdge, 24, 30 + 100 + 100 + 100 + 30},
		// A slanting footbridge from (140,103) to (160,197), 3 m short of either street, joined
		// by 3 m stubs square to the streets: stub 30, 90 east, 3 + √(20² + 94²) + 3, 110 west,
		// stub 30 = 362.104.
		{"a footbridge ending short of the streets is joined by stubs", offNetwork, 24, 30 + 90 + 3 + math.Hypot(20, 94) + 3 + 110 + 30},
		// Bridge at x=300 instead of x=200: 250 east, 100, 250 west, stubs: 30 + 250 + 100 + 250 + 30.
		{"a new bridge on a graph with the old one closed is the way over", both, 21, 30 + 250 + 100 + 250 + 30},
		// Closing (0,0)–(100,0) does not touch the walk over the bridge.
		{"a graph keeps its bridge when a graph derived from it closes it", oneClosed, 20, 30 + 150 + 100 + 150 + 30},
		// The edits above derived graphs from g; g itself still has its 21 edges and one bridge.
		{"the original graph is unchanged by the edits made from it", g, 21, 30 + 150 + 100 + 150 + 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.g.NumEdges() != tc.edges {
				t.Errorf("%d edges, want %d", tc.g.NumEdges(), tc.edges)
			}
			if got := walk(t, tc.g, home, school); !near(got, tc.want) {
				t.Errorf("walk home → school = %.6f m, want %g", got, tc.want)
			}
		})
	}
	if l := midEdge.Edge(mid).Length; !near(l, 100) {
		t.Errorf("the footbridge between the streets is %.6f m long, want 100", l)
	}
	if l, want := offNetwork.Edge(off).Length, 3+math.Hypot(20, 94)+3; !near(l, want) { // 102.104
		t.Errorf("the footbridge with its stubs is %.6f m long, want %.6f", l, want)
	}
}

// deadEndTown is a street A(0,0)–B(200,0)–C(400,0) with a cul-de-sac from B up to D(200,150).
func deadEndTown(t testing.TB) *Graph {
	return build(t, ls(0, 0, 200, 0, 400, 0), ls(200, 0, 200, 150))
}

func TestDeadEndAndStubs(t *testing.T) {
	g := deadEndTown(t)
	if g.NumNodes() != 4 || g.NumEdges() != 3 {
		t.Fatalf("%d nodes and %d edges, want 4 and 3", g.NumNodes(), g.NumEdges())
	}
	for _, tc := range []struct {
		name     string
		from, to orb.Point
		want     float64
	}{
		// D down the cul-de-sac 150 to B, 200 east to C.
		{"the end of a cul-de-sac walks out by it", orb.Point{200, 150}, orb.Point{400, 0}, 150 + 200},
		// (300,60) is 60 m from the street and 100 m from the cul-de-sac, whose end D is its
		// nearest node (√(100² + 90²) ≈ 134.5 m) but not its nearest edge; stub 60 to (300,0),
		// 100 west to B, 150 up: 310.
		{"a stub goes to the nearest edge, not the nearest node", orb.Point{300, 60}, orb.Point{200, 150}, 60 + 100 + 150},
		// Both on A–B: stub 5, 100 along the edge, stub 5 = 110, not 5 + 150 + 50 + 5 via B.
		{"two points on one edge walk straight along it", orb.Point{50, 5}, orb.Point{150, -5}, 5 + 100 + 5},
		// (210,100): 10 m from the cul-de-sac at (200,100); 100 down to B, 50 west, stub 5 to (150,-5).
		{"a point beside the cul-de-sac joins it", orb.Point{210, 100}, orb.Point{150, -5}, 10 + 100 + 50 + 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := walk(t, g, tc.from, tc.to); !near(got, tc.want) {
				t.Errorf("walk %v → %v = %.6f m, want %g", tc.from, tc.to, got, tc.want)
			}
		})
	}
}

func TestSnapping(t *testing.T) {
	for _, tc := range []struct {
		name   string
		gap    float64
		nodes  int
		walk   float64
		linked bool
	}{
		// The second line starts at the node (100, 0) the first line made: 100 + 100.
		{"ends 5 mm apart are one node", 0.005, 3, 100 + 100, true},
		{"ends 5 cm apart are two dead ends", 0.05, 4, math.Inf(1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := build(t, ls(0, 0, 100, 0), ls(100+tc.gap, 0, 200, 0))
			if g.NumNodes() != tc.nodes {
				t.Errorf("%d nodes, want %d", g.NumNodes(), tc.nodes)
			}
			d, ok := g.Distances([]Attachment{g.AtNode(node(t, g, 0, 0))}, math.Inf(1)).Node(node(t, g, 200, 0))
			if ok != tc.linked || (ok && !near(d, tc.walk)) {
				t.Errorf("walk = %.6f (%v), want %g", d, ok, tc.walk)
			}
		})
	}
	t.Run("lines passing through a shared vertex meet there", func(t *testing.T) {
		g := build(t, ls(0, 0, 50, 0, 100, 0), ls(50, -50, 50, 0, 50, 50))
		// 4 ends and the shared vertex; each line cut in two.
		if g.NumNodes() != 5 || g.NumEdges() != 4 {
			t.Fatalf("%d nodes and %d edges, want 5 and 4", g.NumNodes(), g.NumEdges())
		}
		// 50 east to the crossing, 50 north.
		if d, ok := g.Distances([]Attachment{g.AtNode(node(t, g, 0, 0))}, math.Inf(1)).Node(node(t, g, 50, 50)); !ok || !near(d, 50+50) {
			t.Errorf("walk = %.6f (%v), want 100", d, ok)
		}
	})
	t.Run("lines crossing without a shared vertex do not meet", func(t *testing.T) {
		g := build(t, ls(0, 0, 100, 0), ls(50, -50, 50, 50))
		if g.NumNodes() != 4 || g.NumEdges() != 2 {
			t.Fatalf("%d nodes and %d edges, want 4 and 2", g.NumNodes(), g.NumEdges())
		}
		if _, ok := g.Distances([]Attachment{g.AtNode(node(t, g, 0, 0))}, math.Inf(1)).Node(node(t, g, 50, 50)); ok {
			t.Error("the crossing lines are joined")
		}
	})
}

func TestRadius(t *testing.T) {
	g := deadEndTown(t)
	a := attach(t, g, 100, 10) // stub 10 onto A–B at 100 m from A
	d := g.Distances([]Attachment{a}, 200)
	for _, tc := range []struct {
		name string
		x, y float64
		want float64
		ok   bool
	}{
		{"A is reached", 0, 0, 10 + 100, true},                      // 110
		{"B is reached", 200, 0, 10 + 100, true},                    // 110
		{"D is beyond the radius", 200, 150, 10 + 100 + 150, false}, // 260 > 200
		{"C is beyond the radius", 400, 0, 10 + 100 + 200, false},   // 310 > 200
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := d.Node(node(t, g, tc.x, tc.y))
			if ok != tc.ok || (ok && !near(got, tc.want)) {
				t.Errorf("distance %.6f (%v), want %g (%v)", got, ok, tc.want, tc.ok)
			}
		})
	}
	// A point 89.9 m up the cul-de-sac: 110 + 89.9 = 199.9, within; 90.1 m up: 200.1, beyond.
	if got, _, ok := d.At(attach(t, g, 200, 89.9)); !ok || !near(got, 199.9) {
		t.Errorf("at 89.9 m up the cul-de-sac: %.6f (%v), want 199.9", got, ok)
	}
	if got, _, ok := d.At(attach(t, g, 200, 90.1)); ok {
		t.Errorf("at 90.1 m up the cul-de-sac: %.6f reported within the 200 m radius", got)
	}
}

func TestIsochrone(t *testing.T) {
	g := deadEndTown(t)
	src := attach(t, g, 100, 10) // stub 10 onto A–B, 100 m from A
	for _, tc := range []struct {
		name   string
		limit  float64
		length float64
		nodes  int
	}{
		// 190 left after the stub: all of A–B (200), 90 of B–C and 90 of B–D (B at 110).
		{"within 200 m: the source's edge and 90 m beyond B each way", 200, 200 + 90 + 90, 2},
		// 290 left: A–B 200, B–C 190 (B at 110), B–D whole 150 (D at 260).
		{"within 300 m: the cul-de-sac whole and 190 m towards C", 300, 200 + 190 + 150, 3},
		// 40 left after the stub: 40 each way along A–B, A and B (110) not reached.
		{"within 50 m: a stretch of the source's own edge", 50, 40 + 40, 0},
		{"within 5 m: not even the stub", 5, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iso := g.Isochrone(src, tc.limit)
			if !near(iso.Length, tc.length) || len(iso.Nodes) != tc.nodes {
				t.Errorf("length %.6f m over %d nodes, want %g over %d", iso.Length, len(iso.Nodes), tc.length, tc.nodes)
			}
			// The lines measured back in metres: the network length plus the 10 m stub.
			total := 0.0
			for _, l := range iso.Lines {
				total += planar.Length(testProj.Geometry(l).(orb.LineString))
			}
			wantTotal := tc.length
			if tc.limit >= src.Stub {
				wantTotal += 10
			}
			if math.Abs(total-wantTotal) > 1e-3 {
				t.Errorf("the lines measure %.6f m, want %g", total, wantTotal)
			}
		})
	}
	iso := g.Isochrone(src, 300)
	// The farthest points: (0,0), (310,0), (200,150) and the source (100,10): the hull has them.
	for _, p := range []orb.Point{m(0, 0), m(310, 0), m(200, 150), m(100, 10)} {
		if !spatial.Contains(testProj.Geometry(iso.Hull), testProj.ToMetric(p)) && spatial.Distance(testProj.Geometry(iso.Hull), testProj.ToMetric(p)) > 1e-6 {
			t.Errorf("hull %v misses %v", iso.Hull, p)
		}
	}
	if fc := iso.FeatureCollection(); len(fc.Features) != 2 {
		t.Errorf("%d GeoJSON features, want reach and hull", len(fc.Features))
	}
}
