package data

import (
	"fmt"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// The modelled parcels of Monaco part the land: no two overlap by more than a sliver, each
// building's centroid is in its own parcel and in no other, and no parcel's POT exceeds
// 100 % unless its building's convex hull interlocks with a neighbour's (a building in the
// L or U of another: a convex parcel cannot hold the whole footprint then).
func TestMonacoParcelsPartTheLand(t *testing.T) {
	fs := monacoFeatures(t)
	if o := ParcelOverlaps(fs); len(o) > 0 {
		t.Errorf("%d pairs of parcels overlap by more than %v m², the first %+v", len(o), overlapSliverM2, o[0])
	}
	city, err := spatial.NewCity(fs)
	if err != nil {
		t.Fatal(err)
	}
	footprint := map[int64]float64{}
	for _, b := range city.Layer("buildings").Items() {
		ps := city.Layer("parcels").Containing(b.Centroid)
		if len(ps) != 1 || ps[0].Feature.Props["cad_number"] != b.Feature.Props["cad_number"] {
			var got []any
			for _, p := range ps {
				got = append(got, p.Feature.Props["cad_number"])
			}
			t.Errorf("building %d (%v): centroid in parcels %v, want its own only", b.Feature.ID, b.Feature.Props["cad_number"], got)
			continue
		}
		footprint[ps[0].Feature.ID] += b.Area
	}
	maxPOT := 0.0
	for _, p := range city.Layer("parcels").Items() {
		pot := footprint[p.Feature.ID] / p.Area * 100
		maxPOT = max(maxPOT, pot)
		if pot > 100 && !interlocks(city, p.Feature.Props["cad_number"]) {
			t.Errorf("parcel %d (%v): POT %.1f %% (footprint %.1f m² on %.1f m²)", p.Feature.ID, p.Feature.Props["cad_number"], pot, footprint[p.Feature.ID], p.Area)
		}
	}
	t.Logf("largest POT of a modelled parcel: %.1f %%", maxPOT)
}

// interlocks: the convex hull of the building on parcel cad overlaps another building's.
func interlocks(city *spatial.City, cad any) bool {
	hull := func(g orb.Geometry) orb.Polygon {
		h := convexHull(outerPoints(g))
		return orb.Polygon{append(orb.Ring(h), h[0])}
	}
	for _, b := range city.Layer("buildings").Items() {
		if b.Feature.Props["cad_number"] != cad {
			continue
		}
		found := false
		city.Layer("buildings").Search(b.Bound, func(o *spatial.Item) bool {
			if o != b && intersectionArea(hull(b.Geom), hull(o.Geom)) > overlapSliverM2 {
				found = true
			}
			return !found
		})
		return found
	}
	return false
}

func TestParcelOverlapsReportsOverlappingCadastralParcels(t *testing.T) {
	fs, err := ReadGeoJSON(strings.NewReader(collection(
		parcelFeature(1, "[[23.5900,46.7700],[23.5902,46.7700],[23.5902,46.7702],[23.5900,46.7702],[23.5900,46.7700]]"),
		// Parcel 2 takes the eastern half of parcel 1 and more: they overlap.
		parcelFeature(2, "[[23.5901,46.7700],[23.5903,46.7700],[23.5903,46.7702],[23.5901,46.7702],[23.5901,46.7700]]"),
		// Parcel 3 only touches parcel 2 along its eastern edge.
		parcelFeature(3, "[[23.5903,46.7700],[23.5904,46.7700],[23.5904,46.7702],[23.5903,46.7702],[23.5903,46.7700]]"),
	)))
	if err != nil {
		t.Fatal(err)
	}
	got := ParcelOverlaps(fs)
	if len(got) != 1 || got[0].A != 1 || got[0].B != 2 {
		t.Fatalf("overlaps %+v, want parcels 1 and 2 only", got)
	}
	// 0.0001° of longitude × 0.0002° of latitude at 46.77° N:
	// 0.0001 × 111,320 × cos(46.77°) = 7.627 m; 0.0002 × 111,132 = 22.23 m (less at that
	// latitude's true meridian length, ~111,190 m a degree: 22.24 m); 7.627 × 22.24 ≈ 169.6 m².
	if a := got[0].AreaM2; a < 167 || a > 172 {
		t.Fatalf("overlap %.1f m², want about 169.6", a)
	}
}

func TestIntersectionAreaOfHandMadeShapes(t *testing.T) {
	square := func(x0, y0, s float64) orb.Polygon {
		return orb.Polygon{orb.Ring{{x0, y0}, {x0 + s, y0}, {x0 + s, y0 + s}, {x0, y0 + s}, {x0, y0}}}
	}
	// An L: the 20 × 20 square less its north-east 10 × 10 quarter (300 m²), drawn clockwise.
	ell := orb.Polygon{orb.Ring{{0, 0}, {0, 20}, {10, 20}, {10, 10}, {20, 10}, {20, 0}, {0, 0}}}
	holed := square(0, 0, 20)
	holed = append(holed, orb.Ring{{5, 5}, {5, 15}, {15, 15}, {15, 5}, {5, 5}}) // 100 m² hole
	tests := []struct {
		name string
		a, b orb.Geometry
		want float64
	}{
		{"squares overlapping by a 5 × 10 strip", square(0, 0, 10), square(5, 0, 10), 50},
		{"squares sharing an edge", square(0, 0, 10), square(10, 0, 10), 0},
		{"a square over the L's missing quarter", ell, square(10, 10, 10), 0},
		{"a square over the L's corner", square(5, 5, 10), ell, 75},                                                   // 100 less the 5 × 5 in the notch
		{"a square over a hole", holed, square(0, 0, 10), 75},                                                         // 100 less the 5 × 5 of the hole
		{"two parts of a multipolygon", orb.MultiPolygon{square(0, 0, 10), square(20, 0, 10)}, square(5, 0, 20), 100}, // 5 × 10 + 5 × 10
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := intersectionArea(tt.a, tt.b); mathAbs(got-tt.want) > 1e-6 {
				t.Fatalf("%v m², want %v", got, tt.want)
			}
			if got := intersectionArea(tt.b, tt.a); mathAbs(got-tt.want) > 1e-6 {
				t.Fatalf("the other way round: %v m², want %v", got, tt.want)
			}
		})
	}
}

