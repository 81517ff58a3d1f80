package tiles

import (
	"math"

	"github.com/paulmach/orb"
)

// Lines (streets) go through the steps as ST_AsMVTGeom takes them: dropped when their
// envelope is under half a pixel in both dimensions (underHalfPixel, as polygons), snapped to
// whole pixels (half to even) without repeated points or points on straight lines, clipped to
// the buffered tile (each part cut where it leaves the tile, the cut points rounded to whole
// pixels) and dropped when no part of two distinct points is left. Lines are never thinned or
// simplified at low zooms: their layer's zoom range keeps their tiles small instead.

// projectLine maps a line's points to tile pixels (unrounded) into the arena and widens bd.
func (b *builder) projectLine(ls orb.LineString, bd orb.Bound) (orb.LineString, orb.Bound) {
	out := b.arena.points(len(ls))
	for j, q := range ls {
		pq := b.proj.point(q)
		out[j] = pq
		bd.Min[0], bd.Max[0] = min(bd.Min[0], pq[0]), max(bd.Max[0], pq[0])
		bd.Min[1], bd.Max[1] = min(bd.Min[1], pq[1]), max(bd.Max[1], pq[1])
	}
	return orb.LineString(out), bd
}

// snapLines rounds every point with round, in place, drops repeated points and points on the
// straight segment between their neighbours, and drops parts left with fewer than two points.
// It returns the parts left and their bound.
func snapLines(ml orb.MultiLineString, round func(float64) float64) (orb.MultiLineString, orb.Bound) {
	bd := emptyBound
	n := 0
	for _, ls := range ml {
		m := 0
		for _, q := range ls {
			q = orb.Point{round(q[0]), round(q[1])}
			if m > 0 && ls[m-1] == q {
				continue
			}
			for m >= 2 && onSegment(ls[m-2], q, ls[m-1]) {
				m--
			}
			ls[m] = q
			m++
		}
		if m < 2 {
			continue
		}
		for _, q := range ls[:m] {
			bd.Min[0], bd.Max[0] = min(bd.Min[0], q[0]), max(bd.Max[0], q[0])
			bd.Min[1], bd.Max[1] = min(bd.Min[1], q[1]), max(bd.Max[1], q[1])
		}
		ml[n] = ls[:m]
		n++
	}
	return ml[:n], bd
}

// clipLines cuts every part to the buffered tile (Liang–Barsky per segment): a part that
// leaves the tile and comes back becomes two. New points where a segment crosses the edge are
// rounded to whole pixels. The parts live in the arena.
func (b *builder) clipLines(ml orb.MultiLineString) orb.MultiLineString {
	var out orb.MultiLineString
	for _, ls := range ml {
		var run orb.LineString
		flush := func() {
			if len(run) >= 2 {
				part := b.arena.points(len(run))
				copy(part, run)
				out = append(out, orb.LineString(part))
			}
			run = run[:0]
		}
		for i := 0; i+1 < len(ls); i++ {
			p, q, ok := clipSegment(ls[i], ls[i+1])
			if !ok {
				flush()
				continue
			}
			if len(run) > 0 && run[len(run)-1] != p {
				flush()
			}
			if len(run) == 0 {
				run = append(run, p)
			}
			run = append(run, q)
		}
		flush()
	}
	return out
}

// clipSegment returns the part of segment a–b inside the buffered tile, its new ends rounded
// half to even; false when the segment misses the tile or only touches its edge.
func clipSegment(a, b orb.Point) (orb.Point, orb.Point, bool) {
	t0, t1 := 0.0, 1.0
	d := [2]float64{b[0] - a[0], b[1] - a[1]}
	for axis := range 2 {
		lo, hi := clipBox.Min[axis], clipBox.Max[axis]
		if d[axis] == 0 {
			if a[axis] < lo || a[axis] > hi {
				return a, b, false
			}
			continue
		}
		ta, tb := (lo-a[axis])/d[axis], (hi-a[axis])/d[axis]
		if ta > tb {
			ta, tb = tb, ta
		}
		t0, t1 = max(t0, ta), min(t1, tb)
		if t0 > t1 {
			return a, b, false
		}
	}
	at := func(t float64) orb.Point {
		switch t {
		case 0:
			return a
		case 1:
			return b
		}
		return orb.Point{math.RoundToEven(a[0] + t*d[0]), math.RoundToEven(a[1] + t*d[1])}
	}
	p, q := at(t0), at(t1)
	if p == q {
		return a, b, false
	}
	// A segment lying along the tile's edge is outside it, as for polygons.
	for axis := range 2 {
		if p[axis] == q[axis] && (p[axis] == clipBox.Min[axis] || p[axis] == clipBox.Max[axis]) {
			return a, b, false
		}
	}
	return p, q, true
}

// clipLine cuts a line feature to the buffered tile and reports whether anything is left.
func (f *feature) clipLine(b *builder) bool {
	bd := f.bound
	if bd.Min[0] >= clipBox.Min[0] && bd.Max[0] <= clipBox.Max[0] && bd.Min[1] >= clipBox.Min[1] && bd.Max[1] <= clipBox.Max[1] {
		return true // inside: nothing to cut
	}
	if bd.Max[0] < clipBox.Min[0] || bd.Min[0] > clipBox.Max[0] || bd.Max[1] < clipBox.Min[1] || bd.Min[1] > clipBox.Max[1] {
		return false
	}
	f.lines, f.bound = snapLines(b.clipLines(f.lines), noRound)
	return len(f.lines) > 0
}

// lineStrings appends the geometry commands of a multilinestring: per part a MoveTo to its
// first point and a LineTo through the others.
func (e *encoder) lineStrings(ml orb.MultiLineString) {
	var cx, cy int32
	for _, ls := range ml {
		q := ls[0]
		x, y := int32(q[0]), int32(q[1])
		e.geom = append(e.geom, command(cmdMoveTo, 1), zigzag(x-cx), zigzag(y-cy))
		cx, cy = x, y
		e.geom = append(e.geom, command(cmdLineTo, uint32(len(ls)-1)))
		for _, q := range ls[1:] {
			x, y := int32(q[0]), int32(q[1])
			e.geom = append(e.geom, zigzag(x-cx), zigzag(y-cy))
			cx, cy = x, y
		}
	}
}
