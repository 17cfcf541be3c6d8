package api

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb/geojson"

	"github.com/gridd/gridd/grids"
)

const maxGridFeatures = 100000

func gridFeature(g *grids.Grid) *geojson.Feature {
	f := geojson.NewFeature(g.Geometry)
	for k, v := range g.Attrs {
		f.Properties[k] = v
	}
	f.Properties["code"] = g.Code
	f.Properties["name"] = g.Name
	f.Properties["level"] = g.Level.String()
	if g.Parent != "" {
		f.Properties["parent"] = g.Parent
	}
	if g.Department != "" {
		f.Properties["department"] = g.Department
	}
	f.ID = g.Code
	return f
}

// GET /api/v1/grids?bbox=&level=&parent=&at=
func (s *Server) handleGridsList(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query())
	box, hasBox := q.bbox("bbox")
	var level grids.Level
	if l := q.str("level"); l != "" {
		var err error
		if level, err = grids.ParseLevel(l); err != nil {
			q.fail("level", "%v", err)
		}
	}
	parent := q.str("parent")
	at, hasAt := q.time("at")
	if q.err != nil {
		return q.err
	}
	ix, err := s.indexAt(at, hasAt)
	if err != nil {
		return err
	}
	fc := geojson.NewFeatureCollection()
	for _, g := range ix.Set().Grids {
		if level != grids.LevelUnknown && g.Level != level {
			continue
		}
		if parent != "" && g.Parent != parent {
			continue
		}
		if hasBox && !g.Bound().Intersects(box) {
			continue
		}
		if len(fc.Features) == maxGridFeatures {
			return problem(http.StatusUnprocessableEntity, "more than %d grids match: narrow bbox, level or parent", maxGridFeatures)
		}
		fc.Append(gridFeature(g))
	}
	fc.ExtraMembers = geojson.Properties{"set_id": ix.Set().ID, "numberReturned": len(fc.Features)}
	w.Header().Set("Content-Type", "application/geo+json")
	return writeJSON(w, http.StatusOK, fc)
}

// GET /api/v1/grids/{code}
func (s *Server) handleGridGet(w http.ResponseWriter, r *http.Request) error {
	code := mux.Vars(r)["code"]
	q := newQuery(r.URL.Query())
	at, hasAt := q.time("at")
	if q.err != nil {
		return q.err
	}
	ix, err := s.indexAt(at, hasAt)
	if err != nil {
		return err
	}
	g := ix.Grid(code)
	if g == nil {
		return notFound("no grid %q in set %d", code, ix.Set().ID)
	}
	f := gridFeature(g)
	var anc []*GridRef
	for _, a := range ix.Ancestors(g) {
		anc = append(anc, ref(a))
	}
	f.Properties["ancestors"] = anc
	w.Header().Set("Content-Type", "application/geo+json")
	return writeJSON(w, http.StatusOK, f)
}
