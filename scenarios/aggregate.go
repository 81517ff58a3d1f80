package scenarios

import (
	"fmt"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// groupAcc sums the contributions of the buildings and parcels of one group: a district or
// the whole city.
type groupAcc struct {
	buildings, residents, dwellings, jobs, gfa float64
	gfaUse                                     []float64 // by layers.BuildingUses index
	access                                     []float64 // residents, by accessKinds index
	fifteen, greenWHO                          float64
	noise                                      []float64 // residents by NoiseLdenBands index
	lnight                                     float64
	floodRes, floodBld                         []float64 // by FloodReturnPeriods index
	airEU, airWHO                              float64
	bbFast, bbGig, wifi, help                  float64
	pupils, preschool                          float64
	vHeight, vFloors, vUse, vPOT, vCUT         float64
	// Filled from the facility and green-space layers, not from buildings.
	schoolCap, schoolAssigned, schoolsOver float64
	kinderCap, kinderAssigned, kindersOver float64
	greenPublic, area                      float64
	// 13: the union of footprints and of green spaces within the group (coverage.go).
	builtCover, greenCover float64
}

// plus adds h's sums to g.
func (g *groupAcc) plus(h *groupAcc) {
	g.buildings += h.buildings
	g.residents += h.residents
	g.dwellings += h.dwellings
	g.jobs += h.jobs
	g.gfa += h.gfa
	addAll(g.gfaUse, h.gfaUse)
	addAll(g.access, h.access)
	g.fifteen += h.fifteen
	g.greenWHO += h.greenWHO
	addAll(g.noise, h.noise)
	g.lnight += h.lnight
	addAll(g.floodRes, h.floodRes)
	addAll(g.floodBld, h.floodBld)
	g.airEU += h.airEU
	g.airWHO += h.airWHO
	g.bbFast += h.bbFast
	g.bbGig += h.bbGig
	g.wifi += h.wifi
	g.help += h.help
	g.pupils += h.pupils
	g.preschool += h.preschool
	g.vHeight += h.vHeight
	g.vFloors += h.vFloors
	g.vUse += h.vUse
	g.vPOT += h.vPOT
	g.vCUT += h.vCUT
	g.schoolCap += h.schoolCap
	g.schoolAssigned += h.schoolAssigned
	g.schoolsOver += h.schoolsOver
	g.kinderCap += h.kinderCap
	g.kinderAssigned += h.kinderAssigned
	g.kindersOver += h.kindersOver
	g.greenPublic += h.greenPublic
	g.area += h.area
	g.builtCover += h.builtCover
	g.greenCover += h.greenCover
}

func addAll(dst, src []float64) {
	for i := range dst {
		dst[i] += src[i]
	}
}

func (e *Engine) newAcc() *groupAcc {
	return &groupAcc{
		gfaUse:   make([]float64, len(layers.BuildingUses)),
		access:   make([]float64, len(accessKinds)),
		noise:    make([]float64, len(e.params.NoiseLdenBands)),
		floodRes: make([]float64, len(e.params.FloodReturnPeriods)),
		floodBld: make([]float64, len(e.params.FloodReturnPeriods)),
	}
}

// aggregate is the sum of every contribution, per district and for the city.
type aggregate struct {
	city       *groupAcc
	districts  []*groupAcc
	parts      []*groupPart      // by group: the districts, then outside every district
	reused     []bool            // by group: the part is the baseline's
	assigned   map[int64]float64 // school or kindergarten id → children assigned to it
	overloaded []Overload
	ind        map[string]float64
	dind       []map[string]float64
}

// groupPart is what the buildings and parcels of one group (a district, or outside every
// district) contribute: their sums, the children they send to each school and kindergarten,
// and their violations. A variant reuses the baseline's part of every group its changes do
// not reach, which holds the very same sums: that group's records are the baseline's, in the
// same order.
type groupPart struct {
	acc        *groupAcc
	assigned   map[int64]float64
	vb         []*bRec // buildings with violations, canonical order
	vp         []*pRec // parcels with violations, parcel order
	violations int     // the violations of vb and vp
}

// eachViolation calls fn with each violation of the part's buildings or parcels (layer), in
// order, until fn returns false.
func (pt *groupPart) eachViolation(layer string, fn func(id int64, base bool, v viol) bool) {
	if layer == "parcels" {
		for _, r := range pt.vp {
			for _, v := range r.viol {
				if !fn(r.id, r.base, v) {
					return
				}
			}
		}
		return
	}
	for _, r := range pt.vb {
		for _, v := range r.viol {
			if !fn(r.id, r.base, v) {
				return
			}
		}
	}
}

// Overload is a school or kindergarten with more children assigned than its capacity.
type Overload struct {
	Feature  string  `json:"feature"`
	ID       int64   `json:"id"`
	Kind     string  `json:"kind"`
	Name     string  `json:"name,omitempty"`
	Assigned float64 `json:"assigned"`
	Capacity float64 `json:"capacity"`
	// CapacityEstimated: the capacity is the default of the kind (the facility has none, or
	// a change's estimate), not a surveyed figure.
	CapacityEstimated bool    `json:"capacity_estimated,omitempty"`
	Load              float64 `json:"load"`
}

func (e *Engine) addRec(g *groupAcc, r *bRec) {
	p := &e.params
	g.buildings++
	g.residents += r.residents
	g.dwellings += r.dwellings
	g.jobs += r.jobs
	g.gfa += r.gfa
	if r.use == e.mixedIdx {
		g.gfaUse[e.residentialIdx] += r.gfa * p.MixedResidentialShare
		g.gfaUse[e.mixedOtherIdx] += r.gfa * (1 - p.MixedResidentialShare)
	} else {
		g.gfaUse[r.use] += r.gfa
	}
	res := r.residents
	for i, k := range e.accessIdx {
		if r.within(k, r.near[k].d, p.DetourFactor, e.accessRadius[i]) {
			g.access[i] += res
		}
	}
	fifteen := r.within(e.targetGreen(), r.green.d, p.DetourFactor, p.FifteenMinuteRadiusM)
	for _, k := range e.fifteenIdx {
		fifteen = fifteen && r.within(k, r.near[k].d, p.DetourFactor, p.FifteenMinuteRadiusM)
	}
	if fifteen {
		g.fifteen += res
	}
	if r.within(e.targetGreenLarge(), r.greenLarge.d, 1, p.GreenAccessRadiusM) {
		g.greenWHO += res
	}
	for i := len(p.NoiseLdenBands) - 1; i >= 0; i-- {
		if r.lden >= p.NoiseLdenBands[i] {
			g.noise[i] += res
			break
		}
	}
	if r.lnight >= p.NoiseLnightThresholdDB {
		g.lnight += res
	}
	for i, t := range p.FloodReturnPeriods {
		if r.flood > 0 && r.flood <= int64(t) {
			g.floodRes[i] += res
			g.floodBld[i]++
		}
	}
	if r.airEU {
		g.airEU += res
	}
	if r.airWHO {
		g.airWHO += res
	}
	if r.bb >= p.BroadbandFastMbps {
		g.bbFast += res
	}
	if r.bb >= p.BroadbandGigabitMbps {
		g.bbGig += res
	}
	if r.near[e.wifiIdx].d <= p.WifiRadiusM {
		g.wifi += res
	}
	for _, k := range e.helpIdx {
		if r.within(k, r.near[k].d, 1, p.DigitalHelpRadiusM) {
			g.help += res
			break
		}
	}
	g.pupils += res * p.PupilShare
	g.preschool += res * p.PreschoolShare
	for _, v := range r.viol {
		switch v.rule {
		case ruleHeight:
			g.vHeight++
		case ruleFloors:
			g.vFloors++
		case ruleUses:
			g.vUse++
		}
	}
}

func addParcel(g *groupAcc, r *pRec) {
	for _, v := range r.viol {
		switch v.rule {
		case rulePOT:
			g.vPOT++
		case ruleCUT:
			g.vCUT++
		}
	}
}

// aggregate sums building and parcel records, given in canonical order, per district and
// for the city, then adds what comes from the facility and green-space layers. base, when
// not nil, holds the baseline's parts: a group not marked in dirty takes its part from there
// instead of summing its records again.
func (e *Engine) aggregate(en *env, eachB func(func(*bRec)), eachP func(func(*pRec)), base []*groupPart, dirty []bool) *aggregate {
	b := en.b
	n := len(b.districts) + 1
	agg := &aggregate{city: e.newAcc(), assigned: map[int64]float64{}, parts: make([]*groupPart, n), reused: make([]bool, n)}
	fresh := func(g int) bool { return base == nil || dirty[g] }
	for g := range agg.parts {
		if fresh(g) {
			agg.parts[g] = &groupPart{acc: e.newAcc(), assigned: map[int64]float64{}}
		} else {
			agg.parts[g], agg.reused[g] = base[g], true
		}
	}
	p := &e.params
	eachB(func(r *bRec) {
		g := groupIndex(r.district, len(agg.parts))
		if !fresh(g) {
			return
		}
		pt := agg.parts[g]
		e.addRec(pt.acc, r)
		if s := r.near[e.schoolIdx]; s.id != 0 {
			pt.assigned[s.id] += r.residents * p.PupilShare
		}
		if k := r.near[e.kinderIdx]; k.id != 0 {
			pt.assigned[k.id] += r.residents * p.PreschoolShare
		}
		if len(r.viol) > 0 {
			pt.vb = append(pt.vb, r)
			pt.violations += len(r.viol)
		}
	})
	eachP(func(r *pRec) {
		g := groupIndex(r.district, len(agg.parts))
		if !fresh(g) {
			return
		}
		pt := agg.parts[g]
		addParcel(pt.acc, r)
		if len(r.viol) > 0 {
			pt.vp = append(pt.vp, r)
			pt.violations += len(r.viol)
		}
	})
	// The parts are shared with the baseline: what follows adds to copies of their sums.
	// Every building is summed once, into its district or into outside; the city is then
	// the sum of those, in district order.
	for _, pt := range agg.parts {
		for id, children := range pt.assigned {
			agg.assigned[id] += children
		}
	}
	for _, pt := range agg.parts[:len(b.districts)] {
		d := e.newAcc()
		d.plus(pt.acc)
		agg.districts = append(agg.districts, d)
	}
	outside := e.newAcc()
	outside.plus(agg.parts[len(b.districts)].acc)
	group := func(d int32) *groupAcc {
		if d >= 0 {
			return agg.districts[d]
		}
		return outside
	}

	facLoad := func(k int, kind string, set func(g *groupAcc, capacity, assigned, over float64)) {
		en.eachFacility(k, func(it *spatial.Item, d int32) {
			capacity, estimated := e.params.capacityOf(kind, it.Feature.Props)
			if capacity <= 0 {
				return // unknown capacity and no default for the kind: no load
			}
			a := agg.assigned[it.Feature.ID]
			over := 0.0
			if a > capacity {
				over = 1
				agg.overloaded = append(agg.overloaded, Overload{Feature: "facilities/" + itoa(it.Feature.ID), ID: it.Feature.ID,
					Kind: kind, Name: str(it.Feature.Props, "name"), Assigned: a, Capacity: capacity, CapacityEstimated: estimated, Load: a / capacity})
			}
			set(group(d), capacity, a, over)
		})
	}
	facLoad(e.schoolIdx, "school", func(g *groupAcc, c, a, o float64) { g.schoolCap += c; g.schoolAssigned += a; g.schoolsOver += o })
	facLoad(e.kinderIdx, "kindergarten", func(g *groupAcc, c, a, o float64) { g.kinderCap += c; g.kinderAssigned += a; g.kindersOver += o })
	en.eachGreen(func(it *spatial.Item, d int32) {
		if e.isPublic(it.Feature) {
			group(d).greenPublic += it.Area
		}
	})
	cover := b.cover.variantTotals(b, en)
	for i, d := range agg.districts {
		d.builtCover, d.greenCover = cover[coverBuilt][i], cover[coverGreen][i]
	}
	for _, d := range agg.districts {
		agg.city.plus(d)
	}
	agg.city.plus(outside)
	agg.city.area = 0
	for i, d := range b.districts {
		agg.districts[i].area = d.Area
		agg.city.area += d.Area
	}
	if len(b.districts) == 0 {
		agg.city.area = spatial.Area(b.city.Proj.Geometry(b.city.Bound.ToPolygon()))
		agg.city.builtCover, agg.city.greenCover = cover[coverBuilt][0], cover[coverGreen][0]
	}
	agg.ind = e.values(agg.city)
	for _, d := range agg.districts {
		agg.dind = append(agg.dind, e.values(d))
	}
	return agg
}

// groupIndex is the group of a record of district d among n groups: d itself, or the last
// group (outside every district) when d is negative.
func groupIndex(d int32, n int) int {
	if d >= 0 {
		return int(d)
	}
	return n - 1
}

func ratio(x, y float64) float64 {
	if y == 0 {
		return 0
	}
	return x / y
}

// IndicatorNames lists the indicator keys of a run in report order, for the parameters.
func (e *Engine) IndicatorNames() []string {
	return e.names()
}

func (e *Engine) names() []string {
	p := &e.params
	n := []string{"residents", "dwellings", "floor_area_m2"}
	for _, u := range layers.BuildingUses {
		if u != "mixed" {
			n = append(n, "floor_area_"+u+"_m2")
		}
	}
	n = append(n, "jobs",
		"violations", "violations_max_height", "violations_max_floors", "violations_allowed_uses", "violations_max_pot", "violations_max_cut")
	for _, k := range accessKinds {
		n = append(n, "access_"+k)
	}
	n = append(n, "fifteen_minute_city",
		"pupils", "school_capacity", "school_load", "schools_over_capacity",
		"preschool_children", "kindergarten_capacity", "kindergarten_load", "kindergartens_over_capacity",
		"green_access", "public_green_m2", "green_m2_per_resident")
	for _, band := range p.NoiseLdenBands {
		n = append(n, fmt.Sprintf("noise_lden_%g", band))
	}
	n = append(n, fmt.Sprintf("noise_lden_%g_plus", p.NoiseLdenBands[0]), fmt.Sprintf("noise_lnight_%g_plus", p.NoiseLnightThresholdDB))
	for _, t := range p.FloodReturnPeriods {
		n = append(n, fmt.Sprintf("flood_%d_residents", t), fmt.Sprintf("flood_%d_buildings", t))
	}
	n = append(n, "air_eu_exceedance_residents", "air_eu_exceedance_share", "air_who_exceedance_residents", "air_who_exceedance_share",
		"built_share", "impervious_share", "green_share",
		"broadband_fast_share", "broadband_gigabit_share", "wifi_access_share", "digital_help_access_share",
		"area_ha", "residents_per_ha", "dwellings_per_ha")
	return n
}

// values turns a group's sums into its indicators. Shares are fractions 0..1 of residents.
func (e *Engine) values(g *groupAcc) map[string]float64 {
	p := &e.params
	res := g.residents
	m := map[string]float64{
		"residents":     res,
		"dwellings":     g.dwellings,
		"floor_area_m2": g.gfa,
		"jobs":          g.jobs,
		// 4 compliance
		"violations":              g.vHeight + g.vFloors + g.vUse + g.vPOT + g.vCUT,
		"violations_max_height":   g.vHeight,
		"violations_max_floors":   g.vFloors,
		"violations_allowed_uses": g.vUse,
		"violations_max_pot":      g.vPOT,
		"violations_max_cut":      g.vCUT,
		// 6, 7, 8, 9
		"fifteen_minute_city":         ratio(g.fifteen, res),
		"pupils":                      g.pupils,
		"school_capacity":             g.schoolCap,
		"school_load":                 ratio(g.schoolAssigned, g.schoolCap),
		"schools_over_capacity":       g.schoolsOver,
		"preschool_children":          g.preschool,
		"kindergarten_capacity":       g.kinderCap,
		"kindergarten_load":           ratio(g.kinderAssigned, g.kinderCap),
		"kindergartens_over_capacity": g.kindersOver,
		"green_access":                ratio(g.greenWHO, res),
		"public_green_m2":             g.greenPublic,
		"green_m2_per_resident":       ratio(g.greenPublic, res),
		// 12, 13, 14, 15
		"air_eu_exceedance_residents":  g.airEU,
		"air_eu_exceedance_share":      ratio(g.airEU, res),
		"air_who_exceedance_residents": g.airWHO,
		"air_who_exceedance_share":     ratio(g.airWHO, res),
		"built_share":                  ratio(g.builtCover, g.area),
		"impervious_share":             ratio(g.builtCover, g.area), // no layer models paved surfaces yet
		"green_share":                  ratio(g.greenCover, g.area),
		"broadband_fast_share":         ratio(g.bbFast, res),
		"broadband_gigabit_share":      ratio(g.bbGig, res),
		"wifi_access_share":            ratio(g.wifi, res),
		"digital_help_access_share":    ratio(g.help, res),
		"area_ha":                      g.area / 10000,
		"residents_per_ha":             ratio(res, g.area/10000),
		"dwellings_per_ha":             ratio(g.dwellings, g.area/10000),
	}
	for i, u := range layers.BuildingUses {
		if u != "mixed" {
			m["floor_area_"+u+"_m2"] = g.gfaUse[i]
		}
	}
	for i, k := range accessKinds {
		m["access_"+k] = ratio(g.access[i], res)
	}
	total := 0.0
	for i, band := range p.NoiseLdenBands {
		m[fmt.Sprintf("noise_lden_%g", band)] = g.noise[i]
		total += g.noise[i]
	}
	m[fmt.Sprintf("noise_lden_%g_plus", p.NoiseLdenBands[0])] = total
	m[fmt.Sprintf("noise_lnight_%g_plus", p.NoiseLnightThresholdDB)] = g.lnight
	for i, t := range p.FloodReturnPeriods {
		m[fmt.Sprintf("flood_%d_residents", t)] = g.floodRes[i]
		m[fmt.Sprintf("flood_%d_buildings", t)] = g.floodBld[i]
	}
	return m
}
