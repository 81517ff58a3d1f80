package scenarios

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/spatial"
)

// incremental moves st from its changes to cur, recomputing only what the difference can
// reach:
//   - a building added, modified or demolished: that building, and the parcels under its old
//     and new centroid;
//   - a facility or public green space added or removed: the buildings whose nearest one of
//     that kind it was or now is (found by a pass over the cached records comparing the
//     recorded nearest distance: this covers the walking radii of indicators 5, 6, 8 and 14
//     and the nearest-school and nearest-kindergarten assignments of indicator 7); a
//     capacity change moves no building, only the loads summed afterwards;
//   - a zone or broadband polygon: the buildings and parcels within its old and new extent.
//
// With a walking network (walk.go), the walks move too: a facility or green space added or
// removed, a footpath added or a street closed (or such a change taken back) changes the
// distances of its walk target (every target, for the network) only around it, and the
// variant's distances are updated from the last run's there (network.Graph.Update). A walk
// is never shorter than the straight line, so only the buildings within the target's walk
// radius, in a straight line, of what changed (a source's point, a changed edge) can see
// their walk change; each of them is attached again and its walks read afresh, and its record
// changes only when they differ (rewalk).
//
// Everything is then re-aggregated from the records in canonical order, so an incremental
// run gives bit-for-bit the numbers of a full one. It returns the number of buildings
// recomputed.
func (e *Engine) incremental(ctx context.Context, b *baseline, st *state, cur []Change, v *Variant) (int, error) {
	gone, added := diffChanges(st.changes, cur)
	old := st.en
	en := e.newEnv(b, v)
	r := e.reachOf(st.en, v, append(gone, added...))
	zones := e.updateWalks(en, st.en, r.walkChanged(e))
	r.markInExtents(en)
	r.markNearest(b, st)
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n, err := e.recomputeBuildings(ctx, b, st, en, r)
	if err != nil {
		return 0, err
	}
	w, err := e.rewalk(ctx, b, st, old, en, r, zones)
	if err != nil {
		return 0, err
	}
	n += w
	e.recomputeParcels(b, st, en, r.parcels)
	st.changes = cur
	st.index(b)
	return n, nil
}

// reach is what a difference of changes can reach: the buildings and parcels to recompute,
// and the criteria that find more of them (facilities and green spaces whose nearness moved,
// zone and broadband extents).
type reach struct {
	buildings  map[int64]bool
	parcels    map[int64]bool
	facs       []facCrit
	greens     []greenCrit
	bounds     []orb.Bound // zone and broadband extents: the buildings inside are dirty
	zoneBounds []orb.Bound // zone extents: the parcels inside are dirty too
}

// facCrit is a facility of a near kind that was removed (byID: the buildings that recorded
// it as their nearest; point: where it was) or placed at point (the buildings it is now
// nearer to).
type facCrit struct {
	k     int
	id    int64
	point orb.Point
	byID  bool
}

// greenCrit is a green space that was removed (byID; it: its old version) or is now public at
// it (large: it counts as a large one too).
type greenCrit struct {
	id    int64
	it    *spatial.Item
	byID  bool
	large bool
}

// reachOf classifies each feature the changes touch by its layer, comparing it in the
// previous variant (old) and in the new one (v). A feature touched by several changes is
// looked at once.
func (e *Engine) reachOf(old *env, v *Variant, changes []Change) *reach {
	r := &reach{buildings: map[int64]bool{}, parcels: map[int64]bool{}}
	seen := map[featureKey]bool{}
	for _, c := range changes {
		fk := touched(&c)
		if seen[fk] {
			continue
		}
		seen[fk] = true
		if fk.layer == StreetsLayer {
			continue // the walking network: updateWalks compares the networks
		}
		o, okO := old.v.Layer(fk.layer).Get(fk.id)
		n, okN := v.Layer(fk.layer).Get(fk.id)
		switch fk.layer {
		case "buildings":
			r.buildings[fk.id] = true
		case "facilities":
			r.addFacility(e, fk.id, o, okO, n, okN)
		case "green_spaces":
			if okO {
				r.greens = append(r.greens, greenCrit{id: fk.id, it: o, byID: true})
			}
			if okN && e.isPublic(n.Feature) {
				r.greens = append(r.greens, greenCrit{id: fk.id, it: n, large: e.isLargePublic(n)})
			}
		case "zoning", "broadband":
			for _, it := range []*spatial.Item{o, n} {
				if it != nil {
					r.bounds = append(r.bounds, it.Bound)
					if fk.layer == "zoning" {
						r.zoneBounds = append(r.zoneBounds, it.Bound)
					}
				}
			}
		}
	}
	return r
}

