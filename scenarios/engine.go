package scenarios

import (
	"context"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/network"
	"github.com/citytwin/citytwin/spatial"
)

// Engine computes the indicators of docs/domain.md for the baseline city and for scenario
// variants. It computes the baseline once per city model and keeps, per scenario, the
// per-building contributions of its last run that differ from the baseline's, so that a
// re-run after a small change recomputes only the buildings the change can reach.
//
// An Engine is safe for concurrent use.
type Engine struct {
	params Parameters

	// nearKinds are the facility kinds whose nearest instance every building records.
	nearKinds  []string
	accessIdx  []int // nearKinds index of each accessKinds entry
	fifteenIdx []int
	helpIdx    []int
	wifiIdx    int // -1 when not tracked
	schoolIdx  int
	kinderIdx  int
	// Parameters as arrays, for the aggregation's inner loop.
	accessRadius                            []float64 // by accessKinds index
	walkRadius                              []float64 // by walk target (walk.go)
	mixedIdx, residentialIdx, mixedOtherIdx int8
	m2PerJob                                []float64 // by layers.BuildingUses index

	// MaxStates bounds the number of scenarios whose last run is kept for incremental
	// re-runs (least recently used first out).
	MaxStates int
	// MaxIncrementalChanges: above this many changes between two runs, run in full.
	MaxIncrementalChanges int
	// Census, when not nil, is read once per city model: residents are calibrated to it
	// (census.go). Set it before the first run.
	Census CensusSource

	baseMu sync.Mutex
	base   *baseline

	mu     sync.Mutex
	states map[string]*state
	clock  int64
}

// NewEngine returns an engine using the given parameters.
func NewEngine(p Parameters) (*Engine, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{params: p, MaxStates: 256, MaxIncrementalChanges: 64, states: map[string]*state{}}
	idx := func(k string) int {
		if i := slices.Index(e.nearKinds, k); i >= 0 {
			return i
		}
		e.nearKinds = append(e.nearKinds, k)
		return len(e.nearKinds) - 1
	}
	for _, k := range accessKinds {
		e.accessIdx = append(e.accessIdx, idx(k))
	}
	for _, k := range p.FifteenMinuteKinds {
		e.fifteenIdx = append(e.fifteenIdx, idx(k))
	}
	for _, k := range p.DigitalHelpFacilities {
		e.helpIdx = append(e.helpIdx, idx(k))
	}
	e.wifiIdx = idx("public_wifi")
	e.schoolIdx, e.kinderIdx = idx("school"), idx("kindergarten")
	for _, k := range accessKinds {
		e.accessRadius = append(e.accessRadius, p.AccessRadiusM[k])
	}
	useIdx := func(u string) int8 { return int8(slices.Index(layers.BuildingUses, u)) }
	e.mixedIdx, e.residentialIdx, e.mixedOtherIdx = useIdx("mixed"), useIdx("residential"), useIdx(p.MixedOtherUse)
	e.m2PerJob = make([]float64, len(layers.BuildingUses))
	for i, u := range layers.BuildingUses {
		e.m2PerJob[i] = p.M2PerJob[u]
	}
	e.setWalkRadii()
	return e, nil
}

// Parameters returns the parameters the engine uses.
func (e *Engine) Parameters() Parameters { return e.params }

// baseline is what the engine computes once per city model.
type baseline struct {
	city       *spatial.City
	facKind    []*spatial.Index // baseline facilities by nearKinds index
	green      *spatial.Index   // public green spaces
	greenLarge *spatial.Index   // public green spaces >= GreenMinAreaM2
	// Grids of nearest candidates over the same sets (grid.go).
	facGrid                   []*nearGrid
	greenGrid, greenLargeGrid *nearGrid
	grids                     map[string]*polyGrid // by polygon layer
	parcelGrid                *polyGrid
	// Baseline facilities of each near kind and all green spaces, in id order, with the
	// index of the district of each (-1: none), for the per-run sums over them.
	facItems      [][]*spatial.Item
	facDistrict   [][]int32
	greenItems    []*spatial.Item
	greenDistrict []int32
	buildings     []*spatial.Item // canonical order: ascending id
	bIdx          map[int64]int32
	parcels       []*spatial.Item
	pIdx          map[int64]int32
	districts     []*spatial.Item
	districtIdx   map[int64]int
	recs          []bRec
	precs         []pRec
	agg           *aggregate
	violations    map[violKey]bool // the baseline's violations
	env           *env
	cover         *coverGrid     // indicator 13's union areas by cell and district
	census        *censusFit     // residents' calibration factors and the indicators' sources
	net           *network.Graph // the walking network; nil: straight distances (walk.go)
}

