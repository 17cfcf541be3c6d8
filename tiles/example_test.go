package tiles_test

import (
	"fmt"
	"time"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/tiles"
	"github.com/paulmach/orb"
)

// A grids tile with counts, served through the cache.
func Example() {
	square := orb.Ring{{116.40, 39.90}, {116.41, 39.90}, {116.41, 39.91}, {116.40, 39.91}, {116.40, 39.90}}
	layer, err := tiles.NewGridLayer([]*grids.Grid{{
		Code: "110101001001001", Name: "网格一", Level: grids.LevelGrid,
		Geometry: orb.MultiPolygon{{square}},
	}}, tiles.GridLayerOptions{})
	if err != nil {
		panic(err)
	}
	id, err := tiles.ParseTileID("14", "13489", "6208")
	if err != nil {
		panic(err)
	}
	cache := tiles.NewCache(tiles.CacheOptions{MaxBytes: 64 << 20})
	key := tiles.CacheKey{Layer: tiles.LayerGrids, Tile: id, Query: "from=2025-01-01", Version: 1}
	tile, err := cache.GetOrRender(key, func() ([]byte, error) {
		return layer.Render(id, map[string]int{"110101001001001": 12})
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(tile.Len() > 0, tile.NotModified(tile.ETag(true)))

	// A new incident in the grid: drop the tiles it touches.
	b, _ := layer.Bound("110101001001001")
	fmt.Println(cache.Invalidate(tiles.LayerGrids, b))
	// Output:
	// true true
	// 1
}

// The heat layer over an index of incidents, filtered to a month.
func ExamplePointIndex_RenderHeat() {
	ix := tiles.NewPointIndex()
	at := time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		_ = ix.Add(tiles.IndexedPoint{Row: uint32(i), Lon: 116.4035, Lat: 39.9042, ReportedAt: at, Category: "0101"})
	}
	id, _ := tiles.NewTileID(12, 3372, 1552)
	mvt, err := ix.RenderHeat(id, tiles.PointFilter{
		From: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
		To:   time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC),
	}, tiles.HeatOptions{MinCount: 3})
	fmt.Println(err == nil && len(mvt) > 0)
	// Output: true
}
