package tiles

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gridd/gridd/grids"
)

// Golden tiles pin the encoded bytes of each layer; regenerate them with
// go test ./tiles -run TestGolden -update after a deliberate change, and
// check the new files with the outside decoders.
func TestGoldenTiles(t *testing.T) {
	gl := mustGridLayer(t, testCity(), GridLayerOptions{})
	pts := testPoints(3000, 42)
	ix := mustIndex(t, pts)
	attrs := testAttrs(pts)
	hot := NewHotspotLayer(testHotCells())
	counts := RollUpCounts(map[string]int{"110101001001001": 4, "110101002001002": 9})
	month := PointFilter{From: testBase.Add(30 * 24 * time.Hour), To: testBase.Add(60 * 24 * time.Hour)}
	z13 := TileID{Z: 13, X: 6747, Y: 3107}
	tests := []struct {
		name   string
		layer  string
		render func() ([]byte, error)
	}{
		{"grids-z10-all-levels", LayerGrids, func() ([]byte, error) { return gl.Render(cityTile, counts, allLevels...) }},
		{"grids-z13", LayerGrids, func() ([]byte, error) { return gl.Render(z13, counts) }},
		{"grids-z13-grid-level", LayerGrids, func() ([]byte, error) { return gl.Render(z13, nil, grids.LevelGrid) }},
		{"incidents-z10-clusters", LayerIncidents, func() ([]byte, error) {
			return ix.RenderIncidents(cityTile, PointFilter{}, attrs, IncidentOptions{})
		}},
		{"incidents-z15-singles", LayerIncidents, func() ([]byte, error) {
			return ix.RenderIncidents(outsideZ15, month, attrs, IncidentOptions{})
		}},
		{"heat-z10", LayerHeat, func() ([]byte, error) { return ix.RenderHeat(cityTile, PointFilter{}, HeatOptions{}) }},
		{"heat-z13-k3-points", LayerHeat, func() ([]byte, error) {
			return ix.RenderHeat(z13, month, HeatOptions{MinCount: 3, Points: true, CellPx: 64})
		}},
		{"hotspots-z10", LayerHotspots, func() ([]byte, error) { return hot.Render(cityTile, HotspotOptions{}) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.render()
			if err != nil {
				t.Fatal(err)
			}
			ls := decodeTile(t, got)
			if len(ls) != 1 || ls[0].name != tc.layer || len(ls[0].features) == 0 {
				t.Fatalf("tile holds %d layers, want one non-empty %s", len(ls), tc.layer)
			}
			fields := LayerFields(tc.layer)
			for _, f := range ls[0].features {
				for k := range f.props {
					if _, ok := fields[k]; !ok {
						t.Fatalf("property %q missing from LayerFields(%s)", k, tc.layer)
					}
				}
			}
			again, _ := tc.render()
			if !bytes.Equal(got, again) {
				t.Fatal("two renders differ")
			}
			path := filepath.Join("testdata", "golden", tc.name+".mvt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("tile differs from %s (%d bytes, want %d)", path, len(got), len(want))
			}
		})
	}
}