// state is a scenario's last run, kept for incremental re-runs: the changes it applied,
// its variant, and the contributions that differ from the baseline's (every building of the
// overlay, and the baseline buildings and parcels whose contribution changed).
type state struct {
	city    *spatial.City
	changes []Change
	v       *Variant
	en      *env
	recs    map[int64]*bRec
	precs   map[int64]*pRec
	used    int64
	// The same overrides in baseline order, for the aggregation to walk without lookups:
	// baseline buildings that are hidden (rec nil) or whose record differs, and parcels.
	bOrder []bOverride
	pOrder []pOverride
}

type bOverride struct {
	idx int32
	rec *bRec // nil: hidden (demolished, or modified: its new record comes with the overlay)
}

type pOverride struct {
	idx int32
	rec *pRec
}

// index rebuilds bOrder and pOrder from the override maps and the hidden set.
func (st *state) index(b *baseline) {
	lv := st.en.buildings
	st.bOrder = st.bOrder[:0]
	for id := range lv.Hidden {
		if i, ok := b.bIdx[id]; ok {
			st.bOrder = append(st.bOrder, bOverride{i, nil})
		}
	}
	for id, r := range st.recs {
		if lv.Hidden[id] || lv.inOver(id) {
			continue
		}
		if i, ok := b.bIdx[id]; ok {
			st.bOrder = append(st.bOrder, bOverride{i, r})
		}
	}
	sort.Slice(st.bOrder, func(i, j int) bool { return st.bOrder[i].idx < st.bOrder[j].idx })
	st.pOrder = st.pOrder[:0]
	for id, r := range st.precs {
		if i, ok := b.pIdx[id]; ok {
			st.pOrder = append(st.pOrder, pOverride{i, r})
		}
	}
	sort.Slice(st.pOrder, func(i, j int) bool { return st.pOrder[i].idx < st.pOrder[j].idx })
}

func (e *Engine) isPublic(f *layers.Feature) bool {
	pub, ok := f.Props["public"].(bool)
	return !ok || pub // unknown counts as public
}

func (e *Engine) isLargePublic(it *spatial.Item) bool {
	return e.isPublic(it.Feature) && it.Area >= e.params.GreenMinAreaM2
}

