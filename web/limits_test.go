package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestJSONDepth(t *testing.T) {
	for _, tc := range []struct {
		name string
		json string
		want int
	}{
		{"a scalar has no depth", `3`, 0},
		{"an object is one deep", `{"a": 1}`, 1},
		{"a polygon change is five deep", `{"geometry": {"coordinates": [[[1, 2]]]}}`, 5},
		{"brackets inside strings do not count", `{"a": "[[[{{{"}`, 1},
		{"an escaped quote does not end a string", `{"a": "\"[[["}`, 1},
		{"an escaped backslash does", `{"a": "\\", "b": [[1]]}`, 3},
		{"siblings are not nested", `[[1], [2], [3]]`, 2},
	} {
		if got := jsonDepth([]byte(tc.json), 100); got != tc.want {
			t.Errorf("%s: depth %d, want %d", tc.name, got, tc.want)
		}
	}
	if got := jsonDepth([]byte(strings.Repeat("[", 1000)), 10); got != 11 {
		t.Errorf("the scan stops one past the limit: got %d, want 11", got)
	}
}

func TestBodyLimitIsConfigurable(t *testing.T) {
	srv := New(Options{Logger: scenarioTestLogger(), Tokens: StaticTokens{NewStaticToken(plannerToken, RolePlanner)},
		Scenarios: newAPIFixture(t, nil).svc, MaxBodyBytes: 2 << 20})
	h := srv.Handler()
	post := func(body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/api/scenarios", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+plannerToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	// 1.5 MiB passes the size limit of 2 MiB and reaches validation (the name is too long).
	if rec := post(`{"name": "` + strings.Repeat("x", 3<<19) + `"}`); rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("1.5 MiB under a 2 MiB limit: status %d, want 422: %.200s", rec.Code, rec.Body)
	}
	rec := post(`{"name": "` + strings.Repeat("x", 2<<20) + `"}`)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), `"too_large"`) ||
		!strings.Contains(rec.Body.String(), "2097152 bytes") {
		t.Fatalf("over 2 MiB: status %d, want 413 too_large naming the limit: %s", rec.Code, rec.Body)
	}
}

func timeoutServer(d time.Duration) *Server {
	return New(Options{Logger: scenarioTestLogger(), RequestTimeout: d})
}

func TestTimeoutAnswersJSON(t *testing.T) {
	s := timeoutServer(10 * time.Millisecond)
	release, ran := make(chan struct{}), make(chan struct{})
	h := s.timeout(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // a handler that ignores its deadline
		w.Header().Set("X-Late", "1")
		w.WriteHeader(http.StatusTeapot)
		if _, err := w.Write([]byte("late")); err != http.ErrHandlerTimeout {
			t.Errorf("a write after the deadline: %v, want ErrHandlerTimeout", err)
		}
		close(ran)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/nearest", nil))
	close(release)
	<-ran
	var e struct{ Error apiError }
	if rec.Code != http.StatusServiceUnavailable || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error.Code != "timeout" {
		t.Fatalf("status %d, want 503 timeout JSON: %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("X-Late") != "" || strings.Contains(rec.Body.String(), "late") {
		t.Fatalf("the late handler's answer leaked: %v %s", rec.Header(), rec.Body)
	}
}

func TestTimeoutLetsAnAnswerUnderWayFinish(t *testing.T) {
	s := timeoutServer(10 * time.Millisecond)
	h := s.timeout(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("begun "))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		w.Write([]byte("and finished"))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "begun and finished" || !rec.Flushed {
		t.Fatalf("status %d flushed %v body %q, want 200, flushed, the whole answer", rec.Code, rec.Flushed, rec.Body)
	}
}

func TestTimeoutPassesHeadersAndPanics(t *testing.T) {
	s := timeoutServer(time.Minute)
	h := s.timeout(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("ETag", `"abc"`)
		w.WriteHeader(http.StatusNotModified)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusNotModified || rec.Header().Get("Content-Encoding") != "gzip" || rec.Header().Get("ETag") != `"abc"` {
		t.Fatalf("status %d headers %v, want the handler's 304 and headers", rec.Code, rec.Header())
	}

	h = s.recoverPanics(s.timeout(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), `"internal"`) {
		t.Fatalf("a panic behind the deadline: status %d %s, want 500 internal", rec.Code, rec.Body)
	}
}
