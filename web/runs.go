package web

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/citytwin/citytwin/scenarios"
)

// listRuns: GET /api/scenarios/{id}/runs — the scenario's stored runs, most recent first, each
// with the version it ran, so that a client shows the last run and whether it is out of date.
func (s *Server) listRuns(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	id := mux.Vars(r)["id"]
	runs, err := svc.Runs(r.Context(), id)
	if err != nil {
		s.scenarioErr(w, r, "invalid", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"scenario_id": id, "runs": runs})
}