// Baseline returns the baseline computation of city, computing it on first use.
func (e *Engine) baselineFor(ctx context.Context, city *spatial.City) (*baseline, error) {
	if city == nil {
		return nil, ErrNoCity
	}
	e.baseMu.Lock()
	defer e.baseMu.Unlock()
	if e.base != nil && e.base.city == city {
		return e.base, nil
	}
	b := &baseline{city: city, districtIdx: map[int64]int{}}
	proj := city.Proj
	b.facKind = make([]*spatial.Index, len(e.nearKinds))
	for i := range b.facKind {
		b.facKind[i] = spatial.NewIndex("facilities", proj)
	}
	for _, it := range city.Layer("facilities").Items() {
		if i := slices.Index(e.nearKinds, str(it.Feature.Props, "kind")); i >= 0 {
			b.facKind[i].Insert(it.Feature)
		}
	}
	b.green, b.greenLarge = spatial.NewIndex("green_spaces", proj), spatial.NewIndex("green_spaces", proj)
	for _, it := range city.Layer("green_spaces").Items() {
		if e.isPublic(it.Feature) {
			b.green.Insert(it.Feature)
			if e.isLargePublic(it) {
				b.greenLarge.Insert(it.Feature)
			}
		}
	}
	mb := proj.Bound(city.Bound)
	b.facGrid = make([]*nearGrid, len(e.nearKinds))
	var wg sync.WaitGroup
	for i := range b.facGrid {
		wg.Go(func() { b.facGrid[i] = newNearGrid(b.facKind[i], mb) })
	}
	b.grids = map[string]*polyGrid{}
	var gmu sync.Mutex
	districts := usedDistricts(city)
	for _, name := range gridLayers {
		wg.Go(func() {
			ix := city.Layer(name)
			if name == "districts" {
				ix = districts
			}
			g := newPolyGrid(ix, mb)
			gmu.Lock()
			b.grids[name] = g
			gmu.Unlock()
		})
	}
	wg.Go(func() { b.greenGrid = newNearGrid(b.green, mb) })
	wg.Go(func() { b.greenLargeGrid = newNearGrid(b.greenLarge, mb) })
	wg.Wait()
	b.parcelGrid = b.grids["parcels"]
	b.buildings = city.Layer("buildings").Items()
	b.bIdx = make(map[int64]int32, len(b.buildings))
	for i, it := range b.buildings {
		b.bIdx[it.Feature.ID] = int32(i)
	}
	b.parcels = city.Layer("parcels").Items()
	b.pIdx = make(map[int64]int32, len(b.parcels))
	for i, it := range b.parcels {
		b.pIdx[it.Feature.ID] = int32(i)
	}
	b.districts = districts.Items()
	for i, it := range b.districts {
		b.districtIdx[it.Feature.ID] = i
	}
	net, err := e.buildNetwork(city)
	if err != nil {
		return nil, err
	}
	b.net = net
	b.env = e.newEnv(b, NewVariant(city, e.params))
	b.facItems, b.facDistrict = make([][]*spatial.Item, len(e.nearKinds)), make([][]int32, len(e.nearKinds))
	for k := range e.nearKinds {
		b.facItems[k] = b.facKind[k].Items()
		for _, it := range b.facItems[k] {
			b.facDistrict[k] = append(b.facDistrict[k], b.env.districtOf(it.Centroid))
		}
	}
	b.greenItems = city.Layer("green_spaces").Items()
	for _, it := range b.greenItems {
		b.greenDistrict = append(b.greenDistrict, b.env.districtOf(it.Centroid))
	}
	e.setWalks(b.env, true)
	b.cover = newCoverGrid(b, b.env, mb)
	recs, err := e.records(ctx, b.env, b.buildings)
	if err != nil {
		return nil, err
	}
	b.recs = recs
	if err := e.calibrate(ctx, b); err != nil {
		return nil, err
	}
	b.precs = e.parcelRecords(b, b.env, recs)
	for i := range b.recs {
		b.recs[i].base = true
	}
	for i := range b.precs {
		b.precs[i].base = true
	}
	b.agg = e.aggregate(b.env, func(fn func(*bRec)) {
		for i := range b.recs {
			fn(&b.recs[i])
		}
	}, func(fn func(*pRec)) {
		for i := range b.precs {
			fn(&b.precs[i])
		}
	}, nil, nil)
	b.violations = map[violKey]bool{}
	for _, pt := range b.agg.parts {
		for _, layer := range []string{"buildings", "parcels"} {
			pt.eachViolation(layer, func(id int64, _ bool, v viol) bool {
				b.violations[violKey{layer == "parcels", id, v.rule}] = true
				return true
			})
		}
	}
	e.base = b
	return b, nil
}

// eachFacility calls fn with every visible facility of near kind k in canonical order and
// its district.
func (en *env) eachFacility(k int, fn func(*spatial.Item, int32)) {
	lv := en.fac[k]
	for i, it := range en.b.facItems[k] {
		if !lv.Hidden[it.Feature.ID] {
			fn(it, en.b.facDistrict[k][i])
		}
	}
	for _, it := range en.facOver[k] {
		fn(it, en.districtOf(it.Centroid))
	}
}

// eachGreen calls fn with every visible green space in canonical order and its district.
func (en *env) eachGreen(fn func(*spatial.Item, int32)) {
	lv := en.greens
	for i, it := range en.b.greenItems {
		if !lv.Hidden[it.Feature.ID] {
			fn(it, en.b.greenDistrict[i])
		}
	}
	if lv.hasOver() {
		for _, it := range lv.Over.Items() {
			fn(it, en.districtOf(it.Centroid))
		}
	}
}

// gridLayers are the polygon layers the engine asks "what contains this point" of.
var gridLayers = []string{"parcels", "districts", "zoning", "noise", "flood", "broadband"}

