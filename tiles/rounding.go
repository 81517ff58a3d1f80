package tiles

import (
	"math"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/spatial"
)

// The rounding PostGIS does where the memory source must do the same: bounding boxes stored
// as float32 rounded outwards, and wagyu's snap rounding. With them the memory source drops
// the same tiny and sliver polygons as PostGIS's ST_AsMVTGeom (PostGIS 3.3 with its wagyu
// clipper), so that both sources serve the same features. Polygons of ordinary size never
// meet them.

// underHalfPixel reports whether a polygon's envelope is under half a pixel in both
// dimensions, which ST_AsMVTGeom drops before anything else. PostGIS reads the envelope from
// the geometry's stored bounding box, whose Web Mercator coordinates are float32 rounded
// outwards: so is it here, or a polygon close to the limit would go one way here and the other
// in PostGIS.
func (p *projector) underHalfPixel(b orb.Bound) bool {
	// Back from tile pixels to Web Mercator metres: x = minX + px·k, y = maxY − py·k.
	k := p.merc.size / Extent
	minX, maxX := p.merc.minX+b.Min[0]*k, p.merc.minX+b.Max[0]*k
	minY, maxY := p.merc.maxY-b.Max[1]*k, p.merc.maxY-b.Min[1]*k
	w := float32Up(maxX) - float32Down(minX)
	h := float32Up(maxY) - float32Down(minY)
	half := k / 2
	return w < half && h < half
}

// inBufferedEnvelope reports whether a point (in unrounded tile pixels) passes the PostGIS
// source's filter geom && ST_TileEnvelope(z, x, y, margin => 64.0/4096). The && operator
// compares bounding boxes stored as float32, rounded outwards, so it lets in points up to
// about a float32 step (0.25 to 0.5 m around Cluj) beyond the envelope; ST_AsMVTGeom then
// keeps those that round onto the buffer's edge.
func (p *projector) inBufferedEnvelope(q orb.Point) bool {
	k := p.merc.size / Extent
	x, y := p.merc.minX+q[0]*k, p.merc.maxY-q[1]*k
	return float32Down(x) <= float32Up(p.env.Max[0]) && float32Up(x) >= float32Down(p.env.Min[0]) &&
		float32Down(y) <= float32Up(p.env.Max[1]) && float32Up(y) >= float32Down(p.env.Min[1])
}

// float32Down is the largest float32 not above v, as PostGIS's next_float_down.
func float32Down(v float64) float64 {
	f := float32(v)
	if float64(f) > v {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return float64(f)
}

// float32Up is the smallest float32 not below v, as PostGIS's next_float_up.
func float32Up(v float64) float64 {
	f := float32(v)
	if float64(f) < v {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return float64(f)
}

// survivesSnapRounding reports whether a closed ring of whole-pixel coordinates keeps an area
// of at least one square pixel once snap-rounded the way wagyu does: every edge that passes
// through the pixel of another vertex is bent through that vertex. A ring at most a pixel wide
// folds onto itself this way and PostGIS drops it, though the rounded ring alone may enclose
// some area.
func survivesSnapRounding(r orb.Ring, scratch *orb.Ring) bool {
	a2 := math.Abs(spatial.RingArea2(r))
	if a2 < 2 {
		return false
	}
	// Only thin rings can fold: one whose area exceeds twice its perimeter is at least about
	// four pixels wide everywhere on average, and snap rounding moves edges by under a pixel.
	var perimeter float64
	for i := 0; i+1 < len(r); i++ {
		perimeter += math.Abs(r[i+1][0]-r[i][0]) + math.Abs(r[i+1][1]-r[i][1])
	}
	if a2/2 > 2*perimeter || len(r) > 64 {
		return true
	}
	out := (*scratch)[:0]
	for i := 0; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		out = append(out, a)
		start := len(out)
		for j := 0; j+1 < len(r); j++ {
			v := r[j]
			if v == a || v == b {
				continue
			}
			if segmentMeetsPixel(a, b, v) {
				t := segmentParam(a, b, v)
				// Keep the inserted vertices in order along the edge (few: insertion sort).
				out = append(out, v)
				k := len(out) - 1
				for k > start && segmentParam(a, b, out[k-1]) > t {
					out[k], out[k-1] = out[k-1], out[k]
					k--
				}
			}
		}
	}
	out = append(out, r[0])
	*scratch = out
	return math.Abs(spatial.RingArea2(out)) >= 2
}

// segmentMeetsPixel reports whether the segment a→b meets the closed unit square centred on v
// (Liang–Barsky).
func segmentMeetsPixel(a, b, v orb.Point) bool {
	t0, t1 := 0.0, 1.0
	d := [2]float64{b[0] - a[0], b[1] - a[1]}
	for axis := range 2 {
		lo, hi := v[axis]-0.5, v[axis]+0.5
		if d[axis] == 0 {
			if a[axis] < lo || a[axis] > hi {
				return false
			}
			continue
		}
		ta, tb := (lo-a[axis])/d[axis], (hi-a[axis])/d[axis]
		if ta > tb {
			ta, tb = tb, ta
		}
		t0, t1 = max(t0, ta), min(t1, tb)
		if t0 > t1 {
			return false
		}
	}
	return true
}

func segmentParam(a, b, v orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	return ((v[0]-a[0])*dx + (v[1]-a[1])*dy) / (dx*dx + dy*dy)
}
