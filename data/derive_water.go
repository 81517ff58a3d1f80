package data

import (
	"math"
	"slices"
	"sort"

	"github.com/paulmach/orb"
	"github.com/paulmach/osm"

	"github.com/citytwin/citytwin/spatial"
)

// seaIDBase numbers the sea polygons of the water layer (1, 2… after it), apart from the ids
// of OSM elements.
const seaIDBase int64 = 6_000_000_000_000

// minSeaM2 is the smallest sea polygon kept: less is a sliver between a coastline and the
// box's side.
const minSeaM2 = 1.0

// waterKind maps an area's tags to a kind of the water layer (layers.WaterKinds), "" when it
// is no water body: natural=water by its water=* value, waterway=riverbank and dock,
// landuse=reservoir and basin.
func waterKind(t osm.Tags) string {
	switch {
	case t.Find("natural") == "water":
		switch w := t.Find("water"); w {
		case "lake", "pond", "river", "canal", "reservoir", "basin", "lagoon", "harbour":
			return w
		case "oxbow":
			return "lake"
		case "stream", "riverbank":
			return "river"
		}
		return "water"
	case t.Find("waterway") == "riverbank":
		return "river"
	case t.Find("waterway") == "dock":
		return "harbour"
	case t.Find("landuse") == "reservoir":
		return "reservoir"
	case t.Find("landuse") == "basin":
		return "basin"
	}
	return ""
}

// mapWater maps the water areas (closed ways and multipolygons, waterKind) to the water layer,
// and adds the sea (seaPolygons) with the kind "sea".
func (c *city) mapWater() {
	for _, e := range c.elems {
		if e.area == nil {
			continue
		}
		kind := waterKind(e.tags)
		if kind == "" {
			continue
		}
		props := map[string]any{"kind": kind, "derived": false}
		if name := e.tags.Find("name"); name != "" {
			props["name"] = name
		}
		c.emit("water", e.id, e.areaGeom(), props, nil)
	}
	n := int64(0)
	for _, p := range c.seaPolygons() {
		if spatial.Area(c.metric(orb.Polygon{p[0]})) < minSeaM2 {
			continue // a coastline along the box's side: no sea inside the box
		}
		n++
		c.emit("water", seaIDBase+n, roundGeometry(p), map[string]any{"kind": "sea", "derived": false}, nil)
	}
}

