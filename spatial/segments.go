package spatial

import "github.com/paulmach/orb"

// Orient is the sign of the cross product (b-a)×(c-a): 1 counter-clockwise, -1 clockwise,
// 0 collinear.
func Orient(a, b, c orb.Point) int {
	v := (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// OnSegment reports whether c, collinear with a-b, lies within the segment's box.
func OnSegment(a, b, c orb.Point) bool {
	return min(a[0], b[0]) <= c[0] && c[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= c[1] && c[1] <= max(a[1], b[1])
}

// SegmentsIntersect reports whether segments a-b and c-d share any point, touching
// included.
func SegmentsIntersect(a, b, c, d orb.Point) bool {
	o1, o2, o3, o4 := Orient(a, b, c), Orient(a, b, d), Orient(c, d, a), Orient(c, d, b)
	if o1 != o2 && o3 != o4 {
		return true
	}
	return (o1 == 0 && OnSegment(a, b, c)) || (o2 == 0 && OnSegment(a, b, d)) ||
		(o3 == 0 && OnSegment(c, d, a)) || (o4 == 0 && OnSegment(c, d, b))
}
