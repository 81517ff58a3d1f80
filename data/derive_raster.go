package data

import (
	"math"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/spatial"
)

// grid is a raster of square cells over a metric extent. Cell (i, j) spans
// [x0+i·size, x0+(i+1)·size] × [y0+j·size, y0+(j+1)·size]; j grows northwards.
type grid struct {
	x0, y0 float64
	size   float64
	nx, ny int
}

// newGrid covers the metric bound b grown by margin with cells of the given size.
func newGrid(b orb.Bound, margin, size float64) grid {
	g := grid{x0: b.Min[0] - margin, y0: b.Min[1] - margin, size: size}
	g.nx = int(math.Floor((b.Max[0]+margin-g.x0)/size)) + 1
	g.ny = int(math.Floor((b.Max[1]+margin-g.y0)/size)) + 1
	return g
}

func (g grid) center(i, j int) orb.Point {
	return orb.Point{g.x0 + (float64(i)+0.5)*g.size, g.y0 + (float64(j)+0.5)*g.size}
}

// cellOf returns the cell holding p, clamped to the grid.
func (g grid) cellOf(p orb.Point) (int, int) {
	i := int(math.Floor((p[0] - g.x0) / g.size))
	j := int(math.Floor((p[1] - g.y0) / g.size))
	return min(max(i, 0), g.nx-1), min(max(j, 0), g.ny-1)
}

// cellRange returns the cells whose centres may lie within the metric bound b, clamped.
func (g grid) cellRange(b orb.Bound) (i0, j0, i1, j1 int) {
	i0 = max(0, int(math.Floor((b.Min[0]-g.x0)/g.size)))
	j0 = max(0, int(math.Floor((b.Min[1]-g.y0)/g.size)))
	i1 = min(g.nx-1, int(math.Floor((b.Max[0]-g.x0)/g.size)))
	j1 = min(g.ny-1, int(math.Floor((b.Max[1]-g.y0)/g.size)))
	return
}

// block is a square window of cells the raster layers are cut into, so no output polygon
// grows beyond a few hundred vertices however large the city.
type block struct{ i0, j0, i1, j1 int } // cells i0 <= i < i1, j0 <= j < j1

// blocks returns the windows of n × n cells covering the grid, south to north, west to east.
func (g grid) blocks(n int) []block {
	var out []block
	for j := 0; j < g.ny; j += n {
		for i := 0; i < g.nx; i += n {
			out = append(out, block{i, j, min(i+n, g.nx), min(j+n, g.ny)})
		}
	}
	return out
}

// vertex is a grid corner in cell units.
type vertex struct{ i, j int32 }

type edge struct{ from, to vertex }

// tracePolygons returns the outlines of the cells of block b for which in is true, as
// metric polygons: counter-clockwise outer rings, clockwise holes, collinear points removed.
// Cells meeting only at a corner belong to different polygons (4-connectivity), so every
// polygon is valid (rings touch at most at single points).
func (g grid) tracePolygons(b block, in func(i, j int) bool) []orb.Polygon {
	inside := func(i, j int) bool { return i >= b.i0 && i < b.i1 && j >= b.j0 && j < b.j1 && in(i, j) }
	edges, out := boundaryEdges(b, inside)
	if len(edges) == 0 {
		return nil
	}
	used := make([]bool, len(edges))
	var outers, holes [][]vertex
	for k := range edges {
		if used[k] {
			continue
		}
		for _, ring := range splitLoops(followRing(k, edges, out, used)) {
			switch a := spatial.RingArea2(cellRing(ring)); {
			case a > 0:
				outers = append(outers, ring)
			case a < 0:
				holes = append(holes, ring)
			}
		}
	}
	polys := make([]orb.Polygon, len(outers))
	for k, r := range outers {
		polys[k] = orb.Polygon{g.ring(r)}
	}
	for _, h := range holes {
		if k := holeOwner(h, outers); k >= 0 {
			polys[k] = append(polys[k], g.ring(h))
		}
	}
	return polys
}

// boundaryEdges returns the cell edges between inside and outside cells, directed with the
// inside on their left, in a deterministic order, and for each vertex its outgoing edges.
func boundaryEdges(b block, inside func(i, j int) bool) ([]edge, map[vertex][]int) {
	var edges []edge
	out := map[vertex][]int{}
	add := func(fi, fj, ti, tj int) {
		e := edge{vertex{int32(fi), int32(fj)}, vertex{int32(ti), int32(tj)}}
		out[e.from] = append(out[e.from], len(edges))
		edges = append(edges, e)
	}
	for j := b.j0; j < b.j1; j++ {
		for i := b.i0; i < b.i1; i++ {
			if !inside(i, j) {
				continue
			}
			if !inside(i, j-1) {
				add(i, j, i+1, j)
			}
			if !inside(i+1, j) {
				add(i+1, j, i+1, j+1)
			}
			if !inside(i, j+1) {
				add(i+1, j+1, i, j+1)
			}
			if !inside(i-1, j) {
				add(i, j+1, i, j)
			}
		}
	}
	return edges, out
}

