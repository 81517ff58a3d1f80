package web

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

// withMiddleware wraps h with the middleware every request passes, outermost first. CORS
// comes before authentication, so preflights (which carry no token) and refusals alike get
// their CORS headers (httpcache.go). The limits (limits.go) come after authentication, so
// that a client with a token is rate-limited by its token.
func (s *Server) withMiddleware(h http.Handler) http.Handler {
	return s.logRequests(s.measureRequests(s.recoverPanics(s.dropUntrustedForwarding(
		s.cors(s.authenticate(s.withLimits(h)))))))
}

// forwardingHeaders are the headers a proxy sets to say at which address the client reached
// it; requestBaseURL (tiles.go) builds the URLs of TileJSON, the catalog and styles from them.
var forwardingHeaders = []string{"X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Prefix"}

// dropUntrustedForwarding removes the forwarding headers from every request unless
// Options.TrustProxy says a proxy in front sets them: without one they are the client's own
// text, and honouring them would let anybody make the server hand out tile URLs on a host of
// their choosing (to a shared cache, for instance). No handler sees them then.
func (s *Server) dropUntrustedForwarding(next http.Handler) http.Handler {
	if s.opts.TrustProxy {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range forwardingHeaders {
			r.Header.Del(h)
		}
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status and size of an answer for the log line.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logRequests gives each request an id (X-Request-Id, kept when the client sent a sane one)
// and logs one structured line when it ends.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(rec, r)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Int("bytes", rec.bytes),
			slog.Float64("ms", float64(time.Since(start).Microseconds())/1000))
	})
}

// recoverPanics turns a handler's panic into a 500 JSON answer and a logged stack.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				writeError(w, http.StatusInternalServerError, "internal", "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}
