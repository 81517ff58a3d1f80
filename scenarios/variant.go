package scenarios

import (
	"context"
	"fmt"
	"maps"
	"math"
	"sort"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/network"
	"github.com/citytwin/citytwin/spatial"
)

// Change states of a feature in a variant, as variant tiles and exports report them.
const (
	StatusAdded      = "added"
	StatusModified   = "modified"
	StatusDemolished = "demolished"
)

// Variant is the city as a scenario changes it, copy-on-write: the baseline spatial.City is
// never touched nor copied; each changed layer gets a small overlay index of added and
// modified features and a set of hidden baseline ids (removed, or replaced by their modified
// version), and every query merges the two.
type Variant struct {
	City *spatial.City
	// Params gives the rules a change's derived values follow (storey height, dwelling size,
	// facility capacities): the engine's parameters.
	Params Parameters
	layers map[string]*LayerView
	// The walking network as the scenario's add_footpath and close_street changes make it
	// (walkedit.go): nil while it has none; walkKeys names those changes in order, closed
	// the streets closed.
	walkNet  *network.Graph
	walkKeys []string
	closed   map[int64]bool
}

// NewVariant returns the baseline seen as a variant with no changes, deriving the values its
// changes imply with the parameters p.
func NewVariant(c *spatial.City, p Parameters) *Variant {
	v := &Variant{City: c, Params: p, layers: map[string]*LayerView{}}
	for _, name := range layers.Names() {
		if base := c.Layer(name); base != nil {
			v.layers[name] = &LayerView{Base: base}
		}
	}
	return v
}

// Build applies a scenario's stored changes to the city, deriving the values they imply with
// the parameters p. A change that no longer applies (say the baseline lost the building it
// modifies) is an error naming it.
func Build(city *spatial.City, p Parameters, changes []Change) (*Variant, error) {
	return BuildContext(context.Background(), city, p, changes)
}

// BuildContext is Build, stopping with ctx's error as soon as ctx ends: a scenario holds up
// to MaxChangesPerScenario changes, each checked against the variant so far (but not its
// polygons for self-intersection: stored changes passed that check when they were added).
func BuildContext(ctx context.Context, city *spatial.City, p Parameters, changes []Change) (*Variant, error) {
	v := NewVariant(city, p)
	for i := range changes {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("build the variant: %w", err)
		}
		o, err := prepare(v, &changes[i], false)
		if err != nil {
			return nil, fmt.Errorf("change %s: %w", changes[i].ID, err)
		}
		v.apply(o)
	}
	return v, nil
}

// Layer returns the merged view of a catalog layer, nil for a name outside the catalog.
// A Variant is safe for concurrent reads once its changes are applied.
func (v *Variant) Layer(name string) *LayerView { return v.layers[name] }

// Changed returns the change state of every changed feature of a layer (id → state).
func (v *Variant) Changed(layer string) map[int64]string {
	if lv, ok := v.layers[layer]; ok {
		return lv.Status
	}
	return nil
}

// ChangedLayers lists the layers with at least one changed feature, in catalog order.
func (v *Variant) ChangedLayers() []string {
	var out []string
	for _, name := range layers.Names() {
		if lv, ok := v.layers[name]; ok && len(lv.Status) > 0 {
			out = append(out, name)
		}
	}
	return out
}

// put adds or replaces a feature in the overlay: a new feature (id >= AddedIDBase) is
// "added"; a baseline feature is hidden and its new version "modified".
func (v *Variant) put(f *layers.Feature) {
	lv := v.Layer(f.Layer)
	lv.init()
	if _, inBase := lv.Base.Get(f.ID); inBase {
		lv.Hidden[f.ID] = true
		lv.Status[f.ID] = StatusModified
	} else if _, ok := lv.Status[f.ID]; !ok {
		lv.Status[f.ID] = StatusAdded
	}
	lv.Over.Insert(f)
}

// remove takes a feature out of the variant: a feature the scenario added simply goes; a
// baseline feature is hidden and reported "demolished".
func (v *Variant) remove(layer string, id int64) {
	lv := v.Layer(layer)
	lv.init()
	lv.Over.Delete(id)
	if _, inBase := lv.Base.Get(id); inBase {
		lv.Hidden[id] = true
		lv.Status[id] = StatusDemolished
	} else {
		delete(lv.Status, id)
	}
}

// LayerView is one layer of a variant: Base with the Hidden ids left out, plus Over.
type LayerView struct {
	Base   *spatial.Index
	Over   *spatial.Index   // added and modified features; nil while the layer is unchanged
	Hidden map[int64]bool   // baseline ids removed or replaced by a version in Over
	Status map[int64]string // change state by feature id
}

