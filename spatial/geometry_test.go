package spatial

import (
	"testing"

	"github.com/paulmach/orb"
)

func TestPointOnASharedEdgeIsInExactlyOneRing(t *testing.T) {
	// Two unit squares side by side share the edge x = 1, walked upwards by the left square
	// and downwards by the right one; a slanted pair shares the edge (1,0)–(2,3).
	pairs := []struct {
		name        string
		left, right orb.Ring
		on          []orb.Point
	}{
		{"upright squares", orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}, orb.Ring{{1, 0}, {2, 0}, {2, 1}, {1, 1}, {1, 0}},
			[]orb.Point{{1, 0.5}, {1, 0.1}, {1, 0.3}}},
		// On the slanted edge x = 1 + y/3: y = 0.1 -> x = 1.0333…, y = 0.7 -> x = 1.2333….
		{"slanted quadrilaterals", orb.Ring{{0, 0}, {1, 0}, {2, 3}, {0, 3}, {0, 0}}, orb.Ring{{1, 0}, {3, 0}, {3, 3}, {2, 3}, {1, 0}},
			[]orb.Point{{1 + 0.1/3, 0.1}, {1 + 0.7/3, 0.7}, {1 + 2.9/3, 2.9}}},
	}
	for _, pair := range pairs {
		for _, p := range pair.on {
			l, r := RingContains(pair.left, p), RingContains(pair.right, p)
			if l == r {
				t.Errorf("%s: point %v is in the left ring: %v, in the right ring: %v; want exactly one", pair.name, p, l, r)
			}
		}
	}
}

func TestAHoleIsOutsideThePolygon(t *testing.T) {
	poly := orb.Polygon{{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}, {{4, 4}, {4, 6}, {6, 6}, {6, 4}, {4, 4}}}
	cases := []struct {
		name string
		p    orb.Point
		want bool
	}{
		{"a point between the rings is inside", orb.Point{2, 2}, true},
		{"a point in the hole is outside", orb.Point{5, 5}, false},
		{"a point beyond the outer ring is outside", orb.Point{11, 5}, false},
	}
	for _, c := range cases {
		if got := Contains(poly, c.p); got != c.want {
			t.Errorf("%s: Contains(%v) = %v", c.name, c.p, got)
		}
		if got := Distance(poly, c.p) == 0; got != c.want {
			t.Errorf("%s: Distance(%v) is zero: %v", c.name, c.p, got)
		}
	}
}

func TestRingArea2IsTwiceTheSignedArea(t *testing.T) {
	ccw := orb.Ring{{0, 0}, {4, 0}, {4, 3}, {0, 3}, {0, 0}} // 4 × 3 = 12, twice 24
	if got := RingArea2(ccw); got != 24 {
		t.Errorf("counter-clockwise 4×3 rectangle: RingArea2 = %v, want 24", got)
	}
	cw := orb.Ring{{0, 0}, {0, 3}, {4, 3}, {4, 0}, {0, 0}}
	if got := RingArea2(cw); got != -24 {
		t.Errorf("clockwise 4×3 rectangle: RingArea2 = %v, want -24", got)
	}
}

func TestHilbertWalksTheGridCellByNeighbouringCell(t *testing.T) {
	// The 2×2 curve: (0,0), (0,1), (1,1), (1,0).
	for d, c := range [][2]uint64{{0, 0}, {0, 1}, {1, 1}, {1, 0}} {
		if got := Hilbert(2, c[0], c[1]); got != uint64(d) {
			t.Errorf("Hilbert(2, %d, %d) = %d, want %d", c[0], c[1], got, d)
		}
	}
	// On an 8×8 grid every cell has its own distance, and consecutive distances are
	// neighbouring cells (one step along x or y).
	const side = 8
	at := make([][2]uint64, side*side)
	seen := make([]bool, side*side)
	for x := uint64(0); x < side; x++ {
		for y := uint64(0); y < side; y++ {
			d := Hilbert(side, x, y)
			if d >= side*side || seen[d] {
				t.Fatalf("Hilbert(%d, %d, %d) = %d: out of range or taken twice", side, x, y, d)
			}
			seen[d], at[d] = true, [2]uint64{x, y}
		}
	}
	for d := 1; d < side*side; d++ {
		a, b := at[d-1], at[d]
		if dist := absDiff(a[0], b[0]) + absDiff(a[1], b[1]); dist != 1 {
			t.Errorf("cells %d %v and %d %v are %d steps apart, want 1", d-1, a, d, b, dist)
		}
	}
}

func absDiff(a, b uint64) uint64 {
	if a > b {
		return a - b
	}
	return b - a
}
