package network

import "testing"

func TestWalkable(t *testing.T) {
	for _, tc := range []struct {
		name string
		tags map[string]string
		want bool
	}{
		{"a footway is walkable", map[string]string{"highway": "footway"}, true},
		{"a zebra crossing mapped as footway=crossing is walkable", map[string]string{"highway": "footway", "footway": "crossing"}, true},
		{"a path is walkable", map[string]string{"highway": "path"}, true},
		{"steps are walkable", map[string]string{"highway": "steps"}, true},
		{"a pedestrian street is walkable", map[string]string{"highway": "pedestrian"}, true},
		{"a living street is walkable", map[string]string{"highway": "living_street"}, true},
		{"a residential street is walkable", map[string]string{"highway": "residential"}, true},
		{"a service road is walkable", map[string]string{"highway": "service"}, true},
		{"an unclassified road is walkable", map[string]string{"highway": "unclassified"}, true},
		{"a tertiary road is walkable", map[string]string{"highway": "tertiary"}, true},
		{"a primary road is walkable", map[string]string{"highway": "primary"}, true},
		{"a way without a highway tag is not walkable", map[string]string{"railway": "rail"}, false},
		{"a building outline is not walkable", map[string]string{"building": "yes"}, false},
		{"a motorway is not walkable", map[string]string{"highway": "motorway"}, false},
		{"a motorway link is not walkable", map[string]string{"highway": "motorway_link"}, false},
		{"a trunk road is not walkable", map[string]string{"highway": "trunk"}, false},
		{"a trunk link is not walkable", map[string]string{"highway": "trunk_link"}, false},
		{"a trunk road with sidewalks is walkable", map[string]string{"highway": "trunk", "sidewalk": "both"}, true},
		{"a trunk road whose sidewalk is its own way is not walkable itself", map[string]string{"highway": "trunk", "sidewalk": "separate"}, false},
		{"a motorway with foot=yes is walkable", map[string]string{"highway": "motorway", "foot": "yes"}, true},
		{"a trunk road with foot=designated is walkable", map[string]string{"highway": "trunk", "foot": "designated"}, true},
		{"a footway with foot=no is not walkable", map[string]string{"highway": "footway", "foot": "no"}, false},
		{"a residential street with foot=private is not walkable", map[string]string{"highway": "residential", "foot": "private"}, false},
		{"a private service road is not walkable", map[string]string{"highway": "service", "access": "private"}, false},
		{"a road with access=no is not walkable", map[string]string{"highway": "residential", "access": "no"}, false},
		{"a private road with foot=yes is walkable", map[string]string{"highway": "service", "access": "private", "foot": "yes"}, true},
		{"a road with access=no and foot=designated is walkable", map[string]string{"highway": "track", "access": "no", "foot": "designated"}, true},
		{"a road for destination traffic is walkable", map[string]string{"highway": "residential", "access": "destination"}, true},
		{"a cycleway is not walkable", map[string]string{"highway": "cycleway"}, false},
		{"a cycleway with foot=designated is walkable", map[string]string{"highway": "cycleway", "foot": "designated"}, true},
		{"a road under construction is not walkable even with foot=yes", map[string]string{"highway": "construction", "foot": "yes"}, false},
		{"a proposed road is not walkable", map[string]string{"highway": "proposed"}, false},
		{"a raceway is not walkable", map[string]string{"highway": "raceway"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Walkable(tc.tags); got != tc.want {
				t.Errorf("Walkable(%v) = %v, want %v", tc.tags, got, tc.want)
			}
		})
	}
}
