package scenarios

import (
	"slices"
	"strings"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// The source of an indicator (Run.Sources; docs/domain.md, "Where each indicator comes
// from").
const (
	// SourceCensus: computed from residents calibrated to a census, on surveyed layers.
	SourceCensus = "census-calibrated"
	// SourceSurveyed: computed from imported attributes of layers none of whose features is
	// derived, with no model of its own.
	SourceSurveyed = "surveyed"
	// SourceModelled: rests on a derived layer, on residents not calibrated to a census, or
	// on a model of its own (jobs per m², children per resident, air interpolation).
	SourceModelled = "modelled"
)

// inputs are what an indicator is computed from.
type inputs struct {
	layers    []string
	residents bool // residents (indicator 1)
	model     bool // a model of its own, whatever the data
	// attrs are the attributes it reads as they are ("buildings.floors"): a feature listing
	// one of them in its field estimated makes it modelled. Residents are an estimate
	// already (rule 2), so the attributes they come from are not listed.
	attrs []string
}

// Attributes of buildings as the indicators read them.
var (
	gfaAttrs    = []string{"buildings.use", "buildings.floors", "buildings.height_m"}
	heightAttrs = []string{"buildings.height_m"}
	floorsAttrs = []string{"buildings.floors"}
	useAttrs    = []string{"buildings.use"}
	dwellAttrs  = []string{"buildings.dwellings"}
)

// inputsOf returns the inputs of an indicator of Engine.names; ok is false for a name it does
// not know.
func inputsOf(name string) (in inputs, ok bool) {
	b := "buildings"
	switch name {
	case "residents":
		return inputs{layers: []string{b}, residents: true}, true
	case "dwellings":
		return inputs{layers: []string{b}, attrs: dwellAttrs}, true
	case "floor_area_m2":
		return inputs{layers: []string{b}, attrs: gfaAttrs}, true
	case "jobs":
		return inputs{layers: []string{b}, model: true}, true
	case "violations":
		return inputs{layers: []string{b, "parcels", "zoning"}, attrs: gfaAttrs}, true
	case "violations_max_pot":
		return inputs{layers: []string{b, "parcels", "zoning"}}, true
	case "violations_max_cut":
		return inputs{layers: []string{b, "parcels", "zoning"}, attrs: gfaAttrs}, true
	case "violations_max_height":
		return inputs{layers: []string{b, "zoning"}, attrs: heightAttrs}, true
	case "violations_max_floors":
		return inputs{layers: []string{b, "zoning"}, attrs: floorsAttrs}, true
	case "violations_allowed_uses":
		return inputs{layers: []string{b, "zoning"}, attrs: useAttrs}, true
	case "wifi_access_share", "digital_help_access_share":
		return inputs{layers: []string{b, "facilities"}, residents: true}, true
	case "fifteen_minute_city":
		return inputs{layers: []string{b, "facilities", "green_spaces"}, residents: true}, true
	case "pupils", "preschool_children":
		return inputs{layers: []string{b}, residents: true, model: true}, true
	case "school_capacity", "kindergarten_capacity":
		return inputs{layers: []string{"facilities"}}, true // estimated capacities: per kind, below
	case "school_load", "schools_over_capacity", "kindergarten_load", "kindergartens_over_capacity":
		return inputs{layers: []string{b, "facilities"}, residents: true, model: true}, true
	case "green_access", "green_m2_per_resident":
		return inputs{layers: []string{b, "green_spaces"}, residents: true}, true
	case "public_green_m2":
		return inputs{layers: []string{"green_spaces"}}, true
	case "built_share", "impervious_share":
		return inputs{layers: []string{b, "districts"}}, true
	case "green_share":
		return inputs{layers: []string{"green_spaces", "districts"}}, true
	case "area_ha":
		return inputs{layers: []string{"districts"}}, true
	case "residents_per_ha":
		return inputs{layers: []string{b, "districts"}, residents: true}, true
	case "dwellings_per_ha":
		return inputs{layers: []string{b, "districts"}, attrs: dwellAttrs}, true
	}
	switch {
	case strings.HasPrefix(name, "floor_area_"):
		return inputs{layers: []string{b}, attrs: gfaAttrs}, true
	case strings.HasPrefix(name, "access_"):
		return inputs{layers: []string{b, "facilities"}, residents: true}, true
	case strings.HasPrefix(name, "noise_"):
		return inputs{layers: []string{b, "noise"}, residents: true}, true
	case strings.HasPrefix(name, "flood_"):
		return inputs{layers: []string{b, "flood"}, residents: strings.HasSuffix(name, "_residents")}, true
	case strings.HasPrefix(name, "air_"):
		return inputs{layers: []string{b, "air_stations"}, residents: true, model: true}, true
	case strings.HasPrefix(name, "broadband_"):
		return inputs{layers: []string{b, "broadband"}, residents: true}, true
	}
	return inputs{model: true}, false
}

// DerivedLayers returns the layers of city with at least one feature marked derived.
func DerivedLayers(city *spatial.City) map[string]bool {
	out := map[string]bool{}
	for _, name := range layers.Names() {
		for _, it := range city.Layer(name).Items() {
			if d, _ := it.Feature.Props["derived"].(bool); d {
				out[name] = true
				break
			}
		}
	}
	return out
}

// indicatorSources decides the source of every indicator: modelled when it has a model of
// its own, reads a layer with a derived feature (of the districts, one the indicators use),
// or, for the school and kindergarten capacities, counts a capacity estimated at the default
// of its kind; else, when it reads residents,
// census-calibrated if the census calibrates every resident (Calibration.Complete) and
// modelled if not; else surveyed.
func (e *Engine) indicatorSources(b *baseline, cal Calibration) map[string]string {
	derived := DerivedLayers(b.city)
	// The districts the indicators use (usedDistricts): derived ones the city's own layer
	// replaced do not make an indicator modelled.
	derived["districts"] = slices.ContainsFunc(b.districts, isDerived)
	estimated := estimatedAttrs(b.city)
	out := map[string]string{}
	for _, name := range e.names() {
		in, _ := inputsOf(name)
		src := SourceSurveyed
		for _, l := range in.layers {
			if derived[l] {
				src = SourceModelled
			}
		}
		if slices.ContainsFunc(in.attrs, func(a string) bool { return estimated[a] }) {
			src = SourceModelled
		}
		switch {
		case in.model:
			src = SourceModelled
		case src == SourceSurveyed && in.residents && cal.Complete:
			src = SourceCensus
		case in.residents:
			src = SourceModelled
		}
		out[name] = src
	}
	// A capacity the loads read at the default of its kind (capacityOf) is a model's too.
	for name, k := range map[string]int{"school_capacity": e.schoolIdx, "kindergarten_capacity": e.kinderIdx} {
		for _, it := range b.facItems[k] {
			if _, est := e.params.capacityOf(e.nearKinds[k], it.Feature.Props); est {
				out[name] = SourceModelled
				break
			}
		}
	}
	return out
}

// estimatedAttrs returns the building attributes ("buildings.floors") that some building of
// city lists in its field estimated (a default or an estimate, not surveyed). Facilities'
// capacities are looked at per kind (capacityOf).
func estimatedAttrs(city *spatial.City) map[string]bool {
	out := map[string]bool{}
	for _, it := range city.Layer("buildings").Items() {
		l, _ := it.Feature.Props["estimated"].([]string)
		for _, a := range l {
			out["buildings."+a] = true
		}
	}
	return out
}
