package tiles

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/simplify"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// LayerFeatures are the candidate features of one layer for a tile, in WGS84 as stored:
// typically every feature whose bound meets QueryBound(t). Features that do not reach the
// buffered tile are dropped by the clip step, so a superset is fine.
type LayerFeatures struct {
	Layer    *layers.Layer
	Features []*layers.Feature
}

// Extra returns fields to add to a feature's public ones, such as a scenario variant's
// "change"; nil adds none. The map is only read, so one map may serve many features. Keys
// that name a restricted field of the layer are ignored; a key that names a public field
// replaces that field's value.
type Extra func(f *layers.Feature) map[string]any

// Encode makes the uncompressed MVT of tile t from the given features, following the rules in
// the package comment: layers outside their zoom range are left out, and so are layers with
// no feature left after clipping; nil when no feature meets the tile. Layers appear in the
// order given. The features are not modified.
//
// Scenario variants use it to encode their own view of the city, with extra for the change
// state of each feature.
func Encode(t maptile.Tile, sel []LayerFeatures, extra Extra) ([]byte, error) {
	b := getBuilder(t)
	defer putBuilder(b)
	for _, lf := range sel {
		if !InZoom(lf.Layer, t.Z) {
			continue
		}
		b.add(lf.Layer, lf.Features, extra, nil)
	}
	return b.marshal()
}

// builder makes one tile. It owns every slice the steps write to, and goes back to a pool
// with them when the tile is done, so a tile costs few allocations beyond its bytes.
type builder struct {
	tile            maptile.Tile
	proj            projector
	layers          []tileLayer
	sel             []*layers.Feature // scratch: candidates being sorted
	arena           arena
	clipIn, clipOut orb.Ring // scratch of clipRing
	enc             encoder
}

// tileLayer is one layer of the tile being made.
type tileLayer struct {
	layer    *layers.Layer
	features []feature
	scratch  orb.Ring // simplify's copy of a ring
}

// feature is one feature on its way through the steps, its geometry in tile pixels.
type feature struct {
	src   *layers.Feature
	vals  []fieldValue // its public fields typed (fields.go); nil: the encoder types them
	extra map[string]any
	point bool                // a point feature: pt holds the geometry
	pt    orb.Point           // point layers
	exact orb.Point           // a point's pixel position before snapping
	polys orb.MultiPolygon    // polygon layers; rings closed
	lines orb.MultiLineString // line layers (lines.go); nil for the others
	bound orb.Bound
}

var builders = sync.Pool{New: func() any { return new(builder) }}

func getBuilder(t maptile.Tile) *builder {
	b := builders.Get().(*builder)
	b.tile = t
	b.proj = newProjector(t)
	b.layers = b.layers[:0]
	b.arena.reset()
	return b
}

func putBuilder(b *builder) {
	for i := range b.layers[:cap(b.layers)] {
		// Drop references to the city's features so the pool does not keep them alive.
		tl := &b.layers[:cap(b.layers)][i]
		clear(tl.features[:cap(tl.features)])
		tl.features = tl.features[:0]
		tl.layer = nil
	}
	clear(b.sel[:cap(b.sel)])
	b.sel = b.sel[:0]
	if b.arena.big() || cap(b.enc.body) > 8<<20 {
		return // let an unusually large tile's buffers go
	}
	builders.Put(b)
}

// add runs the steps for one layer's features, in id order: project, then (below zoom 14,
// polygons) thin and simplify, then snap to the pixel grid, clip to the buffered tile, and
// drop what PostGIS would drop. A feature that a step rejects is not in the tile.
func (b *builder) add(l *layers.Layer, fs []*layers.Feature, extra Extra, fields *fieldTable) {
	b.sel = append(b.sel[:0], fs...)
	slices.SortFunc(b.sel, func(a, c *layers.Feature) int { return cmp.Compare(a.ID, c.ID) })
	tl := b.nextLayer(l)
	lowZoom := l.Geometry == layers.Polygon && b.tile.Z < SimplifyBelowZoom
	for i, f := range b.sel {
		if i > 0 && f == b.sel[i-1] {
			continue // the same feature listed twice
		}
		ft, ok := b.project(f)
		if !ok || !b.prepare(&ft, lowZoom, &tl.scratch) {
			continue
		}
		if extra != nil {
			ft.extra = extra(f)
		}
		ft.vals, _ = fields.lookup(f)
		tl.features = append(tl.features, ft)
	}
}

