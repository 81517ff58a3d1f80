package tiles

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/encoding/mvt/vectortile"

	"github.com/citytwin/citytwin/layers"
)

// tileFeature is one feature of a decoded tile: its id, its properties with the MVT type of
// each value (orb's decoder turns every number into a float64, so the types are read from the
// protobuf as well), and its geometry in tile units as orb's decoder reads it.
type tileFeature struct {
	id    uint64
	gtype vectortile.Tile_GeomType
	props map[string]tileValue
	geom  orb.Geometry
}

// tileValue is a property value with its MVT type: "string", "float", "double", "int",
// "uint", "sint" or "bool".
type tileValue struct {
	kind  string
	value any
}

func (v tileValue) String() string { return fmt.Sprintf("%s %v", v.kind, v.value) }

// decodeFeatures decodes a tile into its features by layer, each layer's in id order.
func decodeFeatures(b []byte) (map[string][]tileFeature, error) {
	out := map[string][]tileFeature{}
	if len(b) == 0 {
		return out, nil
	}
	ls, err := mvt.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("decode tile with orb: %w", err)
	}
	var raw vectortile.Tile
	if err := raw.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("decode tile protobuf: %w", err)
	}
	if len(raw.Layers) != len(ls) {
		return nil, fmt.Errorf("orb read %d layers, the protobuf holds %d", len(ls), len(raw.Layers))
	}
	for i, l := range ls {
		rl := raw.Layers[i]
		if _, dup := out[l.Name]; dup {
			return nil, fmt.Errorf("layer %s appears twice", l.Name)
		}
		if len(rl.Features) != len(l.Features) {
			return nil, fmt.Errorf("layer %s: orb read %d features, the protobuf holds %d", l.Name, len(l.Features), len(rl.Features))
		}
		fs := make([]tileFeature, len(l.Features))
		for j, f := range l.Features {
			rf := rl.Features[j]
			if rf.Id == nil {
				return nil, fmt.Errorf("layer %s: a feature without id", l.Name)
			}
			tf := tileFeature{id: *rf.Id, gtype: rf.GetType(), props: map[string]tileValue{}, geom: f.Geometry}
			if len(rf.Tags)%2 != 0 {
				return nil, fmt.Errorf("layer %s feature %d: odd number of tags", l.Name, tf.id)
			}
			for k := 0; k < len(rf.Tags); k += 2 {
				ki, vi := int(rf.Tags[k]), int(rf.Tags[k+1])
				if ki >= len(rl.Keys) || vi >= len(rl.Values) {
					return nil, fmt.Errorf("layer %s feature %d: tag out of range", l.Name, tf.id)
				}
				key := rl.Keys[ki]
				if _, dup := tf.props[key]; dup {
					return nil, fmt.Errorf("layer %s feature %d: property %s twice", l.Name, tf.id, key)
				}
				tf.props[key] = rawValue(rl.Values[vi])
			}
			fs[j] = tf
		}
		slices.SortFunc(fs, func(a, b tileFeature) int { return cmp.Compare(a.id, b.id) })
		out[l.Name] = fs
	}
	return out, nil
}

func rawValue(v *vectortile.Tile_Value) tileValue {
	switch {
	case v.StringValue != nil:
		return tileValue{"string", *v.StringValue}
	case v.FloatValue != nil:
		return tileValue{"float", *v.FloatValue}
	case v.DoubleValue != nil:
		return tileValue{"double", *v.DoubleValue}
	case v.IntValue != nil:
		return tileValue{"int", *v.IntValue}
	case v.UintValue != nil:
		return tileValue{"uint", *v.UintValue}
	case v.SintValue != nil:
		return tileValue{"sint", *v.SintValue}
	case v.BoolValue != nil:
		return tileValue{"bool", *v.BoolValue}
	}
	return tileValue{"none", nil}
}

