package glyphs

import (
	"image"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// The conventions MapLibre reads glyph ranges with: glyphs laid out at 24 px to the em, each
// bitmap with a 3 px border, the outline at 192/255 of the distance field, which spans
// 8 px each side of it.
const (
	emPixels = 24
	border   = 3
	radius   = 8.0
	cutoff   = 0.25
)

// glyph is one code point drawn: its distance field and its metrics in pixels at 24 px.
type glyph struct {
	id            rune
	bitmap        []byte // (width+2·border) × (height+2·border), row by row; empty for blanks
	width, height int
	left, top     int // top is measured from the line's ascender, as MapLibre expects
	advance       int
}

// draw renders r from f; ok is false when the font has no glyph for it.
func draw(f *sfnt.Font, buf *sfnt.Buffer, r rune) (glyph, bool, error) {
	idx, err := f.GlyphIndex(buf, r)
	if err != nil || idx == 0 {
		return glyph{}, false, err
	}
	ppem := fixed.I(emPixels)
	adv, err := f.GlyphAdvance(buf, idx, ppem, font.HintingNone)
	if err != nil {
		return glyph{}, false, err
	}
	m, err := f.Metrics(buf, ppem, font.HintingNone)
	if err != nil {
		return glyph{}, false, err
	}
	segs, err := f.LoadGlyph(buf, idx, ppem, nil)
	if err != nil {
		return glyph{}, false, err
	}
	g := glyph{id: r, advance: int(math.Round(float64(adv) / 64))}
	if len(segs) == 0 { // a space: advance only
		return g, true, nil
	}
	// The outline's pixel box; sfnt's y grows downwards, so y0 is the top.
	b := segs.Bounds()
	x0, y0 := b.Min.X.Floor(), b.Min.Y.Floor()
	x1, y1 := b.Max.X.Ceil(), b.Max.Y.Ceil()
	g.width, g.height = x1-x0, y1-y0
	g.left = x0
	g.top = -y0 - m.Ascent.Round()

	w, h := g.width+2*border, g.height+2*border
	alpha := rasterize(segs, w, h, float32(border-x0), float32(border-y0))
	g.bitmap = distanceField(alpha, w, h)
	return g, true, nil
}

// rasterize fills the outline, shifted by (dx, dy) pixels, into a w×h coverage mask.
func rasterize(segs sfnt.Segments, w, h int, dx, dy float32) *image.Alpha {
	z := vector.NewRasterizer(w, h)
	p := func(v fixed.Point26_6) (float32, float32) {
		return float32(v.X)/64 + dx, float32(v.Y)/64 + dy
	}
	for _, s := range segs {
		switch s.Op {
		case sfnt.SegmentOpMoveTo:
			z.ClosePath()
			z.MoveTo(p(s.Args[0]))
		case sfnt.SegmentOpLineTo:
			z.LineTo(p(s.Args[0]))
		case sfnt.SegmentOpQuadTo:
			ax, ay := p(s.Args[0])
			bx, by := p(s.Args[1])
			z.QuadTo(ax, ay, bx, by)
		case sfnt.SegmentOpCubeTo:
			ax, ay := p(s.Args[0])
			bx, by := p(s.Args[1])
			cx, cy := p(s.Args[2])
			z.CubeTo(ax, ay, bx, by, cx, cy)
		}
	}
	z.ClosePath()
	dst := image.NewAlpha(image.Rect(0, 0, w, h))
	z.Draw(dst, dst.Bounds(), image.Opaque, image.Point{})
	return dst
}

// distanceField turns a coverage mask into a signed distance field: 255 deep inside, 192 on
// the outline, 0 at radius·(1-cutoff) pixels outside. Partly covered pixels place the outline
// inside the pixel by their coverage, so edges keep their anti-aliased position.
func distanceField(alpha *image.Alpha, w, h int) []byte {
	const inf = 1e20
	n := w * h
	outer, inner := make([]float64, n), make([]float64, n)
	for i, a8 := range alpha.Pix[:n] {
		a := float64(a8) / 255
		switch {
		case a >= 1:
			outer[i], inner[i] = 0, inf
		case a <= 0:
			outer[i], inner[i] = inf, 0
		default:
			d := 0.5 - a
			outer[i], inner[i] = math.Max(d, 0)*math.Max(d, 0), math.Min(d, 0)*math.Min(d, 0)
		}
	}
	edt(outer, w, h)
	edt(inner, w, h)
	out := make([]byte, n)
	for i := range out {
		d := math.Sqrt(outer[i]) - math.Sqrt(inner[i])
		v := math.Round(255 - 255*(d/radius+cutoff))
		out[i] = byte(math.Max(0, math.Min(255, v)))
	}
	return out
}

// edt replaces each cell of the w×h grid by its squared Euclidean distance to the nearest
// cell holding 0 (cells hold their initial squared distance), by Felzenszwalb and
// Huttenlocher's two passes of lower envelopes of parabolas: columns, then rows.
func edt(grid []float64, w, h int) {
	size := max(w, h)
	f, d := make([]float64, size), make([]float64, size)
	v, z := make([]int, size), make([]float64, size+1)
	for x := range w {
		for y := range h {
			f[y] = grid[y*w+x]
		}
		envelope(f[:h], d[:h], v, z)
		for y := range h {
			grid[y*w+x] = d[y]
		}
	}
	for y := range h {
		copy(f[:w], grid[y*w:(y+1)*w])
		envelope(f[:w], d[:w], v, z)
		copy(grid[y*w:(y+1)*w], d[:w])
	}
}

// envelope is the one-dimensional pass: d[q] = min over p of (q-p)² + f[p].
func envelope(f, d []float64, v []int, z []float64) {
	n := len(f)
	if n == 0 {
		return
	}
	k := 0
	v[0], z[0], z[1] = 0, math.Inf(-1), math.Inf(1)
	intersect := func(q, p int) float64 {
		return ((f[q] + float64(q*q)) - (f[p] + float64(p*p))) / float64(2*q-2*p)
	}
	for q := 1; q < n; q++ {
		s := intersect(q, v[k])
		for s <= z[k] {
			k--
			s = intersect(q, v[k])
		}
		k++
		v[k], z[k], z[k+1] = q, s, math.Inf(1)
	}
	k = 0
	for q := range n {
		for z[k+1] < float64(q) {
			k++
		}
		dq := float64(q - v[k])
		d[q] = dq*dq + f[v[k]]
	}
}
