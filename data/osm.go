package data

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/osm"
	"github.com/paulmach/osm/osmpbf"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// ReadOSM reads an OpenStreetMap PBF extract and returns the city's layers: the ones OSM
// maps (buildings, facilities, green spaces, districts where OSM has them) and the ones the
// import derives from them (parcels, zoning, noise, flood, air stations, broadband), marked
// derived. docs/import-rules.md states every rule.
func ReadOSM(r io.Reader) ([]layers.Feature, error) {
	fs, _, err := ReadOSMWithStreets(r)
	return fs, err
}

// ReadOSMWithStreets reads an extract as ReadOSM does and also returns its walking network:
// the features of the streets layer open to pedestrians (layers.WalkingNetwork;
// docs/import-rules.md, "Streets").
func ReadOSMWithStreets(r io.Reader) (features, streets []layers.Feature, err error) {
	d, err := scanOSM(r)
	if err != nil {
		return nil, nil, fmt.Errorf("read OSM: %w", err)
	}
	fs, err := deriveCity(d)
	if err != nil {
		return nil, nil, fmt.Errorf("read OSM: %w", err)
	}
	return fs, layers.WalkingNetwork(fs), nil
}

// osmData is what the import keeps of an extract: the tagged elements it may use, the
// untagged ways that make up kept relations, and the coordinates of their nodes only.
type osmData struct {
	bounds *osm.Bounds // the extract's box, from its header; nil when it gives none
	nodes  []*osm.Node
	ways   map[osm.WayID]*osm.Way
	rels   []*osm.Relation
	coords nodeCoords
}

