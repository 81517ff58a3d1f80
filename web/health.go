package web

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// How /readyz checks the database: at most one ping per healthTTL, whatever the rate of
// probes (load balancers, orchestrators and monitors each poll it), and a ping that does not
// answer within pingTimeout counts as unreachable.
const (
	healthTTL   = time.Second
	pingTimeout = time.Second
)

// dbHealth caches the outcome of the last database check.
type dbHealth struct {
	mu      sync.Mutex
	checked time.Time
	err     error
}

// databaseErr is the outcome of Options.DatabaseCheck, at most healthTTL old; nil without a
// database. A change of state is logged once.
func (s *Server) databaseErr() error {
	check := s.opts.DatabaseCheck
	if check == nil {
		return nil
	}
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.checked.IsZero() && time.Since(h.checked) < healthTTL {
		return h.err
	}
	// Not the request's context: the outcome is shared by every probe within healthTTL.
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	err := check(ctx)
	switch {
	case err != nil && h.err == nil:
		s.log.Warn("database unreachable: not ready", "err", err)
	case err == nil && h.err != nil:
		s.log.Info("database reachable again: ready")
	}
	h.checked, h.err = time.Now(), err
	return err
}

// healthz says the process is alive; it never waits for the model.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "uptime_s": int(time.Since(s.started).Seconds())})
}

// readyz says whether requests can be served: the city model is loaded and the database, when
// there is one, answers. Tiles already cached are served either way; readiness is about
// everything else.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	c := s.model.City()
	if c == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "loading", "mode": s.opts.Mode})
		return
	}
	if err := s.databaseErr(); err != nil {
		w.Header().Set("Retry-After", unavailableRetryAfter)
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "database_unavailable", "mode": s.opts.Mode,
			"message": "the database does not answer"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "mode": s.opts.Mode, "features": c.Counts()})
}

// requireCity answers 503 while the model is loading.
func (s *Server) requireCity(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := s.model.Current(); err != nil {
			s.writeErr(w, r, err)
			return
		}
		next(w, r)
	}
}
