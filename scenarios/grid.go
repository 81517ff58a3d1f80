package scenarios

import (
	"math"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/spatial"
)

// nearGrid answers "which feature of this set is nearest to p" in a few distance
// computations, for the sets every building asks about (one facility kind, the public green
// spaces). It is built once per city over the baseline's R-tree of the set and keeps, for
// each cell of a uniform grid, the features that can be nearest to some point of the cell:
// with q the cell's centre, h its half-diagonal and d1 the distance from q to the nearest
// feature, any point p of the cell has its nearest feature N within d1 + h of p, so within
// d1 + 2h of q. The candidates are every feature within d1 + 2h of q (ties included), and
// the least (distance, id) among them is exactly what a search of the whole set returns.
//
// A variant adds its own features of the set (checked one by one: a scenario adds few) and
// hides some baseline ones; when a cell's candidates include a hidden feature the grid cannot
// know who replaces it, and the query falls back to the merged R-tree search.
type nearGrid struct {
	min   orb.Point
	size  float64
	nx    int
	ny    int
	cells [][]*spatial.Item
}

// gridCells bounds the cells of one grid.
const gridCells = 1 << 16

func newNearGrid(ix *spatial.Index, b orb.Bound) *nearGrid {
	n := ix.Len()
	if n == 0 {
		return nil
	}
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	size := math.Sqrt(max(w*h, 1)/float64(n)) / 4
	size = max(size, math.Sqrt(max(w*h, 1)/gridCells), 20)
	g := &nearGrid{min: b.Min, size: size, nx: int(w/size) + 1, ny: int(h/size) + 1}
	g.cells = make([][]*spatial.Item, g.nx*g.ny)
	half := size * math.Sqrt2 / 2
	for j := range g.ny {
		for i := range g.nx {
			q := orb.Point{g.min[0] + (float64(i)+0.5)*size, g.min[1] + (float64(j)+0.5)*size}
			hits := ix.Nearest(q, 1, 0, nil)
			if len(hits) == 0 {
				continue
			}
			within := ix.Within(q, hits[0].Distance+2*half, nil)
			c := make([]*spatial.Item, len(within))
			for k, h := range within {
				c[k] = h.Item
			}
			g.cells[j*g.nx+i] = c
		}
	}
	return g
}

// nearest returns the least (distance, id) visible feature of lv at p. over lists lv's
// overlay features (nil when none).
func (g *nearGrid) nearest(lv *LayerView, over []*spatial.Item, p orb.Point) near {
	best := none
	if g != nil {
		i, j := int((p[0]-g.min[0])/g.size), int((p[1]-g.min[1])/g.size)
		if p[0] < g.min[0] || p[1] < g.min[1] || i >= g.nx || j >= g.ny {
			return searchNearest(lv, p)
		}
		hidden := len(lv.Hidden) > 0
		for _, it := range g.cells[j*g.nx+i] {
			if hidden && lv.Hidden[it.Feature.ID] {
				return searchNearest(lv, p)
			}
			best = closer(best, it, p)
		}
	}
	for _, it := range over {
		best = closer(best, it, p)
	}
	return best
}

// closer returns the nearer of best and it to p, by (distance, id). The exact distance is
// computed only when the distance to it's bound does not already rule it out.
func closer(best near, it *spatial.Item, p orb.Point) near {
	// The margin keeps rounding in the bound from ever skipping an exact tie.
	if _, isPoint := it.Geom.(orb.Point); !isPoint && boxDist(it.Bound, p) > best.d*(1+1e-12)+1e-9 {
		return best
	}
	if d := spatial.Distance(it.Geom, p); d < best.d || d == best.d && it.Feature.ID < best.id {
		return near{it.Feature.ID, d}
	}
	return best
}

func searchNearest(lv *LayerView, p orb.Point) near {
	if h, ok := lv.NearestOne(p, nil); ok {
		return near{h.Feature.ID, h.Distance}
	}
	return none
}

// polyGrid answers "which polygons of this layer contain p" for the layers every building
// and parcel asks about (parcels, districts, zoning, noise, flood, broadband). Each cell of a
// uniform grid lists the baseline polygons that cover it wholly ("full": no edge comes near
// the cell, and its centre is inside) and those whose boundary may cross it ("partial":
// tested point by point). A variant's own polygons (few) are tested one by one and its
// hidden ones skipped. It is built once per city.
type polyGrid struct {
	min   orb.Point
	size  float64
	nx    int
	ny    int
	cells []polyCell
}

type polyCell struct {
	full, partial []*spatial.Item
}

// polyGridCells bounds the cells of one polygon grid.
const polyGridCells = 1 << 18

