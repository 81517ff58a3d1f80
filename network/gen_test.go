package network

import (
	"math/rand/v2"

	"github.com/paulmach/orb"
)

// gridTown is a generated street grid: nx × ny crossings about spacing metres apart (each
// moved up to a tenth of the spacing at random), each block missing with probability missing,
// one block in ten bent by a vertex of its own in the middle. East-west and north-south runs of
// blocks are single lines through their crossings, so the crossings are shared interior
// vertices. Lines are in lon/lat of testProj.
type gridTown struct {
	lines []Line
	bends int // interior vertices that belong to one line only
}

func newGridTown(rng *rand.Rand, nx, ny int, spacing, missing float64) gridTown {
	pt := make([][]orb.Point, nx)
	for i := range pt {
		pt[i] = make([]orb.Point, ny)
		for j := range pt[i] {
			jx, jy := (rng.Float64()-0.5)*spacing/5, (rng.Float64()-0.5)*spacing/5
			pt[i][j] = orb.Point{float64(i)*spacing + jx, float64(j)*spacing + jy}
		}
	}
	var town gridTown
	var run orb.LineString
	flush := func() {
		if len(run) >= 2 {
			town.lines = append(town.lines, Line{Source: int64(len(town.lines) + 1), Geom: run})
		}
		run = nil
	}
	block := func(a, b orb.Point) {
		if rng.Float64() < missing {
			flush()
			return
		}
		if len(run) == 0 {
			run = orb.LineString{testProj.ToWGS84(a)}
		}
		if rng.IntN(10) == 0 {
			mid := orb.Point{(a[0]+b[0])/2 + (rng.Float64()-0.5)*spacing/4, (a[1]+b[1])/2 + (rng.Float64()-0.5)*spacing/4}
			run = append(run, testProj.ToWGS84(mid))
			town.bends++
		}
		run = append(run, testProj.ToWGS84(b))
	}
	for j := 0; j < ny; j++ {
		for i := 0; i+1 < nx; i++ {
			block(pt[i][j], pt[i+1][j])
		}
		flush()
	}
	for i := 0; i < nx; i++ {
		for j := 0; j+1 < ny; j++ {
			block(pt[i][j], pt[i][j+1])
		}
		flush()
	}
	return town
}

// randomPoint is a lon/lat point anywhere over a town of nx × ny crossings spacing apart.
func randomPoint(rng *rand.Rand, nx, ny int, spacing float64) orb.Point {
	return testProj.ToWGS84(orb.Point{rng.Float64() * float64(nx-1) * spacing, rng.Float64() * float64(ny-1) * spacing})
}
