package data

import (
	"slices"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
)

// mapPlaces maps the named places (place=* among layers.PlaceKinds, with a name) to the
// places layer: a node where it stands, an area (a square drawn as a closed way or a
// multipolygon) at its representative point. An area whose name and kind a node already
// gives is left out: mappers often draw both.
func (c *city) mapPlaces() {
	type key struct{ name, kind string }
	seen := map[key]bool{}
	for _, nodes := range []bool{true, false} {
		for _, e := range c.elems {
			if e.isNode() != nodes {
				continue
			}
			kind, name := e.tags.Find("place"), e.tags.Find("name")
			if name == "" || !slices.Contains(layers.PlaceKinds, kind) {
				continue
			}
			var p orb.Point
			switch {
			case e.isNode():
				p = e.pt
			case e.area != nil:
				if seen[key{name, kind}] {
					continue
				}
				p = c.wgs84(representativePoint(c.metric(e.areaGeom()))).(orb.Point)
			default:
				continue
			}
			seen[key{name, kind}] = true
			c.emit("places", e.id, p, map[string]any{"name": name, "kind": kind, "derived": false}, nil)
		}
	}
}
