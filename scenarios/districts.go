package scenarios

import (
	"github.com/citytwin/citytwin/spatial"
)

// usedDistricts returns the districts the indicators are reported for (docs/domain.md,
// "Districts the indicators use"): the city's districts layer, less every derived district
// (a grid district the OpenStreetMap import models where OSM maps none) that holds the
// centroid of a building a district not derived holds too. A districts layer the city brings
// itself — imported from GeoJSON or NDJSON, through an ingest mapping, or kept in PostGIS,
// none of them marked derived — so always wins over the grid: the grid districts are left to
// the buildings no such district holds, and are not used at all once its districts cover
// every building. Those of one OSM conversion never compete (the grid leaves out every
// building a mapped district holds), so the demo city keeps them all. It returns the city's
// own index when no district is dropped.
func usedDistricts(city *spatial.City) *spatial.Index {
	ix := city.Layer("districts")
	drop := map[int64]bool{}
	for _, b := range city.Layer("buildings").Items() {
		hold := ix.Containing(b.Centroid)
		surveyed := false
		for _, d := range hold {
			if !isDerived(d) {
				surveyed = true
			}
		}
		if !surveyed {
			continue
		}
		for _, d := range hold {
			if isDerived(d) {
				drop[d.Feature.ID] = true
			}
		}
	}
	if len(drop) == 0 {
		return ix
	}
	out := spatial.NewIndex("districts", city.Proj)
	for _, d := range ix.Items() {
		if !drop[d.Feature.ID] {
			out.Insert(d.Feature)
		}
	}
	return out
}

// isDerived reports whether a feature is marked derived (modelled, not surveyed).
func isDerived(it *spatial.Item) bool {
	d, _ := it.Feature.Props["derived"].(bool)
	return d
}
