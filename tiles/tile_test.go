package tiles

import (
	"errors"
	"math"
	"math/rand"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/spatial"
)

func TestParseTile(t *testing.T) {
	tests := []struct {
		name    string
		z, x, y string
		want    maptile.Tile
		field   string // the coordinate the error names; "" for success
	}{
		{"the world tile", "0", "0", "0", maptile.New(0, 0, 0), ""},
		{"a city tile", "15", "18204", "11524", maptile.New(18204, 11524, 15), ""},
		{"the last tile of zoom 24", "24", "16777215", "16777215", maptile.New(1<<24-1, 1<<24-1, 24), ""},
		{"zoom beyond 24", "25", "0", "0", maptile.Tile{}, "z"},
		{"negative zoom", "-1", "0", "0", maptile.Tile{}, "z"},
		{"fractional zoom", "1.5", "0", "0", maptile.Tile{}, "z"},
		{"zoom in words", "ten", "0", "0", maptile.Tile{}, "z"},
		{"empty zoom", "", "0", "0", maptile.Tile{}, "z"},
		{"zoom with a plus sign", "+3", "0", "0", maptile.Tile{}, "z"},
		{"zoom with a leading zero", "03", "0", "0", maptile.Tile{}, "z"},
		{"zoom with a space", " 3", "0", "0", maptile.Tile{}, "z"},
		{"huge zoom", "99999999999999999999999", "0", "0", maptile.Tile{}, "z"},
		{"x one past the edge", "2", "4", "0", maptile.Tile{}, "x"},
		{"x on zoom 0", "0", "1", "0", maptile.Tile{}, "x"},
		{"negative x", "2", "-1", "0", maptile.Tile{}, "x"},
		{"hexadecimal x", "12", "0x10", "0", maptile.Tile{}, "x"},
		{"y one past the edge", "2", "0", "4", maptile.Tile{}, "y"},
		{"fractional y", "2", "0", "1.0", maptile.Tile{}, "y"},
		{"y with a leading zero", "12", "5", "007", maptile.Tile{}, "y"},
		{"y overflowing 64 bits", "12", "5", "18446744073709551616", maptile.Tile{}, "y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTile(tt.z, tt.x, tt.y)
			if tt.field == "" {
				if err != nil || got != tt.want {
					t.Fatalf("ParseTile(%q, %q, %q) = %v, %v; want %v", tt.z, tt.x, tt.y, got, err, tt.want)
				}
				return
			}
			var ce *CoordError
			if !errors.As(err, &ce) || !errors.Is(err, ErrBadTile) {
				t.Fatalf("ParseTile(%q, %q, %q) = %v, %v; want a CoordError", tt.z, tt.x, tt.y, got, err)
			}
			if ce.Field != tt.field || ce.Message == "" {
				t.Fatalf("error %q names %q, want %q", err, ce.Field, tt.field)
			}
		})
	}
}

func TestParseTileMessagesSayWhatIsWrong(t *testing.T) {
	for _, tt := range []struct{ z, x, y, want string }{
		{"25", "0", "0", "z: 25 is outside 0..24"},
		{"2", "4", "0", "x: 4 is outside 0..3 at zoom 2"},
		{"2", "0", "9", "y: 9 is outside 0..3 at zoom 2"},
		{"a", "0", "0", `z: "a" is not a whole number in decimal digits`},
		{"3", "01", "0", `x: "01" has a leading zero; write 1`},
	} {
		if _, err := ParseTile(tt.z, tt.x, tt.y); err == nil || err.Error() != tt.want {
			t.Errorf("ParseTile(%s, %s, %s) error = %v, want %q", tt.z, tt.x, tt.y, err, tt.want)
		}
	}
}

