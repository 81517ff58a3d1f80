package glyphs

import (
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestParseRangeAcceptsOnlyWhatMapLibreAsks(t *testing.T) {
	cases := []struct {
		text  string
		start int
		ok    bool
	}{
		{"0-255", 0, true},
		{"512-767", 512, true},
		{"65280-65535", 65280, true},
		{"1-256", 0, false},       // not from a multiple of 256
		{"0-256", 0, false},       // 257 code points
		{"256-255", 0, false},     // backwards
		{"65536-65791", 0, false}, // beyond the Basic Multilingual Plane
		{"-256--1", 0, false},
		{"0-255x", 0, false},
		{"00-255", 0, false}, // not the canonical form, so not a second cache entry
		{"", 0, false},
	}
	for _, c := range cases {
		start, err := ParseRange(c.text)
		if c.ok && (err != nil || start != c.start) {
			t.Errorf("ParseRange(%q) = %d, %v; want %d", c.text, start, err, c.start)
		}
		if !c.ok && !errors.Is(err, ErrBadRange) {
			t.Errorf("ParseRange(%q) = %d, %v; want ErrBadRange", c.text, start, err)
		}
	}
}

func TestResolveTakesTheFirstKnownFontOfTheStack(t *testing.T) {
	s := newSet(t)
	if got, err := s.Resolve("Noto Sans Regular, DejaVu Sans"); err != nil || got != DefaultFont {
		t.Errorf("Resolve = %q, %v; want %q", got, err, DefaultFont)
	}
	if _, err := s.Resolve("Arial Unicode MS"); !errors.Is(err, ErrUnknownFont) {
		t.Errorf("Resolve of an unknown stack: %v, want ErrUnknownFont", err)
	}
}

// decoded is one glyph read back from the wire with protowire alone.
type decoded struct {
	id, width, height, advance uint64
	left, top                  int64
	bitmap                     []byte
}

func decodeRange(t *testing.T, b []byte) (name, rng string, glyphs map[rune]decoded) {
	t.Helper()
	glyphs = map[rune]decoded{}
	stack := field(t, b, 1)
	if len(stack) != 1 {
		t.Fatalf("%d font stacks, want 1", len(stack))
	}
	for len(stack[0]) > 0 {
		num, typ, n := protowire.ConsumeTag(stack[0])
		stack[0] = stack[0][n:]
		m := protowire.ConsumeFieldValue(num, typ, stack[0])
		if m < 0 {
			t.Fatal("bad fontstack field")
		}
		raw := stack[0][:m]
		stack[0] = stack[0][m:]
		bytes, _ := protowire.ConsumeBytes(raw)
		switch num {
		case 1:
			name = string(bytes)
		case 2:
			rng = string(bytes)
		case 3:
			g := decodeGlyph(t, bytes)
			glyphs[rune(g.id)] = g
		}
	}
	return name, rng, glyphs
}

func decodeGlyph(t *testing.T, b []byte) decoded {
	t.Helper()
	var g decoded
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			b = b[m:]
			switch num {
			case 1:
				g.id = v
			case 3:
				g.width = v
			case 4:
				g.height = v
			case 5:
				g.left = protowire.DecodeZigZag(v)
			case 6:
				g.top = protowire.DecodeZigZag(v)
			case 7:
				g.advance = v
			}
		case protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			b = b[m:]
			g.bitmap = v
		default:
			t.Fatalf("unexpected wire type %v in a glyph", typ)
		}
	}
	return g
}

// field returns the payloads of every length-delimited field num at the top of b.
func field(t *testing.T, b []byte, num protowire.Number) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		n, typ, m := protowire.ConsumeTag(b)
		b = b[m:]
		if typ != protowire.BytesType {
			t.Fatalf("field %d has wire type %v", n, typ)
		}
		v, k := protowire.ConsumeBytes(b)
		if k < 0 {
			t.Fatal("truncated message")
		}
		b = b[k:]
		if n == num {
			out = append(out, v)
		}
	}
	return out
}

func TestRangesHoldRomanianLettersWithBitmapsOfTheirSize(t *testing.T) {
	s := newSet(t)
	letters := map[int]string{0: "aâîAÂÎ Wil.", 256: "ăĂ", 512: "șțȘȚ"}
	for start, want := range letters {
		b, err := s.Range(DefaultFont, start)
		if err != nil {
			t.Fatal(err)
		}
		name, rng, gs := decodeRange(t, b)
		if name != DefaultFont || rng != map[int]string{0: "0-255", 256: "256-511", 512: "512-767"}[start] {
			t.Errorf("stack %q range %q", name, rng)
		}
		for _, r := range want {
			g, ok := gs[r]
			if !ok {
				t.Errorf("range %d has no %q", start, r)
				continue
			}
			if r == ' ' {
				if len(g.bitmap) != 0 || g.advance == 0 {
					t.Errorf("space: bitmap %d bytes, advance %d; want none and a width", len(g.bitmap), g.advance)
				}
				continue
			}
			// The bitmap carries the 3 px border on every side.
			if want := (g.width + 6) * (g.height + 6); uint64(len(g.bitmap)) != want {
				t.Errorf("%q: bitmap %d bytes, want (%d+6)×(%d+6) = %d", r, len(g.bitmap), g.width, g.height, want)
			}
		}
	}
}

