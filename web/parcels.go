package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"
)

// parcel: GET /api/parcels/{id}, planner role — one parcel of the baseline city with every
// field, its restricted ones (owner, land book) included. This is the one way personal data
// leaves the server, so the answer is never cached by anyone (private, no-store) and the
// route sits behind require(RolePlanner).
func (s *Server) parcel(w http.ResponseWriter, r *http.Request) {
	raw := mux.Vars(r)["id"]
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		writeFieldError(w, http.StatusBadRequest, "invalid_parameter", fmt.Sprintf("%q is not a parcel id: want a positive whole number", raw), "id")
		return
	}
	it, ok := s.model.City().Layer("parcels").Get(id)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no parcel %d", id))
		return
	}
	gf := publicFeature(it.Feature)
	for k, v := range it.Feature.Restricted {
		gf.Properties[k] = v
	}
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, gf)
}
