package scenarios

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/layers"
)

// The tests below apply one change to the tiny city (tinycity_test.go) with Validate and
// read the feature it leaves in the variant.

func TestPropertiesAChangeMayNotSetAreRefusedWithWhatIsAllowed(t *testing.T) {
	c := tinyCity(t)
	tests := []struct {
		name    string
		change  Change
		field   string
		message string
	}{
		{"a demolition takes no properties at all",
			Change{ID: "c1", Kind: DemolishBuilding, Target: "1", Properties: map[string]any{"floors": 3.0}},
			"properties.floors", "demolish_building takes no properties"},
		{"a new building lists the properties it may set",
			Change{ID: "c1", Kind: AddBuilding, Geometry: geojson.NewGeometry(rect(c.Proj, 360, 60, 390, 90)),
				Properties: map[string]any{"use": "office", "floors": 2.0, "owner_name": "X"}, FeatureID: AddedIDBase + 1},
			"properties.owner_name", "add_building may set only use, floors, height_m, dwellings, gfa_m2, year_built, cad_number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Validate(context.Background(), c, handParameters(), nil, []Change{tt.change})
			var fe *layers.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || fe.Message != tt.message {
				t.Fatalf("Validate = %v, want %s: %s", err, tt.field, tt.message)
			}
		})
	}
}

func TestFacilitiesWithAKindCanBeModifiedAndRemoved(t *testing.T) {
	c := tinyCity(t)
	// S1 is facility 1, a school of capacity 10.
	v, err := Validate(context.Background(), c, handParameters(), nil, []Change{{ID: "c1", Kind: ModifyFacility, Target: "1", Properties: map[string]any{"capacity": 25.0}}})
	if err != nil {
		t.Fatalf("modify S1's capacity: %v", err)
	}
	if it, ok := v.Layer("facilities").Get(1); !ok || it.Feature.Props["capacity"] != int64(25) || it.Feature.Props["kind"] != "school" {
		t.Fatalf("S1 after the change: %+v, want a school of capacity 25", it)
	}
	v, err = Validate(context.Background(), c, handParameters(), nil, []Change{{ID: "c1", Kind: RemoveFacility, Target: "1"}})
	if err != nil {
		t.Fatalf("remove S1: %v", err)
	}
	if _, ok := v.Layer("facilities").Get(1); ok {
		t.Fatal("S1 is still there after its removal")
	}
}

func TestModifiedBuildingsKeepOrDropTheirRecordedFloorArea(t *testing.T) {
	c := tinyCity(t)
	// B3 is building 3: office, [600,620]×[500,550] (1000 m²), 3 floors, gfa_m2 2500. Without
	// gfa_m2 the engine takes footprint × floors as the floor area.
	tests := []struct {
		name    string
		props   map[string]any
		geom    *geojson.Geometry
		wantGFA any // nil: no recorded floor area left
	}{
		{"a new floor count drops it, to be footprint × floors", map[string]any{"floors": 4.0}, nil, nil},
		{"a new floor count with a floor area keeps the one given", map[string]any{"floors": 4.0, "gfa_m2": 3000.0}, nil, 3000.0},
		{"a new footprint drops it", nil, geojson.NewGeometry(rect(c.Proj, 600, 500, 640, 550)), nil},
		{"a new footprint with a floor area keeps the one given", map[string]any{"gfa_m2": 2000.0}, geojson.NewGeometry(rect(c.Proj, 600, 500, 640, 550)), 2000.0},
		{"a new use keeps it", map[string]any{"use": "commercial"}, nil, 2500.0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Validate(context.Background(), c, handParameters(), nil, []Change{{ID: "c1", Kind: ModifyBuilding, Target: "3", Properties: tt.props, Geometry: tt.geom}})
			if err != nil {
				t.Fatalf("modify B3: %v", err)
			}
			it, ok := v.Layer("buildings").Get(3)
			if !ok {
				t.Fatal("B3 is gone")
			}
			if got := it.Feature.Props["gfa_m2"]; got != tt.wantGFA {
				t.Fatalf("B3's gfa_m2 = %v, want %v", got, tt.wantGFA)
			}
		})
	}
}

