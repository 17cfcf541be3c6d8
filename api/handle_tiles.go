package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/tiles"
)

const (
	tileRoute     = "/tiles/{layer}/{z}/{x}/{y}.mvt"
	tileJSONRoute = "/tiles/{layer}.json"
	mvtType       = "application/vnd.mapbox-vector-tile"
)

// Hotspot cell sizes the hotspots layer accepts, in metres.
const (
	defaultHotCellM = 250
	minHotCellM     = 50
	maxHotCellM     = 5000
)

// layerZooms is a layer's TileJSON zoom range: deeper tiles are
// over-zoomed by the client (the server still answers them).
func layerZooms(layer string) (minZoom, maxZoom int) {
	switch layer {
	case tiles.LayerIncidents:
		return 0, 18
	case tiles.LayerHotspots:
		return 8, 16
	}
	return 0, 16
}

func (s *Server) tileRoutes(r *mux.Router) {
	r.Handle(tileRoute, s.adapt(s.handleTile)).Methods(http.MethodGet)
	r.Handle(tileJSONRoute, s.adapt(s.handleTileJSON)).Methods(http.MethodGet)
	r.Handle("/styles/dashboard.json", s.adapt(s.handleStyle)).Methods(http.MethodGet)
}

// tileParams are a tile request's filters, validated.
type tileParams struct {
	from, to int64 // Unix seconds, [from, to)
	category string
	cellM    float64
	points   bool // heat as points for heatmap styles
}

// readTileParams reads the query of a layer's tiles (and TileJSON).
func (s *Server) readTileParams(layer string, v url.Values) (tileParams, error) {
	q := newQuery(v)
	p := tileParams{from: math.MinInt64, to: math.MaxInt64, cellM: defaultHotCellM}
	from, to := timeRange(q)
	if from != nil {
		p.from = from.Unix()
	}
	if to != nil {
		// Columns keep whole seconds: a fractional end includes its second.
		p.to = to.Unix()
		if to.Nanosecond() != 0 {
			p.to++
		}
	}
	p.category = s.categoryParam(q, "category")
	switch layer {
	case tiles.LayerHeat:
		switch shape := q.str("shape"); shape {
		case "", "cells":
		case "points":
			p.points = true
		default:
			q.fail("shape", "%q: want cells or points", shape)
		}
	case tiles.LayerHotspots:
		if c, ok := q.float("cell_m"); ok {
			if c < minHotCellM || c > maxHotCellM {
				q.fail("cell_m", "must be from %d to %d metres", minHotCellM, maxHotCellM)
			}
			p.cellM = c
		}
	}
	return p, q.errOrNil()
}

func (q *query) errOrNil() error {
	if q.err != nil {
		return q.err
	}
	return nil
}

// fromTime and toTime are the period's ends, zero when open.
func (p tileParams) fromTime() time.Time {
	if p.from == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(p.from, 0)
}

func (p tileParams) toTime() time.Time {
	if p.to == math.MaxInt64 {
		return time.Time{}
	}
	return time.Unix(p.to, 0)
}

// canonical is the part of the cache key the filters decide.
func (p tileParams) canonical(a Access) string {
	return fmt.Sprintf("from=%d&to=%d&cat=%s&scope=%s&k=%d&cell=%g&pts=%t",
		p.from, p.to, p.category, a.Scope, a.MinCount(), p.cellM, p.points)
}

func checkLayer(layer string, a Access) error {
	switch layer {
	case tiles.LayerGrids, tiles.LayerHeat, tiles.LayerHotspots:
		return nil
	case tiles.LayerIncidents:
		if !a.Can(RoleReporter) {
			return problem(http.StatusForbidden, "the incidents layer shows single incidents: it needs the reporter role (viewers see the heat layer)")
		}
		return nil
	}
	return notFound("no tile layer %q (want grids, incidents, heat or hotspots)", layer)
}