func TestQueryBoundHoldsTheBufferedTile(t *testing.T) {
	tile := maptile.New(18204, 11524, 15)
	b := QueryBound(tile)
	tb := tile.Bound()
	if !b.Contains(tb.Min) || !b.Contains(tb.Max) {
		t.Fatalf("query bound %v does not hold the tile %v", b, tb)
	}
	// The buffer is 64/4096 of the tile, plus a pixel: 65/4096 × tile width on each side.
	want := (tb.Max[0] - tb.Min[0]) * 65 / 4096
	if got := tb.Min[0] - b.Min[0]; math.Abs(got-want) > 1e-12 {
		t.Fatalf("west margin = %v°, want %v°", got, want)
	}
	// Projected, its corners are 65 pixels outside the tile.
	p := newProjector(tile)
	if c := p.exact(orb.Point{b.Min[0], b.Max[1]}); math.Abs(c[0]+65) > 1e-6 || math.Abs(c[1]+65) > 1e-6 {
		t.Fatalf("north-west corner projects to %v, want (-65, -65)", c)
	}
	if c := p.exact(orb.Point{b.Max[0], b.Min[1]}); math.Abs(c[0]-4161) > 1e-6 || math.Abs(c[1]-4161) > 1e-6 {
		t.Fatalf("south-east corner projects to %v, want (4161, 4161)", c)
	}
}

func TestMercatorBoundAndPixelSize(t *testing.T) {
	// ST_TileEnvelope(1, 1, 0) = the north-east quarter of the world.
	b := MercatorBound(maptile.New(1, 0, 1))
	if b.Min[0] != 0 || b.Min[1] != 0 || b.Max[0] != spatial.MercatorHalf || b.Max[1] != spatial.MercatorHalf {
		t.Fatalf("z1 x1 y0 envelope = %v", b)
	}
	// One pixel at z13: 40075016.69 / (4096 · 8192) = 1.1943 m.
	if got := PixelSize(13); math.Abs(got-1.19432856) > 1e-6 {
		t.Fatalf("pixel at z13 = %v m", got)
	}
}

func TestProjectorMatchesTheExactFormula(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, z := range []maptile.Zoom{0, 4, 10, 12, 14, 16, 20, 24} {
		for _, lat := range []float64{-70, -33.9, 0, 46.77, 60.2, 78} {
			tile := maptile.At(orb.Point{23.59, lat}, z)
			p := newProjector(tile)
			tb := tile.Bound()
			h := tb.Max[1] - tb.Min[1]
			// Pixel ordinates near the tile are differences of numbers as large as s·π, so
			// doubles carry them to about s·π·2⁻⁵² whatever the formula: allow that too.
			tol := math.Max(2e-6, 8*p.s*math.Pi*0x1p-52)
			for range 2000 {
				// Points across a span of ±40 tile heights (and far away now and then).
				q := orb.Point{tb.Min[0] + rng.Float64()*(tb.Max[0]-tb.Min[0]), tb.Min[1] + (rng.Float64()*80-40)*h}
				if rng.Intn(10) == 0 {
					q[1] = rng.Float64()*170 - 85
				}
				q[1] = math.Max(-85, math.Min(85, q[1]))
				got, want := p.point(q), p.exact(q)
				if math.Abs(got[1]-want[1]) > tol || got[0] != want[0] {
					t.Fatalf("z%d lat %v: %v projects to %v, exactly %v (off by %g px)", z, lat, q, got, want, got[1]-want[1])
				}
			}
		}
	}
}

func TestProjectorAgreesWithMaptile(t *testing.T) {
	// The tile's own corners land on its pixel corners.
	tile := maptile.New(18204, 11524, 15)
	p := newProjector(tile)
	b := tile.Bound()
	nw, se := p.point(orb.Point{b.Min[0], b.Max[1]}), p.point(orb.Point{b.Max[0], b.Min[1]})
	if math.Abs(nw[0]) > 1e-6 || math.Abs(nw[1]) > 1e-6 || math.Abs(se[0]-4096) > 1e-6 || math.Abs(se[1]-4096) > 1e-6 {
		t.Fatalf("corners project to %v and %v, want (0,0) and (4096,4096)", nw, se)
	}
}
