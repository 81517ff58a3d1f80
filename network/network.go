// Package network is CityTwin's walking network: a graph of the ways a pedestrian may use,
// built from line features in WGS84 (EPSG:4326) with edge lengths in metres of the city's local
// projection (spatial.Projection), and the queries the access indicators need:
//
//   - Attach a point (a school, a home) to the nearest point of the network: the point is
//     projected onto the nearest edge, which is split there virtually, and the straight stub
//     from the point to the network counts as walked.
//   - Distances: bounded multi-source shortest paths (Dijkstra with a radius), giving for every
//     node within the radius the walking distance to the nearest source and which source it
//     is, and the distance at any attached point.
//   - Isochrone: the parts of the network within a walking distance of one point, as a
//     MultiLineString (partial edges included) with a convex hull for display.
//   - Edits: a graph with an edge added (a footbridge joined at its ends) or removed (a closed
//     street) shares everything with the graph it comes from and copies only its small overlay.
//
// The network is undirected: a pedestrian walks both ways along every edge.
package network

import (
	"fmt"
	"math"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// SnapTolerance is the distance in metres within which two vertices of the input lines are
// taken to be the same point.
const SnapTolerance = 0.01

// indexLayer names the network's edges in its spatial index.
const indexLayer = "network"

// NodeID identifies a node of a graph and of every graph derived from it.
type NodeID int32

// EdgeID identifies an edge of a graph and of every graph derived from it. A removed edge's ID
// is not reused.
type EdgeID int32

// NoEdge is the Edge of an attachment made at a node.
const NoEdge EdgeID = -1

// Node is a junction or a dead end of the network.
type Node struct {
	Point orb.Point // lon, lat
	XY    orb.Point // local metres
}

// Edge is a stretch of way between two nodes with no junction in between.
type Edge struct {
	From, To NodeID
	Length   float64 // metres along the line
	Source   int64   // the input line it comes from (Line.Source)
	item     *spatial.Item
}

// Line returns the edge's line in local metres, from the From node to the To node.
func (e *Edge) Line() orb.LineString { return e.item.Geom.(orb.LineString) }

// LonLat returns the edge's line in WGS84, from the From node to the To node.
func (e *Edge) LonLat() orb.LineString { return e.item.Feature.Geometry.(orb.LineString) }

// Line is one input way: a LineString or MultiLineString in WGS84 lon/lat.
type Line struct {
	Source int64 // e.g. the OSM way ID; kept on every edge cut from the line
	Geom   orb.Geometry
}

// Graph is an immutable walking network. The base (nodes, edges, adjacency and spatial index)
// is built once and shared by every graph derived from it by edits; a derived graph carries
// only an overlay of added nodes and edges and the set of removed edges.
type Graph struct {
	proj spatial.Projection
	base *base

	// Overlay: nodes and edges added by edits (IDs follow the base's), their adjacency, and
	// the removed edges as a bitset over all edge IDs. Every edit copies these.
	nodes   []Node
	edges   []Edge
	adj     map[NodeID][]EdgeID
	removed []uint64
	index   *spatial.Index // the overlay's edges
	live    int            // edges not removed
}

// base is the part of a graph shared with every graph derived from it.
type base struct {
	nodes []Node
	edges []Edge
	off   []int32  // adjacency in compressed rows: the edges of node n are adj[off[n]:off[n+1]]
	adj   []EdgeID // base edges only
	index *spatial.Index
	// bySource lists the base edges of each input line, made on first use (SourceEdges).
	bySource     map[int64][]EdgeID
	bySourceOnce sync.Once
}

// Build makes the walking network of lines, whose coordinates are lon/lat, measured in proj.
// Vertices within SnapTolerance of each other are one point; every point that ends a line or is
// shared by two lines (or twice by one) becomes a node, and the lines are cut into edges there.
// Lines crossing without a shared vertex (a bridge over a street) do not meet. Choosing which
// ways belong to the network is the caller's: see Walkable.
func Build(proj spatial.Projection, lines []Line) (*Graph, error) {
	s := newSnapper()
	var parts [][]int32 // per input part, its vertices
	var sources []int64
	for i, l := range lines {
		var ls []orb.LineString
		switch t := l.Geom.(type) {
		case orb.LineString:
			ls = []orb.LineString{t}
		case orb.MultiLineString:
			ls = t
		default:
			return nil, fmt.Errorf("network: line %d (source %d): %T is not a LineString or MultiLineString", i, l.Source, l.Geom)
		}
		for _, part := range ls {
			vs := make([]int32, 0, len(part))
			for _, p := range part {
				if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
					return nil, fmt.Errorf("network: line %d (source %d): coordinate %v is not finite", i, l.Source, p)
				}
				v := s.vertex(p, proj.ToMetric(p))
				if len(vs) > 0 && vs[len(vs)-1] == v {
					continue // a repeated vertex adds nothing
				}
				vs = append(vs, v)
			}
			if len(vs) < 2 {
				continue
			}
			for _, v := range vs {
				s.uses[v]++
			}
			s.uses[vs[0]] += 2 // ends are nodes
			s.uses[vs[len(vs)-1]] += 2
			parts = append(parts, vs)
			sources = append(sources, l.Source)
		}
	}

	b := &base{index: spatial.NewIndex(indexLayer, proj)}
	nodeOf := make([]NodeID, len(s.ll))
	for i := range nodeOf {
		nodeOf[i] = -1
	}
	node := func(v int32) NodeID {
		if nodeOf[v] < 0 {
			nodeOf[v] = NodeID(len(b.nodes))
			b.nodes = append(b.nodes, Node{Point: s.ll[v], XY: s.xy[v]})
		}
		return nodeOf[v]
	}
	for k, vs := range parts {
		start := 0
		for i := 1; i < len(vs); i++ {
			if s.uses[vs[i]] < 2 {
				continue
			}
			ll := make(orb.LineString, 0, i-start+1)
			for _, v := range vs[start : i+1] {
				ll = append(ll, s.ll[v])
			}
			e := Edge{From: node(vs[start]), To: node(vs[i]), Source: sources[k]}
			e.item = b.index.Insert(&layers.Feature{Layer: indexLayer, ID: int64(len(b.edges)), Geometry: ll})
			e.Length = planar.Length(e.item.Geom)
			b.edges = append(b.edges, e)
			start = i
		}
	}

	b.off = make([]int32, len(b.nodes)+1)
	for _, e := range b.edges {
		b.off[e.From+1]++
		if e.To != e.From {
			b.off[e.To+1]++
		}
	}
	for i := 1; i < len(b.off); i++ {
		b.off[i] += b.off[i-1]
	}
	b.adj = make([]EdgeID, b.off[len(b.nodes)])
	fill := append([]int32(nil), b.off[:len(b.nodes)]...)
	for id, e := range b.edges {
		b.adj[fill[e.From]] = EdgeID(id)
		fill[e.From]++
		if e.To != e.From {
			b.adj[fill[e.To]] = EdgeID(id)
			fill[e.To]++
		}
	}
	return &Graph{proj: proj, base: b, live: len(b.edges)}, nil
}

