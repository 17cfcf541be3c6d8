package api

import (
	"net/http"
	"net/url"

	"github.com/gridd/gridd/tiles"
)

// dashboardStyle is the MapLibre style (spec v8) of the command-centre map:
// grid boundaries shaded by incident count, heat, hotspots and incidents,
// all from this server's tiles. It names no glyphs or sprites, so it loads
// with no outside network; that leaves out text labels (a symbol layer
// needs glyphs) — grid names come from clicking a feature instead.
func dashboardStyle(base string, q url.Values, withIncidents bool) map[string]any {
	source := func(layer string) map[string]any {
		return map[string]any{
			"type": "vector",
			"url":  withQuery(base+"/tiles/"+layer+".json", tileQuery(layer, q)),
		}
	}
	sources := map[string]any{
		tiles.LayerGrids:    source(tiles.LayerGrids),
		tiles.LayerHeat:     source(tiles.LayerHeat),
		tiles.LayerHotspots: source(tiles.LayerHotspots),
	}
	levelIs := func(level string) []any { return []any{"==", []any{"get", "level"}, level} }
	layers := []any{
		map[string]any{"id": "background", "type": "background", "paint": map[string]any{"background-color": "#f4f3ef"}},
		map[string]any{
			"id": "grids-fill", "type": "fill", "source": tiles.LayerGrids, "source-layer": tiles.LayerGrids,
			"filter": levelIs("grid"),
			"paint": map[string]any{
				"fill-color": []any{"interpolate", []any{"linear"}, []any{"coalesce", []any{"get", "count"}, 0},
					0, "#f7fbff", 5, "#c6dbef", 20, "#6baed6", 50, "#2171b5", 100, "#08306b"},
				"fill-opacity": 0.55,
			},
		},
		map[string]any{
			"id": "heat", "type": "fill", "source": tiles.LayerHeat, "source-layer": tiles.LayerHeat,
			"maxzoom": 14,
			"paint": map[string]any{
				"fill-color": []any{"interpolate", []any{"linear"}, []any{"get", "density"},
					0, "rgba(255,255,178,0)", 50, "#fecc5c", 200, "#fd8d3c", 800, "#f03b20", 3000, "#bd0026"},
				"fill-opacity": 0.6,
			},
		},
		map[string]any{
			"id": "hotspots", "type": "fill", "source": tiles.LayerHotspots, "source-layer": tiles.LayerHotspots,
			"filter": []any{"!=", []any{"get", "bin"}, 0},
			"layout": map[string]any{"visibility": "none"},
			"paint": map[string]any{
				"fill-color": []any{"match", []any{"get", "bin"},
					3, "#d7191c", 2, "#fc8d59", 1, "#fee090", -1, "#e0f3f8", -2, "#91bfdb", -3, "#2c7bb6", "rgba(0,0,0,0)"},
				"fill-opacity": 0.7,
			},
		},
		gridLine("grids-line-grid", "grid", 13, "#7f8c8d", 0.6),
		gridLine("grids-line-community", "community", 12, "#34495e", 1.2),
		gridLine("grids-line-street", "street", 10, "#2c3e50", 1.8),
		gridLine("grids-line-district", "district", 0, "#1a252f", 2.6),
	}
	if withIncidents {
		sources[tiles.LayerIncidents] = source(tiles.LayerIncidents)
		layers = append(layers,
			map[string]any{
				"id": "incident-clusters", "type": "circle", "source": tiles.LayerIncidents, "source-layer": tiles.LayerIncidents,
				"maxzoom": 14,
				"paint": map[string]any{
					"circle-color":        "#c0392b",
					"circle-opacity":      0.75,
					"circle-radius":       []any{"interpolate", []any{"linear"}, []any{"sqrt", []any{"get", "count"}}, 1, 3, 10, 12, 40, 28},
					"circle-stroke-color": "#ffffff",
					"circle-stroke-width": 1,
				},
			},
			map[string]any{
				"id": "incidents", "type": "circle", "source": tiles.LayerIncidents, "source-layer": tiles.LayerIncidents,
				"minzoom": 14,
				"paint": map[string]any{
					"circle-radius": 5,
					"circle-color": []any{"match", []any{"get", "status"},
						"reported", "#e74c3c", "filed", "#e67e22", "dispatched", "#f1c40f",
						"handled", "#3498db", "closed", "#27ae60", "rejected", "#95a5a6", "#7f8c8d"},
					"circle-stroke-color": "#ffffff",
					"circle-stroke-width": 1,
				},
			})
	}
	return map[string]any{
		"version": 8,
		"name":    "gridd dashboard",
		"metadata": map[string]any{
			"gridd:layers": "grids, heat, hotspots (hidden until toggled), incidents; no text labels: no glyphs are served",
		},
		"sources": sources,
		"layers":  layers,
	}
}

func gridLine(id, level string, minZoom int, color string, width float64) map[string]any {
	l := map[string]any{
		"id": id, "type": "line", "source": tiles.LayerGrids, "source-layer": tiles.LayerGrids,
		"filter": []any{"==", []any{"get", "level"}, level},
		"paint":  map[string]any{"line-color": color, "line-width": width},
	}
	if minZoom > 0 {
		l["minzoom"] = minZoom
	}
	return l
}

// GET /styles/dashboard.json?from=&to=&category=
func (s *Server) handleStyle(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.readTileParams(tiles.LayerGrids, r.URL.Query()); err != nil {
		return err
	}
	st := dashboardStyle(baseURL(r), r.URL.Query(), AccessOf(r).Can(RoleReporter))
	ix, err := s.reg.Current()
	if err == nil && len(ix.Set().Grids) > 0 {
		c := s.cityBound().Center()
		st["center"] = []float64{c[0], c[1]}
		st["zoom"] = 11
	}
	w.Header().Set("Cache-Control", "private, no-cache")
	return writeJSON(w, http.StatusOK, st)
}