// seaPolygons builds the sea from the natural=coastline ways, which OSM draws with the land on
// their left, so the sea on their right. The ways are joined end to end into chains (each cut
// where the extract lacks a node) and cut to the extract's box (extractBox), shrunk first so
// that no open chain ends inside it (pastEnd): every open piece then starts and ends on a side; the sea is then bounded by such chains, each followed from its end clockwise
// along the box to the next chain's start, until the ring closes. A closed chain turning
// counter-clockwise is an island, a hole in the sea polygon around it; one turning clockwise
// is a sea of its own. Without open chains, islands make the whole box sea but for them.
// Polygons are counter-clockwise outside, clockwise holes, in WGS84.
func (c *city) seaPolygons() []orb.Polygon {
	var parts [][]osm.NodeID
	for _, id := range c.sortedWayIDs() {
		w := c.d.ways[id]
		if w.Tags.Find("natural") != "coastline" {
			continue
		}
		var run []osm.NodeID
		for _, n := range w.Nodes {
			if _, ok := c.d.coords.point(n.ID); !ok {
				if len(run) >= 2 {
					parts = append(parts, run)
				}
				run = nil
				continue
			}
			run = append(run, n.ID)
		}
		if len(run) >= 2 {
			parts = append(parts, run)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	closedIDs, openIDs := chainWays(parts)
	box := c.extractBox()
	for _, ids := range openIDs {
		for _, end := range []osm.NodeID{ids[0], ids[len(ids)-1]} {
			p, _ := c.d.coords.point(end)
			box = pastEnd(box, p)
		}
	}
	var open []orb.LineString
	var closed []orb.Ring
	for _, ids := range append(closedIDs, openIDs...) {
		l, _ := c.d.coords.line(ids)
		pieces, ring := clipToBox(box, l, ids[0] == ids[len(ids)-1])
		if ring != nil {
			closed = append(closed, ring)
		}
		open = append(open, pieces...)
	}
	var seas []orb.Polygon
	var islands []orb.Ring
	for _, r := range closed {
		if r.Orientation() == orb.CCW {
			r.Reverse() // a hole turns clockwise
			islands = append(islands, r)
		} else {
			r.Reverse()
			seas = append(seas, orb.Polygon{r})
		}
	}
	if len(open) == 0 && len(islands) > 0 {
		seas = append(seas, orb.Polygon{orb.Ring{box.Min, {box.Max[0], box.Min[1]}, box.Max, {box.Min[0], box.Max[1]}, box.Min}})
	}
	seas = append(seas, closeAlongBox(box, open)...)
	for _, r := range islands {
		if i := smallestContaining(seas, r[0]); i >= 0 {
			seas[i] = append(seas[i], r)
		}
	}
	return seas
}

// sortedWayIDs lists the kept ways' ids in ascending order.
func (c *city) sortedWayIDs() []osm.WayID {
	ids := make([]osm.WayID, 0, len(c.d.ways))
	for id := range c.d.ways {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// extractBox is the extract's box as its header gives it, else the bound of every node the
// import keeps.
func (c *city) extractBox() orb.Bound {
	if b := c.d.bounds; b != nil && b.MinLon < b.MaxLon && b.MinLat < b.MaxLat {
		return orb.Bound{Min: orb.Point{b.MinLon, b.MinLat}, Max: orb.Point{b.MaxLon, b.MaxLat}}
	}
	return c.d.coords.bound()
}

// clipToBox cuts a coastline chain to the box: the pieces of it inside, each ending where it
// crosses the box's side; a closed chain wholly inside comes back as a ring instead. A closed
// chain that crosses the box is first turned to start outside it, so no piece is cut at its
// first node.
func clipToBox(b orb.Bound, l orb.LineString, closed bool) ([]orb.LineString, orb.Ring) {
	if closed {
		start := slices.IndexFunc(l, func(p orb.Point) bool { return !b.Contains(p) })
		if start < 0 {
			return nil, orb.Ring(l)
		}
		l = append(append(orb.LineString(nil), l[start:]...), l[1:start+1]...)
	}
	var out []orb.LineString
	var run orb.LineString
	for i := 0; i+1 < len(l); i++ {
		p, q, ok := clipSegmentToBox(b, l[i], l[i+1])
		if !ok {
			continue
		}
		if len(run) > 0 && run[len(run)-1] != p {
			out = append(out, run)
			run = nil
		}
		if len(run) == 0 {
			run = orb.LineString{p}
		}
		run = append(run, q)
	}
	if len(run) > 0 {
		out = append(out, run)
	}
	return out, nil
}

// clipSegmentToBox is the part of segment a–b inside the box (Liang–Barsky); false when none.
func clipSegmentToBox(b orb.Bound, p, q orb.Point) (orb.Point, orb.Point, bool) {
	t0, t1 := 0.0, 1.0
	d := [2]float64{q[0] - p[0], q[1] - p[1]}
	for axis := range 2 {
		lo, hi := b.Min[axis], b.Max[axis]
		if d[axis] == 0 {
			if p[axis] < lo || p[axis] > hi {
				return p, q, false
			}
			continue
		}
		ta, tb := (lo-p[axis])/d[axis], (hi-p[axis])/d[axis]
		if ta > tb {
			ta, tb = tb, ta
		}
		t0, t1 = max(t0, ta), min(t1, tb)
		if t0 >= t1 {
			return p, q, false
		}
	}
	at := func(t float64, axisPoint orb.Point) orb.Point {
		if t == 0 {
			return p
		}
		if t == 1 {
			return q
		}
		r := orb.Point{p[0] + t*d[0], p[1] + t*d[1]}
		// Exactly on the side it crosses, so boxParam places it there.
		for axis := range 2 {
			for _, side := range []float64{b.Min[axis], b.Max[axis]} {
				if math.Abs(r[axis]-side) < 1e-12 {
					r[axis] = side
				}
			}
		}
		return r
	}
	return at(t0, p), at(t1, q), true
}

// bound is the bound of every node with coordinates.
func (c *nodeCoords) bound() orb.Bound {
	b := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	for i := range c.ids {
		if c.xy[i][0] == missingCoord {
			continue
		}
		p, _ := c.point(c.ids[i])
		b = b.Extend(p)
	}
	return b
}

// pastEnd shrinks the box, when the end p of an open coastline lies inside it, by moving its
// side nearest to p just past p: the extract holds no more of that coastline, so the sea
// cannot be closed beyond it.
func pastEnd(b orb.Bound, p orb.Point) orb.Bound {
	const step = 1e-7 // OSM's precision
	if !b.Contains(p) {
		return b
	}
	dl, dr, db, dt := p[0]-b.Min[0], b.Max[0]-p[0], p[1]-b.Min[1], b.Max[1]-p[1]
	switch min(dl, dr, db, dt) {
	case dl:
		b.Min[0] = p[0] + step
	case dr:
		b.Max[0] = p[0] - step
	case db:
		b.Min[1] = p[1] + step
	default:
		b.Max[1] = p[1] - step
	}
	return b
}

// boxParam is the position of a point of the box's boundary along it, clockwise from the
// north-west corner: along the top, down the right side, back along the bottom, up the left.
func boxParam(b orb.Bound, p orb.Point) float64 {
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	switch {
	case p[1] == b.Max[1] && p[0] < b.Max[0]:
		return p[0] - b.Min[0]
	case p[0] == b.Max[0] && p[1] > b.Min[1]:
		return w + (b.Max[1] - p[1])
	case p[1] == b.Min[1] && p[0] > b.Min[0]:
		return w + h + (b.Max[0] - p[0])
	}
	return 2*w + h + (p[1] - b.Min[1])
}

// closeAlongBox joins open chains that start and end on the box's boundary into rings with
// the sea on the chains' right: from a chain's end clockwise along the box to the nearest
// chain start, through the box's corners on the way. Rings come out counter-clockwise.
func closeAlongBox(b orb.Bound, chains []orb.LineString) []orb.Polygon {
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	perimeter := 2 * (w + h)
	corners := []struct {
		at float64
		p  orb.Point
	}{{w, b.Max}, {w + h, orb.Point{b.Max[0], b.Min[1]}}, {2*w + h, b.Min}, {perimeter, orb.Point{b.Min[0], b.Max[1]}}}
	used := make([]bool, len(chains))
	var out []orb.Polygon
	for k := range chains {
		if used[k] {
			continue
		}
		used[k] = true
		ring := append(orb.Ring(nil), chains[k]...)
		for {
			end := ring[len(ring)-1]
			from := boxParam(b, end)
			next, best := -1, math.Inf(1)
			for j, ch := range chains {
				if used[j] && j != k {
					continue
				}
				d := boxParam(b, ch[0]) - from
				if d < 0 {
					d += perimeter
				}
				if d < best {
					next, best = j, d
				}
			}
			// The corners passed on the way, in order.
			for lap := 0.0; lap <= perimeter; lap += perimeter {
				for _, cn := range corners {
					d := cn.at + lap - from
					if d > 0 && d < best {
						ring = append(ring, cn.p)
					}
				}
			}
			if next == k {
				ring = append(ring, ring[0])
				break
			}
			used[next] = true
			ring = append(ring, chains[next]...)
		}
		ring.Reverse()
		out = append(out, orb.Polygon{ring})
	}
	return out
}
