package network

import (
	"math"
	"sync"
)

// Distances holds the walking distances from a set of sources to the nodes within a radius:
// the result of one bounded multi-source Dijkstra run. Every value reported is exact; beyond
// the radius nothing is reported.
type Distances struct {
	g       *Graph
	radius  float64
	dist    []float64 // per node: walking distance to the nearest source, +Inf beyond the radius
	source  []int32   // per node: index of that source in the sources given
	reached []NodeID  // nodes within the radius, nearest first (nil after Update until asked)
	onEdge  map[EdgeID][]seed
	sources []Attachment // the sources given, for Update
	sorted  sync.Once    // sorts reached on first use after Update
}

// seed is a source attached inside an edge, which reaches points of that edge directly.
type seed struct {
	along, stub float64
	source      int32
}

// Distances runs Dijkstra from every source at once, up to radius metres (math.Inf(1): no
// bound). A source's own stub counts: a source 30 m from the network reaches the network at
// 30 m. The attachments must come from g.
func (g *Graph) Distances(sources []Attachment, radius float64) *Distances {
	d := &Distances{
		g:      g,
		dist:   make([]float64, g.NumNodes()),
		source: make([]int32, g.NumNodes()),
	}
	for i := range d.dist {
		d.dist[i] = math.Inf(1)
	}
	var h nodeHeap
	d.run(sources, radius, &h)
	return d
}

// run fills d, whose g, dist (+Inf at every node) and source are set, with the distances from
// sources up to radius, using h as the heap.
func (d *Distances) run(sources []Attachment, radius float64, h *nodeHeap) {
	g := d.g
	d.radius, d.sources = radius, sources
	d.onEdge = map[EdgeID][]seed{}
	d.sorted.Do(func() {}) // reached is made in order below
	h.d, h.n = h.d[:0], h.n[:0]
	relax := func(n NodeID, dist float64, src int32) {
		if dist < d.dist[n] && dist <= radius {
			d.dist[n], d.source[n] = dist, src
			h.push(dist, n)
		}
	}
	seedFrom(g, sources, d.onEdge, relax)
	for h.len() > 0 {
		du, u := h.pop()
		if du > d.dist[u] {
			continue // a stale entry: u was reached shorter since
		}
		d.reached = append(d.reached, u)
		src := d.source[u]
		g.Edges(u, func(e EdgeID) bool {
			ed := g.Edge(e)
			relax(g.Other(e, u), du+ed.Length, src)
			return true
		})
	}
}

// scratch is the working memory of one walk that does not outlive it (Isochrone): per node
// distances and sources, per edge ID a bitset, a heap and small buffers. Between uses dist is
// +Inf and seen is zero at every index, so that a walk touches only what it reaches instead
// of clearing arrays the size of the whole network.
type scratch struct {
	dist   []float64
	source []int32
	seen   []uint64
	edges  []EdgeID // the edges marked in seen
	heap   nodeHeap
	iv     [][2]float64
	flat   []float64
}

var scratchPool = sync.Pool{New: newScratch}

func newScratch() any { return new(scratch) }

// getScratch returns a scratch for g: dist, source and seen cover all its nodes and edge IDs.
// Give it back with putScratch once nothing refers to it.
func (g *Graph) getScratch() *scratch {
	s := scratchPool.Get().(*scratch)
	for len(s.dist) < g.NumNodes() {
		s.dist = append(s.dist, math.Inf(1))
	}
	if n := g.NumNodes(); len(s.source) < n {
		s.source = make([]int32, n)
	}
	if w := (g.NumEdgeIDs() + 63) / 64; len(s.seen) < w {
		s.seen = append(s.seen, make([]uint64, w-len(s.seen))...)
	}
	return s
}

// putScratch restores the scratch's invariants, d's reached nodes being the only ones whose
// distance d set (every node given a distance is pushed, hence popped and reached), and
// returns it to the pool.
func putScratch(s *scratch, d *Distances) {
	for _, n := range d.reached {
		s.dist[n] = math.Inf(1)
	}
	for _, e := range s.edges {
		s.seen[e/64] = 0
	}
	s.edges = s.edges[:0]
	scratchPool.Put(s)
}

