package scenarios

import (
	"context"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/internal/democity"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// interlockFeatures is the tiny city (zone Z1 there: POT 40 %, CUT 2) with two pairs of
// buildings that interlock, each on two convex parcels that part the land between them and
// cannot follow the shapes (tiny-city metres, offset by (ox, oy)):
//
//	L at (-300, -900): B51 the 40 × 40 square less its north-east 20 × 20 quarter,
//	  1600 − 400 = 1200 m², centroid (16.67, 16.67); B52 the quarter [20,40]×[20,40], 400 m²,
//	  centroid (30, 30). P51 [0,40]×[0,25] (1000 m²) holds B51's centroid, P52 [0,40]×[25,50]
//	  (1000 m²) B52's. B51's west arm [0,20]×[25,40] (300 m²) stands on P52.
//	U at (-300, -800): B53 the 60 × 40 box less the notch [20,40]×[20,40] open to the north,
//	  2400 − 400 = 2000 m², centroid (30, 18); B54 [20,40]×[20,50] in the notch, 600 m²,
//	  centroid (30, 35). P53 [0,60]×[0,30] (1800 m²), P54 [0,60]×[30,60] (1800 m²). B53's two
//	  arms above y 30 (2 × 20 × 10 = 400 m²) stand on P54; B54's foot below it (20 × 10 =
//	  200 m²) on P53.
func interlockFeatures() []layers.Feature {
	p := spatial.NewProjection(tinyOrigin)
	ring := func(ox, oy float64, xy ...float64) orb.Polygon {
		var r orb.Ring
		for i := 0; i < len(xy); i += 2 {
			r = append(r, p.ToWGS84(orb.Point{ox + xy[i], oy + xy[i+1]}))
		}
		return orb.Polygon{append(r, r[0])}
	}
	box := func(ox, oy, x0, y0, x1, y1 float64) orb.Polygon { return rect(p, ox+x0, oy+y0, ox+x1, oy+y1) }
	type m = map[string]any
	parcel := func(id int64, g orb.Polygon) layers.Feature {
		return layers.Feature{Layer: "parcels", ID: id, Geometry: g, Props: m{"cad_number": "P" + itoa(id)}}
	}
	building := func(id int64, g orb.Polygon) layers.Feature {
		return layers.Feature{Layer: "buildings", ID: id, Geometry: g, Props: m{"use": "residential", "floors": int64(1), "height_m": 3.0}}
	}
	return append(tinyFeatures(),
		building(51, ring(-300, -900, 0, 0, 40, 0, 40, 20, 20, 20, 20, 40, 0, 40)),
		building(52, box(-300, -900, 20, 20, 40, 40)),
		parcel(51, box(-300, -900, 0, 0, 40, 25)),
		parcel(52, box(-300, -900, 0, 25, 40, 50)),
		building(53, ring(-300, -800, 0, 0, 60, 0, 60, 40, 40, 40, 40, 20, 20, 20, 20, 40, 0, 40)),
		building(54, box(-300, -800, 20, 20, 40, 50)),
		parcel(53, box(-300, -800, 0, 0, 60, 30)),
		parcel(54, box(-300, -800, 0, 30, 60, 60)),
	)
}

// POT counts the part of a building's footprint that stands on the parcel holding its
// centroid, so a building in the L or U of another, on a convex parcel, does not push the
// parcel's POT past what is built on it.
func TestPOTOfInterlockingBuildingsCountsTheFootprintOnTheParcel(t *testing.T) {
	city, err := spatial.NewCity(interlockFeatures())
	if err != nil {
		t.Fatal(err)
	}
	run, err := newEngine(t).Baseline(context.Background(), city)
	if err != nil {
		t.Fatalf("baseline of the interlocking city: %v", err)
	}
	checkViolations(t, run, []wantViolation{
		// P51: B51 below y 25 is [0,40]×[0,20] + [0,20]×[20,25] = 800 + 100 = 900 m²:
		// 900 / 1000 × 100 = 90 % > 40 (the whole L would be 1200 / 1000 = 120 %).
		{"parcels/51", "max_pot_pct", 90, 40, 1},
		// P53: B53 below y 30 is [0,60]×[0,20] + two arms 20 × 10 = 1200 + 400 = 1600 m²:
		// 1600 / 1800 × 100 = 88.888…% > 40 (the whole U would be 2000 / 1800 = 111 %).
		{"parcels/53", "max_pot_pct", 1600.0 / 1800 * 100, 40, 1},
		// P52: B52 above y 25 is [20,40]×[25,40] = 300 m²: 30 % ≤ 40 (its whole 400 m² would
		// be 40 %, at the limit). P54: B54 above y 30 is 20 × 20 = 400 m²: 22.2 % ≤ 40.
		// CUT, one floor each: at most 2000 / 1800 = 1.11 ≤ 2.
	}, false)
}

// On the Monaco demo no modelled parcel is more than covered: the footprints its POT counts
// never exceed its area, those of the buildings that interlock with a neighbour included.
func TestNoModelledParcelOfMonacoIsAbove100PercentPOT(t *testing.T) {
	city := democity.City(t)
	b, err := newEngine(t).baselineFor(context.Background(), city)
	if err != nil {
		t.Fatal(err)
	}
	maxPOT, modelled := 0.0, 0
	for i, it := range b.parcels {
		if d, _ := it.Feature.Props["derived"].(bool); !d || it.Area <= 0 {
			continue
		}
		modelled++
		pot := b.precs[i].footprint / it.Area * 100
		maxPOT = max(maxPOT, pot)
		if aboveLimit(pot, 100) {
			t.Errorf("parcel %d (%v): POT %.1f %% (%.1f m² of footprint on %.1f m²)", it.Feature.ID, it.Feature.Props["cad_number"], pot, b.precs[i].footprint, it.Area)
		}
	}
	if modelled == 0 {
		t.Fatal("the demo city has no modelled parcel")
	}
	t.Logf("largest POT of the %d modelled parcels: %.1f %%", modelled, maxPOT)
}
