package scenarios

import (
	"math"
	"slices"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/network"
	"github.com/citytwin/citytwin/spatial"
)

// env is the set of merged views one computation reads: the variant's layers, and the
// facility and green-space layers split by what the indicators ask of them (one view per
// facility kind; public green spaces; public green spaces of at least GreenMinAreaM2). Each
// split is itself copy-on-write: a baseline index built once per city plus a small overlay
// index per variant.
type env struct {
	b                                                                                       *baseline
	v                                                                                       *Variant
	fac                                                                                     []*LayerView // by nearKinds index
	green                                                                                   *LayerView   // public green spaces
	greenLarge                                                                              *LayerView   // public green spaces of at least GreenMinAreaM2
	facilities, greens, buildings, parcels, zoning, noise, flood, broadband, air, districts *LayerView
	// The overlay features of fac, green and greenLarge, listed for the grids.
	facOver                   [][]*spatial.Item
	greenOver, greenLargeOver []*spatial.Item
	// over lists each polygon layer's overlay features, for the grids.
	over map[string][]*spatial.Item
	// stations lists the air stations when they are few (at most maxListedStations).
	stations []*spatial.Item
	// walk holds the walking distances per walk target (walk.go); nil without a network,
	// and nil for a target no indicator walks to.
	walk []*network.Distances
}

const maxListedStations = 64

// near is the nearest feature of some kind: its id (0: none) and straight-line distance.
type near struct {
	id int64
	d  float64
}

var none = near{0, math.Inf(1)}

// bRec is one building's contribution to every indicator: what the aggregation sums. It is
// what the engine caches per building between runs.
type bRec struct {
	id         int64
	c          orb.Point // metric centroid
	district   int32     // index into the district list, -1 outside every district
	parcel     int64     // the lowest-id parcel containing the centroid, 0: none
	hasParcel  bool
	use        int8    // index into layers.BuildingUses
	footprint  float64 // the footprint's area on its parcel (footprintOn); all of it when on none
	gfa        float64
	residents  float64
	dwellings  float64
	jobs       float64
	near       []near    // by nearKinds index
	green      near      // nearest public green space
	greenLarge near      // nearest public green space of at least GreenMinAreaM2
	walk       []float64 // walking distance per walk target (walk.go), +Inf beyond its radius; nil: straight distances
	lden       float64
	lnight     float64
	flood      int64   // smallest return period of a flood zone containing the centroid, 0: none
	bb         float64 // best fixed broadband speed at the centroid, Mbit/s
	airEU      bool
	airWHO     bool
	viol       []viol
	base       bool // a record of the baseline's own array: its violations are the baseline's
}

// pRec is one parcel's contribution: its district and its POT/CUT violations.
type pRec struct {
	id        int64
	district  int32
	footprint float64
	gfa       float64
	viol      []viol
	base      bool
}

// viol is a violation as records keep it: compact, strings made only for the run's list.
type viol struct {
	rule  uint8 // index into ruleNames
	use   int8  // allowed_uses: the building's use (index into layers.BuildingUses)
	value float64
	limit float64
	zone  int64
}

// The zoning rules a feature can break, as named in violations.
const (
	ruleHeight uint8 = iota
	ruleFloors
	ruleUses
	rulePOT
	ruleCUT
)

var ruleNames = [...]string{"max_height_m", "max_floors", "allowed_uses", "max_pot_pct", "max_cut"}

// Violation is one breach of a zoning rule.
type Violation struct {
	Feature string `json:"feature"` // "buildings/123", "parcels/45"
	Layer   string `json:"layer"`
	ID      int64  `json:"id"`
	// Rule is the zoning field broken: max_height_m, max_floors, allowed_uses, max_pot_pct, max_cut.
	Rule  string `json:"rule"`
	Value any    `json:"value"`
	Limit any    `json:"limit"`
	Zone  int64  `json:"zone"`
	// New is true when the baseline does not have this violation.
	New bool `json:"new"`
}

// clone copies a record out of the array it was computed in, so that keeping it does not
// keep the whole array (and its shared nearest lists) alive.
func (r *bRec) clone() *bRec {
	c := *r
	c.near = slices.Clone(r.near)
	c.walk = slices.Clone(r.walk)
	return &c
}