// Radius is the bound the distances were computed to.
func (d *Distances) Radius() float64 { return d.radius }

// Node returns the walking distance from node n to the nearest source, and whether it is
// within the radius.
func (d *Distances) Node(n NodeID) (float64, bool) {
	v := d.dist[n]
	return v, d.within(v)
}

// within reports whether a distance is within the radius (an unreached +Inf never is, even
// without a bound).
func (d *Distances) within(v float64) bool { return v <= d.radius && !math.IsInf(v, 1) }

// NodeSource returns the index (in the sources given) of the source nearest to node n, or -1
// when n is beyond the radius.
func (d *Distances) NodeSource(n NodeID) int {
	if !d.within(d.dist[n]) {
		return -1
	}
	return int(d.source[n])
}

// Reached returns the nodes within the radius, nearest first. The slice is shared: do not
// change it.
func (d *Distances) Reached() []NodeID {
	d.sorted.Do(d.sortReached)
	return d.reached
}

// At returns the walking distance from the attached point a to the nearest source (its own
// stub included), which source that is, and whether it is within the radius. a must come
// from the graph the distances were computed on. Along a's edge it walks to either end, or
// directly to a source attached to the same edge.
func (d *Distances) At(a Attachment) (dist float64, source int, ok bool) {
	dist, src := math.Inf(1), int32(-1)
	try := func(v float64, s int32) {
		if v < dist {
			dist, src = v, s
		}
	}
	if a.Edge == NoEdge {
		try(d.dist[a.Node], d.source[a.Node])
	} else {
		e := d.g.Edge(a.Edge)
		try(d.dist[e.From]+a.Along, d.source[e.From])
		try(d.dist[e.To]+e.Length-a.Along, d.source[e.To])
		for _, s := range d.onEdge[a.Edge] {
			try(s.stub+math.Abs(s.along-a.Along), s.source)
		}
	}
	dist += a.Stub
	if !d.within(dist) {
		return dist, -1, false
	}
	return dist, int(src), true
}

// nodeHeap is a binary min-heap of nodes by distance; a node may be in it more than once
// (the stale entries are skipped when popped).
type nodeHeap struct {
	d []float64
	n []NodeID
}

func (h *nodeHeap) len() int { return len(h.d) }

func (h *nodeHeap) push(d float64, n NodeID) {
	h.d, h.n = append(h.d, d), append(h.n, n)
	for i := len(h.d) - 1; i > 0; {
		p := (i - 1) / 2
		if h.d[p] <= h.d[i] {
			break
		}
		h.swap(i, p)
		i = p
	}
}

func (h *nodeHeap) pop() (float64, NodeID) {
	d, n := h.d[0], h.n[0]
	last := len(h.d) - 1
	h.swap(0, last)
	h.d, h.n = h.d[:last], h.n[:last]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < last && h.d[l] < h.d[m] {
			m = l
		}
		if r := l + 1; r < last && h.d[r] < h.d[m] {
			m = r
		}
		if m == i {
			break
		}
		h.swap(i, m)
		i = m
	}
	return d, n
}

func (h *nodeHeap) swap(i, j int) {
	h.d[i], h.d[j] = h.d[j], h.d[i]
	h.n[i], h.n[j] = h.n[j], h.n[i]
}

// seedFrom starts a search from sources: the nodes at each end of a source's edge are relaxed
// with its stub plus the walk along the edge to them (a source on a node, with its stub), and
// the sources standing on an edge are recorded in onEdge for walks that stay on that edge.
func seedFrom(g *Graph, sources []Attachment, onEdge map[EdgeID][]seed, relax func(n NodeID, dist float64, src int32)) {
	for i, a := range sources {
		if a.Edge == NoEdge {
			relax(a.Node, a.Stub, int32(i))
			continue
		}
		e := g.Edge(a.Edge)
		relax(e.From, a.Stub+a.Along, int32(i))
		relax(e.To, a.Stub+e.Length-a.Along, int32(i))
		onEdge[a.Edge] = append(onEdge[a.Edge], seed{along: a.Along, stub: a.Stub, source: int32(i)})
	}
}