// newEnv makes the merged views of a variant.
func (e *Engine) newEnv(b *baseline, v *Variant) *env {
	en := &env{b: b, v: v}
	en.facilities = v.Layer("facilities")
	en.fac = make([]*LayerView, len(e.nearKinds))
	overKind := make([]*spatial.Index, len(e.nearKinds))
	if en.facilities.hasOver() {
		for _, it := range en.facilities.Over.Items() {
			if i := slices.Index(e.nearKinds, str(it.Feature.Props, "kind")); i >= 0 {
				if overKind[i] == nil {
					overKind[i] = spatial.NewIndex("facilities", v.City.Proj)
				}
				overKind[i].Insert(it.Feature)
			}
		}
	}
	en.facOver = make([][]*spatial.Item, len(e.nearKinds))
	for i := range e.nearKinds {
		en.fac[i] = derive(b.facKind[i], overKind[i], en.facilities)
		if overKind[i] != nil {
			en.facOver[i] = overKind[i].Items()
		}
	}
	en.greens = v.Layer("green_spaces")
	var og, ol *spatial.Index
	if en.greens.hasOver() {
		for _, it := range en.greens.Over.Items() {
			if !e.isPublic(it.Feature) {
				continue
			}
			if og == nil {
				og = spatial.NewIndex("green_spaces", v.City.Proj)
			}
			og.Insert(it.Feature)
			if e.isLargePublic(it) {
				if ol == nil {
					ol = spatial.NewIndex("green_spaces", v.City.Proj)
				}
				ol.Insert(it.Feature)
			}
		}
	}
	en.green = derive(b.green, og, en.greens)
	en.greenLarge = derive(b.greenLarge, ol, en.greens)
	if og != nil {
		en.greenOver = og.Items()
	}
	if ol != nil {
		en.greenLargeOver = ol.Items()
	}
	en.buildings = v.Layer("buildings")
	en.parcels = v.Layer("parcels")
	en.zoning = v.Layer("zoning")
	en.noise = v.Layer("noise")
	en.flood = v.Layer("flood")
	en.broadband = v.Layer("broadband")
	en.air = v.Layer("air_stations")
	if n := en.air.Len(); n <= maxListedStations && e.params.AirStations <= 8 {
		en.stations = make([]*spatial.Item, 0, n)
		en.air.Each(func(it *spatial.Item) { en.stations = append(en.stations, it) })
	}
	en.districts = v.Layer("districts")
	if b.env != nil { // a variant; the baseline's walks are set once its lists are made
		e.setWalks(en, false)
	}
	en.over = map[string][]*spatial.Item{}
	for _, name := range gridLayers {
		if lv := v.Layer(name); lv.hasOver() {
			en.over[name] = lv.Over.Items()
		}
	}
	return en
}

// records computes the contributions of items in parallel.
func (e *Engine) records(ctx context.Context, en *env, items []*spatial.Item) ([]bRec, error) {
	out := make([]bRec, len(items))
	k := len(e.nearKinds)
	nearBuf := make([]near, len(items)*k) // one allocation for every record's nearest list
	var walkBuf []float64
	w := 0
	if en.walk != nil {
		w = e.walkTargets()
		walkBuf = make([]float64, len(items)*w)
	}
	workers := runtime.GOMAXPROCS(0)
	const chunk = 512
	var next int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	var cerr error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				start := int(next)
				next += chunk
				mu.Unlock()
				if start >= len(items) {
					return
				}
				if err := ctx.Err(); err != nil {
					mu.Lock()
					cerr = err
					mu.Unlock()
					return
				}
				for i := start; i < min(start+chunk, len(items)); i++ {
					e.buildingRecord(en, items[i], nearBuf[i*k:(i+1)*k], walkBuf[i*w:(i+1)*w], &out[i])
					en.b.census.apply(&out[i]) // the district's census factor (none yet for the baseline's own)
				}
			}
		}()
	}
	wg.Wait()
	return out, cerr
}

// parcelRecords computes every parcel's record from building records given in canonical
// order.
func (e *Engine) parcelRecords(b *baseline, en *env, recs []bRec) []pRec {
	type sums struct{ fp, gfa float64 }
	per := make([]sums, len(b.parcels))
	for i := range recs {
		r := &recs[i]
		if !r.hasParcel {
			continue
		}
		if pi, ok := b.pIdx[r.parcel]; ok {
			per[pi].fp += r.footprint
			per[pi].gfa += r.gfa
		}
	}
	out := make([]pRec, len(b.parcels))
	for i, it := range b.parcels {
		out[i] = e.parcelRecord(en, it, per[i].fp, per[i].gfa)
	}
	return out
}

