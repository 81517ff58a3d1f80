package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/mux"
)

// routeVar matches a gorilla/mux path variable with its pattern, {name:pattern}.
var routeVar = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*):[^}]*\}`)

type docOp struct{ path, method string }

func openapiDocument(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openapiDoc, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	return doc
}

func TestOpenAPIIsServed(t *testing.T) {
	srv := New(Options{})
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/openapi.json", nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET /openapi.json: %d %v", rec.Code, rec.Header())
	}
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("not an OpenAPI 3.1 document: %v", err)
	}
}

// TestOpenAPICoversEveryRoute walks the router: every route and method is described in
// openapi.json, and everything openapi.json describes is routed. A GET route's HEAD is
// covered by its get operation; a path prefix route by a path under the prefix.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	doc := openapiDocument(t)
	paths := doc["paths"].(map[string]any)
	documented := map[docOp]bool{}
	for p, item := range paths {
		for m := range item.(map[string]any) {
			documented[docOp{p, m}] = true
		}
	}
	routed := map[docOp]bool{}
	srv := New(Options{})
	err := srv.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		tpl = routeVar.ReplaceAllString(tpl, "{$1}")
		methods, err := route.GetMethods()
		if err != nil {
			t.Errorf("route %s has no methods", tpl)
			return nil
		}
		re, _ := route.GetPathRegexp()
		prefix := !strings.HasSuffix(re, "$")
		for _, m := range methods {
			m = strings.ToLower(m)
			if m == "head" {
				continue // served by the GET handler, documented with it
			}
			found := false
			for d := range documented {
				if d.method == m && (d.path == tpl || prefix && strings.HasPrefix(d.path, tpl)) {
					found, routed[d] = true, true
				}
			}
			if !found {
				t.Errorf("%s %s is routed but not in openapi.json", strings.ToUpper(m), tpl)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var stale []string
	for d := range documented {
		if !routed[d] {
			stale = append(stale, strings.ToUpper(d.method)+" "+d.path)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("openapi.json describes routes the router lacks: %v", stale)
	}
}

// TestOpenAPIReferencesResolve checks every $ref of the document points at a component
// that exists, and every operation has an operationId and responses.
func TestOpenAPIReferencesResolve(t *testing.T) {
	doc := openapiDocument(t)
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch t2 := v.(type) {
		case map[string]any:
			if ref, ok := t2["$ref"].(string); ok {
				parts := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
				var cur any = doc
				for _, p := range parts {
					m, ok := cur.(map[string]any)
					if !ok {
						cur = nil
						break
					}
					cur = m[p]
				}
				if cur == nil {
					t.Errorf("%s: $ref %s resolves to nothing", at, ref)
				}
			}
			for k, c := range t2 {
				walk(c, at+"/"+k)
			}
		case []any:
			for _, c := range t2 {
				walk(c, at)
			}
		}
	}
	walk(doc, "#")
	ids := map[string]bool{}
	for p, item := range doc["paths"].(map[string]any) {
		for m, o := range item.(map[string]any) {
			op := o.(map[string]any)
			id, _ := op["operationId"].(string)
			if id == "" || ids[id] {
				t.Errorf("%s %s: operationId %q missing or repeated", m, p, id)
			}
			ids[id] = true
			if _, ok := op["responses"].(map[string]any); !ok {
				t.Errorf("%s %s has no responses", m, p)
			}
		}
	}
}
