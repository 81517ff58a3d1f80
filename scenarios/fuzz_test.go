package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/citytwin/citytwin/layers"
)

// FuzzDecodeChange: any JSON a client posts as a change is either refused with an error
// naming the wrong field, or decoded and validated against the tiny city without a panic,
// again either refused naming a field or applied.
func FuzzDecodeChange(f *testing.F) {
	c := tinyCity(f)
	f.Add([]byte(`{"kind": "add_building", "geometry": ` + string(rectGeoJSON(c, 360, 60, 390, 90)) + `, "properties": {"use": "office", "floors": 2}}`))
	f.Add([]byte(`{"kind": "modify_building", "target": "1", "properties": {"floors": 4, "height_m": 13.5}}`))
	f.Add([]byte(`{"kind": "demolish_building", "target": 2}`))
	f.Add([]byte(`{"kind": "rezone", "target": "1", "properties": {"max_height_m": 40, "allowed_uses": ["office"]}}`))
	f.Add([]byte(`{"kind": "add_facility", "geometry": {"type": "Point", "coordinates": [23.59, 46.77]}, "properties": {"kind": "school", "capacity": 300}}`))
	f.Add([]byte(`{"kind": "add_green_space", "geometry": {"type": "MultiPolygon", "coordinates": [[[[23.59, 46.77], [23.591, 46.77], [23.591, 46.771], [23.59, 46.77]]]]}, "properties": {"kind": "park"}}`))
	f.Add([]byte(`{"kind": "set_broadband", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}}`))
	f.Add([]byte(`{"kind": "teleport", "target": null, "geometry": null}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var ci ChangeInput
		if json.Unmarshal(in, &ci) != nil {
			return
		}
		ch, err := DecodeChange(ci)
		if err != nil {
			wantFieldError(t, "decode", err)
			return
		}
		ch.ID, ch.Seq = "c1", 1
		if makesFeature(&ch) {
			ch.FeatureID = AddedIDBase + 1
		}
		if _, err := Validate(context.Background(), c, handParameters(), nil, []Change{ch}); err != nil {
			wantFieldError(t, "validate", err)
		}
	})
}

func wantFieldError(t *testing.T, what string, err error) {
	t.Helper()
	var fe *layers.FieldError
	if !errors.As(err, &fe) || fe.Field == "" || fe.Message == "" {
		t.Fatalf("%s: error %T %v, want a *layers.FieldError naming a field", what, err, err)
	}
}
