package scenarios

import (
	"fmt"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/spatial"
)

// Warning is a conflict of a change with the city's plan that does not stop the change: a
// building or facility placed in a public green space or in a flood zone. The API returns
// them beside the changes it accepted; a client words them by Code.
type Warning struct {
	// Code: WarnInPublicPark or WarnInFloodZone.
	Code string `json:"code"`
	// ChangeID is the change the warning is about.
	ChangeID string `json:"change_id"`
	// Layer and FeatureID name the baseline feature the change conflicts with.
	Layer     string `json:"layer"`
	FeatureID int64  `json:"feature_id"`
	// Name and Kind of the green space (in_public_park), when it has them.
	Name string `json:"name,omitempty"`
	Kind string `json:"kind,omitempty"`
	// ReturnPeriodYears of the flood zone (in_flood_zone): the smallest of those it touches.
	ReturnPeriodYears int64  `json:"return_period_years,omitempty"`
	Message           string `json:"message"`
}

// The warning codes.
const (
	WarnInPublicPark = "in_public_park"
	WarnInFloodZone  = "in_flood_zone"
)

// Warnings lists the plan conflicts of changes against the baseline city: a change that
// places a building or a facility (a new one, or a building given a new footprint) with its
// centroid or any corner inside a public green space (one without `public` counts as public,
// as for the indicators) or inside a flood zone. One warning per change and code: the first
// green space by id, the flood zone of the smallest return period.
func Warnings(city *spatial.City, changes []Change) []Warning {
	out := []Warning{}
	for i := range changes {
		c := &changes[i]
		if c.Geometry == nil || c.Geometry.Coordinates == nil {
			continue
		}
		if r := rules[c.Kind]; r.layer != "buildings" && r.layer != "facilities" {
			continue
		}
		pts := probePoints(city.Proj, c.Geometry.Coordinates)
		if g := firstContaining(city.Layer("green_spaces"), pts, func(it *spatial.Item) bool {
			public, ok := it.Feature.Props["public"].(bool)
			return public || !ok
		}); g != nil {
			w := Warning{Code: WarnInPublicPark, ChangeID: c.ID, Layer: "green_spaces", FeatureID: g.Feature.ID,
				Name: str(g.Feature.Props, "name"), Kind: str(g.Feature.Props, "kind")}
			w.Message = fmt.Sprintf("%s places it in public green space %d", c.Kind, g.Feature.ID)
			out = append(out, w)
		}
		var flood *spatial.Item
		var period int64
		eachContaining(city.Layer("flood"), pts, func(it *spatial.Item) {
			if v, ok := num(it.Feature.Props, "return_period_years"); ok && v > 0 && (flood == nil || int64(v) < period) {
				flood, period = it, int64(v)
			}
		})
		if flood != nil {
			out = append(out, Warning{Code: WarnInFloodZone, ChangeID: c.ID, Layer: "flood", FeatureID: flood.Feature.ID, ReturnPeriodYears: period,
				Message: fmt.Sprintf("%s places it in a flood zone of return period %d years", c.Kind, period)})
		}
	}
	return out
}

// probePoints are the metric points of g a conflict is looked for at: its centroid and every
// corner (the point itself for a point).
func probePoints(p spatial.Projection, g orb.Geometry) []orb.Point {
	m := p.Geometry(g)
	pts := []orb.Point{spatial.Centroid(m)}
	var walk func(orb.Geometry)
	walk = func(g orb.Geometry) {
		switch t := g.(type) {
		case orb.Polygon:
			for _, r := range t {
				pts = append(pts, r...)
			}
		case orb.MultiPolygon:
			for _, poly := range t {
				walk(poly)
			}
		}
	}
	walk(m)
	return pts
}

// eachContaining calls fn once for every polygon of ix that contains one of the points.
func eachContaining(ix *spatial.Index, pts []orb.Point, fn func(*spatial.Item)) {
	if ix == nil || len(pts) == 0 {
		return
	}
	b := orb.MultiPoint(pts).Bound()
	ix.Search(b, func(it *spatial.Item) bool {
		for _, q := range pts {
			if spatial.Contains(it.Geom, q) {
				fn(it)
				break
			}
		}
		return true
	})
}

// firstContaining is the polygon of ix of the smallest id that contains one of the points
// and passes keep; nil when none does.
func firstContaining(ix *spatial.Index, pts []orb.Point, keep func(*spatial.Item) bool) *spatial.Item {
	var first *spatial.Item
	eachContaining(ix, pts, func(it *spatial.Item) {
		if keep(it) && (first == nil || it.Feature.ID < first.Feature.ID) {
			first = it
		}
	})
	return first
}
