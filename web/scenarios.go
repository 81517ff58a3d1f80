package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/tiles"
)

// MaxBodyBytes bounds the body of every API request (413 beyond).
const MaxBodyBytes = 1 << 20

// scenarioHandler serves a scenario route with the scenario service.
type scenarioHandler func(w http.ResponseWriter, r *http.Request, svc *scenarios.Service)

// withScenarios serves a route that writes scenarios: the planner role only.
func (s *Server) withScenarios(next scenarioHandler) http.HandlerFunc {
	return s.require(RolePlanner, s.scenarioReads(next))
}

// scenarioReads serves a route that reads scenarios to every caller: a planner reads what
// their token may (scenarios.Service checks it), the public — no token, or a token of the
// public role — the published scenarios only, others being 404 as if they did not exist.
// It answers 503 when the server has no scenario store.
func (s *Server) scenarioReads(next scenarioHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		svc := s.opts.Scenarios
		if svc == nil {
			writeError(w, http.StatusServiceUnavailable, "no_scenarios", "this server has no scenario store")
			return
		}
		w.Header().Set("Cache-Control", "private, no-store")
		next(w, r.WithContext(scenarios.WithCaller(r.Context(), callerOf(r))), svc)
	}
}

// callerOf names the caller for scenario ownership: "t" and the first 16 hex digits of the
// SHA-256 of their bearer token (the token itself is never kept), and whether it is an
// admin's. Below the planner role the caller is the public.
func callerOf(r *http.Request) scenarios.Caller {
	if roleOf(r.Context()) < RolePlanner {
		return scenarios.Caller{Public: true}
	}
	c := scenarios.Caller{Admin: roleOf(r.Context()) >= RoleAdmin}
	if token, ok := bearerToken(r.Header.Get("Authorization")); ok && token != "" {
		h := sha256.Sum256([]byte(token))
		c.ID = "t" + hex.EncodeToString(h[:8])
	}
	return c
}

// scenarioErr answers an error of the scenario service: a quota (429 or 413), a write the
// caller may not make (403), else through writeErr with code for a field error.
func (s *Server) scenarioErr(w http.ResponseWriter, r *http.Request, code string, err error) {
	if writeQuota(w, err) {
		return
	}
	if errors.Is(err, scenarios.ErrForbidden) {
		writeError(w, http.StatusForbidden, "forbidden", err.Error())
		return
	}
	s.writeErr(w, r, invalidAs(code, err))
}

// decodeBody reads a JSON body into v; its size is bounded by limitBody (limits.go). An
// empty body is allowed when optional.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any, optional, strict bool) bool {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.writeErr(w, r, &bodyError{err})
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
		s.writeErr(w, r, &bodyError{err})
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

// requireIfMatch reads the If-Match of a write to an existing scenario, which must have one:
// without it the answer is 428 asking for the scenario's ETag, and ok is false. "*" is an
// If-Match too: the write then applies to whatever version is stored (version nil).
func requireIfMatch(w http.ResponseWriter, r *http.Request) (version *int64, ok bool) {
	if strings.TrimSpace(r.Header.Get("If-Match")) == "" {
		writeError(w, http.StatusPreconditionRequired, "precondition_required",
			"a write to scenario "+mux.Vars(r)["id"]+" needs If-Match with the scenario's ETag, "+
				`as the ETag header of GET `+scenarioURL(mux.Vars(r)["id"])+` or of the last write gives it (If-Match: "3")`)
		return nil, false
	}
	return ifMatch(r), true
}

func setVersion(w http.ResponseWriter, version int64) {
	w.Header().Set("ETag", `"`+strconv.FormatInt(version, 10)+`"`)
}

func scenarioURL(id string) string { return "/api/scenarios/" + id }

