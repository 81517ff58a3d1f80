package data

import (
	"slices"
	"strconv"
	"testing"

	"github.com/citytwin/citytwin/layers"
)

// The OpenStreetMap import lists, per building and facility, the key attributes it estimated
// rather than read (field "estimated"), so that data quality can tell a surveyed value from a
// default: a building=yes's use chosen by the evidence around it, floors without
// building:levels, a height without height, dwellings always; a capacity without a capacity
// tag when its kind has a default.
func TestTheImportListsTheAttributesItEstimated(t *testing.T) {
	o := newTinyOSM()
	o.box(1, tags("building", "yes"), 0, 0, 20, 20)                                                 // nothing but its footprint
	o.box(2, tags("building", "apartments", "building:levels", "7", "height", "22"), 40, 0, 60, 20) // everything tagged
	o.box(3, tags("building", "office", "height", "12"), 80, 0, 100, 20)                            // floors from the height
	o.box(4, tags("building", "yes", "amenity", "school", "building:levels", "2"), 120, 0, 140, 20)
	o.node(10, tags("amenity", "school", "name", "A"), 200, 200)                    // the default 500 pupils
	o.node(11, tags("amenity", "school", "name", "B", "capacity", "320"), 300, 200) // tagged
	o.node(12, tags("amenity", "pharmacy"), 400, 200)                               // no default: 0, unknown
	want := map[string][]string{
		"buildings/1":  {"use", "floors", "height_m", "dwellings"},
		"buildings/2":  {"dwellings"},
		"buildings/3":  {"floors", "dwellings"},
		"buildings/4":  {"height_m", "dwellings"},
		"facilities/A": {"capacity"},
		"facilities/B": nil,
		"facilities/":  nil,
	}
	got := map[string][]string{}
	for _, f := range o.derive(t) {
		l, _ := f.Props["estimated"].([]string)
		switch f.Layer {
		case "buildings":
			got["buildings/"+strconv.FormatInt(f.ID, 10)] = l
		case "facilities":
			name, _ := f.Props["name"].(string)
			got["facilities/"+name] = l
		}
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || !slices.Equal(g, w) {
			t.Errorf("%s estimated %q (found %v), want %q", k, g, ok, w)
		}
	}
	// The list is a catalog field of both layers: the import's files keep it.
	for layer, l := range map[string][]any{"buildings": {"use", "dwellings"}, "facilities": {"capacity"}} {
		cat, err := layers.Lookup(layer)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := cat.Normalize(map[string]any{"estimated": l}); err != nil {
			t.Errorf("the catalog refuses a %s estimated list: %v", layer, err)
		}
	}
}
