package web

import (
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/citytwin/citytwin/tiles"
)

// HTTP caching for tiles and their metadata: one representation writer that handles gzip,
// strong ETags, 304 on If-None-Match, Cache-Control and HEAD; and the CORS middleware.

// representation is one answer with its validators, in identity and (optionally) gzip
// coding. Each coding has its own strong ETag, as RFC 9110 requires of different bytes.
type representation struct {
	contentType  string
	cacheControl string
	vary         []string // request headers besides Accept-Encoding the answer depends on
	body         []byte   // empty: 204 No Content
	etag         string
	// gzip returns the gzipped body and its ETag, or nil when not worth it; called only for
	// clients that accept gzip.
	gzip func() ([]byte, string)
}

// writeRepresentation answers a GET or HEAD with rep: the gzip coding when the client accepts
// it, 304 when If-None-Match names the ETag of the coding it would get (weak comparison, so
// a proxy's W/ prefix still matches), 204 when the body is empty.
func writeRepresentation(w http.ResponseWriter, r *http.Request, rep representation) {
	h := w.Header()
	h["Cache-Control"] = []string{rep.cacheControl}
	h.Add("Vary", "Accept-Encoding")
	for _, v := range rep.vary {
		h.Add("Vary", v)
	}
	body, etag, gz := rep.body, rep.etag, false
	if len(body) > 0 && rep.gzip != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		if b, tag := rep.gzip(); b != nil {
			body, etag, gz = b, tag, true
		}
	}
	h.Set("ETag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && inmMatches(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if len(body) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h["Content-Type"] = []string{rep.contentType}
	if gz {
		h["Content-Encoding"] = []string{"gzip"}
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// jsonRepresentation is JSON bytes with a hash ETag and gzip made on demand.
func jsonRepresentation(body []byte, cacheControl string, vary ...string) representation {
	t := tiles.NewTile(body)
	return representation{
		contentType: "application/json; charset=utf-8", cacheControl: cacheControl, vary: vary,
		body: body, etag: t.ETag, gzip: t.Gzip,
	}
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip: gzip (or x-gzip) with a
// q-value above zero, or * above zero when gzip is not named.
func acceptsGzip(header string) bool {
	if header == "" {
		return false
	}
	star := false
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.TrimSpace(name)
		q := qValue(params)
		switch {
		case strings.EqualFold(name, "gzip"), strings.EqualFold(name, "x-gzip"):
			return q > 0
		case name == "*":
			star = q > 0
		}
	}
	return star
}

// qValue reads q from a coding's parameters; 1 when absent or unreadable.
func qValue(params string) float64 {
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				return q
			}
		}
	}
	return 1
}

// inmMatches reports whether an If-None-Match header matches etag: "*", or a listed tag
// equal to it under weak comparison (W/ prefixes ignored).
func inmMatches(header, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == want {
			return true
		}
	}
	return false
}

// cors answers CORS for Options.CORSOrigins, except on the routes of personal data and
// administration (restrictedCORS), which answer it for Options.CORSAdminOrigins only: none
// by default, so that the "*" that suits tiles does not also let any web page a planner or
// an admin visits read parcels' owners or manage tokens with a token it got hold of.
func (s *Server) cors(next http.Handler) http.Handler {
	public := corsMiddleware(s.opts.CORSOrigins, next)
	restricted := corsMiddleware(s.opts.CORSAdminOrigins, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if restrictedCORS(r.URL.Path) {
			restricted.ServeHTTP(w, r)
			return
		}
		public.ServeHTTP(w, r)
	})
}

// restrictedCORS reports whether a path is under /api/admin or /api/parcels, as the router
// would match it (path.Clean: the router redirects unclean paths to their clean form).
func restrictedCORS(p string) bool {
	p = path.Clean(p)
	for _, prefix := range []string{"/api/admin", "/api/parcels"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return false
}

// corsHeadersExposed are the response headers a page on another origin may read.
const corsHeadersExposed = "ETag, Content-Length, Content-Encoding, Retry-After, Location, X-Request-Id"

// corsMiddleware lets pages on the configured origins call the server: it sets
// Access-Control-Allow-Origin ("*" when every origin is allowed, else the caller's origin
// with Vary: Origin) and exposes the validators, and answers preflight requests (OPTIONS with
// Access-Control-Request-Method) itself with 204. No origins: no CORS headers at all.
// Credentials (cookies) are never allowed: tokens travel in the Authorization header.
func corsMiddleware(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	anyOrigin := false
	allowed := map[string]bool{}
	for _, o := range origins {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "*" {
			anyOrigin = true
		}
		allowed[o] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if !anyOrigin {
			h.Add("Vary", "Origin")
		}
		origin := r.Header.Get("Origin")
		ok := origin != "" && (anyOrigin || allowed[origin])
		if ok {
			if anyOrigin {
				h["Access-Control-Allow-Origin"] = []string{"*"}
			} else {
				h["Access-Control-Allow-Origin"] = []string{origin}
			}
			h["Access-Control-Expose-Headers"] = []string{corsHeadersExposed}
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if ok {
				h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-None-Match, If-Match, X-Request-Id")
				h.Set("Access-Control-Max-Age", "86400")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