// tileDifference compares two tiles of the same coordinates layer by layer and feature by
// feature, and describes the first difference it finds ("" when none): a layer or feature
// present on one side only, a property that differs in presence, type or value, a geometry
// of another MVT type, or a polygon whose boundary differs (boundaryDifference). The sides
// are named a and b in the message.
func tileDifference(a, b []byte, nameA, nameB string) (string, error) {
	fa, err := decodeFeatures(a)
	if err != nil {
		return "", fmt.Errorf("%s tile: %w", nameA, err)
	}
	fb, err := decodeFeatures(b)
	if err != nil {
		return "", fmt.Errorf("%s tile: %w", nameB, err)
	}
	for _, l := range layers.All() {
		if d := layerDifference(l.Name, fa[l.Name], fb[l.Name], nameA, nameB); d != "" {
			return d, nil
		}
		delete(fa, l.Name)
		delete(fb, l.Name)
	}
	for name := range fa {
		return fmt.Sprintf("layer %s is no catalog layer (in the %s tile)", name, nameA), nil
	}
	for name := range fb {
		return fmt.Sprintf("layer %s is no catalog layer (in the %s tile)", name, nameB), nil
	}
	return "", nil
}

func layerDifference(layer string, a, b []tileFeature, nameA, nameB string) string {
	switch {
	case len(a) == 0 && len(b) == 0:
		return ""
	case len(b) == 0:
		return fmt.Sprintf("layer %s: %d features in the %s tile, none in the %s tile", layer, len(a), nameA, nameB)
	case len(a) == 0:
		return fmt.Sprintf("layer %s: %d features in the %s tile, none in the %s tile", layer, len(b), nameB, nameA)
	}
	for i := 0; i < len(a) || i < len(b); i++ {
		switch {
		case i == len(b) || i < len(a) && a[i].id < b[i].id:
			return fmt.Sprintf("layer %s: feature %d is in the %s tile only", layer, a[i].id, nameA)
		case i == len(a) || b[i].id < a[i].id:
			return fmt.Sprintf("layer %s: feature %d is in the %s tile only", layer, b[i].id, nameB)
		}
		if d := featureDifference(a[i], b[i], nameA, nameB); d != "" {
			return fmt.Sprintf("layer %s feature %d: %s", layer, a[i].id, d)
		}
	}
	return ""
}

func featureDifference(a, b tileFeature, nameA, nameB string) string {
	keys := map[string]bool{}
	for k := range a.props {
		keys[k] = true
	}
	for k := range b.props {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		va, inA := a.props[k]
		vb, inB := b.props[k]
		switch {
		case !inB:
			return fmt.Sprintf("property %s = %v in the %s tile, absent from the %s tile", k, va, nameA, nameB)
		case !inA:
			return fmt.Sprintf("property %s = %v in the %s tile, absent from the %s tile", k, vb, nameB, nameA)
		case va != vb:
			return fmt.Sprintf("property %s: %v in the %s tile, %v in the %s tile", k, va, nameA, vb, nameB)
		}
	}
	if a.gtype != b.gtype {
		return fmt.Sprintf("geometry type %v in the %s tile, %v in the %s tile", a.gtype, nameA, b.gtype, nameB)
	}
	if a.gtype == vectortile.Tile_POINT {
		pa, pb := points(a.geom), points(b.geom)
		if !slices.Equal(pa, pb) {
			return fmt.Sprintf("point %v in the %s tile, %v in the %s tile", pa, nameA, pb, nameB)
		}
		return ""
	}
	if a.gtype == vectortile.Tile_LINESTRING {
		return lineDifference(lines(a.geom), lines(b.geom), nameA, nameB)
	}
	return boundaryDifference(rings(a.geom), rings(b.geom), nameA, nameB)
}