// addFacility records a facility's old (o) and new (n) versions as criteria, unless only
// its capacity or name changed: that moves no building's nearest facility, only the loads,
// which are summed afresh on every run.
func (r *reach) addFacility(e *Engine, id int64, o *spatial.Item, okO bool, n *spatial.Item, okN bool) {
	if okO && okN && orb.Equal(o.Geom, n.Geom) && str(o.Feature.Props, "kind") == str(n.Feature.Props, "kind") {
		return
	}
	if okO {
		if k := slices.Index(e.nearKinds, str(o.Feature.Props, "kind")); k >= 0 {
			r.facs = append(r.facs, facCrit{k: k, id: id, point: o.Centroid, byID: true})
		}
	}
	if okN {
		if k := slices.Index(e.nearKinds, str(n.Feature.Props, "kind")); k >= 0 {
			r.facs = append(r.facs, facCrit{k: k, id: id, point: n.Centroid})
		}
	}
}

// walkChanged returns, per walk target, the features whose attachments the difference
// changes: the facilities of its kind, and the green spaces for the green targets.
func (r *reach) walkChanged(e *Engine) []map[int64]bool {
	out := make([]map[int64]bool, e.walkTargets())
	set := func(t int, id int64) {
		if out[t] == nil {
			out[t] = map[int64]bool{}
		}
		out[t][id] = true
	}
	for _, f := range r.facs {
		set(f.k, f.id)
	}
	for _, g := range r.greens {
		set(e.targetGreen(), g.id)
		set(e.targetGreenLarge(), g.id)
	}
	return out
}

// rewalk reads afresh the walks of the buildings in the zones where they may have changed
// (from updateWalks; old is the last run's env), except those recomputed already, and keeps a new record for each whose
// walks differ. It returns how many buildings it read.
func (e *Engine) rewalk(ctx context.Context, b *baseline, st *state, old, en *env, r *reach, zones [][]walkZone) (int, error) {
	// Each zone's buildings are searched within its radius, a moved zone's within the
	// longest cached stub too (a baseline building's attachment moves only within its stub
	// of a changed edge); the overlay's buildings, never cached, are looked at one by one.
	var items []*spatial.Item
	taken := map[int64]bool{}
	movedOf := map[int64]bool{} // whether a building's attachment moved, once asked
	consider := func(it *spatial.Item, z walkZone) {
		id := it.Feature.ID
		if taken[id] || r.buildings[id] || boxDist(z.bound, it.Centroid) > z.radius {
			return
		}
		if z.moved {
			m, ok := movedOf[id]
			if !ok {
				m = e.attachMoved(old, en, it.Centroid, zones[0])
				movedOf[id] = m
			}
			if !m {
				return
			}
		}
		taken[id] = true
		items = append(items, it)
	}
	for _, zs := range zones {
		for _, z := range zs {
			pad := z.radius
			if z.moved {
				pad = min(pad, b.att.maxStub+1e-6)
			}
			en.buildings.Base.Search(z.bound.Pad(pad), func(it *spatial.Item) bool {
				if !en.buildings.Hidden[it.Feature.ID] {
					consider(it, z)
				}
				return true
			})
			if en.buildings.hasOver() {
				for _, it := range en.buildings.Over.Items() {
					consider(it, z)
				}
			}
		}
	}
	// Canonical order, so that the records are kept alike whatever the zones' order.
	slices.SortFunc(items, func(a, b *spatial.Item) int { return cmp.Compare(a.Feature.ID, b.Feature.ID) })
	if len(items) == 0 {
		return 0, nil
	}
	w := e.walkTargets()
	walks := make([]float64, len(items)*w)
	if err := parallel(ctx, len(items), func(i int) {
		e.walks(en, items[i].Centroid, walks[i*w:(i+1)*w])
	}); err != nil {
		return 0, err
	}
	for i, it := range items {
		id := it.Feature.ID
		old := st.rec(b, id)
		nw := walks[i*w : (i+1)*w : (i+1)*w]
		if old == nil || slices.Equal(old.walk, nw) {
			continue
		}
		rec := old.clone()
		rec.walk, rec.base = slices.Clone(nw), false
		if bi, ok := b.bIdx[id]; ok && !en.buildings.inOver(id) && recEqual(rec, &b.recs[bi]) {
			delete(st.recs, id) // back to the baseline's record
			continue
		}
		st.recs[id] = rec
	}
	return len(items), nil
}

