package ingest

import (
	"fmt"
	"math"
	"sort"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/spatial"
)

// RejectSelfIntersection is the rejection kind of a polygon whose ring crosses or touches
// itself, or crosses another ring of the polygon. There is no honest repair in Go (a
// buffer(0) or ST_MakeValid would pick one of several polygons the ring may have meant), so
// such a feature is rejected with its id and the edges that meet, for the city to fix.
const RejectSelfIntersection = "self-intersection"

// checkSimple finds where a polygon (or a part of a MultiPolygon) is not simple: two
// non-adjacent edges of one ring that meet, adjacent edges that fold back over each other,
// or edges of two rings that cross. Touching rings (a hole touching its outer ring at a
// point) are allowed, as OGC allows them. The edges are swept in order of their west end,
// so a polygon of n edges costs about n log n, not n².
func checkSimple(g orb.Geometry) error {
	switch t := g.(type) {
	case orb.Polygon:
		return checkSimplePolygon(t)
	case orb.MultiPolygon:
		for i, p := range t {
			if err := checkSimplePolygon(p); err != nil {
				return fmt.Errorf("polygon %d: %w", i, err)
			}
		}
	}
	return nil
}

type edge struct {
	ring, i, n int // ring, index of the edge in it, edges in the ring
	a, b       orb.Point
}

func (e edge) minX() float64 { return min(e.a[0], e.b[0]) }
func (e edge) maxX() float64 { return max(e.a[0], e.b[0]) }

func checkSimplePolygon(p orb.Polygon) error {
	var edges []edge
	for ri, r := range p {
		n := len(r) - 1 // rings are closed and free of repeated positions by now
		for i := range n {
			edges = append(edges, edge{ri, i, n, r[i], r[i+1]})
		}
	}
	sort.Slice(edges, func(i, j int) bool { return edges[i].minX() < edges[j].minX() })
	for x, e := range edges {
		for _, f := range edges[x+1:] {
			if f.minX() > e.maxX() {
				break
			}
			if min(e.a[1], e.b[1]) > max(f.a[1], f.b[1]) || min(f.a[1], f.b[1]) > max(e.a[1], e.b[1]) {
				continue
			}
			if err := meet(e, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// meet says how two edges make a polygon not simple, or nil.
func meet(e, f edge) error {
	if e.ring > f.ring || e.ring == f.ring && e.i > f.i {
		e, f = f, e
	}
	if e.ring != f.ring {
		o1, o2 := spatial.Orient(e.a, e.b, f.a), spatial.Orient(e.a, e.b, f.b)
		o3, o4 := spatial.Orient(f.a, f.b, e.a), spatial.Orient(f.a, f.b, e.b)
		if o1*o2 < 0 && o3*o4 < 0 || collinearOverlap(e, f) {
			return fmt.Errorf("ring %d crosses ring %d: edge %d–%d of one crosses edge %d–%d of the other", f.ring, e.ring, f.i, f.i+1, e.i, e.i+1)
		}
		return nil
	}
	if f.i == e.i+1 || e.i == 0 && f.i == e.n-1 {
		// Neighbours share a position; they are wrong only when they fold back over each
		// other (a spike).
		shared, eo, fo := e.b, e.a, f.b
		if f.i != e.i+1 {
			shared, eo, fo = e.a, e.b, f.a
		}
		if spatial.Orient(shared, eo, fo) == 0 && (eo[0]-shared[0])*(fo[0]-shared[0])+(eo[1]-shared[1])*(fo[1]-shared[1]) > 0 {
			return fmt.Errorf("ring %d folds back on itself at position %d", e.ring, f.i)
		}
		return nil
	}
	if spatial.SegmentsIntersect(e.a, e.b, f.a, f.b) {
		return fmt.Errorf("ring %d intersects itself: edge %d–%d meets edge %d–%d", e.ring, e.i, e.i+1, f.i, f.i+1)
	}
	return nil
}

// collinearOverlap says whether two edges on one line share more than a point.
func collinearOverlap(e, f edge) bool {
	if spatial.Orient(e.a, e.b, f.a) != 0 || spatial.Orient(e.a, e.b, f.b) != 0 {
		return false
	}
	// Project on the longer axis of e.
	axis := 0
	if math.Abs(e.b[1]-e.a[1]) > math.Abs(e.b[0]-e.a[0]) {
		axis = 1
	}
	lo := max(min(e.a[axis], e.b[axis]), min(f.a[axis], f.b[axis]))
	hi := min(max(e.a[axis], e.b[axis]), max(f.a[axis], f.b[axis]))
	return hi > lo
}