func recEqual(a, b *bRec) bool {
	if a.id != b.id || a.c != b.c || a.district != b.district || a.parcel != b.parcel || a.hasParcel != b.hasParcel ||
		a.use != b.use || a.footprint != b.footprint || a.gfa != b.gfa || a.residents != b.residents ||
		a.dwellings != b.dwellings || a.jobs != b.jobs || a.green != b.green || a.greenLarge != b.greenLarge ||
		a.lden != b.lden || a.lnight != b.lnight || a.flood != b.flood || a.bb != b.bb || a.airEU != b.airEU ||
		a.airWHO != b.airWHO || !slices.Equal(a.near, b.near) || !slices.Equal(a.walk, b.walk) {
		return false
	}
	return violationsEqual(a.viol, b.viol)
}

func pRecEqual(a, b *pRec) bool {
	return a.id == b.id && a.district == b.district && a.footprint == b.footprint && a.gfa == b.gfa && violationsEqual(a.viol, b.viol)
}

func violationsEqual(a, b []viol) bool { return slices.Equal(a, b) }

// buildingRecord computes one building's contribution in env into r.
func (e *Engine) buildingRecord(en *env, it *spatial.Item, nearBuf []near, walkBuf []float64, r *bRec) {
	p := &e.params
	f := it.Feature
	c := it.Centroid
	*r = bRec{id: f.ID, c: c, footprint: it.Area, district: en.districtOf(c)}
	if pc := en.b.parcelGrid.first(en.parcels, en.over["parcels"], c); pc != nil {
		r.parcel, r.hasParcel = pc.Feature.ID, true
		r.footprint = footprintOn(it, pc)
	}

	use := str(f.Props, "use")
	ui := slices.Index(layers.BuildingUses, use)
	if ui < 0 {
		use, ui = "other", slices.Index(layers.BuildingUses, "other")
	}
	r.use = int8(ui)
	r.gfa = p.gfa(f.Props, it.Area)
	dw, hasDw := num(f.Props, "dwellings")
	r.dwellings = dw
	if resShare := p.residentialShare(use); resShare > 0 {
		if hasDw {
			r.residents = dw * p.residentsPerDwelling()
		} else {
			r.residents = r.gfa * resShare / p.ResidentialM2PerPerson
		}
	}
	switch use {
	case "residential":
	case "mixed":
		r.jobs = r.gfa * (1 - p.MixedResidentialShare) / e.m2PerJob[e.mixedOtherIdx]
	default:
		r.jobs = r.gfa / e.m2PerJob[ui]
	}

	r.near = nearBuf[:len(e.nearKinds):len(e.nearKinds)]
	for i := range e.nearKinds {
		r.near[i] = en.b.facGrid[i].nearest(en.fac[i], en.facOver[i], c)
	}
	r.green = en.b.greenGrid.nearest(en.green, en.greenOver, c)
	r.greenLarge = en.b.greenLargeGrid.nearest(en.greenLarge, en.greenLargeOver, c)
	r.walk = e.walks(en, c, walkBuf)

	en.b.grids["noise"].visit(en.noise, en.over["noise"], c, func(n *spatial.Item) {
		if v, ok := num(n.Feature.Props, "lden_db"); ok {
			r.lden = max(r.lden, v)
		}
		if v, ok := num(n.Feature.Props, "lnight_db"); ok {
			r.lnight = max(r.lnight, v)
		}
	})
	en.b.grids["flood"].visit(en.flood, en.over["flood"], c, func(fl *spatial.Item) {
		if v, ok := num(fl.Feature.Props, "return_period_years"); ok && v > 0 && (r.flood == 0 || int64(v) < r.flood) {
			r.flood = int64(v)
		}
	})
	en.b.grids["broadband"].visit(en.broadband, en.over["broadband"], c, func(b *spatial.Item) {
		if slices.Contains(p.FixedTechnologies, str(b.Feature.Props, "technology")) {
			if v, ok := num(b.Feature.Props, "max_down_mbps"); ok {
				r.bb = max(r.bb, v)
			}
		}
	})
	r.airEU, r.airWHO = e.air(en, c)
	r.viol = e.buildingViolations(en, it, c, r.use)
}