// scanOSM reads the extract in three passes (relations, then ways, then nodes) so that only
// the nodes a kept way needs are stored: a city extract of a few hundred MB has tens of
// millions of nodes, most of them in ways the import never uses.
func scanOSM(r io.Reader) (*osmData, error) {
	rs, ok := r.(io.ReadSeeker)
	start := int64(0)
	if ok {
		var err error
		if start, err = rs.Seek(0, io.SeekCurrent); err != nil {
			ok = false // a pipe: read it into memory
		}
	}
	if !ok {
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		rs, start = bytes.NewReader(b), 0
	}
	d := &osmData{ways: map[osm.WayID]*osm.Way{}}
	members := map[osm.WayID]bool{}
	err := scanPass(rs, start, func(s *osmpbf.Scanner) {
		s.SkipNodes, s.SkipWays = true, true
		if h, err := s.Header(); err == nil && h != nil {
			d.bounds = h.Bounds
		}
	}, func(o osm.Object) {
		rel := o.(*osm.Relation)
		if keepRelation(rel.Tags) {
			d.rels = append(d.rels, rel)
			for _, m := range rel.Members {
				if m.Type == osm.TypeWay {
					members[osm.WayID(m.Ref)] = true
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	var need []osm.NodeID
	err = scanPass(rs, start, func(s *osmpbf.Scanner) {
		s.SkipNodes, s.SkipRelations = true, true
		s.FilterWay = func(w *osm.Way) bool { return members[w.ID] || keepWay(w.Tags) }
	}, func(o osm.Object) {
		w := o.(*osm.Way)
		d.ways[w.ID] = w
		for _, n := range w.Nodes {
			need = append(need, n.ID)
		}
	})
	if err != nil {
		return nil, err
	}
	d.coords = newNodeCoords(need)
	err = scanPass(rs, start, func(s *osmpbf.Scanner) {
		s.SkipWays, s.SkipRelations = true, true
		s.FilterNode = func(n *osm.Node) bool { return d.coords.has(n.ID) || keepNode(n.Tags) }
	}, func(o osm.Object) {
		n := o.(*osm.Node)
		d.coords.set(n.ID, n.Lon, n.Lat)
		if keepNode(n.Tags) {
			d.nodes = append(d.nodes, n)
		}
	})
	return d, err
}

func scanPass(rs io.ReadSeeker, start int64, setup func(*osmpbf.Scanner), fn func(osm.Object)) error {
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return err
	}
	s := osmpbf.New(context.Background(), rs, min(runtime.GOMAXPROCS(0), 4))
	defer s.Close()
	setup(s)
	for s.Scan() {
		fn(s.Object())
	}
	return s.Err()
}

// keepRelation: multipolygons that may be buildings, land use, green spaces, water or
// facilities, and the administrative boundaries that may be districts.
func keepRelation(t osm.Tags) bool {
	switch t.Find("type") {
	case "multipolygon":
		return anyKey(t, "building", "landuse", "leisure", "natural", "amenity", "healthcare", "water", "waterway", "place")
	case "boundary":
		_, ok := adminLevel(t)
		return t.Find("boundary") == "administrative" && ok
	}
	return false
}

func keepWay(t osm.Tags) bool {
	return anyKey(t, "building", "landuse", "leisure", "natural", "amenity", "healthcare", "office",
		"shop", "tourism", "highway", "railway", "waterway", "water", "internet_access", "place")
}

func keepNode(t osm.Tags) bool {
	return anyKey(t, "amenity", "healthcare", "office", "leisure", "internet_access", "shop", "tourism", "craft", "place")
}

func anyKey(t osm.Tags, keys ...string) bool {
	for _, k := range keys {
		if v := t.Find(k); v != "" && v != "no" {
			return true
		}
	}
	return false
}

// nodeCoords holds the coordinates of the needed nodes compactly: sorted ids and fixed-point
// 1e-7 degree coordinates (OSM's own precision), 16 bytes a node.
type nodeCoords struct {
	ids []osm.NodeID
	xy  [][2]int32
}

const missingCoord = math.MinInt32

func newNodeCoords(ids []osm.NodeID) nodeCoords {
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	ids = compactIDs(ids)
	xy := make([][2]int32, len(ids))
	for i := range xy {
		xy[i] = [2]int32{missingCoord, missingCoord}
	}
	return nodeCoords{ids: ids, xy: xy}
}

func compactIDs(ids []osm.NodeID) []osm.NodeID {
	out := ids[:0]
	for i, id := range ids {
		if i == 0 || id != ids[i-1] {
			out = append(out, id)
		}
	}
	return out
}

func (c *nodeCoords) find(id osm.NodeID) (int, bool) {
	i := sort.Search(len(c.ids), func(i int) bool { return c.ids[i] >= id })
	return i, i < len(c.ids) && c.ids[i] == id
}

func (c *nodeCoords) has(id osm.NodeID) bool { _, ok := c.find(id); return ok }

func (c *nodeCoords) set(id osm.NodeID, lon, lat float64) {
	if i, ok := c.find(id); ok {
		c.xy[i] = [2]int32{int32(math.Round(lon * 1e7)), int32(math.Round(lat * 1e7))}
	}
}

// point returns a node's position rounded to OSM's 1e-7 degrees, false when the extract
// lacks the node.
func (c *nodeCoords) point(id osm.NodeID) (orb.Point, bool) {
	i, ok := c.find(id)
	if !ok || c.xy[i][0] == missingCoord {
		return orb.Point{}, false
	}
	return orb.Point{float64(c.xy[i][0]) / 1e7, float64(c.xy[i][1]) / 1e7}, true
}

// line returns the positions of a list of nodes, false when any is missing (a way cut by the
// extract's edge).
func (c *nodeCoords) line(ids []osm.NodeID) (orb.LineString, bool) {
	out := make(orb.LineString, len(ids))
	for i, id := range ids {
		p, ok := c.point(id)
		if !ok {
			return nil, false
		}
		out[i] = p
	}
	return out, true
}

func wayRefs(w *osm.Way) []osm.NodeID {
	out := make([]osm.NodeID, len(w.Nodes))
	for i, n := range w.Nodes {
		out[i] = n.ID
	}
	return out
}

// wayArea is a closed way's polygon, counter-clockwise, or nil when the way is open, too
// short or incomplete.
func (d *osmData) wayArea(w *osm.Way) orb.Polygon {
	refs := wayRefs(w)
	if len(refs) < 4 || refs[0] != refs[len(refs)-1] {
		return nil
	}
	l, ok := d.coords.line(refs)
	if !ok {
		return nil
	}
	r := orb.Ring(l)
	if r.Orientation() == orb.CW {
		r.Reverse()
	}
	return orb.Polygon{r}
}

// relationArea assembles a multipolygon or boundary relation from its member ways: the ways
// are joined end to end into closed rings, "inner" rings become holes of the outer ring that
// contains them. Rings that cannot be closed (members missing from the extract) are dropped;
// nil when no outer ring remains.
func (d *osmData) relationArea(rel *osm.Relation) orb.MultiPolygon {
	var outerParts, innerParts [][]osm.NodeID
	for _, m := range rel.Members {
		if m.Type != osm.TypeWay {
			continue
		}
		w, ok := d.ways[osm.WayID(m.Ref)]
		if !ok {
			continue
		}
		if m.Role == "inner" {
			innerParts = append(innerParts, wayRefs(w))
		} else {
			outerParts = append(outerParts, wayRefs(w))
		}
	}
	outerIDs, open := chainWays(outerParts)
	if rel.Tags.Find("type") == "boundary" && len(open) == 1 {
		outerIDs = append(outerIDs, d.closeGap(open[0]))
	}
	innerIDs, _ := chainWays(innerParts)
	var polys orb.MultiPolygon
	for _, ids := range outerIDs {
		if ids == nil {
			continue
		}
		if l, ok := d.coords.line(ids); ok && len(l) >= 4 {
			r := orb.Ring(l)
			if r.Orientation() == orb.CW {
				r.Reverse()
			}
			polys = append(polys, orb.Polygon{r})
		}
	}
	for _, ids := range innerIDs {
		l, ok := d.coords.line(ids)
		if !ok || len(l) < 4 {
			continue
		}
		r := orb.Ring(l)
		if r.Orientation() == orb.CCW {
			r.Reverse()
		}
		if i := smallestContaining(polys, r[0]); i >= 0 {
			polys[i] = append(polys[i], r)
		}
	}
	return polys
}

// closeGap closes a boundary whose outline lacks one stretch (a member way the extract does
// not hold; three of Monaco's quarters lack one each) with a straight line, when the gap is
// shorter than half the outline it leaves; else it returns nil.
func (d *osmData) closeGap(chain []osm.NodeID) []osm.NodeID {
	l, ok := d.coords.line(chain)
	if !ok || len(l) < 3 {
		return nil
	}
	if geo.Distance(l[0], l[len(l)-1]) > 0.5*geo.Length(l) {
		return nil
	}
	return append(append([]osm.NodeID(nil), chain...), chain[0])
}

// smallestContaining returns the index of the smallest polygon whose outer ring contains p,
// or -1.
func smallestContaining(polys orb.MultiPolygon, p orb.Point) int {
	best, bestArea := -1, math.Inf(1)
	for i, poly := range polys {
		if spatial.RingContains(poly[0], p) {
			if a := spatial.Area(poly[0]); a < bestArea {
				best, bestArea = i, a
			}
		}
	}
	return best
}

// chainWays joins node sequences that share end nodes into longer ones. It returns the
// closed rings (first node == last) and the chains that stay open, each in a deterministic
// order.
func chainWays(parts [][]osm.NodeID) (rings, open [][]osm.NodeID) {
	used := make([]bool, len(parts))
	byEnd := map[osm.NodeID][]int{}
	for i, p := range parts {
		if len(p) < 2 {
			used[i] = true
			continue
		}
		byEnd[p[0]] = append(byEnd[p[0]], i)
		byEnd[p[len(p)-1]] = append(byEnd[p[len(p)-1]], i)
	}
	next := func(end osm.NodeID) (int, bool) {
		for _, j := range byEnd[end] {
			if !used[j] {
				return j, true
			}
		}
		return 0, false
	}
	for i, p := range parts {
		if used[i] {
			continue
		}
		used[i] = true
		chain := append([]osm.NodeID(nil), p...)
		// Extend forwards, then backwards, until the chain closes or no member continues it.
		for chain[0] != chain[len(chain)-1] {
			j, ok := next(chain[len(chain)-1])
			if !ok {
				break
			}
			used[j] = true
			chain = appendOriented(chain, parts[j])
		}
		for chain[0] != chain[len(chain)-1] {
			j, ok := next(chain[0])
			if !ok {
				break
			}
			used[j] = true
			chain = prependOriented(chain, parts[j])
		}
		if chain[0] == chain[len(chain)-1] {
			rings = append(rings, chain)
		} else {
			open = append(open, chain)
		}
	}
	return rings, open
}

// appendOriented appends p to chain, reversing p when it runs the other way.
func appendOriented(chain, p []osm.NodeID) []osm.NodeID {
	if p[0] == chain[len(chain)-1] {
		return append(chain, p[1:]...)
	}
	for i := len(p) - 2; i >= 0; i-- {
		chain = append(chain, p[i])
	}
	return chain
}

func prependOriented(chain, p []osm.NodeID) []osm.NodeID {
	var head []osm.NodeID
	if p[len(p)-1] == chain[0] {
		head = append(head, p[:len(p)-1]...)
	} else {
		for i := len(p) - 1; i >= 1; i-- {
			head = append(head, p[i])
		}
	}
	return append(head, chain...)
}
