package tiles

import (
	"bytes"
	"sync"
	"testing"
)

// Renders run while points are added and while zooms are simplified for the
// first time; run with -race. Every grids tile must match a sequential
// render.
func TestConcurrentRenderAndAdd(t *testing.T) {
	gs := wigglyCity(2, cityBound.Min, 0.004, 20, 12, 4, 8, 16)
	shared := mustGridLayer(t, gs, GridLayerOptions{})
	fresh := mustGridLayer(t, gs, GridLayerOptions{})
	pts := testPoints(6000, 9)
	ix := NewPointIndex()
	ix.tailMax = 500
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < len(pts); i += 100 {
			if err := ix.Add(pts[i : i+100]...); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for z := 10; z <= 15; z++ {
				for _, id := range tilesOver(cityBound, z)[:min(6, len(tilesOver(cityBound, z)))] {
					got, err := shared.Render(id, nil, allLevels...)
					if err != nil {
						t.Error(err)
						return
					}
					want, _ := fresh.Render(id, nil, allLevels...)
					if !bytes.Equal(got, want) {
						t.Errorf("%v: concurrent render differs", id)
					}
					if _, err := ix.RenderHeat(id, PointFilter{}, HeatOptions{}); err != nil {
						t.Error(err)
					}
					if _, err := ix.RenderIncidents(id, PointFilter{}, nil, IncidentOptions{}); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if ix.Len() != len(pts) {
		t.Fatalf("Len %d, want %d", ix.Len(), len(pts))
	}
}
