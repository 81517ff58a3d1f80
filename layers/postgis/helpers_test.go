package postgis

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/internal/pgtest"
	"github.com/citytwin/citytwin/layers"
)

// databaseURL is the address of the test database, which scripts/with-postgis.sh provides.
func databaseURL(tb testing.TB) string { return pgtest.DatabaseURL(tb) }

// newSchema creates an empty schema of its own for one test and returns the database URL
// that works in it (search_path = schema, public). The schema is dropped when the test ends.
// Other packages' tests may use the same database at the same time; they never see it.
func newSchema(tb testing.TB) string {
	tb.Helper()
	u, drop := createSchema(tb)
	tb.Cleanup(func() {
		if err := drop(); err != nil {
			tb.Error(err)
		}
	})
	return u
}

// createSchema creates an empty schema and returns the database URL that works in it and the
// function that drops it.
func createSchema(tb testing.TB) (string, func() error) {
	tb.Helper()
	u, _, drop := pgtest.Create(tb, "citytwin_test")
	return u, drop
}

// newStore opens a migrated store in a fresh schema.
func newStore(tb testing.TB) *Store {
	tb.Helper()
	ctx := context.Background()
	s, err := Open(ctx, newSchema(tb))
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(s.Close)
	if err := Migrate(ctx, s.Pool()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return s
}

func testContext(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

// Test geography: a city around Cluj-Napoca, metres east/north of origin converted to
// WGS84 by an equirectangular approximation (good enough to place test features).
var origin = orb.Point{23.59, 46.77}

func at(x, y float64) orb.Point {
	const mPerDegLat = 111320.0
	return orb.Point{
		origin[0] + x/(mPerDegLat*math.Cos(origin[1]*math.Pi/180)),
		origin[1] + y/mPerDegLat,
	}
}

// rect is the polygon of the rectangle x0..x1, y0..y1 metres (counter-clockwise, closed).
func rect(x0, y0, x1, y1 float64) orb.Polygon {
	return orb.Polygon{{at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1), at(x0, y0)}}
}

// square is a building footprint: a square of side d metres with its south-west corner at
// (x, y).
func square(x, y, d float64) orb.Polygon { return rect(x, y, x+d, y+d) }

// syntheticBuildings makes n buildings: squares of 8 to 20 m on a 30 m grid, with every
// public field typed as layers.Normalize types it.
func syntheticBuildings(n int, firstID int64) []layers.Feature {
	r := rand.New(rand.NewPCG(uint64(n), uint64(firstID)))
	side := int(math.Ceil(math.Sqrt(float64(n))))
	fs := make([]layers.Feature, n)
	for i := range fs {
		floors := int64(1 + r.IntN(12))
		d := 8 + 12*r.Float64()
		fs[i] = layers.Feature{
			Layer:    "buildings",
			ID:       firstID + int64(i),
			Geometry: square(float64(i%side)*30, float64(i/side)*30, d),
			Props: map[string]any{
				"cad_number": fmt.Sprintf("CJ-%07d", i),
				"use":        layers.BuildingUses[r.IntN(len(layers.BuildingUses))],
				"floors":     floors,
				"height_m":   float64(floors) * 3.1,
				"dwellings":  int64(r.IntN(40)),
				"year_built": int64(1900 + r.IntN(125)),
				"gfa_m2":     d * d * float64(floors),
				"derived":    i%7 == 0,
			},
		}
	}
	return fs
}

// syntheticCity makes a deterministic city of about n parcels around origin: blocks of 4×6
// parcels of 20 m × 30 m separated by 15 m streets, three buildings for every four parcels,
// a zoning unit every 5×5 blocks, a district every 16×16 blocks, a facility every 40 parcels,
// a green space every 23 blocks, noise bands along every 8th street, one flood zone along a
// river, an air station every 25 blocks and broadband per district. The extent grows with
// n: 200,000 parcels are a city about 10 km across.
func syntheticCity(n int, seed uint64) []layers.Feature {
	r := rand.New(rand.NewPCG(seed, 7))
	const (
		pw, ph  = 20.0, 30.0 // parcel
		bx, by  = 4, 6       // parcels per block
		street  = 15.0
		blockW  = bx*pw + street
		blockH  = by*ph + street
		perBlck = bx * by
	)
	blocks := (n + perBlck - 1) / perBlck
	side := int(math.Ceil(math.Sqrt(float64(blocks))))
	var out []layers.Feature
	ids := map[string]int64{}
	add := func(layer string, g orb.Geometry, props map[string]any, restricted map[string]any) {
		ids[layer]++
		out = append(out, layers.Feature{Layer: layer, ID: ids[layer], Geometry: g, Props: props, Restricted: restricted})
	}
	parcels := 0
	for b := 0; b < blocks; b++ {
		bxi, byi := b%side, b/side
		x0, y0 := float64(bxi)*blockW, float64(byi)*blockH
		for p := 0; p < perBlck && parcels < n; p++ {
			parcels++
			px, py := x0+float64(p%bx)*pw, y0+float64(p/bx)*ph
			cad := fmt.Sprintf("%d", 50000+parcels)
			add("parcels", rect(px, py, px+pw, py+ph), map[string]any{
				"cad_number": cad, "area_m2": pw * ph, "land_use": "curți construcții",
				"intravilan": true, "ownership": []string{"public", "private", "unknown"}[r.IntN(3)],
				"address": fmt.Sprintf("Strada %d nr. %d", byi, p), "derived": true,
			}, map[string]any{"owner_name": fmt.Sprintf("Owner %d", parcels), "land_book": "CF " + cad})
			if r.IntN(4) < 3 {
				d := 6 + 10*r.Float64()
				floors := int64(1 + r.IntN(10))
				add("buildings", square(px+2, py+2, d), map[string]any{
					"cad_number": cad, "use": layers.BuildingUses[r.IntN(len(layers.BuildingUses))],
					"floors": floors, "height_m": float64(floors) * 3, "dwellings": floors * int64(r.IntN(4)),
					"year_built": int64(1900 + r.IntN(120)), "gfa_m2": d * d * float64(floors), "derived": true,
				}, nil)
			}
			if parcels%40 == 0 {
				add("facilities", at(px+pw/2, py+ph/2), map[string]any{
					"kind": layers.FacilityKinds[r.IntN(len(layers.FacilityKinds))], "name": fmt.Sprintf("Facility %d", parcels),
					"capacity": int64(50 + r.IntN(500)), "capacity_unit": "places", "derived": true,
				}, nil)
			}
		}
		if b%23 == 0 {
			add("green_spaces", rect(x0-street+2, y0-street+2, x0-2, y0+blockH-2), map[string]any{
				"kind": "park", "public": true, "area_m2": (street - 4) * (blockH - 4), "derived": true,
			}, nil)
		}
		if b%25 == 0 {
			add("air_stations", at(x0-street/2, y0-street/2), map[string]any{
				"name": fmt.Sprintf("CJ-%d", b), "pm25": 5 + 20*r.Float64(), "pm10": 10 + 30*r.Float64(),
				"no2": 10 + 40*r.Float64(), "year": int64(2024), "derived": true,
			}, nil)
		}
	}
	groups := func(size int, fn func(x0, y0, x1, y1 float64, i int)) {
		i := 0
		for gy := 0; gy < side; gy += size {
			for gx := 0; gx < side; gx += size {
				fn(float64(gx)*blockW, float64(gy)*blockH,
					float64(min(gx+size, side))*blockW, float64(min(gy+size, side))*blockH, i)
				i++
			}
		}
	}
	groups(5, func(x0, y0, x1, y1 float64, i int) {
		add("zoning", rect(x0, y0, x1, y1), map[string]any{
			"code": fmt.Sprintf("L%d", i%4+1), "name": fmt.Sprintf("Zone %d", i),
			"allowed_uses": []string{"residential", "mixed", "commercial"}, "max_pot_pct": 40.0,
			"max_cut": 1.6, "max_height_m": 18.0, "max_floors": int64(5), "derived": true,
		}, nil)
	})
	groups(16, func(x0, y0, x1, y1 float64, i int) {
		add("districts", rect(x0, y0, x1, y1), map[string]any{"name": fmt.Sprintf("District %d", i), "code": fmt.Sprint(i), "derived": true}, nil)
		add("broadband", rect(x0, y0, x1, y1), map[string]any{"technology": "fibre", "max_down_mbps": 1000.0, "derived": true}, nil)
	})
	w, h := float64(side)*blockW, float64(side)*blockH
	for s := 0; s < side; s += 8 {
		y := float64(s)*blockH - street/2
		for band, d := range []float64{25, 60, 120} {
			add("noise", rect(0, y-d, w, y+d), map[string]any{
				"source": "road", "lden_db": float64(70 - 5*band), "lnight_db": float64(60 - 5*band), "derived": true,
			}, nil)
		}
	}
	// A river along a sine curve, its 100-year flood zone a polygon of 200 vertices.
	var ring orb.Ring
	for i := 0; i <= 100; i++ {
		x := w * float64(i) / 100
		ring = append(ring, at(x, h/2+300*math.Sin(x/1500)-150))
	}
	for i := 100; i >= 0; i-- {
		x := w * float64(i) / 100
		ring = append(ring, at(x, h/2+300*math.Sin(x/1500)+150))
	}
	ring = append(ring, ring[0])
	add("flood", orb.Polygon{ring}, map[string]any{"return_period_years": int64(100), "derived": true}, nil)
	return out
}