// prepare runs the steps after projection on one feature; false when it is not in the tile.
func (b *builder) prepare(f *feature, lowZoom bool, scratch *orb.Ring) bool {
	if f.point {
		f.snap()
		return f.clip(b)
	}
	if f.lines != nil {
		return !b.proj.underHalfPixel(f.bound) && f.snap() && f.clipLine(b)
	}
	if lowZoom {
		if !f.thin() {
			return false
		}
		f.simplify(scratch)
	}
	return !b.proj.underHalfPixel(f.bound) && f.snap() && f.clip(b) && f.unfolded(scratch)
}

func (b *builder) nextLayer(l *layers.Layer) *tileLayer {
	if len(b.layers) < cap(b.layers) {
		b.layers = b.layers[:len(b.layers)+1]
	} else {
		b.layers = append(b.layers, tileLayer{})
	}
	tl := &b.layers[len(b.layers)-1]
	tl.layer = l
	tl.features = tl.features[:0]
	return tl
}

// project maps a feature's WGS84 geometry to tile pixels (unrounded) into the arena. It
// reports false for a geometry no layer holds.
func (b *builder) project(f *layers.Feature) (feature, bool) {
	ft := feature{src: f}
	switch g := f.Geometry.(type) {
	case orb.Point:
		ft.point = true
		ft.pt = b.proj.point(g)
		ft.exact = ft.pt
		ft.bound = orb.Bound{Min: ft.pt, Max: ft.pt}
	case orb.Polygon:
		ft.polys = b.arena.polygons(1)
		ft.polys[0], ft.bound = b.projectPolygon(g, emptyBound)
	case orb.MultiPolygon:
		ft.polys = b.arena.polygons(len(g))
		ft.bound = emptyBound
		for i, p := range g {
			ft.polys[i], ft.bound = b.projectPolygon(p, ft.bound)
		}
	case orb.LineString:
		ft.lines = b.arena.lines(1)
		ft.lines[0], ft.bound = b.projectLine(g, emptyBound)
	case orb.MultiLineString:
		ft.lines = b.arena.lines(len(g))
		ft.bound = emptyBound
		for i, ls := range g {
			ft.lines[i], ft.bound = b.projectLine(ls, ft.bound)
		}
	default:
		return ft, false
	}
	return ft, true
}

var emptyBound = orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}

func (b *builder) projectPolygon(p orb.Polygon, bd orb.Bound) (orb.Polygon, orb.Bound) {
	out := b.arena.rings(len(p))
	for i, r := range p {
		pr := b.arena.points(len(r))
		for j, q := range r {
			pq := b.proj.point(q)
			pr[j] = pq
			if i == 0 {
				bd.Min[0], bd.Max[0] = min(bd.Min[0], pq[0]), max(bd.Max[0], pq[0])
				bd.Min[1], bd.Max[1] = min(bd.Min[1], pq[1]), max(bd.Max[1], pq[1])
			}
		}
		out[i] = pr
	}
	return out, bd
}

// thin reports whether a polygon's envelope reaches layers.ThinPixels pixels in at least one
// dimension; smaller ones are dropped below SimplifyBelowZoom.
func (f *feature) thin() bool {
	return f.bound.Max[0]-f.bound.Min[0] >= layers.ThinPixels || f.bound.Max[1]-f.bound.Min[1] >= layers.ThinPixels
}

// onePixel is the Douglas–Peucker tolerance below SimplifyBelowZoom: one pixel.
var onePixel = simplify.DouglasPeucker(1)

