package scenarios

import (
	"math"
	"math/rand"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/spatial"
)

func square(x0, y0, x1, y1 float64) orb.Ring {
	return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
}

func TestUnionAreaOfPolygonsMatchesHandComputedValues(t *testing.T) {
	big := orb.Bound{Min: orb.Point{-100, -100}, Max: orb.Point{100, 100}}
	tri := orb.Polygon{{{0, 0}, {10, 0}, {0, 10}, {0, 0}}}
	cases := []struct {
		name          string
		shapes, clips []orb.Polygon
		box           orb.Bound
		want          float64
	}{
		{"two 10 m squares overlapping by half count 150 m², not 200",
			[]orb.Polygon{{square(0, 0, 10, 10)}, {square(5, 0, 15, 10)}}, nil, big, 150}, // 100 + 100 − 5 × 10
		{"a square drawn twice counts once",
			[]orb.Polygon{{square(0, 0, 10, 10)}, {square(0, 0, 10, 10)}}, nil, big, 100},
		{"a square with a 4 m hole is 84 m²",
			[]orb.Polygon{{square(0, 0, 10, 10), square(3, 3, 7, 7)}}, nil, big, 84}, // 100 − 16
		{"a box keeps the part inside it",
			[]orb.Polygon{{square(0, 0, 10, 10)}, {square(5, 0, 15, 10)}}, nil,
			orb.Bound{Min: orb.Point{2, -5}, Max: orb.Point{12, 5}}, 50}, // [2,12]×[0,5]
		{"a triangle clipped to x ≥ 5 keeps 12.5 m²",
			[]orb.Polygon{tri}, []orb.Polygon{{square(5, 0, 15, 10)}}, big, 12.5}, // ∫5..10 (10 − x) dx
		{"a triangle clipped by two overlapping clips counts once",
			[]orb.Polygon{tri}, []orb.Polygon{{square(5, 0, 15, 10)}, {square(5, 0, 15, 10)}}, big, 12.5},
		{"nothing outside the box",
			[]orb.Polygon{{square(0, 0, 10, 10)}}, nil, orb.Bound{Min: orb.Point{20, 20}, Max: orb.Point{30, 30}}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := coverArea(tc.shapes, tc.clips, tc.box); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("area = %v, want %v", got, tc.want)
			}
		})
	}
}

// The sweep against a raster on random crossing triangles: a 0.02 m grid over 20 m counts
// each cell by its centre; the union's boundary (a few hundred metres at most) crosses
// at most 2 × length / 0.02 cells, each off by at most 0.0004 m², so within 0.01 m² × length.
func TestUnionAreaOfCrossingTrianglesAgreesWithAFineRaster(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for trial := range 5 {
		var shapes []orb.Polygon
		for range 4 {
			p := func() orb.Point { return orb.Point{rng.Float64() * 20, rng.Float64() * 20} }
			a := p()
			shapes = append(shapes, orb.Polygon{{a, p(), p(), a}})
		}
		clip := []orb.Polygon{{square(3, 2, 17, 19)}}
		box := orb.Bound{Min: orb.Point{1, 1}, Max: orb.Point{18, 16}}
		got := coverArea(shapes, clip, box)
		const step = 0.02
		raster := 0.0
		for x := step / 2; x < 20; x += step {
			for y := step / 2; y < 20; y += step {
				q := orb.Point{x, y}
				if !box.Contains(q) || !spatial.PolygonContains(clip[0], q) {
					continue
				}
				for _, s := range shapes {
					if spatial.PolygonContains(s, q) {
						raster += step * step
						break
					}
				}
			}
		}
		if math.Abs(got-raster) > 1.5 {
			t.Errorf("trial %d: sweep %v m², raster %v m²", trial, got, raster)
		}
	}
}