// listScenarios: GET /api/scenarios[?visibility=private|team|published]: the scenarios the
// caller may read (the public: the published ones), of one visibility when asked.
func (s *Server) listScenarios(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	var only scenarios.Visibility
	if v, ok := r.URL.Query()["visibility"]; ok {
		only = scenarios.Visibility(strings.Join(v, ","))
		if err := scenarios.CheckVisibility(only); err != nil {
			s.writeErr(w, r, badParam("visibility", "invalid_parameter", err))
			return
		}
	}
	list, err := svc.List(r.Context())
	if err != nil {
		s.scenarioErr(w, r, "invalid", err)
		return
	}
	if only != "" {
		kept := list[:0]
		for _, sc := range list {
			if sc.Visibility.OrDefault() == only {
				kept = append(kept, sc)
			}
		}
		list = kept
	}
	writeJSON(w, http.StatusOK, map[string]any{"scenarios": list})
}

type scenarioInput struct {
	Name        *string               `json:"name"`
	Description *string               `json:"description"`
	Visibility  *scenarios.Visibility `json:"visibility"`
}

// createScenario: POST /api/scenarios {"name", "description"}.
func (s *Server) createScenario(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	var in scenarioInput
	if !s.decodeBody(w, r, &in, false, true) {
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
		s.scenarioErr(w, r, "invalid", err)
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
		s.scenarioErr(w, r, "invalid", err)
		return
	}
	setVersion(w, sc.Version)
	writeJSON(w, http.StatusOK, sc)
}

// patchScenario: PATCH /api/scenarios/{id} {"name"?, "description"?, "visibility"?}, If-Match
// (required, as on every write to an existing scenario: requireIfMatch).
func (s *Server) patchScenario(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	version, ok := requireIfMatch(w, r)
	if !ok {
		return
	}
	var in scenarioInput
	if !s.decodeBody(w, r, &in, false, true) {
		return
	}
	sc, err := svc.Update(r.Context(), mux.Vars(r)["id"], version, scenarios.Patch{Name: in.Name, Description: in.Description, Visibility: in.Visibility})
	if err != nil {
		s.scenarioErr(w, r, "invalid", err)
		return
	}
	setVersion(w, sc.Version)
	writeJSON(w, http.StatusOK, sc)
}