// GET /tiles/{layer}/{z}/{x}/{y}.mvt?from=&to=&category=
func (s *Server) handleTile(w http.ResponseWriter, r *http.Request) error {
	vars := mux.Vars(r)
	layer := vars["layer"]
	a := AccessOf(r)
	if err := checkLayer(layer, a); err != nil {
		return err
	}
	t, err := tiles.ParseTileID(vars["z"], vars["x"], vars["y"])
	if err != nil {
		return badRequest("%v", err)
	}
	p, err := s.readTileParams(layer, r.URL.Query())
	if err != nil {
		return err
	}
	ctx := r.Context()
	key := tiles.CacheKey{Layer: layer, Tile: t, Query: p.canonical(a)}
	var render func() ([]byte, error)
	switch layer {
	case tiles.LayerGrids:
		ix, err := s.indexAt(time.Time{}, false)
		if err != nil {
			return err
		}
		s.tiles.sync()
		key.Version = uint64(ix.Set().ID)
		render = func() ([]byte, error) {
			gl, err := s.tiles.gridLayer(ix.Set())
			if err != nil {
				return nil, err
			}
			counts, err := s.tiles.gridCounts(ctx, countKey{from: p.from, to: p.to, category: p.category, scope: a.Scope})
			if err != nil {
				return nil, err
			}
			return gl.Render(t, counts)
		}
	case tiles.LayerIncidents, tiles.LayerHeat:
		pix, err := s.tiles.pointIndex(a.Scope)
		if err != nil {
			return err
		}
		f := tiles.PointFilter{From: p.fromTime(), To: p.toTime()}
		if p.category != "" {
			f.Category = func(code string) bool { return code == p.category }
		}
		render = func() ([]byte, error) {
			if layer == tiles.LayerHeat {
				return pix.RenderHeat(t, f, tiles.HeatOptions{MinCount: a.MinCount(), Points: p.points})
			}
			return pix.RenderIncidents(t, f, s.tiles.attrs, tiles.IncidentOptions{})
		}
	case tiles.LayerHotspots:
		ix, err := s.indexAt(time.Time{}, false)
		if err != nil {
			return err
		}
		s.tiles.sync()
		rows := int(s.tiles.indexed.Load())
		key.Version = uint64(rows)<<20 ^ uint64(ix.Set().ID)
		hk := hotKey{from: p.from, to: p.to, category: p.category, scope: a.Scope,
			cellM: p.cellM, setID: ix.Set().ID, rows: rows}
		render = func() ([]byte, error) {
			hl, err := s.tiles.hotspotLayer(ctx, a, hk, p.fromTime(), p.toTime())
			if err != nil {
				return nil, err
			}
			return hl.Render(t, tiles.HotspotOptions{MinCount: a.MinCount()})
		}
	}
	tile, err := s.tiles.render(key, render)
	var pr *Problem
	if errors.As(err, &pr) {
		return pr
	}
	if err != nil {
		return fmt.Errorf("render tile %s %s: %w", layer, t, err)
	}
	return serveTile(w, r, tile)
}

// serveTile writes a tile gzipped when the client accepts it, with a
// strong ETag, 304 for a matching If-None-Match and 204 for an empty tile.
func serveTile(w http.ResponseWriter, r *http.Request, tile *tiles.Tile) error {
	gz := acceptsGzip(r)
	h := w.Header()
	h.Set("Content-Type", mvtType)
	// Tiles depend on the key (scope, role) and change with the data:
	// clients revalidate with the ETag, shared caches keep none.
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Vary", "Accept-Encoding, Authorization")
	h.Set("ETag", tile.ETag(gz))
	if inm := r.Header.Get("If-None-Match"); inm != "" && tile.NotModified(inm) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if tile.Empty() {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if gz {
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(tile.Gzip())))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(tile.Gzip())
		return nil
	}
	raw, err := tile.Raw()
	if err != nil {
		return err
	}
	h.Set("Content-Length", strconv.Itoa(len(raw)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(raw)
	return nil
}

// tileQuery keeps the filters of a TileJSON or style request for the tile
// URLs it hands out.
func tileQuery(layer string, v url.Values) url.Values {
	out := url.Values{}
	keep := []string{"from", "to", "category"}
	switch layer {
	case tiles.LayerHeat:
		keep = append(keep, "shape")
	case tiles.LayerHotspots:
		keep = append(keep, "cell_m")
	}
	for _, k := range keep {
		if x := v.Get(k); x != "" {
			out.Set(k, x)
		}
	}
	return out
}

// cityBound is the bound of the set in force, or the world when none.
func (s *Server) cityBound() orb.Bound {
	ix, err := s.reg.Current()
	if err != nil {
		return orb.Bound{}
	}
	var b orb.Bound
	first := true
	for _, g := range ix.Set().Grids {
		if g.Level != grids.LevelDistrict && g.Parent != "" {
			continue
		}
		if first {
			b, first = g.Bound(), false
		} else {
			b = b.Union(g.Bound())
		}
	}
	return b
}

// GET /tiles/{layer}.json TileJSON 3.0.0
func (s *Server) handleTileJSON(w http.ResponseWriter, r *http.Request) error {
	layer := mux.Vars(r)["layer"]
	if err := checkLayer(layer, AccessOf(r)); err != nil {
		return err
	}
	if _, err := s.readTileParams(layer, r.URL.Query()); err != nil {
		return err
	}
	minZ, maxZ := layerZooms(layer)
	doc, err := tiles.TileJSON(tiles.TileJSONSpec{
		Layer:       layer,
		TilesURL:    tiles.TilesURL(baseURL(r), layer, tileQuery(layer, r.URL.Query())),
		MinZoom:     minZ,
		MaxZoom:     maxZ,
		Bounds:      s.cityBound(),
		Description: layerDescription(layer),
	})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "private, no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc)
	return nil
}

func layerDescription(layer string) string {
	switch layer {
	case tiles.LayerGrids:
		return "Grid polygons of every level with code, name, level and the incident count for the period asked."
	case tiles.LayerIncidents:
		return "Incidents: clusters with count under zoom 14, single incidents with id, category, status and grid from zoom 14."
	case tiles.LayerHeat:
		return "Incident counts per square cell with density per km²."
	case tiles.LayerHotspots:
		return "Getis-Ord Gi* cells with count, z, p and FDR-corrected confidence bin (-3..3)."
	}
	return ""
}