// variantOrder lists a variant's buildings in canonical order.
func variantOrder(b *baseline, en *env) []*spatial.Item {
	lv := en.buildings
	out := make([]*spatial.Item, 0, lv.Len())
	for _, it := range b.buildings {
		if !lv.Hidden[it.Feature.ID] {
			out = append(out, it)
		}
	}
	if lv.hasOver() {
		out = append(out, lv.Over.Items()...)
	}
	return out
}

// fullState computes a variant from scratch and returns it as a state.
func (e *Engine) fullState(ctx context.Context, b *baseline, changes []Change, v *Variant) (*state, int, error) {
	en := e.newEnv(b, v)
	order := variantOrder(b, en)
	recs, err := e.records(ctx, en, order)
	if err != nil {
		return nil, 0, err
	}
	precs := e.parcelRecords(b, en, recs)
	st := &state{city: b.city, changes: changes, v: v, en: en, recs: map[int64]*bRec{}, precs: map[int64]*pRec{}}
	for i := range recs {
		r := &recs[i]
		if en.buildings.inOver(r.id) {
			st.recs[r.id] = r.clone()
			continue
		}
		if !recEqual(r, &b.recs[b.bIdx[r.id]]) {
			st.recs[r.id] = r.clone()
		}
	}
	for i := range precs {
		if !pRecEqual(&precs[i], &b.precs[i]) {
			p := precs[i]
			st.precs[p.id] = &p
		}
	}
	st.index(b)
	return st, len(recs), nil
}

// dirtyGroups marks the groups (aggregate.parts) holding a record that differs from the
// baseline's: a changed, hidden or added building or parcel, in its old group and its new.
func (st *state) dirtyGroups(b *baseline) []bool {
	dirty := make([]bool, len(b.districts)+1)
	mark := func(d int32) { dirty[groupIndex(d, len(dirty))] = true }
	for _, o := range st.bOrder {
		mark(b.recs[o.idx].district)
		if o.rec != nil {
			mark(o.rec.district)
		}
	}
	for _, o := range st.pOrder {
		mark(b.precs[o.idx].district)
		if o.rec != nil {
			mark(o.rec.district)
		}
	}
	if lv := st.en.buildings; lv.hasOver() {
		for _, it := range lv.Over.Items() {
			mark(st.recs[it.Feature.ID].district)
		}
	}
	return dirty
}

// each calls fn with the state's building records in canonical order.
func (st *state) each(b *baseline, fn func(*bRec)) {
	j := 0
	for i := range b.recs {
		if j < len(st.bOrder) && int(st.bOrder[j].idx) == i {
			if r := st.bOrder[j].rec; r != nil {
				fn(r)
			}
			j++
			continue
		}
		fn(&b.recs[i])
	}
	if lv := st.en.buildings; lv.hasOver() {
		for _, it := range lv.Over.Items() {
			fn(st.recs[it.Feature.ID])
		}
	}
}

func (st *state) eachParcel(b *baseline, fn func(*pRec)) {
	j := 0
	for i := range b.precs {
		if j < len(st.pOrder) && int(st.pOrder[j].idx) == i {
			fn(st.pOrder[j].rec)
			j++
			continue
		}
		fn(&b.precs[i])
	}
}

// rec returns the state's record of a building of its variant, nil when it has none.
func (st *state) rec(b *baseline, id int64) *bRec {
	if r, ok := st.recs[id]; ok {
		return r
	}
	if st.en.buildings.Hidden[id] {
		return nil
	}
	if i, ok := b.bIdx[id]; ok {
		return &b.recs[i]
	}
	return nil
}

// violKey names a violation: a building's or a parcel's breach of one rule.
type violKey struct {
	parcel bool
	id     int64
	rule   uint8
}

type featureKey struct {
	layer string
	id    int64
}

// touched returns the features a change acts on.
func touched(c *Change) featureKey {
	r := rules[c.Kind]
	if c.Target != "" {
		id, _ := parseTarget(c.Target)
		return featureKey{r.layer, id}
	}
	return featureKey{r.layer, c.FeatureID}
}

