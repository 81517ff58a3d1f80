package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/citytwin/citytwin/access"
	"github.com/citytwin/citytwin/citymodel"
)

// authFixture is a server whose tokens are stored ones (re-read on every check: TTL 0) and a
// fixed planner token, on the tile test city.
type authFixture struct {
	h       http.Handler
	store   *access.FileStore
	planner string // stored
	admin   string // stored
	fixed   string // as from --planner-token
}

func newAuthFixture(t *testing.T) *authFixture {
	t.Helper()
	f := &authFixture{store: access.NewFileStore(t.TempDir()), fixed: "fixed-planner-token"}
	v := access.NewVerifier(f.store, 0, quietLogger)
	v.AddFixed(f.fixed, access.RolePlanner)
	var err error
	if f.planner, _, err = access.Issue(context.Background(), f.store, "alice", access.RolePlanner, time.Now()); err != nil {
		t.Fatal(err)
	}
	if f.admin, _, err = access.Issue(context.Background(), f.store, "ops", access.RoleAdmin, time.Now()); err != nil {
		t.Fatal(err)
	}
	srv := New(Options{Logger: quietLogger, Tokens: v, TokenStore: f.store, Model: citymodel.Fixed(tileTestCity(t))})
	f.h = srv.Handler()
	return f
}

func (f *authFixture) get(path, authorization string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", path, nil)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// wantRefused checks a 401 or 403 answer: its JSON error code, and for 401 the challenge
// that tells a client to send a bearer token.
func wantRefused(t *testing.T, what string, w *httptest.ResponseRecorder, status int, secrets ...string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("%s: %d, want %d: %s", what, w.Code, status, w.Body)
	}
	var e struct{ Error apiError }
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error.Message == "" {
		t.Fatalf("%s: not a JSON error: %s", what, w.Body)
	}
	challenge := w.Header().Get("WWW-Authenticate")
	switch status {
	case http.StatusUnauthorized:
		if e.Error.Code != "unauthorized" || !strings.HasPrefix(challenge, "Bearer ") {
			t.Errorf("%s: code %q, WWW-Authenticate %q", what, e.Error.Code, challenge)
		}
	case http.StatusForbidden:
		if e.Error.Code != "forbidden" || challenge != "" {
			t.Errorf("%s: code %q, WWW-Authenticate %q", what, e.Error.Code, challenge)
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(w.Body.String(), s) {
			t.Errorf("%s: the answer repeats the token", what)
		}
	}
}

func TestProtectedRoutesRefuseMissingAndWrongTokens(t *testing.T) {
	f := newAuthFixture(t)
	const path = "/api/parcels/1"
	wantRefused(t, "no token", f.get(path, ""), 401)
	wantRefused(t, "an unknown token", f.get(path, "Bearer ct_unknown"), 401, "ct_unknown")
	wantRefused(t, "a token one character short", f.get(path, "Bearer "+f.planner[:len(f.planner)-1]), 401, f.planner[:len(f.planner)-1])
	wantRefused(t, "a token in another scheme", f.get(path, "Basic "+f.planner), 401, f.planner)
	wantRefused(t, "an empty bearer token", f.get(path, "Bearer "), 401)
	// A wrong token is refused on public routes too, so a client learns its token is bad.
	wantRefused(t, "an unknown token on a public route", f.get("/catalog", "Bearer ct_unknown"), 401)
	if w := f.get("/catalog", ""); w.Code != 200 {
		t.Fatalf("a public route without a token: %d", w.Code)
	}
	for what, tok := range map[string]string{"a stored planner token": f.planner, "a stored admin token": f.admin, "the fixed planner token": f.fixed} {
		if w := f.get(path, "Bearer "+tok); w.Code != 200 {
			t.Errorf("%s: %d %s", what, w.Code, w.Body)
		}
	}
}

// TestALowerRoleIsForbidden: a known token whose role is below the route's is 403, not 401:
// the token is fine, the role is not. No HTTP route needs the admin role yet, so the check
// runs on require itself.
func TestALowerRoleIsForbidden(t *testing.T) {
	f := newAuthFixture(t)
	srv := New(Options{Logger: quietLogger, Tokens: access.NewVerifier(f.store, 0, quietLogger)})
	h := srv.authenticate(srv.require(RoleAdmin, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"role": roleOf(r.Context()).String()})
	}))
	do := func(token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/admin-only", nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	wantRefused(t, "a planner token on an admin route", do(f.planner), 403, f.planner)
	wantRefused(t, "no token on an admin route", do(""), 401)
	if w := do(f.admin); w.Code != 200 || !strings.Contains(w.Body.String(), `"admin"`) {
		t.Fatalf("an admin token: %d %s", w.Code, w.Body)
	}
}

func TestARevokedTokenIsRefusedByTheRunningServer(t *testing.T) {
	f := newAuthFixture(t)
	if w := f.get("/api/parcels/1", "Bearer "+f.planner); w.Code != 200 {
		t.Fatalf("before revoking: %d", w.Code)
	}
	if _, err := f.store.Revoke(context.Background(), "alice", time.Now()); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, "after revoking", f.get("/api/parcels/1", "Bearer "+f.planner), 401, f.planner)
	if w := f.get("/api/parcels/1", "Bearer "+f.admin); w.Code != 200 {
		t.Fatalf("another token after revoking alice's: %d", w.Code)
	}
}

