package scenarios

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"sort"
	"strconv"
	"time"

	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/layers"
)

// Value is one indicator for the baseline and the variant, and their difference.
type Value struct {
	Baseline float64 `json:"baseline"`
	Variant  float64 `json:"variant"`
	Diff     float64 `json:"diff"`
}

// DistrictResult holds the indicators of one district.
type DistrictResult struct {
	ID         int64            `json:"id"`
	Name       string           `json:"name"`
	Code       string           `json:"code,omitempty"`
	Indicators map[string]Value `json:"indicators"`
}

// ChangedFeature is a feature a scenario added, modified or removed, with its public
// properties, for variant tiles and exports.
type ChangedFeature struct {
	Layer      string            `json:"layer"`
	ID         int64             `json:"id"`
	Change     string            `json:"change"` // added, modified, demolished
	Geometry   *geojson.Geometry `json:"geometry"`
	Properties map[string]any    `json:"properties"`
}

// Run is the result of running a scenario, in the wire format of the API.
type Run struct {
	ID              string     `json:"id"`
	ScenarioID      string     `json:"scenario_id"`
	ScenarioVersion int64      `json:"scenario_version"`
	CreatedAt       time.Time  `json:"created_at"`
	DurationMS      float64    `json:"duration_ms"`
	Incremental     bool       `json:"incremental"`
	Recomputed      int        `json:"recomputed_buildings"`
	Parameters      Parameters `json:"parameters"`
	// DistanceMethods says, per access indicator, which distance produced it: "network" (the
	// shortest walk on the streets) or "straight" (docs/domain.md, "Distances").
	DistanceMethods map[string]string `json:"distance_methods"`
	Indicators      map[string]Value  `json:"indicators"`
	// Sources says where each indicator comes from: SourceCensus, SourceSurveyed or
	// SourceModelled (sources.go).
	Sources    map[string]string `json:"sources"`
	Districts  []DistrictResult  `json:"districts"`
	Violations []Violation       `json:"violations"`
	// ViolationsTruncated is true when the variant has more than MaxViolationsListed
	// violations: the list then holds every new one first (up to the limit), then
	// existing ones; the indicators count them all.
	ViolationsTruncated bool             `json:"violations_truncated"`
	Overloaded          []Overload       `json:"overloaded_facilities"`
	Changed             []ChangedFeature `json:"changed_features"`
}

// RunSummary names a stored run: the version of its scenario it ran, when, and how long it
// took (GET /api/scenarios/{id}/runs).
type RunSummary struct {
	ID              string    `json:"id"`
	ScenarioID      string    `json:"scenario_id"`
	ScenarioVersion int64     `json:"scenario_version"`
	CreatedAt       time.Time `json:"created_at"`
	DurationMS      float64   `json:"duration_ms"`
}

// SortRuns orders runs most recent first: by created_at, then id, both descending (the order
// in which PruneRuns keeps them).
func SortRuns(runs []RunSummary) {
	sort.Slice(runs, func(i, j int) bool {
		if !runs[i].CreatedAt.Equal(runs[j].CreatedAt) {
			return runs[i].CreatedAt.After(runs[j].CreatedAt)
		}
		return runs[i].ID > runs[j].ID
	})
}

func (e *Engine) assemble(b *baseline, agg *aggregate, en *env) *Run {
	r := &Run{Parameters: e.params, DistanceMethods: e.distanceMethods(b), Indicators: pair(b.agg.ind, agg.ind),
		Sources: maps.Clone(b.census.sources), Violations: []Violation{}, Overloaded: []Overload{}, Changed: []ChangedFeature{}}
	for i, d := range b.districts {
		r.Districts = append(r.Districts, DistrictResult{ID: d.Feature.ID, Name: str(d.Feature.Props, "name"), Code: str(d.Feature.Props, "code"),
			Indicators: pair(b.agg.dind[i], agg.dind[i])})
	}
	if r.Districts == nil {
		r.Districts = []DistrictResult{}
	}
	r.Violations, r.ViolationsTruncated = e.violationList(b, agg, en)
	r.Overloaded = append(r.Overloaded, agg.overloaded...)
	return r
}

// MaxViolationsListed bounds the violations a run lists.
const MaxViolationsListed = 10000