// simplify simplifies polygon rings (Douglas–Peucker) with a tolerance of one pixel. Like
// PostGIS's ST_SimplifyPreserveTopology, which the PostGIS source uses, it never collapses a
// ring: a ring that would keep fewer than four points keeps all of its points instead.
func (f *feature) simplify(scratch *orb.Ring) {
	for j := range f.polys {
		for k, r := range f.polys[j] {
			if len(r) <= 4 {
				continue
			}
			// The simplifier works in place: keep the original to fall back on.
			*scratch = append((*scratch)[:0], r...)
			if s := onePixel.Ring(r); len(s) >= 4 {
				f.polys[j][k] = s
			} else {
				f.polys[j][k] = append(r[:0], *scratch...)
			}
		}
	}
}

// snap rounds coordinates to whole pixels (half to even, as PostGIS does), removes repeated
// points and points on straight lines, and drops rings that collapse: an outer ring takes its
// polygon with it. It reports whether anything is left.
func (f *feature) snap() bool {
	if f.point {
		f.pt = orb.Point{math.RoundToEven(f.pt[0]), math.RoundToEven(f.pt[1])}
		f.bound = orb.Bound{Min: f.pt, Max: f.pt}
		return true
	}
	if f.lines != nil {
		f.lines, f.bound = snapLines(f.lines, math.RoundToEven)
		return len(f.lines) > 0
	}
	f.polys, f.bound = snapPolygons(f.polys, math.RoundToEven)
	return len(f.polys) > 0
}

// unfolded drops the polygons that snap rounding would fold flat (rounding.go) and reports
// whether any is left.
func (f *feature) unfolded(scratch *orb.Ring) bool {
	n := 0
	for _, p := range f.polys {
		if survivesSnapRounding(p[0], scratch) {
			f.polys[n] = p
			n++
		}
	}
	f.polys = f.polys[:n]
	return n > 0
}

// noRound leaves whole-pixel coordinates as they are.
func noRound(v float64) float64 { return v }

// snapPolygons moves every point to the pixel grid with round, in place, and returns the
// polygons left and their bound.
func snapPolygons(mp orb.MultiPolygon, round func(float64) float64) (orb.MultiPolygon, orb.Bound) {
	bd := emptyBound
	n := 0
	for _, p := range mp {
		m := 0
		for k, r := range p {
			r = snapRing(r, round)
			if len(r) < 4 || spatial.RingArea2(r) == 0 {
				if k == 0 {
					break // the outer ring collapsed: so did the polygon
				}
				continue
			}
			if k == 0 {
				for _, q := range r {
					bd.Min[0], bd.Max[0] = min(bd.Min[0], q[0]), max(bd.Max[0], q[0])
					bd.Min[1], bd.Max[1] = min(bd.Min[1], q[1]), max(bd.Max[1], q[1])
				}
			}
			p[m] = r
			m++
		}
		if m > 0 {
			mp[n] = p[:m]
			n++
		}
	}
	return mp[:n], bd
}

// snapRing rounds a closed ring's points in place and drops repeated ones, and points on the
// straight segment between their neighbours, as ST_AsMVTGeom's simplification with tolerance
// 0 does.
func snapRing(r orb.Ring, round func(float64) float64) orb.Ring {
	n := 0
	for _, q := range r {
		q = orb.Point{round(q[0]), round(q[1])}
		if n > 0 && r[n-1] == q {
			continue
		}
		// r[n-1] lies between r[n-2] and q: drop it.
		for n >= 2 && onSegment(r[n-2], q, r[n-1]) {
			n--
		}
		r[n] = q
		n++
	}
	// The ring is a cycle: its first point may lie between its last and its second too.
	for n >= 5 && onSegment(r[n-2], r[1], r[0]) {
		copy(r, r[1:n-1])
		r[n-2] = r[0]
		n--
	}
	return r[:n]
}

// onSegment reports whether p lies on the segment a–b.
func onSegment(a, b, p orb.Point) bool {
	if (b[0]-a[0])*(p[1]-a[1]) != (b[1]-a[1])*(p[0]-a[0]) {
		return false
	}
	return min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1])
}