// lines lists the parts of a linear geometry, as rings for strayPoint (it reads them as runs
// of segments, not closing them).
func lines(g orb.Geometry) []orb.Ring {
	switch g := g.(type) {
	case orb.LineString:
		return []orb.Ring{orb.Ring(g)}
	case orb.MultiLineString:
		out := make([]orb.Ring, len(g))
		for i, ls := range g {
			out[i] = orb.Ring(ls)
		}
		return out
	}
	return nil
}

// lineDifference compares two linear geometries by where they run: every point of each side's
// segments must lie within outlineTolerance of the other side's (or of the buffer's edge, where
// the two clippers round their cut points). It describes the first point that does not.
func lineDifference(la, lb []orb.Ring, nameA, nameB string) string {
	for _, side := range []struct {
		own, other  []orb.Ring
		name, oname string
	}{{la, lb, nameA, nameB}, {lb, la, nameB, nameA}} {
		for _, l := range side.own {
			for j := 0; j+1 < len(l); j++ {
				if p, d, ok := strayPoint(edge{l[j], l[j+1]}, side.other); !ok {
					return fmt.Sprintf("line point %v of the %s tile is %.2f units from the %s tile's lines", p, side.name, d, side.oname)
				}
			}
		}
	}
	return ""
}

func points(g orb.Geometry) []orb.Point {
	switch g := g.(type) {
	case orb.Point:
		return []orb.Point{g}
	case orb.MultiPoint:
		return g
	}
	return nil
}

// rings lists every ring of a polygonal geometry, outer rings and holes alike.
func rings(g orb.Geometry) []orb.Ring {
	switch g := g.(type) {
	case orb.Polygon:
		return g
	case orb.MultiPolygon:
		var out []orb.Ring
		for _, p := range g {
			out = append(out, p...)
		}
		return out
	}
	return nil
}

// edge is a directed segment between two tile points.
type edge struct{ from, to orb.Point }

// boundaryDifference compares two polygonal geometries by the area they cover, the only thing
// a renderer draws of them, and describes the first boundary edge of one side that strays more
// than outlineTolerance from the other side's rings ("" when none does).
//
// Why not ring by ring, vertex by vertex: PostGIS's ST_AsMVTGeom hands the clipped polygon to
// wagyu, which rebuilds its rings: it starts them at another vertex, orders holes its own way,
// splits a ring that touches itself into two polygons, turns a hole that touches its outer
// ring (as clipping makes them, along the buffer's edge) into a notch of the outer ring, and
// snap-rounds: an edge that passes through the unit square of a vertex is bent through that
// vertex, which removes the zero-width spikes that rounding and clipping leave. The memory
// source writes its rounded, clipped rings as they are (it applies snap rounding only to
// decide which polygons PostGIS drops: survivesSnapRounding in postgis.go). So both sides are
// snap-rounded here (snapRoundRings; wagyu's output does not change), and then reduced to what
// they cover, which fixes the boundary: the rings' directed edges (MVT winds outer rings and
// holes oppositely, so the area lies on the same side of every edge), each cut at every vertex
// of either geometry that lies on it, with edges that run both ways between the same points
// cancelled. Where the boundaries are equal edge for edge, the geometries are the same.
//
// Where they are not, every point of a differing edge must lie near a ring of the other side
// (outlineTolerance says how near, and why). Near a ring rather than near the boundary: a
// sliver that one side keeps a unit wide, the other may keep folded flat (a ring that runs
// out and back along the same line, whose edges cancel and leave no boundary).
func boundaryDifference(ra, rb []orb.Ring, nameA, nameB string) string {
	ra, rb = snapRoundRings(ra), snapRoundRings(rb)
	var cuts []orb.Point
	for _, rs := range [][]orb.Ring{ra, rb} {
		for _, r := range rs {
			cuts = append(cuts, r...)
		}
	}
	slices.SortFunc(cuts, comparePoints)
	cuts = slices.Compact(cuts)
	ea, eb := boundary(ra, cuts), boundary(rb, cuts)
	onlyA, onlyB := edgesNotIn(ea, eb), edgesNotIn(eb, ea)
	for _, side := range []struct {
		only            []edge
		otherRings      []orb.Ring
		name, otherName string
	}{{onlyA, rb, nameA, nameB}, {onlyB, ra, nameB, nameA}} {
		for _, e := range side.only {
			if p, d, ok := strayPoint(e, side.otherRings); !ok {
				return fmt.Sprintf("boundary edge %v→%v of the %s tile passes %v, %.2f units from the %s tile's rings (%d edges of the %s tile and %d of the %s tile differ)\n%s: %v\n%s: %v",
					e.from, e.to, side.name, p, d, side.otherName, len(onlyA), nameA, len(onlyB), nameB, nameA, ra, nameB, rb)
			}
		}
	}
	return ""
}