// diffChanges returns the changes in one list and not the other (by id; changes never
// change once stored).
func diffChanges(old, cur []Change) (gone, added []Change) {
	in := func(cs []Change) map[string]bool {
		m := make(map[string]bool, len(cs))
		for _, c := range cs {
			m[c.ID] = true
		}
		return m
	}
	inOld, inCur := in(old), in(cur)
	for _, c := range old {
		if !inCur[c.ID] {
			gone = append(gone, c)
		}
	}
	for _, c := range cur {
		if !inOld[c.ID] {
			added = append(added, c)
		}
	}
	return gone, added
}

func boxDist(b orb.Bound, p orb.Point) float64 {
	dx := max(0, b.Min[0]-p[0], p[0]-b.Max[0])
	dy := max(0, b.Min[1]-p[1], p[1]-b.Max[1])
	if dx == 0 {
		return dy
	}
	if dy == 0 {
		return dx
	}
	return spatial.Distance(orb.Point{0, 0}, orb.Point{dx, dy})
}

// RunOptions choose how a run is made.
type RunOptions struct {
	// Full ignores the scenario's cached state and recomputes every building.
	Full bool
}

// Run computes the indicators of a scenario at a version with the given changes: a full
// computation the first time, an incremental one after that.
func (e *Engine) Run(ctx context.Context, city *spatial.City, sc Scenario, changes []Change, opt RunOptions) (*Run, error) {
	start := time.Now()
	b, err := e.baselineFor(ctx, city)
	if err != nil {
		return nil, err
	}
	v, err := BuildContext(ctx, city, e.params, changes)
	if err != nil {
		return nil, err
	}
	st := e.takeState(sc.ID)
	incremental := false
	recomputed := 0
	if st != nil && !opt.Full && st.city == city {
		gone, added := diffChanges(st.changes, changes)
		if len(gone)+len(added) <= e.MaxIncrementalChanges {
			if recomputed, err = e.incremental(ctx, b, st, changes, v); err != nil {
				return nil, err
			}
			incremental = true
		}
	}
	if !incremental {
		if st, recomputed, err = e.fullState(ctx, b, changes, v); err != nil {
			return nil, err
		}
	}
	// An incremental run sums again only the groups its changes reach; a full run sums
	// every group, and so checks the other in the tests that compare them.
	var reuse []*groupPart
	var dirty []bool
	if incremental {
		reuse, dirty = b.agg.parts, st.dirtyGroups(b)
	}
	agg := e.aggregate(st.en, func(fn func(*bRec)) { st.each(b, fn) }, func(fn func(*pRec)) { st.eachParcel(b, fn) }, reuse, dirty)
	run := e.assemble(b, agg, st.en)
	e.putState(sc.ID, st)
	run.ID = NewID()
	run.ScenarioID = sc.ID
	run.ScenarioVersion = sc.Version
	run.CreatedAt = time.Now().UTC()
	run.Incremental = incremental
	run.Recomputed = recomputed
	run.Changed = changedFeatures(v)
	run.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	return run, nil
}

// Baseline computes (or returns the cached) baseline indicators of a city, without a
// scenario: every value's variant equals its baseline.
func (e *Engine) Baseline(ctx context.Context, city *spatial.City) (*Run, error) {
	start := time.Now()
	b, err := e.baselineFor(ctx, city)
	if err != nil {
		return nil, err
	}
	run := e.assemble(b, b.agg, b.env)
	run.CreatedAt = time.Now().UTC()
	run.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	return run, nil
}

func (e *Engine) takeState(id string) *state {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.states[id]
	delete(e.states, id) // a concurrent run of the same scenario starts afresh
	return st
}

func (e *Engine) putState(id string, st *state) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clock++
	st.used = e.clock
	e.states[id] = st
	for len(e.states) > e.MaxStates && e.MaxStates > 0 {
		oldest, at := "", int64(-1)
		for k, s := range e.states {
			if at < 0 || s.used < at {
				oldest, at = k, s.used
			}
		}
		delete(e.states, oldest)
	}
}

// Forget drops a scenario's cached state (after it is deleted).
func (e *Engine) Forget(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.states, id)
}

// OpenStates reports how many scenarios have a cached state.
func (e *Engine) OpenStates() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.states)
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
