package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestPages(t *testing.T) {
	h := New(Options{}).Handler()
	for _, path := range []string{"/", "/planner", "/docs"} {
		t.Run("page "+path+" is served with its static files versioned", func(t *testing.T) {
			rec := get(t, h, path, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("content type %q", ct)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("cache control %q", cc)
			}
			if rec.Header().Get("Content-Security-Policy") == "" {
				t.Error("no Content-Security-Policy")
			}
			// No other site may frame a page (clickjacking): one CSP with frame-ancestors
			// 'none' beside the rest of the policy, and X-Frame-Options for older browsers.
			csp := rec.Header().Values("Content-Security-Policy")
			if len(csp) != 1 || !strings.Contains(csp[0], "frame-ancestors 'none'") || !strings.Contains(csp[0], "default-src 'self'") {
				t.Errorf("Content-Security-Policy %q, want one policy with frame-ancestors 'none'", csp)
			}
			if xfo := rec.Header().Get("X-Frame-Options"); xfo != "DENY" {
				t.Errorf("X-Frame-Options %q, want DENY", xfo)
			}
			body := rec.Body.String()
			if strings.Contains(body, staticPlaceholder) {
				t.Error("placeholder left in the page")
			}
			if !regexp.MustCompile(`/static/[0-9a-f]{12}/css/app\.css`).MatchString(body) {
				t.Error("page does not link the versioned stylesheet")
			}
		})
	}
}

func TestStaticFiles(t *testing.T) {
	h := New(Options{}).Handler()
	site, err := static()
	if err != nil {
		t.Fatal(err)
	}
	versioned := "/static/" + site.version + "/vendor/maplibre-gl/maplibre-gl.mjs"

	t.Run("a versioned file is cached for a year and gzipped", func(t *testing.T) {
		rec := get(t, h, versioned, map[string]string{"Accept-Encoding": "gzip, br"})
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
		if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
			t.Errorf("cache control %q", cc)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
			t.Errorf("content type %q", ct)
		}
		if rec.Header().Get("Content-Encoding") != "gzip" {
			t.Fatal("not gzipped")
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := staticFiles.ReadFile("static/vendor/maplibre-gl/maplibre-gl.mjs")
		if !bytes.Equal(plain, want) {
			t.Error("gunzipped body differs from the embedded file")
		}
		// MapLibre's module is ~1.1 MB; gzipped it must stay near 300 KB for the first view.
		if n := rec.Body.Len(); n > 0 && len(want) > 0 && rec.Header().Get("Content-Length") == "" {
			t.Error("no Content-Length")
		}
	})

	t.Run("a client without gzip gets the plain file", func(t *testing.T) {
		rec := get(t, h, versioned, map[string]string{"Accept-Encoding": "gzip;q=0"})
		if rec.Header().Get("Content-Encoding") != "" {
			t.Errorf("encoding %q", rec.Header().Get("Content-Encoding"))
		}
	})

	t.Run("a matching ETag answers 304", func(t *testing.T) {
		etag := get(t, h, versioned, nil).Header().Get("ETag")
		rec := get(t, h, versioned, map[string]string{"If-None-Match": etag})
		if rec.Code != http.StatusNotModified {
			t.Errorf("status %d", rec.Code)
		}
	})

	t.Run("an unversioned or stale path is revalidated", func(t *testing.T) {
		for _, p := range []string{"/static/css/app.css", "/static/000000000000/css/app.css"} {
			rec := get(t, h, p, nil)
			if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-cache" {
				t.Errorf("%s: status %d, cache control %q", p, rec.Code, rec.Header().Get("Cache-Control"))
			}
		}
	})

	t.Run("unknown files and the pages' HTML are not found under /static", func(t *testing.T) {
		for _, p := range []string{"/static/nope.js", "/static/" + site.version + "/index.html", "/static/../pages.go"} {
			if rec := get(t, h, p, nil); rec.Code != http.StatusNotFound && rec.Code != http.StatusMovedPermanently {
				t.Errorf("%s: status %d", p, rec.Code)
			}
		}
	})

	t.Run("the favicon is served", func(t *testing.T) {
		rec := get(t, h, "/favicon.ico", nil)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/svg+xml" {
			t.Errorf("status %d, type %q", rec.Code, rec.Header().Get("Content-Type"))
		}
	})
}

func TestPagesLetTheMapFetchAConfiguredRasterBackground(t *testing.T) {
	h := New(Options{Background: &RasterBackground{TilesURL: "https://ortho.example.org:8443/tiles/{z}/{x}/{y}.jpg"}}).Handler()
	csp := get(t, h, "/", nil).Header().Get("Content-Security-Policy")
	for _, want := range []string{"connect-src 'self' https://ortho.example.org:8443;", "img-src 'self' https://ortho.example.org:8443 data: blob:;", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if plain := get(t, New(Options{}).Handler(), "/", nil).Header().Get("Content-Security-Policy"); strings.Contains(plain, "example.org") || !strings.Contains(plain, "connect-src 'self';") {
		t.Errorf("without a background: %q", plain)
	}
}