// outlineTolerance is how far, in tile units, a point of one source's polygon outline may lie
// from the other source's rings where their boundaries differ: one unit in the tile's own
// square, two in the buffer around it, for these reasons.
//
//   - Simplification, below SimplifyBelowZoom: both sides simplify with a tolerance of one
//     pixel (one unit), the memory source with Douglas–Peucker in tile units, PostGIS with
//     ST_SimplifyPreserveTopology in metres, which may keep a vertex to preserve topology or
//     start its rings elsewhere: a vertex that one keeps and the other drops lies within the
//     tolerance of the other's outline.
//   - Clipping, which happens in the buffer: both clippers cut the rounded ring at the
//     buffered tile's edge and truncate each crossing to a whole unit (clipRing in encode.go
//     follows wagyu's quick_lr_clip), so each clipped outline lies within a unit of the exact
//     cut, and the two within two units of each other. They do not always agree, as each
//     computes the crossing in float64 from the segment's ends taken in its own order (and
//     near a corner from the crossing it truncated at the other edge): crossings land one or
//     more units apart along the edge (several where the segment meets it at a grazing angle).
//     The buffer's edge itself (x or y at −Buffer or Extent+Buffer) is where the clip cut,
//     not an edge of the feature, so it counts as both outlines: what differs along it is
//     what the two clippers left there.
//
// Every vertex is otherwise rounded the same way by both, half to even (snap), from the same
// Web Mercator coordinates. A shifted, missing or extra part of a feature lies far beyond.
func outlineTolerance(p orb.Point) float64 {
	if p[0] < 0 || p[0] > Extent || p[1] < 0 || p[1] > Extent {
		return 2
	}
	return 1
}

// edgesNotIn lists the edges of a whose count differs in b, sorted.
func edgesNotIn(a, b map[edge]int) []edge {
	var out []edge
	for e, n := range a {
		if b[e] != n {
			out = append(out, e)
		}
	}
	sortEdges(out)
	return out
}

// strayPoint samples edge e every quarter unit and returns the first sample farther than
// outlineTolerance from every segment of rings and from the buffered tile's edge, with its
// distance; ok when there is none.
func strayPoint(e edge, rings []orb.Ring) (p orb.Point, d float64, ok bool) {
	n := max(1, int(math.Ceil(4*math.Hypot(e.to[0]-e.from[0], e.to[1]-e.from[1]))))
	for i := 0; i <= n; i++ {
		t := float64(i) / float64(n)
		p = orb.Point{e.from[0] + t*(e.to[0]-e.from[0]), e.from[1] + t*(e.to[1]-e.from[1])}
		tol := outlineTolerance(p)
		d = bufferEdgeDistance(p)
	rings:
		for _, r := range rings {
			for j := 0; j+1 < len(r) && d > tol; j++ {
				d = min(d, segmentDistance(p, r[j], r[j+1]))
			}
			if d <= tol {
				break rings
			}
		}
		if d > tol {
			return p, d, false
		}
	}
	return p, 0, true
}

// bufferEdgeDistance is the distance from p to the nearest edge of the buffered tile.
func bufferEdgeDistance(p orb.Point) float64 {
	const lo, hi = -Buffer, Extent + Buffer
	return min(math.Abs(p[0]-lo), math.Abs(p[0]-hi), math.Abs(p[1]-lo), math.Abs(p[1]-hi))
}

