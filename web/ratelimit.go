package web

import (
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Per-client rate limits: a token bucket per client, one set of buckets for the API and
// another for tiles. A client is its bearer token when it sent one (the token was verified
// by authenticate, which runs first), else its IP address — the address the proxy saw when
// Options.TrustProxy is set, and the /64 network of an IPv6 address, which one subscriber
// typically holds whole.
//
// Tiles have their own limit because a map asks for dozens at once and most are answered
// from caches (this server's, the browser's, a CDN's); the API's lookups, writes and
// scenario runs cost more. The scenario variant tiles under /api/ and the OGC API tiles under
// /ogc/ count as tiles; the rest of /ogc/ (feature queries) and the open-data downloads count
// as the API.

// RateLimit is a token bucket: Rate requests a second on average, Burst at once. A zero
// Rate turns the limit off.
type RateLimit struct {
	Rate  float64
	Burst int
}

// MaxRateClients bounds the clients remembered per limit; past it idle clients are
// forgotten first, then a tenth of the rest at random (a forgotten client starts again with
// a full bucket: memory stays bounded under a flood of addresses, at the price of a little
// leniency then).
const MaxRateClients = 100_000

// rateSweepEvery is how often idle clients are forgotten.
const rateSweepEvery = time.Minute

// rateLimit refuses requests beyond a client's bucket with 429 JSON and Retry-After.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	api := newClientLimiter(s.opts.APIRate, MaxRateClients, time.Now)
	tile := newClientLimiter(s.opts.TileRate, MaxRateClients, time.Now)
	if api == nil && tile == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var cl *clientLimiter
		switch rateClass(r.URL.Path) {
		case "api":
			cl = api
		case "tile":
			cl = tile
		}
		if cl != nil {
			if ok, wait := cl.allow(clientKey(r, s.opts.TrustProxy)); !ok {
				rateLimited(w, wait, "too many requests from this client")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// rateLimited answers 429 JSON with Retry-After: why, and in how many seconds to retry.
func rateLimited(w http.ResponseWriter, wait time.Duration, why string) {
	w.Header().Set("Retry-After", retryAfter(wait))
	writeError(w, http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("%s; retry in %s s", why, retryAfter(wait)))
}

// rateClass names the limit a path falls under: "api", "tile" or "" (none: pages, static
// files, health, catalog, styles).
func rateClass(path string) string {
	switch {
	case strings.HasPrefix(path, "/tiles/"):
		return "tile"
	case (strings.HasPrefix(path, "/api/scenarios/") || strings.HasPrefix(path, "/ogc/")) && strings.Contains(path, "/tiles/"):
		return "tile"
	case strings.HasPrefix(path, "/api/"), path == "/ogc", strings.HasPrefix(path, "/ogc/"), strings.HasPrefix(path, "/downloads/"):
		return "api"
	}
	return ""
}

// clientKey identifies the caller: its bearer token (hashed, so that no token is kept in
// memory in the clear), else its address.
func clientKey(r *http.Request, trustProxy bool) string {
	if token, ok := bearerToken(r.Header.Get("Authorization")); ok {
		h := sha256.Sum256([]byte(token))
		return "token:" + string(h[:])
	}
	return "ip:" + clientIP(r, trustProxy)
}

// clientIP is the caller's address: with trustProxy, the last address of X-Forwarded-For
// (the one the proxy in front of this server appended; earlier ones are the client's to
// write and so worth nothing), else the connection's peer.
func clientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		xff := r.Header.Values("X-Forwarded-For")
		if n := len(xff); n > 0 {
			parts := strings.Split(xff[n-1], ",")
			if a, err := netip.ParseAddr(strings.TrimSpace(parts[len(parts)-1])); err == nil {
				return addrKey(a)
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return addrKey(a)
	}
	return host
}

// addrKey is an IPv4 address, or the /64 network of an IPv6 one.
func addrKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.WithZone("").Prefix(64)
		return p.String()
	}
	return a.String()
}

// clientLimiter holds one token bucket per client.
type clientLimiter struct {
	limit rate.Limit
	burst int
	max   int
	idle  time.Duration // a client idle this long has a full bucket again: forgetting it is free
	now   func() time.Time

	mu        sync.Mutex
	clients   map[string]*rateClient
	lastSweep time.Time
}

type rateClient struct {
	bucket *rate.Limiter
	seen   time.Time
}

// newClientLimiter returns nil when the limit is off; a nil limiter allows everything.
func newClientLimiter(l RateLimit, maxClients int, now func() time.Time) *clientLimiter {
	if l.Rate <= 0 {
		return nil
	}
	burst := max(l.Burst, 1)
	idle := max(time.Duration(float64(burst)/l.Rate*float64(time.Second)), time.Second)
	return &clientLimiter{limit: rate.Limit(l.Rate), burst: burst, max: maxClients, idle: idle, now: now,
		clients: map[string]*rateClient{}, lastSweep: now()}
}

// allow takes a token from key's bucket, or says how long until one is there.
func (cl *clientLimiter) allow(key string) (bool, time.Duration) {
	if cl == nil {
		return true, 0
	}
	now := cl.now()
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if now.Sub(cl.lastSweep) >= rateSweepEvery || len(cl.clients) >= cl.max {
		cl.sweep(now)
	}
	c := cl.clients[key]
	if c == nil {
		c = &rateClient{bucket: rate.NewLimiter(cl.limit, cl.burst)}
		cl.clients[key] = c
	}
	c.seen = now
	res := c.bucket.ReserveN(now, 1)
	if wait := res.DelayFrom(now); wait > 0 {
		res.CancelAt(now)
		return false, wait
	}
	return true, 0
}

// blocked reports whether key's bucket is empty, without taking from it, and how long until
// it holds a token again.
func (cl *clientLimiter) blocked(key string) (bool, time.Duration) {
	if cl == nil {
		return false, 0
	}
	now := cl.now()
	cl.mu.Lock()
	defer cl.mu.Unlock()
	c := cl.clients[key]
	if c == nil {
		return false, 0
	}
	tokens := c.bucket.TokensAt(now)
	if tokens >= 1 {
		return false, 0
	}
	return true, time.Duration((1 - tokens) / float64(cl.limit) * float64(time.Second))
}

// sweep forgets idle clients and, when there are still too many, any tenth of them.
func (cl *clientLimiter) sweep(now time.Time) {
	cl.lastSweep = now
	for k, c := range cl.clients {
		if now.Sub(c.seen) >= cl.idle {
			delete(cl.clients, k)
		}
	}
	for k := range cl.clients { // random order
		if len(cl.clients) < cl.max-cl.max/10 {
			break
		}
		delete(cl.clients, k)
	}
}

// size is the number of clients remembered.
func (cl *clientLimiter) size() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return len(cl.clients)
}