func TestARezoneOfANewPolygonNeedsItsRules(t *testing.T) {
	c := tinyCity(t)
	poly := geojson.NewGeometry(rect(c.Proj, -900, -900, -800, -800))
	tests := []struct {
		name  string
		props map[string]any
		field string // "" when accepted
	}{
		{"without rules it is refused", nil, "properties"},
		{"with a height limit it is accepted", map[string]any{"max_height_m": 12.0}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Validate(context.Background(), c, handParameters(), nil, []Change{{ID: "c1", Kind: Rezone, Geometry: poly, Properties: tt.props, FeatureID: AddedIDBase + 1}})
			if tt.field != "" {
				var fe *layers.FieldError
				if !errors.As(err, &fe) || fe.Field != tt.field {
					t.Fatalf("Validate = %v, want an error on %s", err, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if it, ok := v.Layer("zoning").Get(AddedIDBase + 1); !ok || it.Feature.Props["max_height_m"] != 12.0 {
				t.Fatalf("the new zone: %+v, want one with max_height_m 12", it)
			}
		})
	}
}

func TestAGeometryMayHaveExactlyTheMostPositionsAllowed(t *testing.T) {
	c := tinyCity(t)
	green, err := layers.Lookup("green_spaces")
	if err != nil {
		t.Fatalf("lookup green_spaces: %v", err)
	}
	// A closed ring of n positions (n−1 corners and the closing one) on a circle of 90 m.
	circle := func(cx, cy float64, n int) orb.Ring {
		var r orb.Ring
		for i := range n - 1 {
			a := 2 * math.Pi * float64(i) / float64(n-1)
			r = append(r, wgs(c, cx+90*math.Cos(a), cy+90*math.Sin(a)))
		}
		return append(r, r[0])
	}
	full := orb.MultiPolygon{ // 4 × 5000 = 20000 positions = MaxVerticesPerGeometry
		{circle(-500, -500, MaxVerticesPerPolygon)}, {circle(500, -500, MaxVerticesPerPolygon)},
		{circle(-500, 500, MaxVerticesPerPolygon)}, {circle(500, 500, MaxVerticesPerPolygon)},
	}
	tests := []struct {
		name  string
		geom  orb.MultiPolygon
		field string // "" when accepted
	}{
		{"four polygons of 5000 positions make exactly the most allowed", full, ""},
		{"a fifth polygon of 4 positions makes 20004, too many", append(full[:4:4], orb.Polygon{circle(0, 0, 4)}), "geometry.coordinates[4]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkGeometry(green, tt.geom, c.Bound, true)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("checkGeometry: %v", err)
				}
				return
			}
			var fe *layers.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !strings.Contains(fe.Message, "20004 positions") {
				t.Fatalf("checkGeometry = %v, want 20004 positions refused on %s", err, tt.field)
			}
		})
	}
}

func TestAnAddedFeatureNeedsAnIDFromAddedIDBaseOn(t *testing.T) {
	c := tinyCity(t)
	tests := []struct {
		name    string
		id      int64
		refused bool
	}{
		{"the id AddedIDBase is the first an added feature may have", AddedIDBase, false},
		{"an id below it is refused", AddedIDBase - 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Validate(context.Background(), c, handParameters(), nil, []Change{{ID: "c1", Kind: AddFacility, Geometry: geojson.NewGeometry(wgs(c, 10, 10)),
				Properties: map[string]any{"kind": "school"}, FeatureID: tt.id}})
			if refused := err != nil; refused != tt.refused || (refused && !strings.Contains(err.Error(), "has no feature id")) {
				t.Fatalf("Validate with feature id %d: %v, want refused %v", tt.id, err, tt.refused)
			}
		})
	}
}
