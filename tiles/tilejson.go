package tiles

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strings"

	"github.com/paulmach/orb"
)

// TileJSONSpec describes one layer's tileset for TileJSON.
type TileJSONSpec struct {
	Layer string
	// TilesURL is the tile URL template, e.g. from TilesURL.
	TilesURL         string
	MinZoom, MaxZoom int
	// Bounds in lon/lat; the zero bound means the whole Web Mercator world.
	Bounds orb.Bound
	// Fields names each attribute and its type (Number, String, Boolean);
	// nil takes LayerFields(Layer).
	Fields      map[string]string
	Description string
	Attribution string
}

type tileJSONLayer struct {
	ID          string            `json:"id"`
	Fields      map[string]string `json:"fields"`
	Description string            `json:"description,omitempty"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
}

type tileJSONDoc struct {
	TileJSON     string          `json:"tilejson"`
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	Attribution  string          `json:"attribution,omitempty"`
	Scheme       string          `json:"scheme"`
	Tiles        []string        `json:"tiles"`
	VectorLayers []tileJSONLayer `json:"vector_layers"`
	MinZoom      int             `json:"minzoom"`
	MaxZoom      int             `json:"maxzoom"`
	Bounds       [4]float64      `json:"bounds"`
	Center       [3]float64      `json:"center"`
}

// TileJSON writes the TileJSON 3.0.0 document of one layer.
func TileJSON(s TileJSONSpec) ([]byte, error) {
	if s.Layer == "" || s.TilesURL == "" {
		return nil, fmt.Errorf("tilejson: layer and tiles URL are required")
	}
	if s.MinZoom < 0 || s.MaxZoom > MaxZoom || s.MinZoom > s.MaxZoom {
		return nil, fmt.Errorf("tilejson %s: zoom range %d..%d not within 0..%d", s.Layer, s.MinZoom, s.MaxZoom, MaxZoom)
	}
	b := s.Bounds
	if b.IsZero() {
		b = orb.Bound{Min: orb.Point{-180, -maxMercatorLat}, Max: orb.Point{180, maxMercatorLat}}
	}
	for _, v := range [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("tilejson %s: bounds %v are not finite", s.Layer, b)
		}
	}
	fields := s.Fields
	if fields == nil {
		fields = LayerFields(s.Layer)
	}
	if fields == nil {
		fields = map[string]string{}
	}
	c := b.Center()
	doc := tileJSONDoc{
		TileJSON:    "3.0.0",
		Name:        s.Layer,
		Description: s.Description,
		Attribution: s.Attribution,
		Scheme:      "xyz",
		Tiles:       []string{s.TilesURL},
		VectorLayers: []tileJSONLayer{{
			ID: s.Layer, Fields: fields, Description: s.Description,
			MinZoom: s.MinZoom, MaxZoom: s.MaxZoom,
		}},
		MinZoom: s.MinZoom,
		MaxZoom: s.MaxZoom,
		Bounds:  [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]},
		Center:  [3]float64{c[0], c[1], float64(s.MinZoom)},
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("tilejson %s: %w", s.Layer, err)
	}
	return out, nil
}

// TilesURL builds the tile URL template of a layer under baseURL (scheme
// and host, optionally a path prefix), keeping the query (from, to,
// category) so that the tiles match the TileJSON asked for. The braces stay
// unescaped, as clients substitute them literally.
func TilesURL(baseURL, layer string, query url.Values) string {
	u := strings.TrimRight(baseURL, "/") + "/tiles/" + url.PathEscape(layer) + "/{z}/{x}/{y}.mvt"
	if q := query.Encode(); q != "" {
		u += "?" + q
	}
	return u
}

// LayerFields lists the attributes each layer's features carry, with their
// TileJSON types; nil for an unknown layer.
func LayerFields(layer string) map[string]string {
	switch layer {
	case LayerGrids:
		return map[string]string{
			"code": "String", "name": "String", "level": "String",
			"count": "Number",
		}
	case LayerIncidents:
		return map[string]string{
			"count": "Number", "id": "Number", "category": "String",
			"status": "String", "grid": "String",
		}
	case LayerHeat:
		return map[string]string{"count": "Number", "density": "Number"}
	case LayerHotspots:
		return map[string]string{
			"count": "Number", "z": "Number", "p": "Number", "bin": "Number",
		}
	}
	return nil
}

// DefaultBufferPx is each layer's margin around a tile, in nominal pixels
// of a 256-px tile, as the layers render by default: small for polygons
// (hides edge seams), one 64-px cluster cell for incidents (symbols near an
// edge are drawn whole by both tiles), none for heat squares, which never
// cross a tile edge. A cache serving heat as points (HeatOptions.Points)
// must be told their 64 px in CacheOptions.BufferPx.
func DefaultBufferPx(layer string) float64 {
	switch layer {
	case LayerIncidents:
		return 64
	case LayerHeat:
		return 0
	default:
		return 4
	}
}
