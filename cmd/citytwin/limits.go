package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/citytwin/citytwin/web"
)

// limitFlags are serve's flags for what one request, and one client, may cost, and for whom
// the server trusts: a proxy in front, web pages of other origins on its restricted routes.
type limitFlags struct {
	maxBodyKiB int64
	timeout    time.Duration
	apiRate    float64
	apiBurst   int
	tileRate   float64
	tileBurst  int
	trustProxy bool
	authFails  int // failed authentications a minute per client address

	corsAdminOrigins string // comma-separated; "": none

	maxUploadMiB int64 // largest upload at /api/admin/import
}

func addLimitFlags(fs *flag.FlagSet) *limitFlags {
	l := &limitFlags{}
	fs.Int64Var(&l.maxBodyKiB, "max-body-kib", web.MaxBodyBytes>>10, "largest request body, in KiB (413 beyond)")
	fs.DurationVar(&l.timeout, "request-timeout", web.DefaultRequestTimeout, "how long one request may run before it is answered 503 (0: no limit)")
	fs.Float64Var(&l.apiRate, "rate-limit", 50, "requests a second each client may make to /api/* on average (0: no limit); a client is its bearer token, else its IP address")
	fs.IntVar(&l.apiBurst, "rate-burst", 100, "requests a client may make to /api/* at once, beyond --rate-limit")
	fs.Float64Var(&l.tileRate, "tile-rate-limit", 0, "tile requests a second each client may make on average (0: no limit)")
	fs.IntVar(&l.tileBurst, "tile-rate-burst", 400, "tile requests a client may make at once, beyond --tile-rate-limit")
	fs.BoolVar(&l.trustProxy, "trust-proxy", false, "behind a proxy: take the client's IP address from X-Forwarded-For and the address it reached from X-Forwarded-Proto, -Host and -Prefix (the URLs in TileJSON, the catalog and styles); without it those headers are ignored. Set it only behind a proxy that sets them")
	fs.IntVar(&l.authFails, "auth-failure-limit", 10, "failed authentications (unknown, revoked or expired tokens) a client's IP address may make a minute; past them its requests with a token are answered 429 (0: no limit)")
	fs.StringVar(&l.corsAdminOrigins, "cors-admin-origins", "", `origins whose web pages may call /api/admin and /api/parcels (tokens, owners' personal data), comma-separated; --cors-origins does not cover them. Empty: none`)
	fs.Int64Var(&l.maxUploadMiB, "max-upload-mib", web.DefaultMaxUploadBytes>>20, "largest file (with its mapping) an admin may upload at /admin/import, in MiB (413 beyond)")
	return l
}

// apply checks the flags and sets them on o.
func (l *limitFlags) apply(o *web.Options) error {
	switch {
	case l.maxBodyKiB <= 0:
		return fmt.Errorf("--max-body-kib must be positive")
	case l.timeout < 0:
		return fmt.Errorf("--request-timeout cannot be negative")
	case l.apiRate < 0 || l.tileRate < 0:
		return fmt.Errorf("--rate-limit and --tile-rate-limit cannot be negative")
	case l.apiRate > 0 && l.apiBurst < 1, l.tileRate > 0 && l.tileBurst < 1:
		return fmt.Errorf("--rate-burst and --tile-rate-burst must be at least 1")
	case l.authFails < 0:
		return fmt.Errorf("--auth-failure-limit cannot be negative")
	case l.maxUploadMiB <= 0:
		return fmt.Errorf("--max-upload-mib must be positive")
	}
	o.Import = &web.ImportOptions{MaxUploadBytes: l.maxUploadMiB << 20}
	o.MaxBodyBytes = l.maxBodyKiB << 10
	o.RequestTimeout = l.timeout
	if l.timeout == 0 {
		o.RequestTimeout = -1 // web: none
	}
	o.APIRate = web.RateLimit{Rate: l.apiRate, Burst: l.apiBurst}
	o.TileRate = web.RateLimit{Rate: l.tileRate, Burst: l.tileBurst}
	// A burst of authFails, then one more every minute / authFails.
	o.AuthFailureRate = web.RateLimit{Rate: float64(l.authFails) / 60, Burst: l.authFails}
	o.TrustProxy = l.trustProxy
	o.CORSAdminOrigins = splitList(l.corsAdminOrigins)
	return nil
}
