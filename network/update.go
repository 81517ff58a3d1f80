package network

import (
	"cmp"
	"math"
	"math/bits"
	"slices"

	"github.com/paulmach/orb"
)

// Updating distances after a small change. A scenario adds a school, a footbridge or closes
// a street; the walks it moves lie within the radius of what changed, so only that region is
// searched again:
//
//   - the changed edges are those live in one graph and not in the other (for two graphs
//     derived from the same network by edits: the base edges removed in one only, and every
//     edge of either overlay); the changed sources are the attachments in one list and not in
//     the other;
//   - the region is every node within the radius of a changed edge's end or a changed
//     source, in the old graph (where a walk may have used what is gone) and in the new one
//     (where a walk may use what is new). A node outside it keeps its distance: its shortest
//     walk in either graph uses nothing that changed, so it is a walk of both;
//   - the region's nodes are searched again by Dijkstra, starting from the sources inside it
//     and from its border (the nodes outside it next to it, whose distances hold).
//
// Dijkstra's distance of a node is the least, over the walks to it, of the walk's length
// summed edge after edge from its source; the update sums the same walks the same way, so
// an updated Distances is the one Distances would compute, to the last bit (the test says so).

// Update returns the distances from sources on g up to d's radius, computed again only where
// they can differ from d's: g is d's graph or a graph derived from the same network by edits,
// and sources are attachments made on g. Outside that region the values are d's, so the cost
// follows what changed, not the size of the network. d is not changed.
func (g *Graph) Update(d *Distances, sources []Attachment) *Distances {
	if d.g.base != g.base {
		return g.Distances(sources, d.radius)
	}
	gone, added := attachmentChanges(d.g, g, d.sources, sources)
	return g.update(d, sources, gone, added, func() []int32 { return sourceIndex(d.sources, sources) })
}

// UpdateFrom is Update when the caller knows which of the sources are d's: from[j] is the
// index in d's sources of sources[j] when that is the same attachment, -1 when sources[j] is
// new; d's sources that from does not name are gone. It spares comparing every source.
func (g *Graph) UpdateFrom(d *Distances, sources []Attachment, from []int32) *Distances {
	if d.g.base != g.base {
		return g.Distances(sources, d.radius)
	}
	used := make([]bool, len(d.sources))
	idx := make([]int32, len(d.sources))
	for i := range idx {
		idx[i] = -1
	}
	var gone, added []Attachment
	for j, i := range from {
		if i < 0 {
			added = append(added, sources[j])
			continue
		}
		used[i], idx[i] = true, int32(j)
		if d.g != g && g.onOverlay(sources[j]) { // overlays are numbered afresh
			gone, added = append(gone, d.sources[i]), append(added, sources[j])
		}
	}
	for i, u := range used {
		if !u {
			gone = append(gone, d.sources[i])
		}
	}
	return g.update(d, sources, gone, added, func() []int32 { return idx })
}

// onOverlay reports whether an attachment is to an edge or node of g's overlay.
func (g *Graph) onOverlay(a Attachment) bool {
	if a.Edge == NoEdge {
		return int(a.Node) >= len(g.base.nodes)
	}
	return int(a.Edge) >= len(g.base.edges)
}