// segmentDistance is the distance from p to the segment a–b.
func segmentDistance(p, a, b orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := 0.0
	if l2 := dx*dx + dy*dy; l2 > 0 {
		t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l2))
	}
	return math.Hypot(p[0]-a[0]-t*dx, p[1]-a[1]-t*dy)
}

func comparePoints(p, q orb.Point) int {
	if c := cmp.Compare(p[0], q[0]); c != 0 {
		return c
	}
	return cmp.Compare(p[1], q[1])
}

func sortEdges(es []edge) {
	slices.SortFunc(es, func(a, b edge) int {
		if c := comparePoints(a.from, b.from); c != 0 {
			return c
		}
		return comparePoints(a.to, b.to)
	})
}

// boundary is the net count of each directed edge of the rings, cut at the points of cuts
// (sorted) that lie on it: an edge a→b counts +1 under a→b when a < b, else −1 under b→a.
// Zero counts are left out.
func boundary(rs []orb.Ring, cuts []orb.Point) map[edge]int {
	out := map[edge]int{}
	var on []orb.Point
	for _, r := range rs {
		for i := 0; i+1 < len(r); i++ {
			a, b := r[i], r[i+1]
			if a == b {
				continue
			}
			// The cut points strictly between a and b, in order along the edge.
			on = on[:0]
			lo, hi := min(a[0], b[0]), max(a[0], b[0])
			start, _ := slices.BinarySearchFunc(cuts, orb.Point{lo, math.Inf(-1)}, comparePoints)
			for _, p := range cuts[start:] {
				if p[0] > hi {
					break
				}
				if p != a && p != b && onSegment(a, b, p) {
					on = append(on, p)
				}
			}
			slices.SortFunc(on, func(p, q orb.Point) int {
				return cmp.Compare(math.Abs(p[0]-a[0])+math.Abs(p[1]-a[1]), math.Abs(q[0]-a[0])+math.Abs(q[1]-a[1]))
			})
			prev := a
			for _, p := range append(on, b) {
				if comparePoints(prev, p) < 0 {
					out[edge{prev, p}]++
				} else {
					out[edge{p, prev}]--
				}
				prev = p
			}
		}
	}
	for e, n := range out {
		if n == 0 {
			delete(out, e)
		}
	}
	return out
}

// snapRoundRings bends every edge of the rings that passes through the unit square of a
// vertex of any of the rings through that vertex, as wagyu's snap rounding does (see
// survivesSnapRounding, which applies the rule to one ring to know whether it folds).
func snapRoundRings(rs []orb.Ring) []orb.Ring {
	var all []orb.Point
	for _, r := range rs {
		all = append(all, r...)
	}
	slices.SortFunc(all, comparePoints)
	all = slices.Compact(all)
	out := make([]orb.Ring, len(rs))
	var on []orb.Point
	for k, r := range rs {
		var nr orb.Ring
		for i := 0; i+1 < len(r); i++ {
			a, b := r[i], r[i+1]
			nr = append(nr, a)
			on = on[:0]
			lo, hi := min(a[0], b[0])-0.5, max(a[0], b[0])+0.5
			start, _ := slices.BinarySearchFunc(all, orb.Point{lo, math.Inf(-1)}, comparePoints)
			for _, v := range all[start:] {
				if v[0] > hi {
					break
				}
				if v != a && v != b && segmentMeetsPixel(a, b, v) {
					on = append(on, v)
				}
			}
			slices.SortFunc(on, func(p, q orb.Point) int { return cmp.Compare(segmentParam(a, b, p), segmentParam(a, b, q)) })
			nr = append(nr, on...)
		}
		if len(r) > 0 {
			nr = append(nr, r[len(r)-1])
		}
		out[k] = nr
	}
	return out
}
