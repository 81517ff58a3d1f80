package layers

import (
	"errors"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func TestCheckGeometryKeepsEachLayerToItsType(t *testing.T) {
	line := orb.LineString{{7.42, 43.73}, {7.43, 43.74}}
	square := orb.Polygon{{{7.42, 43.73}, {7.43, 43.73}, {7.43, 43.74}, {7.42, 43.73}}}
	tests := []struct {
		name  string
		layer string
		geom  orb.Geometry
		field string // "" when the geometry is accepted
	}{
		{"a street may be a line", "streets", line, ""},
		{"a street may be a multiline", "streets", orb.MultiLineString{line, {{7.44, 43.75}, {7.45, 43.75}}}, ""},
		{"a street is not a polygon", "streets", square, "geometry"},
		{"a street is not a point", "streets", orb.Point{7.42, 43.73}, "geometry"},
		{"a line needs two positions", "streets", orb.LineString{{7.42, 43.73}}, "geometry.coordinates"},
		{"a multiline needs a line", "streets", orb.MultiLineString{}, "geometry.coordinates"},
		{"each line of a multiline needs two positions", "streets", orb.MultiLineString{line, {{7.44, 43.75}}}, "geometry.coordinates[1]"},
		{"a line's positions are longitudes and latitudes", "streets", orb.LineString{{7.42, 43.73}, {587000, 489000}}, "geometry.coordinates[1]"},
		{"a building is not a line", "buildings", line, "geometry"},
		{"a facility is not a line", "facilities", line, "geometry"},
		{"water is a polygon", "water", square, ""},
		{"a place is a point", "places", orb.Point{7.42, 43.73}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Lookup(tc.layer)
			if err != nil {
				t.Fatal(err)
			}
			err = l.CheckGeometry(tc.geom)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("got %v, want an error on %s", err, tc.field)
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("%v does not name %s or is not ErrInvalid", err, tc.field)
			}
		})
	}
}

func TestWalkingNetworkIsTheStreetsOpenToPedestrians(t *testing.T) {
	fs := []Feature{
		{Layer: "streets", ID: 1, Props: map[string]any{"kind": "footway", "foot": true}},
		{Layer: "streets", ID: 2, Props: map[string]any{"kind": "motorway", "foot": false}},
		{Layer: "streets", ID: 3, Props: map[string]any{"kind": "residential"}}, // foot absent: open
		{Layer: "buildings", ID: 4, Props: map[string]any{}},
	}
	var ids []int64
	for _, f := range WalkingNetwork(fs) {
		ids = append(ids, f.ID)
	}
	if len(ids) != 2 || ids[0] != 1 || ids[1] != 3 {
		t.Fatalf("walking network %v, want [1 3]: not the motorway, not the building", ids)
	}
}
