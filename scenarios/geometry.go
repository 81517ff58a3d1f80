package scenarios

import (
	"fmt"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// checkSimplePolygon reports the first place where a polygon's rings cross, touch or fold
// back on themselves (a ring against itself, or two rings of the polygon against each
// other), and rings of zero area. field is the polygon's coordinates field, e.g.
// "geometry.coordinates" or "geometry.coordinates[2]" for the third of a MultiPolygon.
//
// The test is the classic orientation test on every pair of edges whose bounding boxes meet:
// O(n²) in the worst case, which MaxVerticesPerPolygon keeps cheap.
func checkSimplePolygon(p orb.Polygon, field string) error {
	type edge struct {
		ring, i int
		a, b    orb.Point
	}
	var edges []edge
	for ri, r := range p {
		pts := dedupe(r)
		if len(pts) < 4 || spatial.RingArea2(pts) == 0 {
			return &layers.FieldError{Field: fmt.Sprintf("%s[%d]", field, ri), Message: "ring has zero area"}
		}
		for i := 1; i < len(pts); i++ {
			edges = append(edges, edge{ri, i - 1, pts[i-1], pts[i]})
		}
	}
	// Number of edges per ring, to recognise the closing edge as adjacent to the first.
	count := map[int]int{}
	for _, e := range edges {
		count[e.ring]++
	}
	for x := 0; x < len(edges); x++ {
		e := edges[x]
		for y := x + 1; y < len(edges); y++ {
			f := edges[y]
			if !boxesMeet(e.a, e.b, f.a, f.b) {
				continue
			}
			if e.ring == f.ring {
				n := count[e.ring]
				adjacent := f.i == e.i+1 || (e.i == 0 && f.i == n-1)
				if adjacent {
					// Neighbours share one vertex; they are wrong only when they fold back
					// over each other (a spike).
					shared, eo, fo := e.b, e.a, f.b
					if f.i != e.i+1 {
						shared, eo, fo = e.a, e.b, f.a
					}
					if spatial.Orient(shared, eo, fo) == 0 && dot(shared, eo, fo) > 0 {
						return &layers.FieldError{Field: fmt.Sprintf("%s[%d]", field, e.ring),
							Message: fmt.Sprintf("ring folds back on itself at position %d", f.i)}
					}
					continue
				}
				if spatial.SegmentsIntersect(e.a, e.b, f.a, f.b) {
					return &layers.FieldError{Field: fmt.Sprintf("%s[%d]", field, e.ring),
						Message: fmt.Sprintf("ring intersects itself: edge %d–%d crosses edge %d–%d", e.i, e.i+1, f.i, f.i+1)}
				}
				continue
			}
			if spatial.SegmentsIntersect(e.a, e.b, f.a, f.b) {
				return &layers.FieldError{Field: fmt.Sprintf("%s[%d]", field, f.ring),
					Message: fmt.Sprintf("ring %d crosses ring %d", f.ring, e.ring)}
			}
		}
	}
	return nil
}

// dedupe drops consecutive repeated positions (harmless in GeoJSON, but zero-length edges
// would confuse the crossing test).
func dedupe(r orb.Ring) orb.Ring {
	out := make(orb.Ring, 0, len(r))
	for i, q := range r {
		if i > 0 && q == r[i-1] {
			continue
		}
		out = append(out, q)
	}
	return out
}

func boxesMeet(a, b, c, d orb.Point) bool {
	return min(a[0], b[0]) <= max(c[0], d[0]) && min(c[0], d[0]) <= max(a[0], b[0]) &&
		min(a[1], b[1]) <= max(c[1], d[1]) && min(c[1], d[1]) <= max(a[1], b[1])
}

// dot is (b-a)·(c-a).
func dot(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[0]-a[0]) + (b[1]-a[1])*(c[1]-a[1])
}
