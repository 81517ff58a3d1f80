package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"
)

// staticFiles is the browser UI: the public map, the planner's workspace, the embedding docs,
// their ES modules and styles, and the vendored MapLibre GL JS (see
// static/vendor/maplibre-gl/VENDOR.md).
//
//go:embed static
var staticFiles embed.FS

// staticPlaceholder in the HTML pages is replaced by the versioned prefix of the static files
// (/static/<hash>), so every file a page loads — and every module those import by a relative
// path, MapLibre's worker included — can be cached for a year: a new build has a new hash.
const staticPlaceholder = "{{static}}"

// staticAsset is one embedded file, ready to serve: its bytes and their gzip form (when that
// is smaller), each with its strong ETag.
type staticAsset struct {
	body, gz    []byte
	ctype       string
	etag, gzTag string
}

// staticSite holds every embedded file by its path under static/, and the build's hash.
type staticSite struct {
	version string
	assets  map[string]*staticAsset
	pages   map[string]*staticAsset // URL path → HTML page
}

// static is loaded once, on the first request for a page or file: the embedded files cannot
// change while the binary runs.
var static = sync.OnceValues(loadStatic)

// The pages the UI serves, by URL path.
var pageFiles = map[string]string{
	"/":             "index.html",
	"/planner":      "planner.html",
	"/docs":         "docs.html",
	"/admin/import": "admin-import.html",
}

// loadStatic reads the embedded files once at start: hashes them, rewrites the pages' static
// prefix and gzips what compresses.
func loadStatic() (*staticSite, error) {
	root, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	raw := map[string][]byte{}
	var names []string
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		raw[p] = b
		names = append(names, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read embedded static files: %w", err)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(raw[n]))
		h.Write(raw[n])
	}
	site := &staticSite{
		version: hex.EncodeToString(h.Sum(nil))[:12],
		assets:  map[string]*staticAsset{},
		pages:   map[string]*staticAsset{},
	}
	prefix := []byte("/static/" + site.version)
	for _, n := range names {
		b := raw[n]
		if strings.HasSuffix(n, ".html") {
			b = bytes.ReplaceAll(b, []byte(staticPlaceholder), prefix)
		}
		a, err := newStaticAsset(n, b)
		if err != nil {
			return nil, err
		}
		site.assets[n] = a
	}
	for urlPath, file := range pageFiles {
		a, ok := site.assets[file]
		if !ok {
			return nil, fmt.Errorf("embedded page %s is missing", file)
		}
		site.pages[urlPath] = a
	}
	return site, nil
}

func newStaticAsset(name string, b []byte) (*staticAsset, error) {
	sum := sha256.Sum256(b)
	a := &staticAsset{body: b, ctype: contentType(name), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	if compressible(a.ctype) && len(b) > 512 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if _, err := zw.Write(b); err != nil {
			return nil, fmt.Errorf("gzip %s: %w", name, err)
		}
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("gzip %s: %w", name, err)
		}
		if buf.Len() < len(b) {
			a.gz = buf.Bytes()
			gzSum := sha256.Sum256(a.gz)
			a.gzTag = `"` + hex.EncodeToString(gzSum[:8]) + `-gz"`
		}
	}
	return a, nil
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".mjs", ".js":
		return "text/javascript; charset=utf-8"
	case ".md":
		return "text/markdown; charset=utf-8"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "json") ||
		strings.Contains(ctype, "javascript") || strings.Contains(ctype, "svg")
}

// pageCSP keeps the pages to their own origin: scripts are the embedded modules
// (MapLibre's worker included), data comes from this server's API and tiles. No page may be
// framed (frame-ancestors 'none', and X-Frame-Options: DENY for browsers without CSP level 2):
// a planner's page inside another site's frame could be clicked through unawares. Sites embed
// the map with MapLibre and the tiles (/docs), never the pages.
const pageCSP = "default-src 'self'; script-src 'self'; worker-src 'self' blob:; " +
	"img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; " +
	"font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// pageCSP is the pages' policy, which lets the map fetch a configured raster background's
// tiles from its origin too (MapLibre fetches them, then draws them as images).
func (s *Server) pageCSP() string {
	bg := s.opts.Background
	if bg == nil {
		return pageCSP
	}
	u, err := url.Parse(strings.NewReplacer("{z}", "0", "{x}", "0", "{y}", "0").Replace(bg.TilesURL))
	if err != nil || u.Host == "" {
		return pageCSP
	}
	origin := u.Scheme + "://" + u.Host
	return strings.Replace(strings.Replace(pageCSP, "connect-src 'self'", "connect-src 'self' "+origin, 1),
		"img-src 'self'", "img-src 'self' "+origin, 1)
}

// page serves one of the HTML pages; they are revalidated on every visit (their ETag changes
// with the build), while what they load is cached for a year.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	site, err := static()
	if err != nil {
		s.log.Error("static files", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	a, ok := site.pages[r.URL.Path]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no such page: "+r.URL.Path)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", s.pageCSP())
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	serveAsset(w, r, a, "no-cache")
}

// staticFile serves /static/<version>/<path> with a year's immutable cache, and
// /static/<path> (or an old version) revalidated by ETag.
func (s *Server) staticFile(w http.ResponseWriter, r *http.Request) {
	site, err := static()
	if err != nil {
		s.log.Error("static files", "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/static/")
	cache := "no-cache"
	if v, p, ok := strings.Cut(rest, "/"); ok && isVersion(v) {
		rest = p
		if v == site.version {
			cache = "public, max-age=31536000, immutable"
		}
	}
	a, ok := site.assets[rest]
	if !ok || strings.HasSuffix(rest, ".html") {
		writeError(w, http.StatusNotFound, "not_found", "no such static file: "+r.URL.Path)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	serveAsset(w, r, a, cache)
}

// favicon answers the browser's automatic /favicon.ico request with the SVG icon.
func (s *Server) favicon(w http.ResponseWriter, r *http.Request) {
	site, err := static()
	if err != nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	a, ok := site.assets["favicon.svg"]
	if !ok {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	serveAsset(w, r, a, "public, max-age=86400")
}

func isVersion(v string) bool {
	if len(v) != 12 {
		return false
	}
	_, err := hex.DecodeString(v)
	return err == nil
}

// serveAsset writes a through the API's one representation writer (httpcache.go): gzip when
// the client accepts it, 304 on a matching If-None-Match, HEAD without a body.
func serveAsset(w http.ResponseWriter, r *http.Request, a *staticAsset, cacheControl string) {
	rep := representation{contentType: a.ctype, cacheControl: cacheControl, body: a.body, etag: a.etag}
	if a.gz != nil {
		rep.gzip = func() ([]byte, string) { return a.gz, a.gzTag }
	}
	writeRepresentation(w, r, rep)
}