// violationList makes the run's list of the variant's violations, new ones first.
func (e *Engine) violationList(b *baseline, agg *aggregate, en *env) ([]Violation, bool) {
	make1 := func(layer string, id int64, v viol, isNew bool) Violation {
		w := Violation{Feature: layer + "/" + itoa(id), Layer: layer, ID: id, Rule: ruleNames[v.rule], Value: v.value, Limit: v.limit, Zone: v.zone, New: isNew}
		if v.rule == ruleUses {
			w.Value = layers.BuildingUses[v.use]
			w.Limit = []string{}
			if z, ok := en.zoning.Get(v.zone); ok {
				if l, ok := z.Feature.Props["allowed_uses"].([]string); ok {
					w.Limit = l
				}
			}
		}
		return w
	}
	total := 0
	for _, pt := range agg.parts {
		total += pt.violations
	}
	out := make([]Violation, 0, min(total, MaxViolationsListed))
	// Two passes: new violations, then the baseline's. A group whose part is the
	// baseline's has no new violation; once the list is full, nothing more is looked at.
	for _, wantNew := range []bool{true, false} {
		for _, layer := range []string{"buildings", "parcels"} {
			for g, pt := range agg.parts {
				if wantNew && agg.reused[g] {
					continue
				}
				pt.eachViolation(layer, func(id int64, base bool, v viol) bool {
					isNew := !base && !b.violations[violKey{layer == "parcels", id, v.rule}]
					if isNew == wantNew {
						out = append(out, make1(layer, id, v, isNew))
					}
					return len(out) < MaxViolationsListed
				})
				if len(out) >= MaxViolationsListed {
					return out, total > len(out)
				}
			}
		}
	}
	return out, total > len(out)
}

func pair(base, variant map[string]float64) map[string]Value {
	out := make(map[string]Value, len(base))
	for k, bv := range base {
		vv := variant[k]
		out[k] = Value{Baseline: bv, Variant: vv, Diff: vv - bv}
	}
	return out
}

// changedFeatures lists the variant's changed features: added and modified ones as they are
// in the variant, demolished ones as they were in the baseline. Public fields only.
func changedFeatures(v *Variant) []ChangedFeature {
	out := []ChangedFeature{}
	for _, name := range v.ChangedLayers() {
		lv := v.Layer(name)
		ids := make([]int64, 0, len(lv.Status))
		for id := range lv.Status {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		for _, id := range ids {
			st := lv.Status[id]
			var f *layers.Feature
			if st == StatusDemolished {
				it, _ := lv.Base.Get(id)
				f = it.Feature
			} else {
				it, _ := lv.Over.Get(id)
				f = it.Feature
			}
			out = append(out, ChangedFeature{Layer: name, ID: id, Change: st, Geometry: geojson.NewGeometry(f.Geometry), Properties: publicProps(f)})
		}
	}
	return out
}

// publicProps returns a copy of the feature's public properties (Props never holds
// restricted fields; the copy keeps callers from sharing maps).
func publicProps(f *layers.Feature) map[string]any {
	out := make(map[string]any, len(f.Props))
	l, err := layers.Lookup(f.Layer)
	for k, v := range f.Props {
		if err == nil {
			if fd, ok := l.Field(k); ok && fd.Restricted {
				continue
			}
		}
		out[k] = v
	}
	return out
}

// WriteCSV writes a run as CSV: one row per indicator and area (the city, then each
// district) with baseline, variant and difference, then one row per violation.
func WriteCSV(w io.Writer, r *Run) error {
	cw := csv.NewWriter(w)
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	_ = cw.Write([]string{"section", "area", "indicator", "baseline", "variant", "diff"})
	names := sortedKeys(r.Indicators)
	for _, n := range names {
		v := r.Indicators[n]
		_ = cw.Write([]string{"indicator", "city", n, f(v.Baseline), f(v.Variant), f(v.Diff)})
	}
	for _, d := range r.Districts {
		for _, n := range sortedKeys(d.Indicators) {
			v := d.Indicators[n]
			_ = cw.Write([]string{"indicator", d.Name, n, f(v.Baseline), f(v.Variant), f(v.Diff)})
		}
	}
	_ = cw.Write([]string{"section", "feature", "rule", "value", "limit", "new"})
	for _, v := range r.Violations {
		_ = cw.Write([]string{"violation", v.Feature, v.Rule, fmt.Sprint(csvValue(v.Value)), fmt.Sprint(csvValue(v.Limit)), strconv.FormatBool(v.New)})
	}
	cw.Flush()
	return cw.Error()
}

func csvValue(v any) any {
	switch t := v.(type) {
	case []string:
		b, _ := json.Marshal(t)
		return string(b)
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64)
	}
	return v
}

func sortedKeys(m map[string]Value) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// GeoJSON returns a run's changed features and violating features as a FeatureCollection
// (WGS84, public fields only). Changed features carry "change"; violations carry "rule",
// "value", "limit" and "new", with the geometry of the feature in the variant.
func GeoJSON(r *Run, lookup func(layer string, id int64) *layers.Feature) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for _, c := range r.Changed {
		f := &geojson.Feature{Type: "Feature", ID: c.ID, Geometry: c.Geometry.Geometry(), Properties: geojson.Properties{}}
		for k, v := range c.Properties {
			f.Properties[k] = v
		}
		f.Properties["layer"] = c.Layer
		f.Properties["change"] = c.Change
		fc.Append(f)
	}
	for _, v := range r.Violations {
		src := lookup(v.Layer, v.ID)
		if src == nil {
			continue
		}
		f := &geojson.Feature{Type: "Feature", ID: v.ID, Geometry: src.Geometry, Properties: geojson.Properties{
			"layer": v.Layer, "violation": true, "rule": v.Rule, "value": v.Value, "limit": v.Limit, "zone": v.Zone, "new": v.New,
		}}
		fc.Append(f)
	}
	return fc
}
