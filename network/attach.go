package network

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/citytwin/citytwin/spatial"
)

// Attachment is a point joined to the network: where it meets the network and how far it is
// from it. The edge it meets is split there only virtually: the graph is not changed.
// An attachment belongs to the graph that made it.
type Attachment struct {
	Point orb.Point // the point attached, lon/lat
	At    orb.Point // the nearest point of the network, lon/lat
	Edge  EdgeID    // the edge At lies on; NoEdge when the point is attached at Node
	Node  NodeID    // the node At is, when Edge is NoEdge
	Along float64   // metres along Edge from its From node to At
	Stub  float64   // metres from Point to At in a straight line, walked as well
}

// Attach joins the lon/lat point p to the nearest point of the network's edges (removed ones
// excepted) no farther than maxStub metres (maxStub <= 0: any distance). ok is false when no
// edge is that near.
func (g *Graph) Attach(p orb.Point, maxStub float64) (a Attachment, ok bool) {
	xy := g.proj.ToMetric(p)
	keep := func(it *spatial.Item) bool { return !g.Removed(EdgeID(it.Feature.ID)) }
	var best *spatial.Hit
	for _, ix := range []*spatial.Index{g.base.index, g.index} {
		if ix == nil {
			continue
		}
		if hits := ix.Nearest(xy, 1, maxStub, keep); len(hits) == 1 && (best == nil || hits[0].Distance < best.Distance) {
			best = &hits[0]
		}
	}
	if best == nil {
		return Attachment{}, false
	}
	id := EdgeID(best.Feature.ID)
	along, at := locate(best.Geom.(orb.LineString), xy)
	a = Attachment{Point: p, Edge: id, Along: along, Stub: best.Distance}
	e := g.Edge(id)
	switch {
	case along <= 0:
		a.Along, a.At = 0, g.Node(e.From).Point
	case along >= e.Length:
		a.Along, a.At = e.Length, g.Node(e.To).Point
	default:
		a.At = g.proj.ToWGS84(at)
	}
	return a, true
}

// AtNode is the attachment of node n itself: no stub.
func (g *Graph) AtNode(n NodeID) Attachment {
	p := g.Node(n).Point
	return Attachment{Point: p, At: p, Edge: NoEdge, Node: n}
}

// locate returns how far along the metric line the point of it nearest to p lies, and that
// point.
func locate(line orb.LineString, p orb.Point) (along float64, at orb.Point) {
	_, i := planar.DistanceFromWithIndex(line, p)
	if i < 0 {
		return 0, line[0]
	}
	for k := 0; k < i; k++ {
		along += planar.Distance(line[k], line[k+1])
	}
	a, b := line[i], line[i+1]
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := 0.0
	if l2 := dx*dx + dy*dy; l2 > 0 {
		t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l2))
	}
	return along + t*math.Sqrt(dx*dx+dy*dy), orb.Point{a[0] + t*dx, a[1] + t*dy}
}

// cut returns the part of the metric line from lo to hi metres along it (0 <= lo <= hi).
func cut(line orb.LineString, lo, hi float64) orb.LineString {
	var out orb.LineString
	pos := 0.0
	for i := 0; i+1 < len(line); i++ {
		a, b := line[i], line[i+1]
		l := planar.Distance(a, b)
		end := pos + l
		if end >= lo && pos <= hi && l > 0 {
			if len(out) == 0 {
				out = append(out, interpolate(a, b, (lo-pos)/l))
			}
			if end >= hi {
				return append(out, interpolate(a, b, (hi-pos)/l))
			}
			out = append(out, b)
		}
		pos = end
	}
	if len(out) == 1 { // hi beyond the end by rounding
		out = append(out, line[len(line)-1])
	}
	return out
}

func interpolate(a, b orb.Point, t float64) orb.Point {
	t = math.Max(0, math.Min(1, t))
	return orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
}
