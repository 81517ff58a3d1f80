package scenarios

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/network"
	"github.com/citytwin/citytwin/spatial"
)

// Walking distances on the street network (docs/domain.md, "Distances"). The access
// indicators compare a walking distance with a radius; with a network (the city's Streets and
// Parameters.Distance "network") that distance is the shortest walk, measured by one bounded
// multi-source Dijkstra run per walk target over the target's features:
//
//   - targets 0..len(nearKinds)-1: the facilities of each near kind, each attached to the
//     nearest point of the network (its straight stub walked too);
//   - targetGreen: the public green spaces, entered at any vertex of their outer rings, each
//     vertex attached to the network;
//   - targetGreenLarge: the public green spaces of at least GreenMinAreaM2, likewise.
//
// A building's centroid is attached the same way, and its walk to a target is read from the
// target's distances. A target is searched only as far as the largest radius an indicator
// compares it with (walkRadius); beyond that the walk is +Inf. Straight-line distances stay
// in near, green and greenLarge for indicator 7 (nearest school and kindergarten by straight
// line), Wi-Fi (straight line by definition) and the straight method.

// The walk targets after the facility kinds.
func (e *Engine) targetGreen() int      { return len(e.nearKinds) }
func (e *Engine) targetGreenLarge() int { return len(e.nearKinds) + 1 }
func (e *Engine) walkTargets() int      { return len(e.nearKinds) + 2 }

// DistanceNetwork and DistanceStraight are the values of Parameters.Distance.
const (
	DistanceNetwork  = "network"
	DistanceStraight = "straight"
)

// setWalkRadii sets, per walk target, the largest radius a network indicator compares it
// with (0: no indicator walks to it).
func (e *Engine) setWalkRadii() {
	p := &e.params
	e.walkRadius = make([]float64, e.walkTargets())
	for i, k := range e.accessIdx {
		e.walkRadius[k] = max(e.walkRadius[k], e.accessRadius[i])
	}
	for _, k := range e.fifteenIdx {
		e.walkRadius[k] = max(e.walkRadius[k], p.FifteenMinuteRadiusM)
	}
	for _, k := range e.helpIdx {
		e.walkRadius[k] = max(e.walkRadius[k], p.DigitalHelpRadiusM)
	}
	e.walkRadius[e.targetGreen()] = p.FifteenMinuteRadiusM
	e.walkRadius[e.targetGreenLarge()] = p.GreenAccessRadiusM
}

// buildNetwork returns the baseline's walking network: nil when the parameters ask for
// straight lines or the city has no streets.
func (e *Engine) buildNetwork(city *spatial.City) (*network.Graph, error) {
	if e.params.Distance == DistanceStraight {
		return nil, nil
	}
	return StreetNetwork(city)
}

// streetNetwork keeps the walking network of the last city asked for: the engine and the
// isochrone answers share it, and a new model gets its own.
var streetNetwork struct {
	mu   sync.Mutex
	city *spatial.City
	g    *network.Graph
	err  error
}

// StreetNetwork returns the walking network of the city's streets (spatial.City.Streets),
// built once per city; nil when the city has no streets.
func StreetNetwork(city *spatial.City) (*network.Graph, error) {
	sn := &streetNetwork
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if sn.city == city {
		return sn.g, sn.err
	}
	var g *network.Graph
	var err error
	if len(city.Streets) > 0 {
		lines := make([]network.Line, len(city.Streets))
		for i, f := range city.Streets {
			lines[i] = network.Line{Source: f.ID, Geom: f.Geometry}
		}
		if g, err = network.Build(city.Proj, lines); err != nil {
			g, err = nil, fmt.Errorf("walking network: %w", err)
		} else if g.NumEdges() == 0 {
			g = nil
		}
	}
	sn.city, sn.g, sn.err = city, g, err
	return g, err
}

// walkSources are the attachments a target's Dijkstra starts from, with the id of the
// feature each comes from (an incremental run replaces those of the features it changed).
type walkSources struct {
	atts []network.Attachment
	ids  []int64
}

func (s *walkSources) add(a network.Attachment, id int64) {
	s.atts, s.ids = append(s.atts, a), append(s.ids, id)
}

