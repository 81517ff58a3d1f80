package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/network"
	"github.com/citytwin/citytwin/scenarios"
)

// Isochrone limits: minutes of walking, the walking speed, and how far from the nearest street
// a point may be and still be on the network.
const (
	DefaultWalkSpeedKMH = 4.8
	MaxIsochroneMinutes = 30
	MaxWalkSpeedKMH     = 20.0
	MinWalkSpeedKMH     = 1.0
	MaxIsochroneStub    = 500.0 // metres
)

// isochrone answers GET /api/isochrone?lon=&lat=&minutes=[&speed_kmh=]: what a walker at
// the point reaches on the baseline city's walking network within the minutes, as GeoJSON:
// the "reach" lines (the authoritative answer), a "hull" polygon for display (it also covers
// gaps a walker cannot cross), and the facilities reached, each with its kind and its walk in
// metres (walk_m), nearest first by kind. The reach feature sums them up by kind.
func (s *Server) isochrone(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lon, lat, ok := s.pointParams(w, r, q)
	if !ok {
		return
	}
	minutes, msg := intParam(q, "minutes", 0, 1, MaxIsochroneMinutes)
	if msg == "" && minutes == 0 {
		msg = fmt.Sprintf("missing; give whole minutes of walking, 1..%d", MaxIsochroneMinutes)
	}
	if msg != "" {
		s.paramError(w, r, "minutes", msg)
		return
	}
	speed := DefaultWalkSpeedKMH
	if q.Get("speed_kmh") != "" {
		if speed, msg = floatParam(q, "speed_kmh", MinWalkSpeedKMH, MaxWalkSpeedKMH, "a walking speed in km/h"); msg != "" {
			s.paramError(w, r, "speed_kmh", msg)
			return
		}
	}
	city, err := s.model.Current()
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	g, err := scenarios.StreetNetwork(city)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	if g == nil {
		s.writeErr(w, r, badParam("lon", "invalid_parameter", errors.New("the city has no walking network (no streets)")))
		return
	}
	p := orb.Point{lon, lat}
	src, ok := g.Attach(p, MaxIsochroneStub)
	if !ok || !city.Bound.Contains(p) {
		s.paramError(w, r, "lon", fmt.Sprintf("(%v, %v) is outside the walking network's extent: no street within %v m", lon, lat, MaxIsochroneStub))
		return
	}
	limit := float64(minutes) * speed * 1000 / 60
	iso := g.Isochrone(src, limit)
	fc := iso.FeatureCollection()

	// The facilities within the walk, each attached to the network as the engine attaches it.
	type reached struct {
		kind string
		walk float64
		id   int64
	}
	var found []reached
	d := g.Distances([]network.Attachment{src}, limit)
	facilities := city.Layer("facilities")
	xy := city.Proj.ToMetric(p)
	for _, h := range facilities.Within(xy, limit, nil) { // a walk is never shorter than the straight line
		a, ok := g.Attach(h.Feature.Geometry.(orb.Point), 0)
		if !ok {
			continue
		}
		if walk, _, ok := d.At(a); ok {
			found = append(found, reached{str(h.Feature.Props["kind"]), walk, h.Feature.ID})
		}
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].kind != found[j].kind {
			return found[i].kind < found[j].kind
		}
		if found[i].walk != found[j].walk {
			return found[i].walk < found[j].walk
		}
		return found[i].id < found[j].id
	})
	byKind := map[string]int{}
	for _, f := range found {
		it, _ := facilities.Get(f.id)
		gf := publicFeature(it.Feature)
		gf.Properties["walk_m"] = math.Round(f.walk*10) / 10
		fc.Append(gf)
		byKind[f.kind]++
	}
	for _, f := range fc.Features {
		if k, _ := f.Properties["kind"].(string); k == "reach" || k == "hull" {
			f.Properties["minutes"] = minutes
			f.Properties["speed_kmh"] = speed
			f.Properties["facilities_by_kind"] = byKind
		}
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	s.writeGeoJSON(w, r, fc)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
