package data

import (
	"math"
	"reflect"
	"testing"

	"github.com/paulmach/orb"
)

func TestPlacesOfATinyExtract(t *testing.T) {
	o := newTinyOSM()
	o.box(100, tags("building", "yes"), -5, -5, 5, 5)
	o.node(1, tags("place", "suburb", "name", "Monte-Carlo"), 0, 0)
	o.node(2, tags("place", "country", "name", "Monaco"), 10, 10) // not a kind of the layer
	o.node(3, tags("place", "neighbourhood"), 20, 20)             // no name
	o.node(4, tags("place", "square", "name", "Place d'Armes"), 300, 300)
	o.box(5, tags("place", "square", "name", "Place d'Armes", "highway", "pedestrian"), 280, 280, 320, 320) // the node's square again
	o.box(6, tags("place", "square", "name", "Place du Casino"), 100, 200, 140, 240)
	var got []string
	byName := map[string]orb.Point{}
	for _, f := range o.derive(t) {
		if f.Layer != "places" {
			continue
		}
		got = append(got, f.Props["name"].(string)+" "+f.Props["kind"].(string))
		byName[f.Props["name"].(string)] = o.proj.ToMetric(f.Geometry.(orb.Point))
	}
	want := []string{"Place du Casino square", "Monte-Carlo suburb", "Place d'Armes square"} // ways, then nodes by id
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("places %q, want %q", got, want)
	}
	// The square drawn as an area stands at its centre: (100 + 140) / 2 = 120, (200 + 240) / 2 = 220.
	if p := byName["Place du Casino"]; math.Abs(p[0]-120) > 0.1 || math.Abs(p[1]-220) > 0.1 {
		t.Errorf("Place du Casino at %v, want (120, 220)", p)
	}
}