// clipBox is the buffered tile in pixels.
var clipBox = orb.Bound{Min: orb.Point{-Buffer, -Buffer}, Max: orb.Point{Extent + Buffer, Extent + Buffer}}

// clip cuts a feature to the buffered tile and reports whether anything is left inside, as
// ST_AsMVTGeom(..., buffer 64, clip true) decides: a point on the edge stays; a polygon that
// only touches the edge goes. A point must also pass the PostGIS source's index test against
// the buffered tile (rounding.go), which decides for points within half a pixel of the edge.
func (f *feature) clip(b *builder) bool {
	p := &b.proj
	if f.point {
		return f.pt[0] >= clipBox.Min[0] && f.pt[0] <= clipBox.Max[0] &&
			f.pt[1] >= clipBox.Min[1] && f.pt[1] <= clipBox.Max[1] && p.inBufferedEnvelope(f.exact)
	}
	bd := f.bound
	if bd.Min[0] >= clipBox.Min[0] && bd.Max[0] <= clipBox.Max[0] && bd.Min[1] >= clipBox.Min[1] && bd.Max[1] <= clipBox.Max[1] {
		return true // inside: nothing to cut
	}
	if bd.Max[0] <= clipBox.Min[0] || bd.Min[0] >= clipBox.Max[0] || bd.Max[1] <= clipBox.Min[1] || bd.Min[1] >= clipBox.Max[1] {
		return false // outside, or touching the edge only
	}
	f.polys = b.clipPolygons(f.polys)
	// Drop the repeated points and the points on straight lines clipping made, and rings it
	// left without area.
	f.polys, f.bound = snapPolygons(f.polys, noRound)
	return len(f.polys) > 0
}

// clipPolygons clips each ring (clipRing), dropping polygons whose outer ring is cut away
// and holes that are.
func (b *builder) clipPolygons(mp orb.MultiPolygon) orb.MultiPolygon {
	n := 0
	for _, p := range mp {
		m := 0
		for k, r := range p {
			c := b.clipRing(r)
			if len(c) == 0 {
				if k == 0 {
					break
				}
				continue
			}
			p[m] = c
			m++
		}
		if m > 0 {
			mp[n] = p[:m]
			n++
		}
	}
	return mp[:n]
}

// clipRing cuts a closed ring of whole-pixel points to the buffered tile, edge by edge
// (Sutherland–Hodgman), exactly as PostGIS's clipper does it (wagyu's quick_lr_clip): the
// bottom, right, top and left edges in turn, a point on an edge counting as outside, and each
// new point where a segment crosses an edge truncated towards zero onto the pixel grid. The
// result lives in the arena; nil when nothing is left.
func (b *builder) clipRing(r orb.Ring) orb.Ring {
	in, out := b.clipIn[:0], b.clipOut[:0]
	in = append(in, r...)
	for edge := range 4 {
		if len(in) == 0 {
			break
		}
		out = out[:0]
		s := in[len(in)-1]
		for _, e := range in {
			switch {
			case insideEdge(e, edge):
				if !insideEdge(s, edge) {
					out = append(out, crossEdge(s, e, edge))
				}
				out = append(out, e)
			case insideEdge(s, edge):
				out = append(out, crossEdge(s, e, edge))
			}
			s = e
		}
		in, out = out, in
	}
	b.clipIn, b.clipOut = in, out
	if len(in) < 3 {
		return nil
	}
	n := len(in)
	closed := in[0] == in[n-1]
	if !closed {
		n++
	}
	c := b.arena.points(n)
	copy(c, in)
	c[n-1] = in[0]
	return c
}

// insideEdge is wagyu's quick_clip inside test against edge 0 (min y), 1 (max x), 2 (max y)
// or 3 (min x) of the buffered tile.
func insideEdge(p orb.Point, edge int) bool {
	switch edge {
	case 0:
		return p[1] > clipBox.Min[1]
	case 1:
		return p[0] < clipBox.Max[0]
	case 2:
		return p[1] < clipBox.Max[1]
	}
	return p[0] > clipBox.Min[0]
}