// facilitySources attaches every facility of near kind k to en's network.
func (e *Engine) facilitySources(en *env, k int) walkSources {
	var out walkSources
	en.eachFacility(k, func(it *spatial.Item, _ int32) { e.attachFacility(en, it, &out) })
	return out
}

func (e *Engine) attachFacility(en *env, it *spatial.Item, out *walkSources) {
	if a, ok := en.net.Attach(it.Feature.Geometry.(orb.Point), 0); ok {
		out.add(a, it.Feature.ID)
	}
}

// greenSources attaches the public green spaces (large: of at least GreenMinAreaM2 only) to
// en's network at every vertex of their outer rings.
func (e *Engine) greenSources(en *env, large bool) walkSources {
	var out walkSources
	lv := en.greens
	for _, it := range en.b.greenItems {
		if !lv.Hidden[it.Feature.ID] {
			e.attachGreen(en, it, large, &out)
		}
	}
	if lv.hasOver() {
		for _, it := range lv.Over.Items() {
			e.attachGreen(en, it, large, &out)
		}
	}
	return out
}

func (e *Engine) attachGreen(en *env, it *spatial.Item, large bool, out *walkSources) {
	if large && !e.isLargePublic(it) || !e.isPublic(it.Feature) {
		return
	}
	var polys orb.MultiPolygon
	switch g := it.Feature.Geometry.(type) {
	case orb.Polygon:
		polys = orb.MultiPolygon{g}
	case orb.MultiPolygon:
		polys = g
	}
	for _, poly := range polys {
		if len(poly) == 0 {
			continue
		}
		ring := poly[0]
		for i, p := range ring {
			if i == len(ring)-1 && p == ring[0] {
				break // the closing vertex repeats the first
			}
			if a, ok := en.net.Attach(p, 0); ok {
				out.add(a, it.Feature.ID)
			}
		}
	}
}

// sources attaches every feature of walk target t to en's network.
func (e *Engine) sources(en *env, t int) walkSources {
	switch t {
	case e.targetGreen():
		return e.greenSources(en, false)
	case e.targetGreenLarge():
		return e.greenSources(en, true)
	}
	return e.facilitySources(en, t)
}

// walkNet is the network a variant walks: the baseline's with the variant's walk changes;
// nil without a network.
func walkNet(b *baseline, v *Variant) *network.Graph {
	if b.net == nil || v.walkNet == nil {
		return b.net
	}
	return v.walkNet
}

// setWalks computes en's distances per walk target: all of them for the baseline (all), and
// for a variant (a full run) only for the targets whose features it changed (a facility of
// that kind added, removed or modified; any green space for the green targets), or all of
// them when it changed the network, sharing the baseline's otherwise.
func (e *Engine) setWalks(en *env, all bool) {
	b := en.b
	en.net = walkNet(b, en.v)
	if en.net == nil {
		return
	}
	if all {
		e.cacheAttachments(b)
	}
	en.reattach = en.net.Reattacher(b.net)
	en.walk = make([]*network.Distances, e.walkTargets())
	en.walkSrc = make([]walkSources, e.walkTargets())
	for t, r := range e.walkRadius {
		if r <= 0 {
			continue
		}
		if !all && en.net == b.net && !e.targetChanged(en, t) {
			en.walk[t], en.walkSrc[t] = b.env.walk[t], b.env.walkSrc[t]
			continue
		}
		en.walkSrc[t] = e.sources(en, t)
		en.walk[t] = en.net.Distances(en.walkSrc[t].atts, r)
	}
}

// walkZone is a place around which buildings' walks to a target may have changed: those
// whose centroid is within radius of bound (metric) in a straight line.
type walkZone struct {
	bound  orb.Bound
	radius float64
	// moved: only the buildings whose attachment moved (walk.go, attachMoved).
	moved bool
}