// gfa is a building's gross floor area above ground (props: its properties): gfa_m2 when
// known, else footprint × floors, floors estimated from height_m / FloorHeightM (at least
// one) when unknown.
func (p *Parameters) gfa(props map[string]any, footprint float64) float64 {
	if g, ok := num(props, "gfa_m2"); ok {
		return g
	}
	return footprint * p.floors(props)
}

func (p *Parameters) floors(props map[string]any) float64 {
	if fl, ok := num(props, "floors"); ok {
		return fl
	}
	if h, ok := num(props, "height_m"); ok && h > 0 {
		return max(1, math.Round(h/p.FloorHeightM))
	}
	return 1
}

// residentialShare is the share of a building's floor area that houses people, by its use
// (an unknown use is "other": none).
func (p *Parameters) residentialShare(use string) float64 {
	switch use {
	case "residential":
		return 1
	case "mixed":
		return p.MixedResidentialShare
	}
	return 0
}

// air interpolates each pollutant at p from the AirStations nearest stations by inverse
// distance weighting (weights 1/d^power; a station closer than 1 cm gives its own value);
// stations without a value for a pollutant are left out of its average. It reports whether
// any pollutant exceeds its EU limit and its WHO guideline.
func (e *Engine) air(en *env, p orb.Point) (eu, who bool) {
	hits := en.nearestStations(p, e.params.AirStations)
	if len(hits) == 0 {
		return false, false
	}
	for _, pol := range pollutants {
		var sw, sv float64
		exact, found := 0.0, false
		for _, h := range hits {
			v, ok := num(h.Feature.Props, pol)
			if !ok {
				continue
			}
			if h.Distance < 0.01 {
				exact, found = v, true
				break
			}
			w := 1 / e.idwPow(h.Distance)
			sw += w
			sv += w * v
		}
		var c float64
		switch {
		case found:
			c = exact
		case sw > 0:
			c = sv / sw
		default:
			continue
		}
		if c > e.params.AirEULimits[pol] {
			eu = true
		}
		if c > e.params.AirWHOGuidelines[pol] {
			who = true
		}
	}
	return eu, who
}

// idwPow is d^AirIDWPower, squared by multiplication for the usual power 2.
func (e *Engine) idwPow(d float64) float64 {
	if e.params.AirIDWPower == 2 {
		return d * d
	}
	return math.Pow(d, e.params.AirIDWPower)
}

// nearestStations returns the k air stations nearest to p, by (distance, id). A city has
// few stations: with their list in hand (env.stations) a pass over it beats a tree search.
func (en *env) nearestStations(p orb.Point, k int) []spatial.Hit {
	if en.stations == nil {
		return en.air.Nearest(p, k, 0, nil)
	}
	var buf [8]spatial.Hit
	out := buf[:0]
	for _, it := range en.stations {
		h := spatial.Hit{Item: it, Distance: spatial.Distance(it.Geom, p)}
		i := len(out)
		for i > 0 && hitLess(h, out[i-1]) {
			i--
		}
		if i >= k {
			continue
		}
		if len(out) < k {
			out = append(out, spatial.Hit{})
		}
		copy(out[i+1:], out[i:len(out)-1])
		out[i] = h
	}
	return out
}

// zoneAt returns the zone whose rules apply at p: among the zones containing p, a polygon
// added by the scenario (the latest) before the baseline's zones, and among those the lowest
// id.
func (en *env) zoneAt(p orb.Point) *spatial.Item {
	var base, added *spatial.Item
	en.b.grids["zoning"].visit(en.zoning, en.over["zoning"], p, func(z *spatial.Item) {
		id := z.Feature.ID
		if id >= AddedIDBase {
			if added == nil || id > added.Feature.ID {
				added = z
			}
		} else if base == nil || id < base.Feature.ID {
			base = z
		}
	})
	if added != nil {
		return added
	}
	return base
}

func (en *env) districtOf(p orb.Point) int32 {
	d := en.b.grids["districts"].first(en.districts, nil, p)
	if d == nil {
		return -1
	}
	return int32(en.districtIndex(d.Feature.ID))
}