// deleteScenario: DELETE /api/scenarios/{id}, If-Match.
func (s *Server) deleteScenario(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	version, ok := requireIfMatch(w, r)
	if !ok {
		return
	}
	if err := svc.Delete(r.Context(), mux.Vars(r)["id"], version); err != nil {
		s.scenarioErr(w, r, "invalid", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// cloneScenario: POST /api/scenarios/{id}/clone {"name"?, "description"?}.
func (s *Server) cloneScenario(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	var in scenarioInput
	if !s.decodeBody(w, r, &in, true, true) {
		return
	}
	sc, err := svc.Clone(r.Context(), mux.Vars(r)["id"], in.Name, in.Description)
	if err != nil {
		s.scenarioErr(w, r, "invalid", err)
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
		s.scenarioErr(w, r, "invalid", err)
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
	version, ok := requireIfMatch(w, r)
	if !ok {
		return
	}
	var in changesInput
	if !s.decodeBody(w, r, &in, false, false) {
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
	sc, added, err := svc.AddChanges(r.Context(), mux.Vars(r)["id"], version, list)
	if err != nil {
		s.scenarioErr(w, r, "invalid_change", err)
		return
	}
	setVersion(w, sc.Version)
	writeJSON(w, http.StatusCreated, map[string]any{"scenario": sc, "changes": added, "warnings": svc.Warnings(added)})
}

// deleteChange: DELETE /api/scenarios/{id}/changes/{cid}, If-Match.
func (s *Server) deleteChange(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	version, ok := requireIfMatch(w, r)
	if !ok {
		return
	}
	v := mux.Vars(r)
	sc, err := svc.RemoveChange(r.Context(), v["id"], v["cid"], version)
	if err != nil {
		s.scenarioErr(w, r, "invalid_change", err)
		return
	}
	setVersion(w, sc.Version)
	writeJSON(w, http.StatusOK, sc)
}

// runScenario: POST /api/scenarios/{id}/run[?full=true], If-Match.
func (s *Server) runScenario(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	version, ok := requireIfMatch(w, r)
	if !ok {
		return
	}
	full := false
	if f := r.URL.Query().Get("full"); f != "" {
		var err error
		if full, err = strconv.ParseBool(f); err != nil {
			s.writeErr(w, r, badParam("full", "invalid", errors.New("full must be true or false")))
			return
		}
	}
	run, err := svc.Run(r.Context(), mux.Vars(r)["id"], version, scenarios.RunOptions{Full: full})
	if err != nil {
		s.scenarioErr(w, r, "invalid_change", err)
		return
	}
	w.Header().Set("Location", scenarioURL(run.ScenarioID)+"/runs/"+run.ID)
	setVersion(w, run.ScenarioVersion) // a run leaves the scenario's version as it was
	writeJSON(w, http.StatusCreated, run)
}

// getRun: GET /api/scenarios/{id}/runs/{rid}.
func (s *Server) getRun(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	v := mux.Vars(r)
	run, err := svc.GetRun(r.Context(), v["id"], v["rid"])
	if err != nil {
		s.scenarioErr(w, r, "invalid", err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

// exportRunCSV: GET /api/scenarios/{id}/runs/{rid}/export.csv.
func (s *Server) exportRunCSV(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	v := mux.Vars(r)
	run, err := svc.GetRun(r.Context(), v["id"], v["rid"])
	if err != nil {
		s.scenarioErr(w, r, "invalid", err)
		return
	}
	var buf bytes.Buffer
	if err := scenarios.WriteCSV(&buf, run); err != nil {
		s.writeErr(w, r, err)
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
		s.scenarioErr(w, r, "invalid", err)
		return
	}
	variant, _, err := svc.Variant(r.Context(), v["id"])
	if err != nil {
		s.scenarioErr(w, r, "invalid_change", err)
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
	s.writeGeoJSON(w, r, fc)
}

// variantTile: GET /api/scenarios/{id}/tiles/{layers}/{z}/{x}/{y}.mvt — the scenario's
// variant as a tile source (scenarios.VariantTiles: a "change" field — added, modified,
// demolished — on changed features), served like the base layers' tiles: the same layer
// list and coordinates, the same cache under the scenario's id and version and the model's
// data version. Planner data: private, revalidated by ETag.
func (s *Server) variantTile(w http.ResponseWriter, r *http.Request, svc *scenarios.Service) {
	v := mux.Vars(r)
	ls, t, ok := s.parseTile(w, r)
	if !ok {
		return
	}
	src, err := svc.VariantTiles(r.Context(), v["id"])
	if err != nil {
		s.scenarioErr(w, r, "invalid_change", err)
		return
	}
	// A service per request costs one small allocation; the cache it reads is the server's.
	// Building a variant is costly: it stops when no request waits for it any more.
	tile, err := tiles.NewService(src.Name(), src, s.opts.TileCache, s.model.Version).AbandonUnwanted().Tile(r.Context(), t, ls)
	if err != nil {
		s.scenarioErr(w, r, "invalid_change", err)
		return
	}
	writeRepresentation(w, r, representation{
		contentType: mvtContentType, cacheControl: "private, no-cache",
		body: tile.Data, etag: tile.ETag, gzip: tile.Gzip,
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
		// A wrong list of ids is the query's fault (400); a change that no longer applies is
		// the scenario's (422).
		if fe := (*layers.FieldError)(nil); !errors.As(err, &fe) || fe.Field != "ids" {
			err = invalidAs("invalid_change", err)
		}
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cmp)
}

// quotaError is the JSON error of a write over a quota: which quota and its value.
type quotaError struct {
	apiError
	Limit string `json:"limit"`
	Value int    `json:"value"`
}

// writeQuota answers a *scenarios.QuotaError, reporting whether err was one: 413 for a size
// quota (the vertices of a scenario), 429 for a count (changes per scenario).
func writeQuota(w http.ResponseWriter, err error) bool {
	var qe *scenarios.QuotaError
	if !errors.As(err, &qe) {
		return false
	}
	status, code := http.StatusTooManyRequests, "quota_exceeded"
	if qe.Size {
		status, code = http.StatusRequestEntityTooLarge, "too_large"
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]quotaError{"error": {
		apiError: apiError{Code: code, Message: err.Error(), Field: "changes"},
		Limit:    qe.Limit, Value: qe.Value}})
	return true
}