func (lv *LayerView) init() {
	if lv.Over == nil {
		lv.Over = spatial.NewIndex(lv.Base.Layer, lv.Base.Projection())
		lv.Hidden = map[int64]bool{}
		lv.Status = map[int64]string{}
	}
}

// derive returns a view of the same changes over another pair of indexes of the same
// features (for example one facility kind), sharing the hidden ids.
func derive(base, over *spatial.Index, parent *LayerView) *LayerView {
	lv := &LayerView{Base: base, Over: over}
	if parent != nil {
		lv.Hidden, lv.Status = parent.Hidden, parent.Status
	}
	return lv
}

func (lv *LayerView) visible(it *spatial.Item) bool { return !lv.Hidden[it.Feature.ID] }

// baseFilter combines the hidden set with a caller's filter for queries on Base.
func (lv *LayerView) baseFilter(filter func(*spatial.Item) bool) func(*spatial.Item) bool {
	if len(lv.Hidden) == 0 {
		return filter
	}
	if filter == nil {
		return lv.visible
	}
	return func(it *spatial.Item) bool { return !lv.Hidden[it.Feature.ID] && filter(it) }
}

func (lv *LayerView) hasOver() bool { return lv.Over != nil && lv.Over.Len() > 0 }

// inOver reports whether the feature's variant version is in the overlay.
func (lv *LayerView) inOver(id int64) bool {
	if lv.Over == nil {
		return false
	}
	_, ok := lv.Over.Get(id)
	return ok
}

// Get returns the variant's version of a feature.
func (lv *LayerView) Get(id int64) (*spatial.Item, bool) {
	if lv.Over != nil {
		if it, ok := lv.Over.Get(id); ok {
			return it, true
		}
	}
	if lv.Hidden[id] {
		return nil, false
	}
	return lv.Base.Get(id)
}

// Len is the number of features in the variant's layer.
func (lv *LayerView) Len() int {
	n := lv.Base.Len() - len(lv.Hidden)
	if lv.Over != nil {
		n += lv.Over.Len()
	}
	return n
}

// Search calls fn for every visible item whose bound meets the metric bound b (baseline
// items first), until fn returns false.
func (lv *LayerView) Search(b orb.Bound, fn func(*spatial.Item) bool) {
	stopped := false
	lv.Base.Search(b, func(it *spatial.Item) bool {
		if lv.Hidden[it.Feature.ID] {
			return true
		}
		if !fn(it) {
			stopped = true
			return false
		}
		return true
	})
	if !stopped && lv.hasOver() {
		lv.Over.Search(b, fn)
	}
}

// Each calls fn for every visible item in the variant's canonical order: baseline items by
// ascending id, then overlay items by ascending id.
func (lv *LayerView) Each(fn func(*spatial.Item)) {
	for _, it := range lv.Base.Items() {
		if !lv.Hidden[it.Feature.ID] {
			fn(it)
		}
	}
	if lv.hasOver() {
		for _, it := range lv.Over.Items() {
			fn(it)
		}
	}
}

// hitLess orders hits by distance, then id, so equal distances resolve the same way in
// every run.
func hitLess(a, b spatial.Hit) bool {
	if a.Distance != b.Distance {
		return a.Distance < b.Distance
	}
	return a.Feature.ID < b.Feature.ID
}

// Nearest returns up to k visible items nearest to the metric point p that pass filter and
// lie within maxDist (<= 0: no limit), ordered by distance then id.
func (lv *LayerView) Nearest(p orb.Point, k int, maxDist float64, filter func(*spatial.Item) bool) []spatial.Hit {
	hits := lv.Base.Nearest(p, k, maxDist, lv.baseFilter(filter))
	if lv.hasOver() {
		hits = append(hits, lv.Over.Nearest(p, k, maxDist, filter)...)
	}
	sort.Slice(hits, func(i, j int) bool { return hitLess(hits[i], hits[j]) })
	if len(hits) > k {
		hits = hits[:k]
	}
	return hits
}

// NearestOne returns the nearest visible item passing filter, the lowest id among equally
// near ones, so the answer does not depend on the R-tree's shape.
func (lv *LayerView) NearestOne(p orb.Point, filter func(*spatial.Item) bool) (spatial.Hit, bool) {
	best, ok := nearestOne(lv.Base, p, lv.baseFilter(filter))
	if lv.hasOver() {
		if h, found := nearestOne(lv.Over, p, filter); found && (!ok || hitLess(h, best)) {
			best, ok = h, true
		}
	}
	return best, ok
}