// parallel calls fn(i) for i in 0..n-1 on every processor, in chunks, stopping with ctx's
// error once ctx ends.
func parallel(ctx context.Context, n int, fn func(int)) error {
	const chunk = 256
	var next atomic.Int64
	var wg sync.WaitGroup
	var stopped atomic.Bool
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				start := int(next.Add(chunk)) - chunk
				if start >= n {
					return
				}
				if ctx.Err() != nil {
					stopped.Store(true)
					return
				}
				for i := start; i < min(start+chunk, n); i++ {
					fn(i)
				}
			}
		})
	}
	wg.Wait()
	if stopped.Load() {
		return ctx.Err()
	}
	return nil
}

// markInExtents marks the buildings within zone and broadband extents, and the parcels
// within zone extents, by their centroid, as the indicators assign them.
func (r *reach) markInExtents(en *env) {
	for _, bd := range r.bounds {
		en.buildings.Search(bd, func(it *spatial.Item) bool {
			if bd.Contains(it.Centroid) {
				r.buildings[it.Feature.ID] = true
			}
			return true
		})
	}
	for _, bd := range r.zoneBounds {
		en.parcels.Search(bd, func(it *spatial.Item) bool {
			if bd.Contains(it.Centroid) {
				r.parcels[it.Feature.ID] = true
			}
			return true
		})
	}
}

// markNearest marks, in one pass over the records as the last run left them (st still holds
// the old variant), the buildings whose nearest facility or green space a change may move.
// Buildings the new variant lost are dirty anyway, and new ones have no record yet.
func (r *reach) markNearest(b *baseline, st *state) {
	if len(r.facs) == 0 && len(r.greens) == 0 {
		return
	}
	st.each(b, func(rec *bRec) {
		if rec != nil && !r.buildings[rec.id] && r.movesNearest(rec) {
			r.buildings[rec.id] = true
		}
	})
}

// movesNearest reports whether one of the criteria can change a building's recorded nearest
// facility or green space: a removed one it recorded, or a new one at most as far as what it
// recorded.
func (r *reach) movesNearest(rec *bRec) bool {
	for _, f := range r.facs {
		nr := rec.near[f.k]
		if f.byID && nr.id == f.id || !f.byID && spatial.Distance(f.point, rec.c) <= nr.d {
			return true
		}
	}
	for _, g := range r.greens {
		if g.byID {
			if rec.green.id == g.id || rec.greenLarge.id == g.id {
				return true
			}
			continue
		}
		lim := rec.green.d
		if g.large {
			lim = max(lim, rec.greenLarge.d)
		}
		if boxDist(g.it.Bound, rec.c) > lim {
			continue // its box is farther than both records: the exact distance is too
		}
		d := spatial.Distance(g.it.Geom, rec.c)
		if d <= rec.green.d || g.large && d <= rec.greenLarge.d {
			return true
		}
	}
	return false
}

