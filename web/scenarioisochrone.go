package web

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/citytwin/citytwin/scenarios"
)

// scenarioIsochrone answers GET /api/scenarios/{id}/isochrone?lon=&lat=&minutes=[&speed_kmh=]:
// the answer of GET /api/isochrone (isochrone.go) computed on the scenario's variant: its
// walking network (the city's with its footpaths and closed streets) and its facilities
// (added, removed and modified ones). Read like the scenario: the public sees a published
// scenario's only.
func (s *Server) scenarioIsochrone(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	q, ok := s.walkQueryParams(w, r)
	if !ok {
		return
	}
	v, _, err := svc.Variant(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		s.scenarioErr(w, r, "invalid_change", err)
		return
	}
	g, err := v.WalkNetwork()
	if err != nil {
		s.scenarioErr(w, r, "invalid_change", err)
		return
	}
	fc, err := walkReach(g, v.Layer("facilities"), v.City, q)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	s.writeGeoJSON(w, r, fc)
}
