package web

import (
	"net/http"
	"time"
)

// healthz says the process is alive; it never waits for the model.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "uptime_s": int(time.Since(s.started).Seconds())})
}

// readyz says whether the city model is loaded and requests can be served.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	c := s.City()
	if c == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "loading", "mode": s.opts.Mode})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "mode": s.opts.Mode, "features": c.Counts()})
}

// requireCity answers 503 while the model is loading.
func (s *Server) requireCity(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.City() == nil {
			w.Header().Set("Retry-After", "2")
			writeError(w, http.StatusServiceUnavailable, "loading", "the city model is still loading; retry shortly")
			return
		}
		next(w, r)
	}
}