// followRing walks boundary edges from edge k until it is back at its start. Where two
// edges leave a vertex (cells touching at a corner) it turns left, which keeps the inside
// cells of each ring 4-connected.
func followRing(k int, edges []edge, out map[vertex][]int, used []bool) []vertex {
	start := edges[k].from
	ring := []vertex{start}
	cur := k
	for {
		used[cur] = true
		e := edges[cur]
		ring = append(ring, e.to)
		if e.to == start {
			break
		}
		next := -1
		dx, dy := e.to.i-e.from.i, e.to.j-e.from.j
		for _, n := range out[e.to] {
			if used[n] {
				continue
			}
			f := edges[n]
			if next < 0 || (f.to.i-f.from.i == -dy && f.to.j-f.from.j == dx) {
				next = n
			}
		}
		if next < 0 {
			break // cannot happen for a closed set of edges
		}
		cur = next
	}
	return ring
}

// splitLoops cuts a closed ring where it touches itself (a region that meets itself at a
// corner) into simple closed rings: OGC allows rings to touch each other at a point, not
// themselves.
func splitLoops(ring []vertex) [][]vertex {
	var out [][]vertex
	var stack []vertex
	pos := map[vertex]int{}
	for _, v := range ring {
		p, seen := pos[v]
		if !seen {
			pos[v] = len(stack)
			stack = append(stack, v)
			continue
		}
		loop := append(append([]vertex(nil), stack[p:]...), v)
		if len(loop) >= 5 {
			out = append(out, simplifyRing(loop))
		}
		for _, u := range stack[p+1:] {
			delete(pos, u)
		}
		stack = stack[:p+1]
	}
	return out
}

// simplifyRing drops the vertices where a closed ring goes straight on.
func simplifyRing(r []vertex) []vertex {
	pts := r[:len(r)-1]
	n := len(pts)
	var out []vertex
	for k := range n {
		p, v, q := pts[(k+n-1)%n], pts[k], pts[(k+1)%n]
		if (v.i-p.i)*(q.j-v.j)-(v.j-p.j)*(q.i-v.i) != 0 {
			out = append(out, v)
		}
	}
	return append(out, out[0])
}

// cellRing is ring r in cell units, for the geometry of package spatial: exact, since cell
// corners are small integers.
func cellRing(r []vertex) orb.Ring {
	out := make(orb.Ring, len(r))
	for k, v := range r {
		out[k] = orb.Point{float64(v.i), float64(v.j)}
	}
	return out
}

// holeOwner returns the smallest outer ring around hole h. It tests a point a quarter cell
// to the left of the hole's first edge, which is inside a cell of the region around the hole
// and so never on any ring.
func holeOwner(h []vertex, outers [][]vertex) int {
	a, b := h[0], h[1]
	dx, dy := float64(b.i-a.i), float64(b.j-a.j)
	l := math.Hypot(dx, dy)
	px := (float64(a.i)+float64(b.i))/2 - 0.25*dy/l
	py := (float64(a.j)+float64(b.j))/2 + 0.25*dx/l
	best, bestArea := -1, math.Inf(1)
	for k, o := range outers {
		r := cellRing(o)
		if area := spatial.RingArea2(r); area < bestArea && spatial.RingContains(r, orb.Point{px, py}) {
			best, bestArea = k, area
		}
	}
	return best
}

func (g grid) ring(r []vertex) orb.Ring {
	out := make(orb.Ring, len(r))
	for k, v := range r {
		out[k] = orb.Point{g.x0 + float64(v.i)*g.size, g.y0 + float64(v.j)*g.size}
	}
	return out
}

// segmentDistance is the distance from p to the segment ab and the position t in [0, 1] of
// the nearest point along it.
func segmentDistance(a, b, p orb.Point) (float64, float64) {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l))
	}
	return math.Hypot(a[0]+t*dx-p[0], a[1]+t*dy-p[1]), t
}

// stampLine calls fn for every cell whose centre lies within radius of the metric line,
// with the distance to the nearest segment of the line, that segment's index and the
// position along it.
func (g grid) stampLine(l orb.LineString, radius float64, fn func(i, j int, d float64, seg int, t float64)) {
	for s := 1; s < len(l); s++ {
		a, b := l[s-1], l[s]
		box := orb.Bound{Min: a, Max: a}.Extend(b)
		box.Min = orb.Point{box.Min[0] - radius, box.Min[1] - radius}
		box.Max = orb.Point{box.Max[0] + radius, box.Max[1] + radius}
		i0, j0, i1, j1 := g.cellRange(box)
		for j := j0; j <= j1; j++ {
			for i := i0; i <= i1; i++ {
				if d, t := segmentDistance(a, b, g.center(i, j)); d <= radius {
					fn(i, j, d, s-1, t)
				}
			}
		}
	}
}

// cellsInside calls fn for every cell whose centre lies inside the metric polygon.
func (g grid) cellsInside(poly orb.Geometry, contains func(orb.Point) bool, fn func(i, j int)) {
	i0, j0, i1, j1 := g.cellRange(poly.Bound())
	for j := j0; j <= j1; j++ {
		for i := i0; i <= i1; i++ {
			if contains(g.center(i, j)) {
				fn(i, j)
			}
		}
	}
}
