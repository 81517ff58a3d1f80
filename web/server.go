// Package web owns CityTwin's HTTP side: the router, handlers, middleware, the OpenAPI
// document and the embedded static UI.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/citytwin/citytwin/access"
	"github.com/citytwin/citytwin/citymodel"
	"github.com/citytwin/citytwin/layers"
	"github.com/citytwin/citytwin/scenarios"
	"github.com/citytwin/citytwin/tiles"
)

// Options configure a Server.
type Options struct {
	Logger *slog.Logger
	// Mode names the store the server runs on ("postgis" or "memory"), for /readyz.
	Mode string
	// Model is the live city model that tiles, lookups and scenarios read, and whose data
	// version keys the tile cache; nil: an empty one, so everything that needs it answers
	// 503 "loading".
	Model *citymodel.Model
	// DatabaseCheck tells whether the database answers within ctx, for /readyz (health.go);
	// nil: no database.
	DatabaseCheck func(ctx context.Context) error
	// Tokens verifies bearer tokens; nil: every caller is public.
	Tokens TokenVerifier
	// TokenStore keeps the tokens that admins manage at /api/admin/tokens (admin.go); nil:
	// those routes answer 503.
	TokenStore access.Store
	// Scenarios runs the planning scenarios of /api/scenarios (scenarios.go); nil: those
	// routes answer 503.
	Scenarios *scenarios.Service

	// Tiles (tiles.go). TileSource makes the base layers' tiles — the PostGIS store when a
	// database is configured; nil: MemoryTiles — and TileSourceName names it in tile cache
	// keys ("postgis"; "memory" when TileSource is nil).
	TileSource     layers.Source
	TileSourceName string
	// MemoryTiles makes tiles from the in-memory model; nil: one over Model.
	MemoryTiles *tiles.MemorySource
	// TileCache keeps made tiles (shared by every tile source; keys name the source); nil:
	// no cache.
	TileCache *tiles.Cache
	// TileMaxAge is the max-age of tiles' Cache-Control; 0: clients revalidate every time.
	TileMaxAge time.Duration
	// CORSOrigins are the origins whose pages may call the server ("*": any); empty: no CORS
	// headers. CORSAdminOrigins are those that may call /api/admin and /api/parcels (personal
	// data, tokens), which CORSOrigins do not cover; empty: no CORS headers there.
	CORSOrigins      []string
	CORSAdminOrigins []string
	// Background is a raster layer the city style draws under the city's own (an aerial
	// photograph, a national base map); nil: none (styles.go).
	Background *RasterBackground

	// Limits (limits.go, ratelimit.go). MaxBodyBytes bounds request bodies (0: MaxBodyBytes);
	// RequestTimeout bounds a request's time (0: DefaultRequestTimeout; negative: none);
	// APIRate and TileRate limit each client on /api/* and on tiles (zero Rate: no limit);
	// AuthFailureRate limits each client address's failed authentications (a bad, revoked or
	// expired token): past its burst, requests with a token get 429 (zero Rate: no limit).
	// TrustProxy takes the client's address from X-Forwarded-For and the address it reached
	// from X-Forwarded-Proto, -Host and -Prefix; without it the server ignores those headers.
	MaxBodyBytes    int64
	RequestTimeout  time.Duration
	APIRate         RateLimit
	TileRate        RateLimit
	AuthFailureRate RateLimit
	TrustProxy      bool

	// Metrics are served at /metrics (metrics.go); nil: New makes them. One Metrics serves
	// one Server.
	Metrics *Metrics
	// Published are the layers served as tiles: the base layers and a city's extra layers
	// (PostGIS only; TileSource must make their tiles); nil: the base layers.
	Published *layers.Published
	// TileFiles are exported tile pyramids (PMTiles, MBTiles) served by name at
	// /tiles/{name}/{z}/{x}/{y}.mvt (tilefiles.go); a name here hides a layer of that name.
	TileFiles map[string]TileFile
	// Import is the admin upload page's store and limits (adminimport.go); nil: the upload
	// answers 503.
	Import *ImportOptions
}

// Server holds the handlers' dependencies.
type Server struct {
	log     *slog.Logger
	opts    Options
	model   *citymodel.Model
	started time.Time
	router  *mux.Router
	metrics *Metrics // metrics.go

	tileState tileState // tiles.go
	health    dbHealth  // health.go
	dataSeen  dataSeen  // dcat.go
}

// New returns a server that answers /healthz at once and the rest once the model is loaded.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Model == nil {
		opts.Model = citymodel.New(citymodel.Options{Logger: opts.Logger})
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics()
	}
	s := &Server{log: opts.Logger, opts: opts, model: opts.Model, started: time.Now(), metrics: opts.Metrics}
	s.registerServerMetrics()
	s.initTiles()
	s.router = s.routes()
	return s
}

// Metrics returns the server's metrics.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Handler returns the server's root handler with its middleware.
func (s *Server) Handler() http.Handler { return s.withMiddleware(s.router) }
