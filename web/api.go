package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/spatial"
)

// Limits of the public feature APIs.
const (
	MaxNearest      = 50
	DefaultFeatures = 100
	MaxFeatures     = 1000
)

// paramError answers 400 naming the query parameter that is wrong.
func (s *Server) paramError(w http.ResponseWriter, r *http.Request, field, msg string) {
	s.writeErr(w, r, badParam(field, "invalid_parameter", errors.New(msg)))
}

// floatParam reads a required number within lo..hi.
func floatParam(q url.Values, name string, lo, hi float64, what string) (float64, string) {
	s := q.Get(name)
	if s == "" {
		return 0, fmt.Sprintf("missing; give %s", what)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Sprintf("%q is not a number; give %s", s, what)
	}
	if v < lo || v > hi {
		return 0, fmt.Sprintf("%v is outside %v..%v", v, lo, hi)
	}
	return v, ""
}

// intParam reads an optional whole number within lo..hi.
func intParam(q url.Values, name string, def, lo, hi int) (int, string) {
	s := q.Get(name)
	if s == "" {
		return def, ""
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Sprintf("%q is not a whole number", s)
	}
	if v < lo || v > hi {
		return 0, fmt.Sprintf("%d is outside %d..%d", v, lo, hi)
	}
	return v, ""
}

// pointParams reads the lon and lat of a query, in degrees; a missing or out-of-range one is
// answered 400 naming it, and ok is false.
func (s *Server) pointParams(w http.ResponseWriter, r *http.Request, q url.Values) (lon, lat float64, ok bool) {
	lon, msg := floatParam(q, "lon", -180, 180, "a longitude in degrees, -180..180")
	if msg != "" {
		s.paramError(w, r, "lon", msg)
		return 0, 0, false
	}
	lat, msg = floatParam(q, "lat", -90, 90, "a latitude in degrees, -90..90")
	if msg != "" {
		s.paramError(w, r, "lat", msg)
		return 0, 0, false
	}
	return lon, lat, true
}

// nearest: GET /api/nearest?lon=&lat=&kind=school&k=3 — the k facilities (of a kind, when
// given) nearest to a point of the baseline city, nearest first, as GeoJSON with their
// straight-line distance in metres (distance_m, to a polygon's edge) and public fields. A
// green-space kind (park, garden, …) searches the public green spaces of that kind instead.
func (s *Server) nearest(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lon, lat, ok := s.pointParams(w, r, q)
	if !ok {
		return
	}
	kind := q.Get("kind")
	layer, filter, ok := nearestFilter(kind)
	if !ok {
		kinds := append(slices.Clone(layers.FacilityKinds), greenKinds()...)
		s.paramError(w, r, "kind", fmt.Sprintf("%q is not a facility or green-space kind; one of %s", kind, strings.Join(kinds, ", ")))
		return
	}
	k, msg := intParam(q, "k", 1, 1, MaxNearest)
	if msg != "" {
		s.paramError(w, r, "k", msg)
		return
	}
	c := s.model.City()
	ix := c.Layer(layer)
	hits := ix.Nearest(c.Proj.ToMetric(orb.Point{lon, lat}), k, 0, filter)
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].Distance != hits[j].Distance {
			return hits[i].Distance < hits[j].Distance
		}
		return hits[i].Feature.ID < hits[j].Feature.ID
	})
	fc := geojson.NewFeatureCollection()
	for _, h := range hits {
		f := publicFeature(h.Feature)
		f.Properties["distance_m"] = math.Round(h.Distance*10) / 10
		fc.Append(f)
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	s.writeGeoJSON(w, r, fc)
}