// recomputeBuildings recomputes the reached buildings against the new variant (en) and moves
// st to it, keeping in st.recs only the records that differ from the baseline's. The parcels
// a building left or joined, or whose sums it changes, are added to r.parcels. It returns the
// number of buildings recomputed.
func (e *Engine) recomputeBuildings(ctx context.Context, b *baseline, st *state, en *env, r *reach) (int, error) {
	items, oldRecs := e.dirtyBuildings(b, st, en, r)
	recs, err := e.records(ctx, en, items)
	if err != nil {
		return 0, err
	}
	st.en, st.v = en, en.v // from here on st.rec reads the new variant's hidden set
	for i := range recs {
		rec, o := &recs[i], oldRecs[i]
		if o == nil || o.parcel != rec.parcel || o.hasParcel != rec.hasParcel || o.footprint != rec.footprint || o.gfa != rec.gfa {
			if o != nil && o.hasParcel {
				r.parcels[o.parcel] = true
			}
			if rec.hasParcel {
				r.parcels[rec.parcel] = true
			}
		}
		if !en.buildings.inOver(rec.id) {
			if bi, ok := b.bIdx[rec.id]; ok && recEqual(rec, &b.recs[bi]) {
				delete(st.recs, rec.id) // back to the baseline's record
				continue
			}
		}
		st.recs[rec.id] = rec.clone()
	}
	// Buildings that left the variant (demolished, or an added one whose change was removed).
	for id := range st.recs {
		if _, ok := en.buildings.Get(id); !ok {
			delete(st.recs, id)
		}
	}
	return len(items), nil
}

// dirtyBuildings returns the reached buildings still in the new variant, in id order, with
// their records from the last run (nil for a new building). A reached building the new
// variant no longer has loses its record, and its parcel is reached.
func (e *Engine) dirtyBuildings(b *baseline, st *state, en *env, r *reach) (items []*spatial.Item, oldRecs []*bRec) {
	ids := make([]int64, 0, len(r.buildings))
	for id := range r.buildings {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	items = make([]*spatial.Item, 0, len(ids))
	oldRecs = make([]*bRec, 0, len(ids))
	var goneIDs []int64
	for _, id := range ids {
		it, ok := en.buildings.Get(id)
		if !ok {
			goneIDs = append(goneIDs, id)
			continue
		}
		items = append(items, it)
		oldRecs = append(oldRecs, st.rec(b, id))
	}
	for _, id := range goneIDs {
		if rec := st.rec(b, id); rec != nil && rec.hasParcel {
			r.parcels[rec.parcel] = true
		}
		delete(st.recs, id)
	}
	return items, oldRecs
}

// recomputeParcels recomputes the dirty parcels from the buildings on them, keeping in
// st.precs only the records that differ from the baseline's.
func (e *Engine) recomputeParcels(b *baseline, st *state, en *env, dirty map[int64]bool) {
	for pid := range dirty {
		pi, ok := b.pIdx[pid]
		if !ok {
			continue
		}
		pit := b.parcels[pi]
		fp, gfa := parcelSums(b, st, en, pit)
		pr := e.parcelRecord(en, pit, fp, gfa)
		if pRecEqual(&pr, &b.precs[pi]) {
			delete(st.precs, pid)
		} else {
			st.precs[pid] = &pr
		}
	}
}

// parcelSums returns the footprint and floor area of the buildings on parcel pit, summed in
// canonical order (baseline buildings by index, then the overlay's by id) so that the sums
// are bit-for-bit those of a full run, whatever order the index search returns them in.
func parcelSums(b *baseline, st *state, en *env, pit *spatial.Item) (fp, gfa float64) {
	pid := pit.Feature.ID
	type part struct {
		over    bool
		key     int64
		fp, gfa float64
	}
	var parts []part
	en.buildings.Search(pit.Bound, func(it *spatial.Item) bool {
		r := st.rec(b, it.Feature.ID)
		if r == nil || !r.hasParcel || r.parcel != pid {
			return true
		}
		if en.buildings.inOver(it.Feature.ID) {
			parts = append(parts, part{true, it.Feature.ID, r.footprint, r.gfa})
		} else {
			parts = append(parts, part{false, int64(b.bIdx[it.Feature.ID]), r.footprint, r.gfa})
		}
		return true
	})
	sort.Slice(parts, func(i, j int) bool {
		if parts[i].over != parts[j].over {
			return !parts[i].over
		}
		return parts[i].key < parts[j].key
	})
	for _, p := range parts {
		fp += p.fp
		gfa += p.gfa
	}
	return fp, gfa
}