// crossEdge is where segment a–b crosses the line of an edge, truncated to whole pixels.
func crossEdge(a, b orb.Point, edge int) orb.Point {
	switch edge {
	case 0:
		return orb.Point{math.Trunc(a[0] + (b[0]-a[0])*(clipBox.Min[1]-a[1])/(b[1]-a[1])), clipBox.Min[1]}
	case 1:
		return orb.Point{clipBox.Max[0], math.Trunc(a[1] + (b[1]-a[1])*(clipBox.Max[0]-a[0])/(b[0]-a[0]))}
	case 2:
		return orb.Point{math.Trunc(a[0] + (b[0]-a[0])*(clipBox.Max[1]-a[1])/(b[1]-a[1])), clipBox.Max[1]}
	}
	return orb.Point{clipBox.Min[0], math.Trunc(a[1] + (b[1]-a[1])*(clipBox.Min[0]-a[0])/(b[0]-a[0]))}
}

// marshal encodes the layers that have features; nil when none has.
func (b *builder) marshal() ([]byte, error) {
	e := &b.enc
	e.body, e.ends = e.body[:0], e.ends[:0]
	for i := range b.layers {
		tl := &b.layers[i]
		if len(tl.features) == 0 {
			continue
		}
		if err := e.layer(tl); err != nil {
			return nil, fmt.Errorf("encode layer %s of tile %d/%d/%d: %w", tl.layer.Name, b.tile.Z, b.tile.X, b.tile.Y, err)
		}
	}
	return e.tile(), nil
}

// arena hands out slices of a few large buffers, so projecting a tile's features allocates
// almost nothing. Slices are capped at their length, so appending to one never writes over
// its neighbour.
type arena struct {
	ptBuf   []orb.Point
	ringBuf []orb.Ring
	polyBuf []orb.Polygon
	lineBuf []orb.LineString
}

func (a *arena) reset() {
	a.ptBuf = a.ptBuf[:0]
	clear(a.ringBuf[:cap(a.ringBuf)])
	a.ringBuf = a.ringBuf[:0]
	clear(a.polyBuf[:cap(a.polyBuf)])
	a.polyBuf = a.polyBuf[:0]
	clear(a.lineBuf[:cap(a.lineBuf)])
	a.lineBuf = a.lineBuf[:0]
}

func (a *arena) big() bool { return cap(a.ptBuf) > 1<<21 }

func (a *arena) points(n int) orb.Ring {
	if len(a.ptBuf)+n > cap(a.ptBuf) {
		a.ptBuf = make([]orb.Point, 0, max(2*cap(a.ptBuf), n, 4096))
	}
	l := len(a.ptBuf)
	a.ptBuf = a.ptBuf[:l+n]
	return orb.Ring(a.ptBuf[l : l+n : l+n])
}

func (a *arena) rings(n int) orb.Polygon {
	if len(a.ringBuf)+n > cap(a.ringBuf) {
		a.ringBuf = make([]orb.Ring, 0, max(2*cap(a.ringBuf), n, 1024))
	}
	l := len(a.ringBuf)
	a.ringBuf = a.ringBuf[:l+n]
	return orb.Polygon(a.ringBuf[l : l+n : l+n])
}

func (a *arena) polygons(n int) orb.MultiPolygon {
	if len(a.polyBuf)+n > cap(a.polyBuf) {
		a.polyBuf = make([]orb.Polygon, 0, max(2*cap(a.polyBuf), n, 1024))
	}
	l := len(a.polyBuf)
	a.polyBuf = a.polyBuf[:l+n]
	return orb.MultiPolygon(a.polyBuf[l : l+n : l+n])
}

func (a *arena) lines(n int) orb.MultiLineString {
	if len(a.lineBuf)+n > cap(a.lineBuf) {
		a.lineBuf = make([]orb.LineString, 0, max(2*cap(a.lineBuf), n, 1024))
	}
	l := len(a.lineBuf)
	a.lineBuf = a.lineBuf[:l+n]
	return orb.MultiLineString(a.lineBuf[l : l+n : l+n])
}