// snapper gives coincident vertices (within SnapTolerance) one number, through a hash grid of
// SnapTolerance cells in which a vertex is looked for in its own and the eight neighbouring
// cells.
type snapper struct {
	cells map[[2]int64][]int32
	ll    []orb.Point // per vertex: lon/lat as first seen
	xy    []orb.Point // per vertex: local metres
	uses  []int32     // per vertex: occurrences in the lines, ends counted 2 more
}

func newSnapper() *snapper { return &snapper{cells: map[[2]int64][]int32{}} }

func (s *snapper) vertex(ll, xy orb.Point) int32 {
	cx, cy := int64(math.Floor(xy[0]/SnapTolerance)), int64(math.Floor(xy[1]/SnapTolerance))
	for dx := int64(-1); dx <= 1; dx++ {
		for dy := int64(-1); dy <= 1; dy++ {
			for _, v := range s.cells[[2]int64{cx + dx, cy + dy}] {
				if planar.Distance(s.xy[v], xy) <= SnapTolerance {
					return v
				}
			}
		}
	}
	v := int32(len(s.xy))
	s.ll, s.xy, s.uses = append(s.ll, ll), append(s.xy, xy), append(s.uses, 0)
	s.cells[[2]int64{cx, cy}] = append(s.cells[[2]int64{cx, cy}], v)
	return v
}

// Projection is the graph's metric projection.
func (g *Graph) Projection() spatial.Projection { return g.proj }

// NumNodes is the number of node IDs (nodes left without edges by removals included).
func (g *Graph) NumNodes() int { return len(g.base.nodes) + len(g.nodes) }

// NumEdgeIDs is the number of edge IDs, removed edges included: IDs run from 0 to
// NumEdgeIDs()-1.
func (g *Graph) NumEdgeIDs() int { return len(g.base.edges) + len(g.edges) }

// NumEdges is the number of edges not removed.
func (g *Graph) NumEdges() int { return g.live }

// Node returns node n.
func (g *Graph) Node(n NodeID) *Node {
	if int(n) < len(g.base.nodes) {
		return &g.base.nodes[n]
	}
	return &g.nodes[int(n)-len(g.base.nodes)]
}

// Edge returns edge e, removed or not (see Removed).
func (g *Graph) Edge(e EdgeID) *Edge {
	if int(e) < len(g.base.edges) {
		return &g.base.edges[e]
	}
	return &g.edges[int(e)-len(g.base.edges)]
}

// Removed reports whether edge e was removed from this graph.
func (g *Graph) Removed(e EdgeID) bool {
	w := int(e) / 64
	return w < len(g.removed) && g.removed[w]&(1<<(uint(e)%64)) != 0
}

// Edges calls fn for every edge of node n not removed, until fn returns false.
func (g *Graph) Edges(n NodeID, fn func(EdgeID) bool) {
	if int(n) < len(g.base.nodes) {
		for _, e := range g.base.adj[g.base.off[n]:g.base.off[n+1]] {
			if !g.Removed(e) && !fn(e) {
				return
			}
		}
	}
	if len(g.adj) == 0 {
		return // a graph as built has no overlay
	}
	for _, e := range g.adj[n] {
		if !g.Removed(e) && !fn(e) {
			return
		}
	}
}

// Other returns the node at the other end of edge e from n.
func (g *Graph) Other(e EdgeID, n NodeID) NodeID {
	ed := g.Edge(e)
	if ed.From == n {
		return ed.To
	}
	return ed.From
}

// NodeAt returns the node within SnapTolerance of the lon/lat point p.
func (g *Graph) NodeAt(p orb.Point) (NodeID, bool) {
	xy := g.proj.ToMetric(p)
	a, ok := g.Attach(p, SnapTolerance)
	if !ok {
		return 0, false
	}
	if a.Edge == NoEdge {
		return a.Node, true
	}
	e := g.Edge(a.Edge)
	for _, n := range []NodeID{e.From, e.To} {
		if planar.Distance(g.Node(n).XY, xy) <= SnapTolerance {
			return n, true
		}
	}
	return 0, false
}
