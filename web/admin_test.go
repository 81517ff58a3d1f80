package web

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

func (f *authFixture) do(method, path, token, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// TestAdminsManageTokensOverHTTP: an admin creates a planner token, which works at once and
// is listed without its secret or hash; revoking it refuses it on the next request (the
// fixture's verifier re-reads the store every time).
func TestAdminsManageTokensOverHTTP(t *testing.T) {
	f := newAuthFixture(t)
	w := f.do("POST", "/api/admin/tokens", f.admin, `{"name": "bob", "role": "planner"}`)
	if w.Code != 201 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	var created struct {
		Token, ID, Name, Role string
		Active                bool
	}
	if err := json.Unmarshal(w.Body.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.Token, "ct_") || created.Name != "bob" || created.Role != "planner" || !created.Active || created.ID == "" {
		t.Fatalf("created %+v", created)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	if w := f.get("/api/parcels/1", "Bearer "+created.Token); w.Code != 200 {
		t.Fatalf("the new token: %d %s", w.Code, w.Body)
	}

	w = f.do("GET", "/api/admin/tokens", f.admin, "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"name":"bob"`) {
		t.Fatalf("list: %d %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), created.Token) || strings.Contains(w.Body.String(), "hash") {
		t.Fatalf("the list shows a secret or a hash: %s", w.Body)
	}

	if w := f.do("POST", "/api/admin/tokens", f.admin, `{"name": "bob", "role": "planner"}`); w.Code != 409 {
		t.Errorf("a second active token named bob: %d %s", w.Code, w.Body)
	}
	if w := f.do("DELETE", "/api/admin/tokens/"+created.ID, f.admin, ""); w.Code != 200 || !strings.Contains(w.Body.String(), `"active":false`) {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	wantRefused(t, "a revoked token", f.get("/api/parcels/1", "Bearer "+created.Token), 401, created.Token)
	if w := f.do("DELETE", "/api/admin/tokens/"+created.ID, f.admin, ""); w.Code != 404 {
		t.Errorf("revoking it again: %d %s", w.Code, w.Body)
	}
}

func TestTokenRoutesAreForAdminsOnly(t *testing.T) {
	f := newAuthFixture(t)
	wantRefused(t, "no token", f.do("GET", "/api/admin/tokens", "", ""), 401)
	wantRefused(t, "a planner listing tokens", f.do("GET", "/api/admin/tokens", f.planner, ""), 403)
	wantRefused(t, "a planner making a token", f.do("POST", "/api/admin/tokens", f.planner, `{"name": "eve", "role": "admin"}`), 403)
	wantRefused(t, "a planner revoking a token", f.do("DELETE", "/api/admin/tokens/ops", f.planner, ""), 403)
	if w := f.get("/api/parcels/1", "Bearer "+f.admin); w.Code != 200 {
		t.Fatalf("the admin token is still good: %d", w.Code)
	}
}

func TestBadTokenRequestsAreRefused(t *testing.T) {
	f := newAuthFixture(t)
	for body, field := range map[string]string{
		`{"name": "x", "role": "public"}`:         "role",
		`{"name": "x", "role": "root"}`:           "role",
		`{"name": "", "role": "planner"}`:         "name",
		`{"name": "a b;drop", "role": "admin"}`:   "name",
		`{"name": "x", "role": "planner", "a":1}`: "",
		`[1, 2]`: "",
	} {
		w := f.do("POST", "/api/admin/tokens", f.admin, body)
		var e struct{ Error apiError }
		if w.Code != 400 || json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error.Field != field {
			t.Errorf("%s: %d %s, want 400 on field %q", body, w.Code, w.Body, field)
		}
	}
	if w := f.do("GET", "/api/admin/tokens", f.admin, ""); strings.Count(w.Body.String(), `"id"`) != 2 {
		t.Errorf("refused requests made tokens: %s", w.Body)
	}
}