func TestGlyphShapesReadAsTheirLetters(t *testing.T) {
	s := newSet(t)
	b, err := s.Range(DefaultFont, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _, gs := decodeRange(t, b)
	i, w, l, dot := gs['i'], gs['W'], gs['l'], gs['.']
	if !(i.advance < w.advance) {
		t.Errorf("advance of i %d, of W %d: i must be narrower", i.advance, w.advance)
	}
	// l is a vertical stem: its bitmap's middle row is inside (≥ 192) at the stem's centre and
	// far outside (0) at the border's corners.
	row := (l.height + 6) / 2
	stride := l.width + 6
	mid := l.bitmap[row*stride+stride/2]
	if mid < 192 {
		t.Errorf("l: centre of the stem %d, want ≥ 192 (inside)", mid)
	}
	if c := l.bitmap[0]; c > 64 {
		t.Errorf("l: corner %d, want near 0 (outside)", c)
	}
	// A full stop sits on the baseline: its top is lower than l's.
	if !(dot.top < l.top) {
		t.Errorf("top of . %d, of l %d: the full stop must be lower", dot.top, l.top)
	}
}

func TestDistanceFieldOfASquareByHand(t *testing.T) {
	// A 10×10 mask with the 4×4 square at columns and rows 3..6 fully covered.
	const w, h = 10, 10
	alpha := make([]byte, w*h)
	for y := 3; y <= 6; y++ {
		for x := 3; x <= 6; x++ {
			alpha[y*w+x] = 255
		}
	}
	sdf := distanceField(alphaImage(alpha, w, h), w, h)
	cases := []struct {
		name string
		x, y int
		want byte
	}{
		// Inside, one pixel from the nearest empty pixel: d = 0 - 1 = -1;
		// 255 - 255·(-1/8 + 0.25) = 223.125 → 223.
		{"edge pixel inside", 3, 5, 223},
		// Inside, two pixels from the nearest empty one (4,4): d = -2;
		// 255 - 255·(-2/8 + 0.25) = 255.
		{"centre", 4, 4, 255},
		// Outside, one pixel from the square: d = 1; 255 - 255·(1/8 + 0.25) = 159.375 → 159.
		{"next to the square", 2, 5, 159},
		// Outside, diagonal to the corner (3,3): d = √2; 255 - 255·(√2/8 + 0.25) = 146.17 → 146.
		{"diagonal to a corner", 2, 2, 146},
		// Outside, three pixels away: d = 3; 255 - 255·(3/8 + 0.25) = 95.625 → 96.
		{"three pixels out", 9, 5, 96},
	}
	for _, c := range cases {
		if got := sdf[c.y*w+c.x]; got != c.want {
			t.Errorf("%s (%d,%d) = %d, want %d", c.name, c.x, c.y, got, c.want)
		}
	}
}

func TestEDTMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		w, h := 1+rng.IntN(20), 1+rng.IntN(20)
		grid := make([]float64, w*h)
		var zeros [][2]int
		for i := range grid {
			if rng.IntN(6) == 0 {
				zeros = append(zeros, [2]int{i % w, i / w})
			} else {
				grid[i] = 1e20
			}
		}
		if len(zeros) == 0 {
			continue
		}
		edt(grid, w, h)
		for i, got := range grid {
			x, y := i%w, i/w
			want := math.Inf(1)
			for _, z := range zeros {
				dx, dy := float64(x-z[0]), float64(y-z[1])
				want = math.Min(want, dx*dx+dy*dy)
			}
			if got != want {
				t.Fatalf("trial %d %dx%d: cell (%d,%d) = %v, want %v", trial, w, h, x, y, got, want)
			}
		}
	}
}

func TestConcurrentRequestsDrawARangeOnce(t *testing.T) {
	s := newSet(t)
	var wg sync.WaitGroup
	out := make([][]byte, 8)
	for i := range out {
		wg.Go(func() {
			b, err := s.Range(DefaultFont, 256)
			if err != nil {
				t.Error(err)
			}
			out[i] = b
		})
	}
	wg.Wait()
	for i := range out {
		if &out[i][0] != &out[0][0] {
			t.Fatalf("request %d got its own drawing of the range", i)
		}
	}
}

func newSet(t *testing.T) *Set {
	t.Helper()
	s, err := NewSet()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func alphaImage(pix []byte, w, h int) *image.Alpha {
	return &image.Alpha{Pix: pix, Stride: w, Rect: image.Rect(0, 0, w, h)}
}
