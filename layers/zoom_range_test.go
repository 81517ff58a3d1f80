package layers

import (
	"errors"
	"testing"
)

func TestZoomRangesMayStartAtZeroAndHoldASingleZoom(t *testing.T) {
	tests := []struct {
		name     string
		min, max int
		ok       bool
	}{
		{"from zoom 0 is allowed", 0, 22, true},
		{"a single zoom is allowed", 14, 14, true},
		{"a negative min zoom is refused", -1, 22, false},
		{"a max zoom below the min zoom is refused", 15, 14, false},
	}
	for _, tt := range tests {
		t.Run("base layer: "+tt.name, func(t *testing.T) {
			_, err := NewPublished(nil, ZoomRange{Layer: "noise", MinZoom: tt.min, MaxZoom: tt.max})
			if (err == nil) != tt.ok {
				t.Fatalf("NewPublished with noise at zooms %d..%d = %v, want accepted %v", tt.min, tt.max, err, tt.ok)
			}
		})
		t.Run("extra layer: "+tt.name, func(t *testing.T) {
			e := &Extra{Layer: Layer{Name: "trees", MinZoom: tt.min, MaxZoom: tt.max}, Table: "city.trees", GeometryColumn: "geom"}
			if err := e.Check(); (err == nil) != tt.ok {
				t.Fatalf("Check() with zooms %d..%d = %v, want accepted %v", tt.min, tt.max, err, tt.ok)
			}
		})
	}
}

func TestNoPublicationStillLooksUpTheBaseLayers(t *testing.T) {
	var none *Published
	if l, err := none.Lookup("parcels"); err != nil || l.Name != "parcels" {
		t.Fatalf("Lookup(parcels) = %v, %v; want the parcels layer", l, err)
	}
	if _, err := none.Lookup("nowhere"); !errors.Is(err, ErrUnknownLayer) {
		t.Fatalf("Lookup(nowhere) = %v, want ErrUnknownLayer", err)
	}
}
