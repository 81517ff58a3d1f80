package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb/maptile"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/spatial"
	"github.com/citytwin/citytwin/tiles"
)

// MaxBodyBytes bounds the body of every API request (413 beyond).
const MaxBodyBytes = 1 << 20

// scenarioService returns the scenario service, answering 503 when there is none.
func (s *Server) withScenarios(next func(w http.ResponseWriter, r *http.Request, svc *scenarios.Service)) http.HandlerFunc {
	return s.require(RolePlanner, func(w http.ResponseWriter, r *http.Request) {
		svc := s.opts.Scenarios
		if svc == nil {
			writeError(w, http.StatusServiceUnavailable, "no_scenarios", "this server has no scenario store")
			return
		}
		w.Header().Set("Cache-Control", "private, no-store")
		next(w, r, svc)
	})
}

// writeScenarioErr maps the scenario package's errors to HTTP statuses, in one place.
// fieldCode is the error code of a validation error ("invalid_change" for changes).
func writeScenarioErr(w http.ResponseWriter, err error, fieldCode string) {
	var fe *layers.FieldError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		tooLarge(w, mbe.Limit)
	case errors.Is(err, scenarios.ErrTooLarge):
		writeFieldError(w, http.StatusRequestEntityTooLarge, "too_large", err.Error(), "changes")
	case errors.Is(err, scenarios.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, scenarios.ErrPrecondition):
		writeError(w, http.StatusPreconditionFailed, "precondition_failed", err.Error())
	case errors.Is(err, scenarios.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", err.Error()+"; read the scenario again and retry")
	case errors.Is(err, scenarios.ErrInUse):
		writeError(w, http.StatusConflict, "change_in_use", err.Error())
	case errors.Is(err, scenarios.ErrNoCity):
		w.Header().Set("Retry-After", "2")
		writeError(w, http.StatusServiceUnavailable, "loading", "the city model is still loading; retry shortly")
	case errors.As(err, &fe):
		writeFieldError(w, http.StatusUnprocessableEntity, fieldCode, fe.Message, fe.Field)
	case unavailable(err):
		writeUnavailable(w)
	case errors.Is(err, context.Canceled):
		writeError(w, http.StatusServiceUnavailable, "cancelled", "the request was cancelled")
	default:
		writeErr(w, err)
	}
}

// badJSON answers a body that is not the JSON expected.
func badJSON(w http.ResponseWriter, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeScenarioErr(w, err, "")
		return
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te) && te.Field != "":
		writeFieldError(w, http.StatusBadRequest, "bad_json", fmt.Sprintf("want %s, got a JSON %s", te.Type, te.Value), jsonField(te.Field))
	case errors.As(err, &se):
		writeError(w, http.StatusBadRequest, "bad_json", fmt.Sprintf("the body is not valid JSON (at byte %d): %v", se.Offset, err))
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, "bad_json", "the body is empty; send a JSON object")
	default:
		writeError(w, http.StatusBadRequest, "bad_json", "the body is not the JSON expected: "+err.Error())
	}
}

// decodeBody reads a JSON body into v; its size is bounded by limitBody (limits.go). An
// empty body is allowed when optional.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, optional, strict bool) bool {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		badJSON(w, err)
		return false
	}
	if optional && len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	if jsonDepth(body, MaxJSONDepth) > MaxJSONDepth {
		writeError(w, http.StatusBadRequest, "too_deep", fmt.Sprintf("the body nests arrays and objects more than %d deep", MaxJSONDepth))
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		badJSON(w, err)
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "bad_json", "the body holds more than one JSON value")
		return false
	}
	return true
}

// ifMatch reads the version in an If-Match header (`"3"`, `W/"3"` or `3`); nil when the
// header is absent or "*". A tag that is not a version can match no version: -1.
func ifMatch(r *http.Request) *int64 {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return nil
	}
	h = strings.TrimPrefix(h, "W/")
	v, err := strconv.ParseInt(strings.Trim(h, `"`), 10, 64)
	if err != nil {
		v = -1
	}
	return &v
}

func setVersion(w http.ResponseWriter, version int64) {
	w.Header().Set("ETag", `"`+strconv.FormatInt(version, 10)+`"`)
}

func scenarioURL(id string) string { return "/api/scenarios/" + id }

// listScenarios: GET /api/scenarios.
func (s *Server) listScenarios(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	list, err := svc.List(r.Context())
	if err != nil {
		writeScenarioErr(w, err, "invalid")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"scenarios": list})
}

type scenarioInput struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

// createScenario: POST /api/scenarios {"name", "description"}.
func (s *Server) createScenario(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	var in scenarioInput
	if !decodeBody(w, r, &in, false, true) {
		return
	}
	name, desc := "", ""
	if in.Name != nil {
		name = *in.Name
	}
	if in.Description != nil {
		desc = *in.Description
	}
	sc, err := svc.Create(r.Context(), name, desc)
	if err != nil {
		writeScenarioErr(w, err, "invalid")
		return
	}
	w.Header().Set("Location", scenarioURL(sc.ID))
	setVersion(w, sc.Version)
	writeJSON(w, http.StatusCreated, sc)
}