func newPolyGrid(ix *spatial.Index, b orb.Bound) *polyGrid {
	n := ix.Len()
	if n == 0 {
		return nil
	}
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	size := max(math.Sqrt(max(w*h, 1)/float64(n)), math.Sqrt(max(w*h, 1)/polyGridCells), 1)
	g := &polyGrid{min: b.Min, size: size, nx: int(w/size) + 1, ny: int(h/size) + 1}
	g.cells = make([]polyCell, g.nx*g.ny)
	var edge []bool
	for _, it := range ix.Items() {
		i0, i1 := g.col(it.Bound.Min[0]), g.col(it.Bound.Max[0])
		j0, j1 := g.row(it.Bound.Min[1]), g.row(it.Bound.Max[1])
		cw, ch := i1-i0+1, j1-j0+1
		edge = append(edge[:0], make([]bool, cw*ch)...)
		// Mark every cell an edge may cross: each edge cut into pieces no longer than a cell,
		// each piece marking the cells its bound meets (a superset of the cells it crosses).
		forEachEdge(it.Geom, func(a, c orb.Point) {
			steps := int(math.Ceil(math.Hypot(c[0]-a[0], c[1]-a[1]) / size))
			steps = max(steps, 1)
			for k := range steps {
				t0, t1 := float64(k)/float64(steps), float64(k+1)/float64(steps)
				p0 := orb.Point{a[0] + (c[0]-a[0])*t0, a[1] + (c[1]-a[1])*t0}
				p1 := orb.Point{a[0] + (c[0]-a[0])*t1, a[1] + (c[1]-a[1])*t1}
				for j := g.row(min(p0[1], p1[1])-1e-6) - j0; j <= g.row(max(p0[1], p1[1])+1e-6)-j0; j++ {
					for i := g.col(min(p0[0], p1[0])-1e-6) - i0; i <= g.col(max(p0[0], p1[0])+1e-6)-i0; i++ {
						if i >= 0 && i < cw && j >= 0 && j < ch {
							edge[j*cw+i] = true
						}
					}
				}
			}
		})
		for j := j0; j <= j1; j++ {
			for i := i0; i <= i1; i++ {
				c := &g.cells[j*g.nx+i]
				if edge[(j-j0)*cw+(i-i0)] {
					c.partial = append(c.partial, it)
				} else if polygonContains(it, orb.Point{g.min[0] + (float64(i)+0.5)*size, g.min[1] + (float64(j)+0.5)*size}) {
					c.full = append(c.full, it)
				}
			}
		}
	}
	return g
}

func (g *polyGrid) col(x float64) int { return min(max(int((x-g.min[0])/g.size), 0), g.nx-1) }
func (g *polyGrid) row(y float64) int { return min(max(int((y-g.min[1])/g.size), 0), g.ny-1) }

// forEachEdge calls fn with every edge of every ring of a polygon or multipolygon.
func forEachEdge(geom orb.Geometry, fn func(a, b orb.Point)) {
	rings := func(p orb.Polygon) {
		for _, r := range p {
			for i := 1; i < len(r); i++ {
				fn(r[i-1], r[i])
			}
		}
	}
	switch t := geom.(type) {
	case orb.Polygon:
		rings(t)
	case orb.MultiPolygon:
		for _, p := range t {
			rings(p)
		}
	}
}

// visit calls fn for every visible polygon of lv containing p; over lists lv's overlay.
func (g *polyGrid) visit(lv *LayerView, over []*spatial.Item, p orb.Point, fn func(*spatial.Item)) {
	if g == nil {
		if lv.Base.Len() > 0 {
			lv.visitContaining(p, fn)
			return
		}
	} else {
		i, j := int((p[0]-g.min[0])/g.size), int((p[1]-g.min[1])/g.size)
		if p[0] < g.min[0] || p[1] < g.min[1] || i >= g.nx || j >= g.ny {
			lv.visitContaining(p, fn)
			return
		}
		hidden := len(lv.Hidden) > 0
		c := &g.cells[j*g.nx+i]
		for _, it := range c.full {
			if !hidden || !lv.Hidden[it.Feature.ID] {
				fn(it)
			}
		}
		for _, it := range c.partial {
			if hidden && lv.Hidden[it.Feature.ID] {
				continue
			}
			if polygonContains(it, p) {
				fn(it)
			}
		}
	}
	for _, it := range over {
		if polygonContains(it, p) {
			fn(it)
		}
	}
}

// first returns the lowest-id visible polygon of lv containing p.
func (g *polyGrid) first(lv *LayerView, over []*spatial.Item, p orb.Point) *spatial.Item {
	var best *spatial.Item
	g.visit(lv, over, p, func(it *spatial.Item) {
		if best == nil || it.Feature.ID < best.Feature.ID {
			best = it
		}
	})
	return best
}

// polygonContains is point-in-polygon on an item's metric geometry (spatial.Contains), after
// a test of its bound. A point on an edge shared by two polygons falls in exactly one of
// them, so no building is counted in two districts.
func polygonContains(it *spatial.Item, p orb.Point) bool {
	return it.Bound.Contains(p) && spatial.Contains(it.Geom, p)
}
