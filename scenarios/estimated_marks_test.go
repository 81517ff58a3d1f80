package scenarios

import (
	"slices"
	"testing"
)

// A change keeps a building's "estimated" list true: what it sets is no longer estimated,
// what the change rules derive for it is, and the rest keeps its mark.
func TestAChangedBuildingKeepsItsEstimatedAttributesTrue(t *testing.T) {
	p := handParameters()
	osm := func() map[string]any { // as the OSM import gives it: 100 m² × 3 floors, 3 dwellings
		return map[string]any{"use": "residential", "floors": int64(3), "height_m": 9.0, "dwellings": int64(3),
			"estimated": []string{"use", "floors", "height_m", "dwellings"}}
	}
	tests := []struct {
		name  string
		cur   map[string]any
		props map[string]any
		want  []string // nil: no list
	}{
		{"new floors are surveyed, the height and dwellings derived from them are not",
			osm(), map[string]any{"floors": int64(6)}, []string{"use", "height_m", "dwellings"}},
		{"a given use, floors, height and dwellings clear the list",
			osm(), map[string]any{"use": "mixed", "floors": int64(4), "height_m": 13.0, "dwellings": int64(5)}, nil},
		{"a new use alone keeps the other marks and derives the dwellings",
			osm(), map[string]any{"use": "office"}, []string{"floors", "height_m", "dwellings"}},
		{"a surveyed building given floors gets its derived height marked",
			map[string]any{"use": "residential", "floors": int64(3), "height_m": 9.0}, map[string]any{"floors": int64(5)}, []string{"height_m"}},
		{"a new building given its floors has its height estimated",
			nil, map[string]any{"use": "residential", "floors": int64(2)}, []string{"height_m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			deriveBuilding(&p, tt.cur, 100, tt.props, 100, false)
			got, isList := tt.props["estimated"].([]string)
			if tt.want == nil {
				if _, set := tt.props["estimated"]; set && (isList || tt.props["estimated"] != nil) {
					t.Fatalf("estimated = %#v, want none", tt.props["estimated"])
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("estimated = %q, want %q (props %v)", got, tt.want, tt.props)
			}
		})
	}
}

// A capacity a change gives a facility replaces the import's default: it is no longer listed
// as estimated, and the load reads it as surveyed.
func TestAGivenCapacityClearsTheImportsEstimate(t *testing.T) {
	p := handParameters()
	cur := map[string]any{"kind": "school", "capacity": int64(500), "estimated": []string{"capacity"}}
	if c, est := p.capacityOf("school", cur); c != 500 || !est {
		t.Fatalf("the import's default: capacity %v estimated %v, want 500, estimated", c, est)
	}
	props := map[string]any{"capacity": 320.0}
	estimateCapacity(&p, "school", cur, props)
	if v, set := props["estimated"]; !set || v != nil {
		t.Fatalf("estimated = %#v (set %v), want removed", v, set)
	}
	if c, est := p.capacityOf("school", merged(cur, props)); c != 320 || est {
		t.Fatalf("after the change: capacity %v estimated %v, want 320, surveyed", c, est)
	}
}
