package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/network"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/spatial"
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
	q, ok := s.walkQueryParams(w, r)
	if !ok {
		return
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
	fc, err := walkReach(g, city.Layer("facilities"), city, q)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	s.writeGeoJSON(w, r, fc)
}

// walkQuery is a request for an isochrone: the walker's point, minutes and speed.
type walkQuery struct {
	at      orb.Point
	minutes int
	speed   float64 // km/h
}

// walkQueryParams reads lon, lat, minutes and speed_kmh, answering a 400 when one is wrong.
func (s *Server) walkQueryParams(w http.ResponseWriter, r *http.Request) (walkQuery, bool) {
	q := r.URL.Query()
	lon, lat, ok := s.pointParams(w, r, q)
	if !ok {
		return walkQuery{}, false
	}
	minutes, msg := intParam(q, "minutes", 0, 1, MaxIsochroneMinutes)
	if msg == "" && minutes == 0 {
		msg = fmt.Sprintf("missing; give whole minutes of walking, 1..%d", MaxIsochroneMinutes)
	}
	if msg != "" {
		s.paramError(w, r, "minutes", msg)
		return walkQuery{}, false
	}
	speed := DefaultWalkSpeedKMH
	if q.Get("speed_kmh") != "" {
		if speed, msg = floatParam(q, "speed_kmh", MinWalkSpeedKMH, MaxWalkSpeedKMH, "a walking speed in km/h"); msg != "" {
			s.paramError(w, r, "speed_kmh", msg)
			return walkQuery{}, false
		}
	}
	return walkQuery{orb.Point{lon, lat}, minutes, speed}, true
}

// facilityIndex is where walkReach finds the facilities: the city's layer (spatial.Index) or
// a scenario variant's view of it (scenarios.LayerView).
type facilityIndex interface {
	Within(p orb.Point, dist float64, filter func(*spatial.Item) bool) []spatial.Hit
}

// walkReach is the isochrone answer for q on the walking network g (nil: the city has no
// streets) with the facilities fac, in the city whose extent and projection city gives: the
// reach, its hull and the facilities reached, each attached to the network as the engine
// attaches it. A point outside the network is a 400 on lon.
func walkReach(g *network.Graph, fac facilityIndex, city *spatial.City, q walkQuery) (*geojson.FeatureCollection, error) {
	if g == nil {
		return nil, badParam("lon", "invalid_parameter", errors.New("the city has no walking network (no streets)"))
	}
	p := q.at
	src, ok := g.Attach(p, MaxIsochroneStub)
	if !ok || !city.Bound.Contains(p) {
		return nil, badParam("lon", "invalid_parameter", fmt.Errorf("(%v, %v) is outside the walking network's extent: no street within %v m", p[0], p[1], MaxIsochroneStub))
	}
	limit := float64(q.minutes) * q.speed * 1000 / 60
	fc := g.Isochrone(src, limit).FeatureCollection()

	type reached struct {
		kind string
		walk float64
		f    *layers.Feature
	}
	var found []reached
	d := g.Distances([]network.Attachment{src}, limit)
	for _, h := range fac.Within(city.Proj.ToMetric(p), limit, nil) { // a walk is never shorter than the straight line
		a, ok := g.Attach(h.Feature.Geometry.(orb.Point), 0)
		if !ok {
			continue
		}
		if walk, _, ok := d.At(a); ok {
			found = append(found, reached{str(h.Feature.Props["kind"]), walk, h.Feature})
		}
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].kind != found[j].kind {
			return found[i].kind < found[j].kind
		}
		if found[i].walk != found[j].walk {
			return found[i].walk < found[j].walk
		}
		return found[i].f.ID < found[j].f.ID
	})
	byKind := map[string]int{}
	for _, f := range found {
		gf := publicFeature(f.f)
		gf.Properties["walk_m"] = math.Round(f.walk*10) / 10
		fc.Append(gf)
		byKind[f.kind]++
	}
	for _, f := range fc.Features {
		if k, _ := f.Properties["kind"].(string); k == "reach" || k == "hull" {
			f.Properties["minutes"] = q.minutes
			f.Properties["speed_kmh"] = q.speed
			f.Properties["facilities_by_kind"] = byKind
		}
	}
	return fc, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