// updateWalks sets the distances of en (the variant of an incremental run) from those of
// old (the last run's), searching again only around what changed (network.Graph.Update):
// the features of changed[t] for target t, and every target when the network changed. A
// network left as it was (the same walk changes) is old's. It returns, per target, where the
// buildings' walks may have changed (nil for a target left as it was):
//
//   - within the target's radius of a source that moved (a feature added or removed, an
//     attachment an edit moved);
//   - within the radius less s of an edge live in one network only, s being the least walk
//     from the target to the edge's nodes in the network it is live in: a walk along the
//     edge is at least s plus the straight line from the edge to the building (a source
//     attached on the edge itself moved, and is the case above);
//   - within the radius of an edge live in one network only, for a building whose
//     attachment moved between the networks (onto or off that edge): its walk may go from
//     beyond the radius to within it along an edge that did not change, and the stub it walks
//     in either network is at least its distance to the changed edge.
func (e *Engine) updateWalks(en, old *env, changed []map[int64]bool) [][]walkZone {
	b := en.b
	en.net = walkNet(b, en.v)
	if en.net == nil {
		return nil
	}
	if slices.Equal(en.v.walkKeys, old.v.walkKeys) {
		en.net = old.net
	}
	en.reattach = en.net.Reattacher(b.net)
	netChanged := en.net != old.net
	var edges []network.ChangedEdge
	if netChanged {
		edges = en.net.ChangedEdges(old.net)
	}
	re := en.net.Reattacher(old.net)
	zones := make([][]walkZone, e.walkTargets())
	maxR := slices.Max(e.walkRadius)
	for _, ce := range edges { // zones[0] holds them all (attachMoved reads them there)
		zones[0] = append(zones[0], walkZone{ce.Bound, maxR, true})
	}
	en.walk = make([]*network.Distances, e.walkTargets())
	en.walkSrc = make([]walkSources, e.walkTargets())
	proj := en.v.City.Proj
	for t, r := range e.walkRadius {
		if r <= 0 {
			continue
		}
		if !netChanged && len(changed[t]) == 0 {
			en.walk[t], en.walkSrc[t] = old.walk[t], old.walkSrc[t]
			continue
		}
		var src walkSources
		var from []int32 // per source: its index in the old sources, -1 when new
		movedAt := func(p orb.Point) {
			xy := proj.ToMetric(p)
			zones[t] = append(zones[t], walkZone{orb.Bound{Min: xy, Max: xy}, r, false})
		}
		os := old.walkSrc[t]
		for i, a := range os.atts {
			if changed[t][os.ids[i]] {
				movedAt(a.Point)
				continue
			}
			na, ok := re(a)
			if !ok {
				continue
			}
			if na != a {
				movedAt(a.Point)
				from = append(from, -1)
			} else {
				from = append(from, int32(i))
			}
			src.add(na, os.ids[i])
		}
		for id := range changed[t] {
			n := len(src.atts)
			switch t {
			case e.targetGreen(), e.targetGreenLarge():
				if it, ok := en.greens.Get(id); ok {
					e.attachGreen(en, it, t == e.targetGreenLarge(), &src)
				}
			default:
				if it, ok := en.fac[t].Get(id); ok {
					e.attachFacility(en, it, &src)
				}
			}
			for _, a := range src.atts[n:] {
				movedAt(a.Point)
				from = append(from, -1)
			}
		}
		en.walkSrc[t] = src
		en.walk[t] = en.net.UpdateFrom(old.walk[t], src.atts, from)
		for _, ce := range edges {
			d := en.walk[t]
			if ce.Old {
				d = old.walk[t]
			}
			from, _ := d.Node(ce.From)
			to, _ := d.Node(ce.To)
			// A little slack for the sums' rounding.
			if rad := r - min(from, to) + 1e-6; rad >= 0 {
				zones[t] = append(zones[t], walkZone{ce.Bound, rad, false})
			}
		}
	}
	return zones
}

// targetChanged reports whether a variant changed the features of walk target t.
func (e *Engine) targetChanged(en *env, t int) bool {
	if t >= len(e.nearKinds) {
		return en.greens.hasOver() || len(en.greens.Hidden) > 0
	}
	if len(en.facOver[t]) > 0 {
		return true
	}
	for id := range en.facilities.Hidden {
		if _, ok := en.b.facKind[t].Get(id); ok {
			return true
		}
	}
	return false
}

