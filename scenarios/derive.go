package scenarios

import (
	"maps"
	"math"
	"slices"
)

// The values a change implies (docs/domain.md, "Derived values of a change"). prepare calls
// these where it resolves a change's properties, so that every variant, full or incremental
// run, tile and export sees the same feature. A property the change sets itself is never
// derived.

// maxFloors and maxDwellings are the catalog's bounds on a building's floors and dwellings.
const (
	maxFloors    = 200
	maxDwellings = 100000
)

// deriveBuilding completes the properties props a change sets on a building. cur holds the
// building's properties before the change and footprint (m²) its footprint then (cur nil:
// a new building); newFootprint is its footprint after the change and reshaped whether the
// change gives a new footprint.
//
//   - floors without height_m: height_m = floors × FloorHeightM (a building of 0 floors, a
//     roof, is one storey high); height_m without floors: floors = height_m / FloorHeightM
//     rounded, at least 1.
//   - new floors or a new footprint without gfa_m2: gfa_m2 is cleared, so the floor area is
//     footprint × floors.
//   - known dwellings without new dwellings, when the residential floor area changes (floor
//     area or use): in proportion to it, rounded; from none (or 0 dwellings) the residential
//     floor area / (ResidentialM2PerPerson × residentsPerDwelling), the size that gives as many
//     residents as the floor-area rule of indicator 1.
func deriveBuilding(p *Parameters, cur map[string]any, footprint float64, props map[string]any, newFootprint float64, reshaped bool) {
	_, setFloors := props["floors"]
	_, setHeight := props["height_m"]
	defer markEstimated(cur, props, maps.Clone(props))
	switch {
	case setFloors && !setHeight:
		fl, _ := num(props, "floors")
		props["height_m"] = max(fl, 1) * p.FloorHeightM
	case setHeight && !setFloors:
		h, _ := num(props, "height_m")
		props["floors"] = int64(min(maxFloors, max(1, math.Round(h/p.FloorHeightM))))
	}
	if cur == nil {
		return // a new building: footprint × floors when no gfa_m2, dwellings only as given
	}
	if _, setGFA := props["gfa_m2"]; !setGFA && (setFloors || setHeight || reshaped) {
		props["gfa_m2"] = nil
	}
	if _, setDw := props["dwellings"]; setDw {
		return
	}
	dw, known := num(cur, "dwellings")
	if !known {
		return // unknown dwellings: residents come from the floor area (indicator 1)
	}
	after := merged(cur, props)
	oldRes := p.gfa(cur, footprint) * p.residentialShare(str(cur, "use"))
	newRes := p.gfa(after, newFootprint) * p.residentialShare(str(after, "use"))
	if newRes == oldRes {
		return
	}
	var n float64
	if oldRes > 0 && dw > 0 {
		n = math.Round(dw * newRes / oldRes)
	} else {
		n = math.Round(newRes / (p.ResidentialM2PerPerson * p.residentsPerDwelling()))
	}
	props["dwellings"] = int64(min(maxDwellings, n))
}

// estimatedKeys are the key attributes of a building whose origin the field "estimated"
// records (layers/catalog.go), in the catalog's order.
var estimatedKeys = []string{"use", "floors", "height_m", "dwellings"}

// markEstimated keeps a changed building's "estimated" list true to its values (given: the
// properties the change set itself, before deriveBuilding added any): an attribute the
// change sets is no longer estimated, one deriveBuilding derived for it is, and the others
// keep the mark they had (cur: the building's properties before the change, nil for a new
// one). An empty list is removed.
func markEstimated(cur, props, given map[string]any) {
	before, _ := cur["estimated"].([]string)
	var out []string
	for _, k := range estimatedKeys {
		_, set := given[k]
		_, derived := props[k]
		switch {
		case set:
		case derived && props[k] != nil:
			out = append(out, k)
		case slices.Contains(before, k):
			out = append(out, k)
		}
	}
	switch {
	case len(out) > 0:
		props["estimated"] = out
	case len(before) > 0:
		props["estimated"] = nil
	}
}

// deriveZone completes the rules a rezone sets on an existing zone (cur: its rules before):
// when it moves one of max_floors and max_height_m and the zone has the other, the other
// follows: max_height_m = max_floors × FloorHeightM, max_floors = the whole floors that fit
// in max_height_m (max_height_m / FloorHeightM rounded down). A zone without the other limit
// does not get one.
func deriveZone(p *Parameters, cur, props map[string]any) {
	_, setFloors := props["max_floors"]
	_, setHeight := props["max_height_m"]
	_, hasFloors := num(cur, "max_floors")
	_, hasHeight := num(cur, "max_height_m")
	switch {
	case setFloors && !setHeight && hasHeight:
		if fl, ok := num(props, "max_floors"); ok {
			props["max_height_m"] = fl * p.FloorHeightM
		}
	case setHeight && !setFloors && hasFloors:
		if h, ok := num(props, "max_height_m"); ok {
			// The tolerance of the limits (aboveLimit): 9 m / 3 m is 3 floors, not 2.999….
			props["max_floors"] = int64(min(maxFloors, math.Floor(h/p.FloorHeightM*(1+limitTolerance))))
		}
	}
}

// merged is props applied over cur, as withProps applies them (nil removes).
func merged(cur, props map[string]any) map[string]any {
	out := maps.Clone(cur)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range props {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// capacityOf is a facility's capacity as the school and kindergarten loads read it
// (indicator 7): its own capacity when above 0; else, when it is missing or 0 (unknown), the
// default of its kind (DefaultCapacity, the same a scenario's change takes, estimateCapacity),
// with estimated true; else 0, and the facility has no load. The baseline's facilities are
// read this way too, so an imported school without a capacity still takes its pupils into
// the load.
func (p *Parameters) capacityOf(kind string, props map[string]any) (capacity float64, estimated bool) {
	if c, ok := num(props, "capacity"); ok && c > 0 {
		l, _ := props["estimated"].([]string)
		return c, props["capacity_estimated"] == true || slices.Contains(l, "capacity")
	}
	if def, ok := p.DefaultCapacity[kind]; ok {
		return float64(def), true
	}
	return 0, false
}

// residentsPerDwelling is the residents a dwelling houses on average (indicator 1): the
// persons of an occupied dwelling × the share of dwellings occupied as usual residences.
func (p *Parameters) residentsPerDwelling() float64 {
	return p.PersonsPerDwelling * p.OccupiedDwellingShare
}