func nearestOne(ix *spatial.Index, p orb.Point, filter func(*spatial.Item) bool) (spatial.Hit, bool) {
	hits := ix.Nearest(p, 2, 0, filter)
	switch {
	case len(hits) == 0:
		return spatial.Hit{}, false
	case len(hits) == 1 || hits[1].Distance > hits[0].Distance:
		return hits[0], true
	}
	// A tie: Within sorts by distance, then id.
	return ix.Within(p, hits[0].Distance, filter)[0], true
}

// Within returns every visible item within dist metres of p passing filter, ordered by
// distance then id.
func (lv *LayerView) Within(p orb.Point, dist float64, filter func(*spatial.Item) bool) []spatial.Hit {
	hits := lv.Base.Within(p, dist, lv.baseFilter(filter))
	if lv.hasOver() {
		hits = append(hits, lv.Over.Within(p, dist, filter)...)
		sort.Slice(hits, func(i, j int) bool { return hitLess(hits[i], hits[j]) })
	}
	return hits
}

// Containing returns the visible polygon items containing p, in ascending id order.
func (lv *LayerView) Containing(p orb.Point) []*spatial.Item {
	var out []*spatial.Item
	for _, it := range lv.Base.Containing(p) {
		if !lv.Hidden[it.Feature.ID] {
			out = append(out, it)
		}
	}
	if lv.hasOver() {
		out = append(out, lv.Over.Containing(p)...)
		sort.Slice(out, func(i, j int) bool { return out[i].Feature.ID < out[j].Feature.ID })
	}
	return out
}

// visitContaining calls fn for every visible polygon item containing p, in no particular
// order, without allocating: the hot path of the engine.
func (lv *LayerView) visitContaining(p orb.Point, fn func(*spatial.Item)) {
	pb := orb.Bound{Min: p, Max: p}
	lv.Base.Search(pb, func(it *spatial.Item) bool {
		if !lv.Hidden[it.Feature.ID] && it.Bound.Contains(p) && spatial.Contains(it.Geom, p) {
			fn(it)
		}
		return true
	})
	if lv.hasOver() {
		lv.Over.Search(pb, func(it *spatial.Item) bool {
			if it.Bound.Contains(p) && spatial.Contains(it.Geom, p) {
				fn(it)
			}
			return true
		})
	}
}

// firstContaining returns the lowest-id visible polygon containing p.
func (lv *LayerView) firstContaining(p orb.Point) *spatial.Item {
	var best *spatial.Item
	lv.visitContaining(p, func(it *spatial.Item) {
		if best == nil || it.Feature.ID < best.Feature.ID {
			best = it
		}
	})
	return best
}

// nearestWithin returns the least (distance, id) visible item within r of p — the same
// answer as NearestOne whenever r is at least the nearest distance — by a box search.
func (lv *LayerView) nearestWithin(p orb.Point, r float64) (spatial.Hit, bool) {
	var best spatial.Hit
	ok := false
	b := orb.Bound{Min: orb.Point{p[0] - r, p[1] - r}, Max: orb.Point{p[0] + r, p[1] + r}}
	consider := func(it *spatial.Item) {
		d := spatial.Distance(it.Geom, p)
		if d <= r && (!ok || d < best.Distance || d == best.Distance && it.Feature.ID < best.Feature.ID) {
			best, ok = spatial.Hit{Item: it, Distance: d}, true
		}
	}
	lv.Base.Search(b, func(it *spatial.Item) bool {
		if !lv.Hidden[it.Feature.ID] {
			consider(it)
		}
		return true
	})
	if lv.hasOver() {
		lv.Over.Search(b, func(it *spatial.Item) bool {
			consider(it)
			return true
		})
	}
	return best, ok
}

// withProps returns a copy of f with props merged over its properties (nil values delete).
func withProps(f *layers.Feature, props map[string]any, g orb.Geometry) *layers.Feature {
	nf := &layers.Feature{Layer: f.Layer, ID: f.ID, Geometry: f.Geometry, Props: maps.Clone(f.Props), Restricted: f.Restricted}
	if nf.Props == nil {
		nf.Props = map[string]any{}
	}
	for k, val := range props {
		if val == nil {
			delete(nf.Props, k)
		} else {
			nf.Props[k] = val
		}
	}
	if g != nil {
		nf.Geometry = g
	}
	return nf
}

// num reads a numeric property (float64 or int64) and whether it is present.
func num(props map[string]any, name string) (float64, bool) {
	switch v := props[name].(type) {
	case float64:
		if math.IsNaN(v) {
			return 0, false
		}
		return v, true
	case int64:
		return float64(v), true
	case int:
		return float64(v), true
	}
	return 0, false
}

func str(props map[string]any, name string) string {
	s, _ := props[name].(string)
	return s
}
