package web

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/citytwin/citytwin/access"
)

// Token administration over HTTP, admin role: what `citytwin token` does, for an admin
// without shell access to the server. A new token is in the answer to its creation and
// nowhere else; lists show names, roles and dates, never hashes. Answers are never cached.

// tokenView is a stored token as the API shows it.
type tokenView struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Role      access.Role `json:"role"`
	CreatedAt time.Time   `json:"created_at"`
	RevokedAt time.Time   `json:"revoked_at,omitzero"`
	Active    bool        `json:"active"`
}

func viewToken(t access.Token) tokenView {
	return tokenView{ID: t.ID, Name: t.Name, Role: t.Role, CreatedAt: t.CreatedAt, RevokedAt: t.RevokedAt, Active: t.Active()}
}

// tokenStore returns the token store, or answers 503 when the server has none.
func (s *Server) tokenStore(w http.ResponseWriter) (access.Store, bool) {
	if s.opts.TokenStore == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "this server does not manage tokens")
		return nil, false
	}
	w.Header().Set("Cache-Control", "no-store")
	return s.opts.TokenStore, true
}

// listTokens: GET /api/admin/tokens — every token, revoked ones included, oldest first.
func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	st, ok := s.tokenStore(w)
	if !ok {
		return
	}
	ts, err := st.List(r.Context())
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	out := make([]tokenView, 0, len(ts))
	for _, t := range ts {
		out = append(out, viewToken(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

// createToken: POST /api/admin/tokens {"name": "...", "role": "planner"|"admin"} — 201 with
// the new token, shown this once.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	st, ok := s.tokenStore(w)
	if !ok {
		return
	}
	var in struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	if !s.decodeBody(w, r, &in, false, true) {
		return
	}
	role, err := access.ParseRole(in.Role)
	if err != nil || (role != access.RolePlanner && role != access.RoleAdmin) {
		writeFieldError(w, http.StatusBadRequest, "invalid", `role: want "planner" or "admin"`, "role")
		return
	}
	if err := access.CheckName(in.Name); err != nil {
		writeFieldError(w, http.StatusBadRequest, "invalid", err.Error(), "name")
		return
	}
	secret, t, err := access.Issue(r.Context(), st, in.Name, role, time.Now())
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		Token string `json:"token"`
		tokenView
	}{secret, viewToken(t)})
}

// revokeToken: DELETE /api/admin/tokens/{id} — ends the active token of that id (or name);
// running servers refuse it within access.DefaultTTL.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	st, ok := s.tokenStore(w)
	if !ok {
		return
	}
	t, err := st.Revoke(r.Context(), mux.Vars(r)["id"], time.Now())
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewToken(t))
}

// MaxAuditEntries is how many audit entries GET /api/admin/audit returns at most.
const MaxAuditEntries = 1000

// listAudit: GET /api/admin/audit[?limit=n]: the last writes to scenarios, most recent
// first (who: the token id of the scenario API's callers).
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	svc := s.opts.Scenarios
	if svc == nil {
		writeError(w, http.StatusServiceUnavailable, "no_scenarios", "this server has no scenario store")
		return
	}
	n := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		l, err := strconv.Atoi(v)
		if err != nil || l < 1 || l > MaxAuditEntries {
			writeFieldError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("limit must be a whole number from 1 to %d", MaxAuditEntries), "limit")
			return
		}
		n = l
	}
	entries, err := svc.Audit(r.Context(), n)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
}
