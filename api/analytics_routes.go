package api

import (
	"net/http"

	"github.com/gorilla/mux"
)

// analyticsRoutes registers /api/v1/hotspots, /emerging, /alerts and
// /stats/grids. Their state (analysis grids, the points copy of the
// columns) lives in one analytics value shared by the four.
func (s *Server) analyticsRoutes(v1 *mux.Router) {
	an := newAnalytics(s)
	v1.Handle("/hotspots", s.adapt(an.handleHotspots)).Methods(http.MethodGet)
	v1.Handle("/emerging", s.adapt(an.handleEmerging)).Methods(http.MethodGet)
	v1.Handle("/alerts", s.adapt(an.handleAlerts)).Methods(http.MethodGet)
	v1.Handle("/stats/grids", s.adapt(an.handleStats)).Methods(http.MethodGet)
}