// update is Update knowing the sources gone and added; index gives, for each of d's sources,
// its index in sources (-1: gone).
func (g *Graph) update(d *Distances, sources, gone, added []Attachment, index func() []int32) *Distances {
	changed := edgeChanges(d.g, g)
	if len(changed) == 0 && len(gone) == 0 && len(added) == 0 {
		// The same attachments: the distances are d's, shared.
		nd := &Distances{g: g, radius: d.radius, dist: d.dist, source: d.source, reached: d.Reached(), onEdge: d.onEdge, sources: sources}
		nd.sorted.Do(func() {})
		if !slices.Equal(d.sources, sources) { // the same attachments in another order
			nd.source = remapSources(d, index(), nil, nil)
		}
		return nd
	}

	// The region: within the radius, in each graph, of what changed there. A little slack
	// keeps a walk whose part from the change is summed apart (from 0) inside it.
	reach := d.radius*(1+1e-9) + 1e-6
	nb := len(g.base.nodes)
	region := make([]bool, g.NumNodes())
	mark := func(gr *Graph, seeds []Attachment) {
		if len(seeds) == 0 {
			return
		}
		for _, n := range gr.Distances(seeds, reach).Reached() {
			if int(n) < nb || gr == g {
				region[n] = true
			}
		}
	}
	var oldSeeds, newSeeds []Attachment
	for _, c := range changed {
		gr := g
		if c.old {
			gr = d.g
		}
		e := gr.Edge(c.id)
		seeds := []Attachment{gr.AtNode(e.From), gr.AtNode(e.To)}
		if c.old {
			oldSeeds = append(oldSeeds, seeds...)
		} else {
			newSeeds = append(newSeeds, seeds...)
		}
	}
	for _, a := range gone {
		a.Stub = 0
		oldSeeds = append(oldSeeds, a)
	}
	for _, a := range added {
		a.Stub = 0
		newSeeds = append(newSeeds, a)
	}
	mark(d.g, oldSeeds)
	mark(g, newSeeds)
	for n := nb; n < len(region); n++ {
		region[n] = true // the overlay's nodes: numbered afresh by every edit
	}

	nd := &Distances{
		g:       g,
		radius:  d.radius,
		dist:    make([]float64, g.NumNodes()),
		source:  remapSources(d, index(), region, g),
		onEdge:  map[EdgeID][]seed{},
		sources: sources,
	}
	copy(nd.dist, d.dist[:nb])
	for n := range nd.dist {
		if region[n] {
			nd.dist[n] = math.Inf(1)
		}
	}
	var h nodeHeap
	relax := func(n NodeID, dist float64, src int32) {
		if region[n] && dist < nd.dist[n] && dist <= nd.radius {
			nd.dist[n], nd.source[n] = dist, src
			h.push(dist, n)
		}
	}
	seedFrom(g, sources, nd.onEdge, relax)
	// The border: a region node next to a node outside it starts from that node's distance.
	for n, in := range region {
		if !in {
			continue
		}
		g.Edges(NodeID(n), func(e EdgeID) bool {
			u := g.Other(e, NodeID(n))
			if !region[u] && nd.within(nd.dist[u]) {
				relax(NodeID(n), nd.dist[u]+g.Edge(e).Length, nd.source[u])
			}
			return true
		})
	}
	for h.len() > 0 {
		du, u := h.pop()
		if du > nd.dist[u] {
			continue
		}
		src := nd.source[u]
		g.Edges(u, func(e EdgeID) bool {
			relax(g.Other(e, u), du+g.Edge(e).Length, src)
			return true
		})
	}
	return nd
}

