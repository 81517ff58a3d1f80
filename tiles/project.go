package tiles

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/spatial"
)

// projector maps WGS84 longitude/latitude to the pixel coordinates of one tile: origin at the
// tile's north-west corner, y down, Extent pixels per side. It is the affine map PostGIS's
// ST_AsMVTGeom applies to ST_Transform(geom, 3857) against ST_TileEnvelope(z, x, y), without
// the rounding, which is a step of its own (snap).
//
// The Mercator ordinate ln(tan(π/4 + φ/2)) costs a logarithm and a tangent per vertex; near
// the tile the projector uses its Taylor polynomial of degree 4 around the tile's centre
// latitude instead, within a span where the polynomial is off by less than a millionth of a
// pixel, and the exact formula farther away.
type projector struct {
	kx, x0 float64 // px = kx·lon − x0

	s, y0 float64 // exact: py = s·(π − ln tan(π/4 + φ/2)) − y0, φ in radians

	c, span            float64 // Taylor centre and half-width, radians
	t0, t1, t2, t3, t4 float64 // py = t0 + d(t1 + d(t2 + d(t3 + d·t4))), d = φ − c

	merc struct{ minX, maxY, size float64 } // the tile's Web Mercator envelope (rounding.go)
	env  orb.Bound                          // ST_TileEnvelope(z, x, y, margin => 64.0/4096)
}

func newProjector(t maptile.Tile) projector {
	n := float64(uint64(1) << t.Z)
	p := projector{
		kx: Extent * n / 360,
		x0: float64(t.X)*Extent - Extent*n/2,
		s:  Extent * n / (2 * math.Pi),
		y0: float64(t.Y) * Extent,
	}
	mb := MercatorBound(t)
	p.merc.minX, p.merc.maxY, p.merc.size = mb.Min[0], mb.Max[1], mb.Max[0]-mb.Min[0]
	p.env = bufferedEnvelope(t)
	// Centre latitude of the tile.
	c := tileLat(float64(t.Y)+0.5, n) * math.Pi / 180
	sec, tan := 1/math.Cos(c), math.Tan(c)
	// Derivatives of g(φ) = ln tan(π/4 + φ/2) at c: g' = sec, g'' = sec·tan,
	// g''' = sec(2tan² + 1), g'''' = sec·tan(6tan² + 5).
	g1 := sec
	g2 := sec * tan
	g3 := sec * (2*tan*tan + 1)
	g4 := sec * tan * (6*tan*tan + 5)
	p.c = c
	p.t0 = p.s*(math.Pi-mercY(c)) - p.y0
	p.t1 = -p.s * g1
	p.t2 = -p.s * g2 / 2
	p.t3 = -p.s * g3 / 6
	p.t4 = -p.s * g4 / 24
	// The remainder is at most s·|g⁽⁵⁾|·d⁵/120 with g⁽⁵⁾ = sec·tan⁴ + 18sec³tan² + 5sec⁵, which
	// grows with |φ|: bound it at |c| + 0.05 rad and never let the span exceed 0.05 rad.
	const maxSpan, maxErr = 0.05, 1e-6 // radians, pixels
	far := math.Abs(c) + maxSpan
	if far < math.Pi/2-1e-3 {
		sf, tf := 1/math.Cos(far), math.Tan(far)
		g5 := sf*tf*tf*tf*tf + 18*sf*sf*sf*tf*tf + 5*sf*sf*sf*sf*sf
		p.span = math.Min(maxSpan, math.Pow(maxErr*120/(p.s*g5), 0.2))
	}
	return p
}

// bufferedEnvelope is ST_TileEnvelope(z, x, y, margin => 64.0/4096) as PostGIS computes it:
// the tile grown by the buffer on every side, within the bounds of the world.
func bufferedEnvelope(t maptile.Tile) orb.Bound {
	const margin = float64(Buffer) / Extent
	size := 2 * spatial.MercatorHalf / float64(uint64(1)<<t.Z)
	x, y := float64(t.X), float64(t.Y)
	b := orb.Bound{
		Min: orb.Point{-spatial.MercatorHalf + size*(x-margin), spatial.MercatorHalf - size*(y+1+margin)},
		Max: orb.Point{-spatial.MercatorHalf + size*(x+1+margin), spatial.MercatorHalf - size*(y-margin)},
	}
	b.Min[0], b.Min[1] = max(b.Min[0], -spatial.MercatorHalf), max(b.Min[1], -spatial.MercatorHalf)
	b.Max[0], b.Max[1] = min(b.Max[0], spatial.MercatorHalf), min(b.Max[1], spatial.MercatorHalf)
	return b
}

// mercY is the Web Mercator ordinate of latitude φ (radians) on the unit sphere.
func mercY(phi float64) float64 { return math.Log(math.Tan(math.Pi/4 + phi/2)) }

// point projects a WGS84 point to tile pixels (unrounded).
func (p *projector) point(q orb.Point) orb.Point {
	phi := q[1] * (math.Pi / 180)
	var y float64
	if d := phi - p.c; d <= p.span && d >= -p.span {
		y = p.t0 + d*(p.t1+d*(p.t2+d*(p.t3+d*p.t4)))
	} else {
		y = p.s*(math.Pi-mercY(phi)) - p.y0
	}
	return orb.Point{p.kx*q[0] - p.x0, y}
}

// exact projects without the polynomial, for tests.
func (p *projector) exact(q orb.Point) orb.Point {
	return orb.Point{p.kx*q[0] - p.x0, p.s*(math.Pi-mercY(q[1]*(math.Pi/180))) - p.y0}
}