// attachCache holds the attachment of every baseline building's centroid to the baseline's
// network, made once per city: a variant's building at the same place reuses it (moved onto
// the variant's network by a Reattacher, which answers as Attach does), so a run attaches
// only the buildings a scenario adds or moves.
type attachCache struct {
	at      map[orb.Point]int32 // metric centroid → index in att
	att     []cachedAttachment
	maxStub float64 // the longest stub
}

type cachedAttachment struct {
	a  network.Attachment
	ok bool
}

// cacheAttachments attaches every baseline building to the baseline's network.
func (e *Engine) cacheAttachments(b *baseline) {
	c := &attachCache{at: make(map[orb.Point]int32, len(b.buildings)), att: make([]cachedAttachment, len(b.buildings))}
	_ = parallel(context.Background(), len(b.buildings), func(i int) {
		a, ok := b.net.Attach(b.city.Proj.ToWGS84(b.buildings[i].Centroid), 0)
		c.att[i] = cachedAttachment{a, ok}
	})
	for i, it := range b.buildings {
		c.at[it.Centroid] = int32(i)
		if c.att[i].ok {
			c.maxStub = max(c.maxStub, c.att[i].a.Stub)
		}
	}
	b.att = c
}

// attach returns the attachment of the metric point c (a building's centroid) to en's
// network: the cached one of a baseline building there, else a new one.
func (e *Engine) attach(en *env, c orb.Point) (network.Attachment, bool) {
	if ac := en.b.att; ac != nil {
		if i, ok := ac.at[c]; ok {
			ca := ac.att[i]
			if !ca.ok || en.net == en.b.net {
				return ca.a, ca.ok
			}
			return en.reattach(ca.a)
		}
	}
	return en.net.Attach(en.v.City.Proj.ToWGS84(c), 0)
}

// attachMoved reports whether the building at the metric point c may be attached differently
// to old's network and en's, given the edges live in one of them only (changed): its cached
// attachment moves onto a network only when its edge is removed there or an edge of that
// network's overlay is as near as it, so unless a changed edge lies within its cached stub
// it is attached alike in both. A building without a cached attachment may have moved.
func (e *Engine) attachMoved(old, en *env, c orb.Point, changed []walkZone) bool {
	ac := en.b.att
	i, ok := ac.at[c]
	if !ok {
		return true
	}
	ca := ac.att[i]
	if !ca.ok {
		return false
	}
	near := false
	for _, z := range changed {
		if z.moved && boxDist(z.bound, c) <= ca.a.Stub+1e-9 {
			near = true
			break
		}
	}
	if !near {
		return false
	}
	a, okA := old.reattach(ca.a)
	b, okB := en.reattach(ca.a)
	return okA != okB || a != b
}

// walks sets a building record's walking distances per target (+Inf beyond the target's
// radius or when the building cannot be attached), in buf.
func (e *Engine) walks(en *env, c orb.Point, buf []float64) []float64 {
	if en.walk == nil {
		return nil
	}
	w := buf[:e.walkTargets():e.walkTargets()]
	for t := range w {
		w[t] = math.Inf(1)
	}
	a, ok := e.attach(en, c)
	if !ok {
		return w
	}
	for t, d := range en.walk {
		if d == nil {
			continue
		}
		if v, _, ok := d.At(a); ok {
			w[t] = v
		}
	}
	return w
}

// within reports whether a building is within radius of walk target t: its walk on the
// network when the record has walks, else its straight distance s times detour.
func (r *bRec) within(t int, s, detour, radius float64) bool {
	if r.walk != nil {
		return r.walk[t] <= radius
	}
	return s*detour <= radius
}

// distanceMethods says which distance produced each access indicator of a run.
func (e *Engine) distanceMethods(b *baseline) map[string]string {
	method := DistanceStraight
	if b.net != nil {
		method = DistanceNetwork
	}
	out := map[string]string{
		"fifteen_minute_city":       method,
		"green_access":              method,
		"digital_help_access_share": method,
		"wifi_access_share":         DistanceStraight, // a radius of signal, not a walk
	}
	for _, k := range accessKinds {
		out["access_"+k] = method
	}
	return out
}
