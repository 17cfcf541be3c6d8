package tiles

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestTileJSON(t *testing.T) {
	tests := []struct {
		name    string
		spec    TileJSONSpec
		wantErr bool
	}{
		{name: "grids", spec: TileJSONSpec{
			Layer: LayerGrids, TilesURL: TilesURL("http://127.0.0.1:8080/", LayerGrids, url.Values{"from": {"2025-01-01T00:00:00Z"}}),
			MinZoom: 0, MaxZoom: 18, Bounds: cityBound,
		}},
		{name: "world bounds by default", spec: TileJSONSpec{Layer: LayerHeat, TilesURL: "http://h/tiles/heat/{z}/{x}/{y}.mvt", MaxZoom: 16}},
		{name: "missing url", spec: TileJSONSpec{Layer: LayerHeat}, wantErr: true},
		{name: "zoom range", spec: TileJSONSpec{Layer: LayerHeat, TilesURL: "x", MinZoom: 5, MaxZoom: 3}, wantErr: true},
		{name: "zoom too deep", spec: TileJSONSpec{Layer: LayerHeat, TilesURL: "x", MaxZoom: 23}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := TileJSON(tc.spec)
			if tc.wantErr {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				TileJSON     string    `json:"tilejson"`
				Tiles        []string  `json:"tiles"`
				Scheme       string    `json:"scheme"`
				Bounds       []float64 `json:"bounds"`
				Center       []float64 `json:"center"`
				MinZoom      *int      `json:"minzoom"`
				MaxZoom      *int      `json:"maxzoom"`
				VectorLayers []struct {
					ID     string            `json:"id"`
					Fields map[string]string `json:"fields"`
				} `json:"vector_layers"`
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.TileJSON != "3.0.0" || len(doc.Tiles) != 1 || doc.Scheme != "xyz" || doc.MinZoom == nil || doc.MaxZoom == nil {
				t.Fatalf("document %s", b)
			}
			if !strings.Contains(doc.Tiles[0], "/{z}/{x}/{y}.mvt") {
				t.Errorf("tiles URL %q lost its placeholders", doc.Tiles[0])
			}
			if len(doc.VectorLayers) != 1 || doc.VectorLayers[0].ID != tc.spec.Layer || len(doc.VectorLayers[0].Fields) == 0 {
				t.Errorf("vector_layers %+v", doc.VectorLayers)
			}
			if len(doc.Bounds) != 4 || doc.Bounds[0] >= doc.Bounds[2] || doc.Bounds[1] >= doc.Bounds[3] || len(doc.Center) != 3 {
				t.Errorf("bounds %v center %v", doc.Bounds, doc.Center)
			}
			if !tc.spec.Bounds.IsZero() && (doc.Bounds[0] != tc.spec.Bounds.Min[0] || doc.Bounds[3] != tc.spec.Bounds.Max[1]) {
				t.Errorf("bounds %v, want %v", doc.Bounds, tc.spec.Bounds)
			}
		})
	}
}

func TestTilesURL(t *testing.T) {
	tests := []struct {
		name, base, layer string
		q                 url.Values
		want              string
	}{
		{name: "plain", base: "http://h:1", layer: "grids", want: "http://h:1/tiles/grids/{z}/{x}/{y}.mvt"},
		{name: "prefix and slash", base: "https://h/gridd/", layer: "heat", want: "https://h/gridd/tiles/heat/{z}/{x}/{y}.mvt"},
		{name: "query", base: "http://h", layer: "heat", q: url.Values{"category": {"市容环境"}, "from": {"2025-01-01"}},
			want: "http://h/tiles/heat/{z}/{x}/{y}.mvt?category=%E5%B8%82%E5%AE%B9%E7%8E%AF%E5%A2%83&from=2025-01-01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := TilesURL(tc.base, tc.layer, tc.q); got != tc.want {
				t.Errorf("TilesURL = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLayerFieldsCoverWhatTilesCarry(t *testing.T) {
	for _, layer := range []string{LayerGrids, LayerIncidents, LayerHeat, LayerHotspots} {
		if len(LayerFields(layer)) == 0 {
			t.Errorf("%s: no fields", layer)
		}
	}
	if LayerFields("nope") != nil {
		t.Error("unknown layer has fields")
	}
}