// sortReached lists the nodes within the radius, nearest first (then by id).
func (d *Distances) sortReached() {
	d.reached = d.reached[:0]
	for n, v := range d.dist {
		if d.within(v) {
			d.reached = append(d.reached, NodeID(n))
		}
	}
	slices.SortFunc(d.reached, func(a, b NodeID) int {
		if c := cmp.Compare(d.dist[a], d.dist[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
}

// sourceIndex returns, for each of old's attachments, its index in cur (-1: none).
func sourceIndex(old, cur []Attachment) []int32 {
	at := make(map[Attachment]int32, len(cur))
	for i, a := range cur {
		if _, dup := at[a]; !dup {
			at[a] = int32(i)
		}
	}
	idx := make([]int32, len(old))
	for i, a := range old {
		if j, ok := at[a]; ok {
			idx[i] = j
		} else {
			idx[i] = -1
		}
	}
	return idx
}

// remapSources returns d's per-node source indices renumbered by idx (d's source index →
// the new one; a node whose source is gone keeps -1 until searched again; region nodes are
// searched again).
func remapSources(d *Distances, idx []int32, region []bool, g *Graph) []int32 {
	n := len(d.source)
	if g != nil {
		n = g.NumNodes()
	}
	out := make([]int32, n)
	for i := range out {
		out[i] = -1
		if i < len(d.source) && (region == nil || !region[i]) && d.within(d.dist[i]) {
			out[i] = idx[d.source[i]]
		}
	}
	return out
}

// edgeChange is an edge live in one of two graphs and not in the other: old says which.
type edgeChange struct {
	id  EdgeID
	old bool
}

// edgeChanges lists the edges live in one of two graphs of the same network and not in the
// other: every edge of either overlay (an overlay is numbered afresh by each edit), and the
// base edges removed in one only.
func edgeChanges(from, to *Graph) []edgeChange {
	if from == to {
		return nil
	}
	var out []edgeChange
	nb := len(to.base.edges)
	for i := range from.edges {
		if id := EdgeID(nb + i); !from.Removed(id) {
			out = append(out, edgeChange{id, true})
		}
	}
	for i := range to.edges {
		if id := EdgeID(nb + i); !to.Removed(id) {
			out = append(out, edgeChange{id, false})
		}
	}
	words := (nb + 63) / 64
	for w := range words {
		var a, b uint64
		if w < len(from.removed) {
			a = from.removed[w]
		}
		if w < len(to.removed) {
			b = to.removed[w]
		}
		for x := a ^ b; x != 0; x &= x - 1 {
			id := EdgeID(w*64 + bits.TrailingZeros64(x))
			if int(id) >= nb {
				break
			}
			out = append(out, edgeChange{id, !from.Removed(id)})
		}
	}
	return out
}

// attachmentChanges returns the attachments in old (made on from) and not in cur (made on
// to), and those in cur and not in old. An attachment to an overlay's edge or node is always
// a change between two graphs: the overlays are numbered afresh.
func attachmentChanges(from, to *Graph, old, cur []Attachment) (gone, added []Attachment) {
	overlay := func(g *Graph, a Attachment) bool { return from != to && g.onOverlay(a) }
	count := map[Attachment]int{}
	for _, a := range old {
		if !overlay(from, a) {
			count[a]++
		}
	}
	for _, a := range cur {
		if !overlay(to, a) && count[a] > 0 {
			count[a]--
			continue
		}
		added = append(added, a)
	}
	for _, a := range old {
		if overlay(from, a) {
			gone = append(gone, a)
		} else if count[a] > 0 {
			count[a]--
			gone = append(gone, a)
		}
	}
	return gone, added
}

// Reattacher returns a function giving the attachment in g of a point attached in from (g
// or a graph of the same network): the attachment itself when it still holds (its base edge
// is still there and no edge of g is as near), else a new one. It spares the nearest-edge
// search for the many points a small edit does not move; its answer is Attach's.
func (g *Graph) Reattacher(from *Graph) func(Attachment) (Attachment, bool) {
	if from == g {
		return func(a Attachment) (Attachment, bool) { return a, true }
	}
	// The edges of g that may be nearer than before: its overlay's and the base edges
	// reopened (removed in from only).
	var fresh []EdgeID
	for i := range g.edges {
		if id := EdgeID(len(g.base.edges) + i); !g.Removed(id) {
			fresh = append(fresh, id)
		}
	}
	if from.base == g.base {
		for _, c := range edgeChanges(from, g) {
			if !c.old && int(c.id) < len(g.base.edges) {
				fresh = append(fresh, c.id)
			}
		}
	}
	return func(a Attachment) (Attachment, bool) {
		if from.base != g.base || a.Edge == NoEdge || int(a.Edge) >= len(g.base.edges) || g.Removed(a.Edge) {
			return g.Attach(a.Point, 0)
		}
		xy := g.proj.ToMetric(a.Point)
		for _, e := range fresh {
			// As near, up to rounding: Attach decides.
			ed := g.Edge(e)
			if boxDistance(ed.item.Bound, xy) <= a.Stub+1e-9 && distanceTo(ed.Line(), xy) <= a.Stub+1e-9 {
				return g.Attach(a.Point, 0)
			}
		}
		return a, true
	}
}

// boxDistance is the distance in metres from the metric point p to the metric bound b, at
// most the distance to anything inside b.
func boxDistance(b orb.Bound, p orb.Point) float64 {
	dx := max(0, b.Min[0]-p[0], p[0]-b.Max[0])
	dy := max(0, b.Min[1]-p[1], p[1]-b.Max[1])
	return math.Hypot(dx, dy)
}

// distanceTo is the distance in metres from the metric point p to the metric line.
func distanceTo(line orb.LineString, p orb.Point) float64 {
	_, at := locate(line, p)
	return math.Hypot(at[0]-p[0], at[1]-p[1])
}

// ChangedEdge is an edge live in one of two graphs and not in the other.
type ChangedEdge struct {
	Bound    orb.Bound // metric
	From, To NodeID    // its nodes, in the graph it is live in
	Old      bool      // live in the older graph (from), not in the newer
}

// ChangedEdges returns the edges live in g and not in from, or in from and not in g (from is
// g or a graph of the same network; for another network, every edge of both): a walk that
// differs between the two passes along one of them.
func (g *Graph) ChangedEdges(from *Graph) []ChangedEdge {
	var out []ChangedEdge
	add := func(gr *Graph, id EdgeID) {
		e := gr.Edge(id)
		out = append(out, ChangedEdge{Bound: e.item.Bound, From: e.From, To: e.To, Old: gr != g})
	}
	if from.base != g.base {
		for _, gr := range []*Graph{from, g} {
			for e := range gr.NumEdgeIDs() {
				if !gr.Removed(EdgeID(e)) {
					add(gr, EdgeID(e))
				}
			}
		}
		return out
	}
	for _, c := range edgeChanges(from, g) {
		if c.old {
			add(from, c.id)
		} else {
			add(g, c.id)
		}
	}
	return out
}