func TestPlannersSeeAParcelsRestrictedFields(t *testing.T) {
	f := newAuthFixture(t)
	auth := "Bearer " + f.planner
	w := f.get("/api/parcels/1", auth)
	if w.Code != 200 || w.Header().Get("Cache-Control") != "private, no-store" {
		t.Fatalf("GET /api/parcels/1: %d, Cache-Control %q", w.Code, w.Header().Get("Cache-Control"))
	}
	var got struct {
		Type       string
		ID         int64
		Geometry   map[string]any
		Properties map[string]any
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	// tileTestCity gives every parcel these restricted values and a public cad_number.
	if got.Type != "Feature" || got.ID != 1 || got.Geometry["type"] != "Polygon" ||
		got.Properties["owner_name"] != "SECRET-OWNER" || got.Properties["land_book"] != "SECRET-BOOK" || got.Properties["cad_number"] != "CJ-0" {
		t.Fatalf("parcel 1: %s", w.Body)
	}
	for _, c := range []struct {
		what, path string
		status     int
		code       string
	}{
		{"a parcel id that is not a number", "/api/parcels/abc", 400, "invalid_parameter"},
		{"a parcel id of zero", "/api/parcels/0", 400, "invalid_parameter"},
		{"a parcel that does not exist", "/api/parcels/999999", 404, "not_found"},
		{"the id of a building, not a parcel", "/api/parcels/2", 404, "not_found"},
	} {
		w := f.get(c.path, auth)
		var e struct{ Error apiError }
		_ = json.Unmarshal(w.Body.Bytes(), &e)
		if w.Code != c.status || e.Error.Code != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.what, w.Code, w.Body, c.status, c.code)
		}
	}
}

func TestTheBearerSchemeIsCaseInsensitive(t *testing.T) {
	f := newAuthFixture(t)
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		t.Run(scheme, func(t *testing.T) {
			if w := f.get("/api/parcels/1", scheme+" "+f.planner); w.Code != 200 {
				t.Fatalf("%s <planner token>: %d %s", scheme, w.Code, w.Body)
			}
		})
	}
	wantRefused(t, "a scheme that only begins like Bearer", f.get("/api/parcels/1", "Bearerx "+f.planner), 401, f.planner)
}

func TestFailedAuthenticationsAreRateLimited(t *testing.T) {
	// Ten failures a minute: a burst of 10, then one every 60 / 10 = 6 s.
	srv := New(Options{Logger: quietLogger, Model: citymodel.Fixed(tileTestCity(t)),
		Tokens:          StaticTokens{NewStaticToken(plannerToken, RolePlanner)},
		AuthFailureRate: RateLimit{Rate: 10.0 / 60, Burst: 10}})
	h := srv.Handler()
	const attacker, other = "192.0.2.1:1000", "198.51.100.1:1000"
	for i := range 10 {
		if w := send(h, "/catalog", attacker, fmt.Sprintf("ct_guess%d", i)); w.Code != 401 {
			t.Fatalf("bad token %d of the burst: %d, want 401", i+1, w.Code)
		}
	}
	w := send(h, "/catalog", attacker, "ct_guess10")
	if w.Code != 429 || w.Header().Get("Retry-After") != "6" || !strings.Contains(w.Body.String(), "failed authentications") {
		t.Fatalf("the 11th bad token: %d, Retry-After %q, %s; want 429 in 6 s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	// Blocked, the client cannot tell a right guess from a wrong one.
	if w := send(h, "/catalog", attacker, plannerToken); w.Code != 429 {
		t.Errorf("a valid token from the blocked address: %d, want 429", w.Code)
	}
	if w := send(h, "/catalog", attacker, ""); w.Code != 200 {
		t.Errorf("the blocked address without a token: %d, want 200", w.Code)
	}
	if w := send(h, "/catalog", other, plannerToken); w.Code != 200 {
		t.Errorf("another address with a valid token: %d, want 200", w.Code)
	}
	if w := send(h, "/catalog", other, "ct_wrong"); w.Code != 401 {
		t.Errorf("another address's first bad token: %d, want 401", w.Code)
	}
}

func TestAnExpiredTokenIsRefusedWithItsDate(t *testing.T) {
	f := newAuthFixture(t)
	// Made two days ago for one day: expired yesterday.
	old, tok, err := access.IssueFor(context.Background(), f.store, "visitor", access.RolePlanner, time.Now().Add(-48*time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	w := f.get("/api/parcels/1", "Bearer "+old)
	wantRefused(t, "an expired token", w, 401, old)
	var e struct{ Error apiError }
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatal(err)
	}
	if want := "token expired on " + tok.ExpiresAt.Format(time.RFC3339); !strings.HasPrefix(e.Error.Message, want) {
		t.Errorf("message %q, want it to begin %q", e.Error.Message, want)
	}
	// The unexpired tokens of the fixture (a year's) still work.
	if w := f.get("/api/parcels/1", "Bearer "+f.planner); w.Code != 200 {
		t.Errorf("a token of the default lifetime: %d", w.Code)
	}
}
