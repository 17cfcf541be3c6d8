package api

import (
	"net/http"
	"sync"

	"github.com/gorilla/mux"
)

// gridsetRoutes registers the planner's /api/v1/gridsets endpoints: drafts
// (create from GeoJSON or as a copy, edit), their validation and impact
// diff, and publishing.
func (s *Server) gridsetRoutes(v1 *mux.Router) {
	g := &gridsets{s: s, locks: map[int64]*sync.Mutex{}, counts: map[int64]gridCounts{}}
	v1.Handle("/gridsets", s.adapt(g.handleList)).Methods(http.MethodGet)
	v1.Handle("/gridsets", s.adapt(g.handleCreate)).Methods(http.MethodPost)
	v1.Handle("/gridsets/{id}", s.adapt(g.handleGet)).Methods(http.MethodGet)
	v1.Handle("/gridsets/{id}/validation", s.adapt(g.handleValidation)).Methods(http.MethodGet)
	v1.Handle("/gridsets/{id}/diff", s.adapt(g.handleDiff)).Methods(http.MethodGet)
	v1.Handle("/gridsets/{id}/edits", s.adapt(g.handleEdit)).Methods(http.MethodPost)
	v1.Handle("/gridsets/{id}/publish", s.adapt(g.handlePublish)).Methods(http.MethodPost)

	// routePolicy is the authority on roles; a route it does not list yet
	// gets the role the planner workflow needs here instead of admin only.
	for route, role := range map[string]Role{
		"POST /api/v1/gridsets/{id}/edits": RolePlanner,
	} {
		if _, ok := s.policy[route]; !ok {
			s.policy[route] = role
		}
	}
}

// gridsets serves the grid-set endpoints.
type gridsets struct {
	s *Server

	mu sync.Mutex
	// locks serialise the read-edit-write of one draft, and its publishing,
	// within this process, so that two planners' edits never overwrite
	// each other.
	locks map[int64]*sync.Mutex
	// counts remembers the grid counts of published sets, which never
	// change, so that listing does not load them again.
	counts map[int64]gridCounts
}

// lock takes the lock of set id and returns its release.
func (g *gridsets) lock(id int64) func() {
	g.mu.Lock()
	l, ok := g.locks[id]
	if !ok {
		l = &sync.Mutex{}
		g.locks[id] = l
	}
	g.mu.Unlock()
	l.Lock()
	return l.Unlock
}