func (en *env) districtIndex(id int64) int {
	return en.b.districtIdx[id]
}

func (e *Engine) buildingViolations(en *env, it *spatial.Item, c orb.Point, use int8) []viol {
	z := en.zoneAt(c)
	if z == nil {
		return nil
	}
	f := it.Feature
	var out []viol
	if h, ok := num(f.Props, "height_m"); ok {
		if lim, ok := num(z.Feature.Props, "max_height_m"); ok && aboveLimit(h, lim) {
			out = append(out, viol{rule: ruleHeight, value: h, limit: lim, zone: z.Feature.ID})
		}
	}
	if fl, ok := num(f.Props, "floors"); ok {
		if lim, ok := num(z.Feature.Props, "max_floors"); ok && aboveLimit(fl, lim) {
			out = append(out, viol{rule: ruleFloors, value: fl, limit: lim, zone: z.Feature.ID})
		}
	}
	if allowed, ok := z.Feature.Props["allowed_uses"].([]string); ok && len(allowed) > 0 && !slices.Contains(allowed, layers.BuildingUses[use]) {
		out = append(out, viol{rule: ruleUses, use: use, zone: z.Feature.ID})
	}
	return out
}

// limitTolerance is the relative distance from a zoning limit within which a value is at the
// limit: POT = 7 / 1000 × 100 is 0.7000000000000001 in floating point, and at the limit is
// allowed (docs/domain.md, "Zoning compliance").
const limitTolerance = 1e-9

// aboveLimit reports whether value breaks a zoning limit: above it by more than
// limitTolerance of the limit.
func aboveLimit(value, limit float64) bool {
	return value > limit+limitTolerance*math.Abs(limit)
}

// footprintOn is the area of building b's footprint that lies on parcel pc, what the
// parcel's POT counts of it (indicator 4): the exact area of footprint ∩ parcel (coverArea),
// and the footprint's own measured area when all of it lies on the parcel. A building that
// overhangs its parcel (one in the L or U of another, whose modelled parcel is convex) thus
// counts only the part of it that stands on the parcel, and the footprints on a parcel, which
// do not overlap, never cover more than the parcel.
func footprintOn(b, pc *spatial.Item) float64 {
	box := orb.Bound{
		Min: orb.Point{max(b.Bound.Min[0], pc.Bound.Min[0]), max(b.Bound.Min[1], pc.Bound.Min[1])},
		Max: orb.Point{min(b.Bound.Max[0], pc.Bound.Max[0]), min(b.Bound.Max[1], pc.Bound.Max[1])},
	}
	if box.Min[0] >= box.Max[0] || box.Min[1] >= box.Max[1] {
		return 0
	}
	a := coverArea(appendPolygons(nil, b.Geom), appendPolygons(nil, pc.Geom), box)
	if a >= b.Area*(1-limitTolerance) {
		return b.Area // all of it: the same figure as the footprint's, bit for bit
	}
	return a
}

// parcelRecord computes a parcel's POT and CUT from the footprint on it (footprintOn) and
// the floor area of the buildings whose centroid it contains (summed in the variant's
// canonical building order).
func (e *Engine) parcelRecord(en *env, it *spatial.Item, footprint, gfa float64) pRec {
	f := it.Feature
	r := pRec{id: f.ID, district: en.districtOf(it.Centroid), footprint: footprint, gfa: gfa}
	if it.Area <= 0 {
		return r
	}
	z := en.zoneAt(it.Centroid)
	if z == nil {
		return r
	}
	if lim, ok := num(z.Feature.Props, "max_pot_pct"); ok {
		if pot := footprint / it.Area * 100; aboveLimit(pot, lim) {
			r.viol = append(r.viol, viol{rule: rulePOT, value: pot, limit: lim, zone: z.Feature.ID})
		}
	}
	if lim, ok := num(z.Feature.Props, "max_cut"); ok {
		if cut := gfa / it.Area; aboveLimit(cut, lim) {
			r.viol = append(r.viol, viol{rule: ruleCUT, value: cut, limit: lim, zone: z.Feature.ID})
		}
	}
	return r
}