// parcelFeature is a cadastral parcel with the given ring (a JSON array of positions).
func parcelFeature(id int, ring string) string {
	return fmt.Sprintf(`{"type":"Feature","id":%d,"geometry":{"type":"Polygon","coordinates":[%s]},"properties":{"layer":"parcels","cad_number":"P-%d"}}`, id, ring, id)
}

func TestNeighbouringBuildingsGetParcelsThatMeetHalfwayAndStopAtTheStreet(t *testing.T) {
	o := newTinyOSM()
	o.box(1, tags("building", "yes"), 0, 0, 10, 10)  // A
	o.box(2, tags("building", "yes"), 16, 0, 26, 10) // B, 6 m east of A
	o.way(3, false, tags("highway", "residential"), -100, -5, 100, -5)
	o.way(4, false, tags("highway", "residential", "tunnel", "yes"), -100, 20, 100, 20) // no cut
	var parcels []layers.Feature
	for _, f := range o.derive(t) {
		if f.Layer == "parcels" {
			parcels = append(parcels, f)
		}
	}
	if len(parcels) != 2 {
		t.Fatalf("%d parcels, want 2", len(parcels))
	}
	// Each box grows by 15 m: A x -15..25, B x 1..41, y -15..25. The gap between them
	// (x 10..16) is split at x = 13, and the street at y = -5 ends both: A is x -15..13,
	// y -5..25: 28 × 30 = 840 m²; B x 13..41: 28 × 30 = 840 m².
	for _, p := range parcels {
		if a := p.Props["area_m2"].(float64); mathAbs(a-840) > 0.5 {
			t.Errorf("parcel %d: %v m², want 840", p.ID, a)
		}
	}
	if o := ParcelOverlaps(parcels); len(o) != 0 {
		t.Errorf("parcels overlap: %+v", o)
	}
}
