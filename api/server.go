// Package api serves gridd's HTTP interface: the JSON API, vector tiles,
// OGC API – Features, Open311 and the dashboard.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/web"
)

// Options wire a Server to its data.
type Options struct {
	Backend *Backend
	Logger  *slog.Logger
	// Open serves every request as admin: no API keys are configured and
	// the server listens on loopback only (the caller checks that).
	Open bool
	// RequestTimeout bounds each request's context (default 30 s).
	RequestTimeout time.Duration
	// MaxBodyBytes bounds request bodies (default 64 MiB).
	MaxBodyBytes int64
	// Ready reports whether the server may take traffic (the store is
	// reachable); nil means always ready.
	Ready func() error
	// TileCacheBytes bounds the tile cache (default 256 MiB); negative
	// turns caching off, for measuring renders.
	TileCacheBytes int64
}

// Server is gridd's HTTP handler.
type Server struct {
	opt     Options
	log     *slog.Logger
	b       *Backend
	reg     *grids.Registry
	router  *mux.Router
	metrics *metrics
	policy  map[string]Role
	keys    keyCache
	tiles   *tileState
}

// New builds a Server.
func New(opt Options) *Server {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.RequestTimeout <= 0 {
		opt.RequestTimeout = 30 * time.Second
	}
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = 64 << 20
	}
	s := &Server{opt: opt, log: opt.Logger, b: opt.Backend, reg: opt.Backend.Registry, metrics: newMetrics(), policy: routePolicy()}
	s.tiles = newTileState(opt.Backend, opt.TileCacheBytes, opt.Logger)
	s.tiles.cells = s.hotspotCells
	s.metrics.reg.MustRegister(s.tiles.collector())
	s.routes()
	return s
}

func (s *Server) routes() {
	r := mux.NewRouter()
	r.StrictSlash(false)
	r.Use(s.recoverMiddleware, s.logMiddleware, s.limitMiddleware, s.authMiddleware, s.gzipMiddleware)

	r.Handle("/healthz", s.adapt(s.handleHealthz)).Methods(http.MethodGet)
	r.Handle("/readyz", s.adapt(s.handleReadyz)).Methods(http.MethodGet)
	r.Handle("/metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})).Methods(http.MethodGet)

	v1 := r.PathPrefix("/api/v1").Subrouter()
	v1.Handle("/geocode", s.adapt(s.handleGeocodeGet)).Methods(http.MethodGet)
	v1.Handle("/geocode", s.adapt(s.handleGeocodePost)).Methods(http.MethodPost)
	v1.Handle("/grids", s.adapt(s.handleGridsList)).Methods(http.MethodGet)
	v1.Handle("/grids/{code}", s.adapt(s.handleGridGet)).Methods(http.MethodGet)
	s.incidentRoutes(v1)
	s.tileRoutes(r)
	s.ogcRoutes(r)
	s.open311Routes(r)
	s.analyticsRoutes(v1)
	s.gridsetRoutes(v1)

	// The dashboard, last: every path no route above claims.
	r.PathPrefix("/").Handler(web.Handler())

	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		writeProblem(w, req, notFound("no such endpoint: %s", req.URL.Path))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		writeProblem(w, req, problem(http.StatusMethodNotAllowed, "%s is not allowed on %s", req.Method, req.URL.Path))
	})
	s.router = r
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	geocoded prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gridd_http_requests_total", Help: "HTTP requests by route and status class.",
	}, []string{"route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "gridd_http_request_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route"})
	m.geocoded = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "gridd_geocoded_points_total", Help: "Points geocoded through the API.",
	})
	m.reg.MustRegister(m.requests, m.latency, m.geocoded,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