// nearestFilter returns the layer and the filter of a nearest search for kind: facilities of
// that kind (any facility when kind is empty), or public green spaces of that kind; ok is
// false for a kind of neither.
func nearestFilter(kind string) (layer string, filter func(*spatial.Item) bool, ok bool) {
	switch {
	case kind == "":
		return "facilities", nil, true
	case slices.Contains(layers.FacilityKinds, kind):
		return "facilities", func(it *spatial.Item) bool { return it.Feature.Props["kind"] == kind }, true
	case slices.Contains(greenKinds(), kind):
		return "green_spaces", func(it *spatial.Item) bool {
			return it.Feature.Props["kind"] == kind && it.Feature.Props["public"] != false
		}, true
	}
	return "", nil, false
}

// greenKinds are the kinds of green space of the catalog.
func greenKinds() []string {
	l, _ := layers.Lookup("green_spaces")
	for _, f := range l.Fields {
		if f.Name == "kind" {
			return f.Enum
		}
	}
	return nil
}

// features: GET /api/features/{layer}?bbox=w,s,e,n&limit= — the features of a layer that
// meet a WGS84 box, in ascending id order, public fields only, at most limit of them
// ("truncated": true when there were more).
func (s *Server) features(w http.ResponseWriter, r *http.Request) {
	l, err := layers.Lookup(mux.Vars(r)["layer"])
	if err != nil {
		s.writeErr(w, r, badParam("layer", "invalid_parameter", err))
		return
	}
	q := r.URL.Query()
	b, msg := parseBBox(q.Get("bbox"))
	if msg != "" {
		s.paramError(w, r, "bbox", msg)
		return
	}
	limit, msg := intParam(q, "limit", DefaultFeatures, 1, MaxFeatures)
	if msg != "" {
		s.paramError(w, r, "limit", msg)
		return
	}
	found := layerFeatures(s.model.City(), l.Name, &b, nil)
	truncated := len(found) > limit
	if truncated {
		found = found[:limit]
	}
	fc := geojson.NewFeatureCollection()
	for _, f := range found {
		fc.Append(publicFeature(f))
	}
	fc.ExtraMembers = geojson.Properties{"layer": l.Name, "limit": limit, "truncated": truncated}
	w.Header().Set("Cache-Control", "public, max-age=60")
	s.writeGeoJSON(w, r, fc)
}

// parseBBox reads "west,south,east,north" in WGS84 degrees.
func parseBBox(s string) (orb.Bound, string) {
	const what = "give bbox=west,south,east,north in WGS84 degrees"
	if s == "" {
		return orb.Bound{}, "missing; " + what
	}
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return orb.Bound{}, fmt.Sprintf("%d values; %s", len(parts), what)
	}
	var v [4]float64
	names := [4]string{"west", "south", "east", "north"}
	for i, p := range parts {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return orb.Bound{}, fmt.Sprintf("%s %q is not a number; %s", names[i], p, what)
		}
		v[i] = x
	}
	for i, lim := range [4]float64{180, 90, 180, 90} {
		if math.Abs(v[i]) > lim {
			return orb.Bound{}, fmt.Sprintf("%s %v is outside -%v..%v", names[i], v[i], lim, lim)
		}
	}
	if v[0] >= v[2] {
		return orb.Bound{}, fmt.Sprintf("west %v is not less than east %v", v[0], v[2])
	}
	if v[1] >= v[3] {
		return orb.Bound{}, fmt.Sprintf("south %v is not less than north %v", v[1], v[3])
	}
	return orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}, ""
}

// publicFeature turns a feature into GeoJSON with its public fields only: Props never holds
// restricted fields, and the catalog is checked again so that no restricted name can slip
// through.
func publicFeature(f *layers.Feature) *geojson.Feature {
	gf := geojson.NewFeature(f.Geometry)
	gf.ID = f.ID
	l, _ := layers.Lookup(f.Layer)
	for k, v := range f.Props {
		if l != nil {
			if fd, ok := l.Field(k); !ok || fd.Restricted {
				continue
			}
		}
		gf.Properties[k] = v
	}
	return gf
}

// writeGeoJSON writes a FeatureCollection as application/geo+json.
func (s *Server) writeGeoJSON(w http.ResponseWriter, r *http.Request, fc *geojson.FeatureCollection) {
	b, err := json.Marshal(fc)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