// getScenario: GET /api/scenarios/{id}.
func (s *Server) getScenario(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	sc, _, err := svc.Get(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		writeScenarioErr(w, err, "invalid")
		return
	}
	setVersion(w, sc.Version)
	writeJSON(w, http.StatusOK, sc)
}

// patchScenario: PATCH /api/scenarios/{id} {"name"?, "description"?}, If-Match.
func (s *Server) patchScenario(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	var in scenarioInput
	if !decodeBody(w, r, &in, false, true) {
		return
	}
	sc, err := svc.Update(r.Context(), mux.Vars(r)["id"], ifMatch(r), scenarios.Patch{Name: in.Name, Description: in.Description})
	if err != nil {
		writeScenarioErr(w, err, "invalid")
		return
	}
	setVersion(w, sc.Version)
	writeJSON(w, http.StatusOK, sc)
}

// deleteScenario: DELETE /api/scenarios/{id}, If-Match.
func (s *Server) deleteScenario(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	if err := svc.Delete(r.Context(), mux.Vars(r)["id"], ifMatch(r)); err != nil {
		writeScenarioErr(w, err, "invalid")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// cloneScenario: POST /api/scenarios/{id}/clone {"name"?, "description"?}.
func (s *Server) cloneScenario(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	var in scenarioInput
	if !decodeBody(w, r, &in, true, true) {
		return
	}
	sc, err := svc.Clone(r.Context(), mux.Vars(r)["id"], in.Name, in.Description)
	if err != nil {
		writeScenarioErr(w, err, "invalid")
		return
	}
	w.Header().Set("Location", scenarioURL(sc.ID))
	setVersion(w, sc.Version)
	writeJSON(w, http.StatusCreated, sc)
}

// listChanges: GET /api/scenarios/{id}/changes.
func (s *Server) listChanges(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	sc, changes, err := svc.Get(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		writeScenarioErr(w, err, "invalid")
		return
	}
	setVersion(w, sc.Version)
	writeJSON(w, http.StatusOK, map[string]any{"scenario_id": sc.ID, "version": sc.Version, "changes": changes})
}

// changesInput is one change, or {"changes": [...]}.
type changesInput struct {
	Changes *[]scenarios.ChangeInput `json:"changes"`
	scenarios.ChangeInput
}

// addChanges: POST /api/scenarios/{id}/changes, one change or {"changes": [...]} (all or
// nothing), If-Match.
func (s *Server) addChanges(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	var in changesInput
	if !decodeBody(w, r, &in, false, false) {
		return
	}
	var list []scenarios.ChangeInput
	if in.Changes != nil {
		if in.Kind != "" {
			writeFieldError(w, http.StatusBadRequest, "bad_json", `send one change, or {"changes": [...]}, not both`, "kind")
			return
		}
		list = *in.Changes
	} else {
		list = []scenarios.ChangeInput{in.ChangeInput}
	}
	sc, added, err := svc.AddChanges(r.Context(), mux.Vars(r)["id"], ifMatch(r), list)
	if err != nil {
		writeScenarioErr(w, err, "invalid_change")
		return
	}
	setVersion(w, sc.Version)
	writeJSON(w, http.StatusCreated, map[string]any{"scenario": sc, "changes": added})
}

// deleteChange: DELETE /api/scenarios/{id}/changes/{cid}, If-Match.
func (s *Server) deleteChange(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	v := mux.Vars(r)
	sc, err := svc.RemoveChange(r.Context(), v["id"], v["cid"], ifMatch(r))
	if err != nil {
		writeScenarioErr(w, err, "invalid_change")
		return
	}
	setVersion(w, sc.Version)
	writeJSON(w, http.StatusOK, sc)
}

// runScenario: POST /api/scenarios/{id}/run[?full=true], If-Match.
func (s *Server) runScenario(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	full := false
	if f := r.URL.Query().Get("full"); f != "" {
		var err error
		if full, err = strconv.ParseBool(f); err != nil {
			writeFieldError(w, http.StatusBadRequest, "invalid", "full must be true or false", "full")
			return
		}
	}
	run, err := svc.Run(r.Context(), mux.Vars(r)["id"], ifMatch(r), scenarios.RunOptions{Full: full})
	if err != nil {
		writeScenarioErr(w, err, "invalid_change")
		return
	}
	w.Header().Set("Location", scenarioURL(run.ScenarioID)+"/runs/"+run.ID)
	writeJSON(w, http.StatusCreated, run)
}

// getRun: GET /api/scenarios/{id}/runs/{rid}.
func (s *Server) getRun(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	v := mux.Vars(r)
	run, err := svc.GetRun(r.Context(), v["id"], v["rid"])
	if err != nil {
		writeScenarioErr(w, err, "invalid")
		return
	}
	writeJSON(w, http.StatusOK, run)
}

// exportRunCSV: GET /api/scenarios/{id}/runs/{rid}/export.csv.
func (s *Server) exportRunCSV(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	v := mux.Vars(r)
	run, err := svc.GetRun(r.Context(), v["id"], v["rid"])
	if err != nil {
		writeScenarioErr(w, err, "invalid")
		return
	}
	var buf bytes.Buffer
	if err := scenarios.WriteCSV(&buf, run); err != nil {
		writeErr(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="run-`+run.ID+`.csv"`)
	_, _ = w.Write(buf.Bytes())
}

// exportRunGeoJSON: GET /api/scenarios/{id}/runs/{rid}/export.geojson: the run's changed
// features and its violating features (their geometry as the scenario has them now).
func (s *Server) exportRunGeoJSON(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	v := mux.Vars(r)
	run, err := svc.GetRun(r.Context(), v["id"], v["rid"])
	if err != nil {
		writeScenarioErr(w, err, "invalid")
		return
	}
	variant, _, err := svc.Variant(r.Context(), v["id"])
	if err != nil {
		writeScenarioErr(w, err, "invalid_change")
		return
	}
	fc := scenarios.GeoJSON(run, func(layer string, id int64) *layers.Feature {
		if lv := variant.Layer(layer); lv != nil {
			if it, ok := lv.Get(id); ok {
				return it.Feature
			}
		}
		return nil
	})
	w.Header().Set("Content-Disposition", `attachment; filename="run-`+run.ID+`.geojson"`)
	writeGeoJSON(w, fc)
}

// variantTile: GET /api/scenarios/{id}/tiles/{layers}/{z}/{x}/{y}.mvt — the scenario's
// variant, with a "change" field (added, modified, demolished) on changed features;
// demolished features stay in the tile so the map can show what goes.
func (s *Server) variantTile(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	v := mux.Vars(r)
	ls, err := layers.ParseList(v["layers"])
	if err != nil {
		if errors.Is(err, layers.ErrUnknownLayer) {
			writeFieldError(w, http.StatusNotFound, "unknown_layer", err.Error(), "layers")
		} else {
			writeFieldError(w, http.StatusBadRequest, "invalid", err.Error(), "layers")
		}
		return
	}
	t, err := tiles.ParseTile(v["z"], v["x"], v["y"])
	if err != nil {
		var ce *tiles.CoordError
		if errors.As(err, &ce) {
			writeFieldError(w, http.StatusBadRequest, "bad_tile", ce.Message, ce.Field)
		} else {
			writeError(w, http.StatusBadRequest, "bad_tile", err.Error())
		}
		return
	}
	variant, _, err := svc.Variant(r.Context(), v["id"])
	if err != nil {
		writeScenarioErr(w, err, "invalid_change")
		return
	}
	data, err := encodeVariantTile(variant, t, ls)
	if err != nil {
		writeErr(w, err)
		return
	}
	// Planner data: private, revalidated by ETag (which changes with the scenario's version
	// through the bytes it hashes).
	tile := tiles.NewTile(data)
	writeRepresentation(w, r, representation{
		contentType: mvtContentType, cacheControl: "private, no-cache",
		body: tile.Data, etag: tile.ETag, gzip: tile.Gzip,
	})
}

// encodeVariantTile encodes a tile of a variant with the tiles package's encoder.
func encodeVariantTile(v *scenarios.Variant, t maptile.Tile, ls []*layers.Layer) ([]byte, error) {
	q := v.City.Proj.Bound(tiles.QueryBound(t))
	sel := make([]tiles.LayerFeatures, 0, len(ls))
	for _, l := range ls {
		lv := v.Layer(l.Name)
		var fs []*layers.Feature
		lv.Search(q, func(it *spatial.Item) bool {
			fs = append(fs, it.Feature)
			return true
		})
		for id, st := range lv.Status {
			if st == scenarios.StatusDemolished {
				if it, ok := lv.Base.Get(id); ok && it.Bound.Intersects(q) {
					fs = append(fs, it.Feature)
				}
			}
		}
		sel = append(sel, tiles.LayerFeatures{Layer: l, Features: fs})
	}
	extras := map[string]map[string]any{
		scenarios.StatusAdded:      {"change": scenarios.StatusAdded},
		scenarios.StatusModified:   {"change": scenarios.StatusModified},
		scenarios.StatusDemolished: {"change": scenarios.StatusDemolished},
	}
	return tiles.Encode(t, sel, func(f *layers.Feature) map[string]any {
		if st, ok := v.Changed(f.Layer)[f.ID]; ok {
			return extras[st]
		}
		return nil
	})
}

// compareScenarios: GET /api/scenarios/compare?ids=a,b,c.
func (s *Server) compareScenarios(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	raw := r.URL.Query().Get("ids")
	var ids []string
	for _, id := range strings.Split(raw, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	cmp, err := svc.Compare(r.Context(), ids)
	if err != nil {
		var fe *layers.FieldError
		if errors.As(err, &fe) && fe.Field == "ids" {
			writeFieldError(w, http.StatusBadRequest, "invalid", fe.Message, fe.Field)
			return
		}
		writeScenarioErr(w, err, "invalid_change")
		return
	}
	writeJSON(w, http.StatusOK, cmp)
}
