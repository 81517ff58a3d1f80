package network

import (
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// An edit never changes its graph: it returns a new graph sharing the base (nodes, edges,
// adjacency and spatial index of the network as built) and carrying a copy of the overlay.
// An edit costs the size of the overlay (the edits so far) plus a bitset of one bit per edge,
// not the size of the network.

// clone copies the overlay; the base is shared.
func (g *Graph) clone() *Graph {
	c := *g
	c.nodes = slices.Clip(slices.Clone(g.nodes))
	c.edges = slices.Clone(g.edges)
	c.adj = make(map[NodeID][]EdgeID, len(g.adj)+2)
	for n, es := range g.adj {
		c.adj[n] = slices.Clip(es) // appending copies
	}
	c.removed = slices.Clone(g.removed)
	return &c
}

// WithoutEdges returns the graph without the given edges (a closed street, a demolished
// bridge). Edges already removed are ignored.
func (g *Graph) WithoutEdges(ids ...EdgeID) *Graph {
	c := g.clone()
	for _, e := range ids {
		c.remove(e)
	}
	return c
}

// WithoutSource returns the graph without every edge cut from the input line source.
func (g *Graph) WithoutSource(source int64) *Graph {
	return g.WithoutEdges(g.SourceEdges(source)...)
}

// SourceEdges lists the edges cut from the input line source (an added line's source
// included) that are not removed, in ID order.
func (g *Graph) SourceEdges(source int64) []EdgeID {
	b := g.base
	b.bySourceOnce.Do(func() {
		b.bySource = map[int64][]EdgeID{}
		for id, e := range b.edges {
			b.bySource[e.Source] = append(b.bySource[e.Source], EdgeID(id))
		}
	})
	var out []EdgeID
	for _, e := range b.bySource[source] {
		if !g.Removed(e) {
			out = append(out, e)
		}
	}
	for i := range g.edges {
		if id := EdgeID(len(b.edges) + i); g.edges[i].Source == source && !g.Removed(id) {
			out = append(out, id)
		}
	}
	return out
}

func (g *Graph) remove(e EdgeID) {
	if e < 0 || int(e) >= g.NumEdgeIDs() || g.Removed(e) {
		return
	}
	w := int(e) / 64
	if w >= len(g.removed) {
		g.removed = append(g.removed, make([]uint64, w+1-len(g.removed))...)
	}
	g.removed[w] |= 1 << (uint(e) % 64)
	g.live--
}

// WithLine returns the graph with the lon/lat line added as one edge (a footbridge, a new
// path), and the new edge's ID. Each end of the line joins the network where it is nearest,
// if that is within join metres: at a node when within SnapTolerance of one (the end moved
// onto it), else at a new node splitting the edge there, the line extended by the straight
// stub from its end to that point. An end farther than join from the network becomes a new
// dead end. The line meets nothing between its ends: a bridge crosses what it passes over.
func (g *Graph) WithLine(line orb.LineString, source int64, join float64) (*Graph, EdgeID, error) {
	ll := make(orb.LineString, 0, len(line))
	for _, p := range line {
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
			return nil, 0, fmt.Errorf("network: added line (source %d): coordinate %v is not finite", source, p)
		}
		if n := len(ll); n > 0 && planar.Distance(g.proj.ToMetric(ll[n-1]), g.proj.ToMetric(p)) <= SnapTolerance {
			continue
		}
		ll = append(ll, p)
	}
	if len(ll) < 2 {
		return nil, 0, fmt.Errorf("network: added line (source %d) has no length", source)
	}
	c := g.clone()
	from := c.join(ll[0], join)
	to := c.join(ll[len(ll)-1], join)
	ll[0], ll[len(ll)-1] = c.Node(from).Point, c.Node(to).Point
	// An end that joined farther than SnapTolerance away walks the stub too.
	if p := line[0]; planar.Distance(c.proj.ToMetric(p), c.Node(from).XY) > SnapTolerance {
		ll = slices.Insert(ll, 1, p)
	}
	if p := line[len(line)-1]; planar.Distance(c.proj.ToMetric(p), c.Node(to).XY) > SnapTolerance {
		ll = slices.Insert(ll, len(ll)-1, p)
	}
	id := c.addEdge(from, to, source, ll)
	c.reindex()
	return c, id, nil
}

// join returns the node the lon/lat end p of an added line joins, splitting an edge or adding
// a dead end as WithLine says. It keeps c's overlay index up to date for the next join.
func (c *Graph) join(p orb.Point, within float64) NodeID {
	a, ok := c.Attach(p, math.Max(within, SnapTolerance))
	if !ok {
		return c.addNode(p)
	}
	if a.Edge == NoEdge {
		return a.Node
	}
	e := *c.Edge(a.Edge)
	switch {
	case a.Along <= SnapTolerance:
		return e.From
	case e.Length-a.Along <= SnapTolerance:
		return e.To
	}
	n := c.addNode(a.At)
	line := e.Line()
	first := c.proj.GeometryToWGS84(cut(line, 0, a.Along)).(orb.LineString)
	second := c.proj.GeometryToWGS84(cut(line, a.Along, e.Length)).(orb.LineString)
	first[0], first[len(first)-1] = c.Node(e.From).Point, a.At
	second[0], second[len(second)-1] = a.At, c.Node(e.To).Point
	c.remove(a.Edge)
	c.addEdge(e.From, n, e.Source, first)
	c.addEdge(n, e.To, e.Source, second)
	c.reindex()
	return n
}

func (c *Graph) addNode(p orb.Point) NodeID {
	c.nodes = append(c.nodes, Node{Point: p, XY: c.proj.ToMetric(p)})
	return NodeID(c.NumNodes() - 1)
}

// addEdge appends an edge of the lon/lat line ll to the overlay; reindex must follow.
func (c *Graph) addEdge(from, to NodeID, source int64, ll orb.LineString) EdgeID {
	id := EdgeID(c.NumEdgeIDs())
	item := spatial.NewItem(&layers.Feature{Layer: indexLayer, ID: int64(id), Geometry: ll}, c.proj)
	c.edges = append(c.edges, Edge{From: from, To: to, Source: source, Length: planar.Length(item.Geom), item: item})
	c.adj[from] = append(c.adj[from], id)
	if to != from {
		c.adj[to] = append(c.adj[to], id)
	}
	c.live++
	return id
}

// reindex builds the overlay's spatial index afresh, so that graphs sharing the old one are
// not changed.
func (c *Graph) reindex() {
	c.index = spatial.NewIndex(indexLayer, c.proj)
	for i := range c.edges {
		c.edges[i].item = c.index.Insert(c.edges[i].item.Feature)
	}
}
