package scenarios

import (
	"reflect"
	"testing"

	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// TestChangesThatConflictWithThePlanAreWarnedAbout places buildings and facilities on the tiny
// city (tinycity_test.go), with two more features: a private garden G2 [200,300]×[-200,-100]
// and a 10-year flood zone FL2 [-700,-600]×[-450,-400] inside the 100-year zone FL1
// [-700,-500]×[-450,-300]. The public park G1 is [-400,-300]×[0,100].
func TestChangesThatConflictWithThePlanAreWarnedAbout(t *testing.T) {
	p := spatial.NewProjection(tinyOrigin)
	feats := append(tinyFeatures(),
		layers.Feature{Layer: "green_spaces", ID: 2, Geometry: rect(p, 200, -200, 300, -100), Props: map[string]any{"kind": "garden", "public": false, "name": "G2"}},
		layers.Feature{Layer: "flood", ID: 2, Geometry: rect(p, -700, -450, -600, -400), Props: map[string]any{"return_period_years": int64(10)}},
	)
	city, err := spatial.NewCity(feats)
	if err != nil {
		t.Fatal(err)
	}
	poly := func(x0, y0, x1, y1 float64) *geojson.Geometry {
		return geojson.NewGeometry(rect(city.Proj, x0, y0, x1, y1))
	}
	point := func(x, y float64) *geojson.Geometry { return geojson.NewGeometry(wgs(city, x, y)) }
	park := func(id string) Warning {
		return Warning{Code: WarnInPublicPark, ChangeID: id, Layer: "green_spaces", FeatureID: 1, Kind: "park"}
	}
	flood := func(id string, zone, years int64) Warning {
		return Warning{Code: WarnInFloodZone, ChangeID: id, Layer: "flood", FeatureID: zone, ReturnPeriodYears: years}
	}
	tests := []struct {
		name   string
		change Change
		want   []Warning
	}{
		{"a building inside the public park is warned about",
			Change{ID: "c1", Kind: AddBuilding, Geometry: poly(-360, 40, -340, 60)}, []Warning{park("c1")}},
		// Centroid (-290, 50) is outside G1; its corner (-310, 40) is inside (-400 < -310 < -300).
		{"a building with one corner in the park is warned about",
			Change{ID: "c2", Kind: AddBuilding, Geometry: poly(-310, 40, -270, 60)}, []Warning{park("c2")}},
		{"a building in a private garden is not warned about",
			Change{ID: "c3", Kind: AddBuilding, Geometry: poly(240, -160, 260, -140)}, []Warning{}},
		// Centroid (-550, -350): in FL1 (100 years) only.
		{"a building in the 100-year flood zone says 100 years",
			Change{ID: "c4", Kind: AddBuilding, Geometry: poly(-560, -360, -540, -340)}, []Warning{flood("c4", 1, 100)}},
		// Corner (-610, -420) is in FL2 (10 years) and FL1 (100): the smaller return period wins.
		{"a building touching nested flood zones says the shorter return period",
			Change{ID: "c5", Kind: AddBuilding, Geometry: poly(-610, -420, -580, -390)}, []Warning{flood("c5", 2, 10)}},
		{"a school placed in a flood zone is warned about",
			Change{ID: "c6", Kind: AddFacility, Geometry: point(-550, -320)}, []Warning{flood("c6", 1, 100)}},
		{"a building moved into the park by a new footprint is warned about",
			Change{ID: "c7", Kind: ModifyBuilding, Target: "1", Geometry: poly(-390, 10, -370, 30)}, []Warning{park("c7")}},
		{"a green space added in the park is no conflict",
			Change{ID: "c8", Kind: AddGreenSpace, Geometry: poly(-360, 40, -340, 60)}, []Warning{}},
		{"a building far from parks and floods is not warned about",
			Change{ID: "c9", Kind: AddBuilding, Geometry: poly(600, 600, 620, 620)}, []Warning{}},
		{"a demolition has no geometry and no warning",
			Change{ID: "c10", Kind: DemolishBuilding, Target: "1"}, []Warning{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Warnings(city, []Change{tc.change})
			for i := range got {
				if got[i].Message == "" {
					t.Errorf("warning %s has no message", got[i].Code)
				}
				got[i].Message = ""
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("warnings\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
