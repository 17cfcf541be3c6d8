package tiles

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridd/gridd/fixtures"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// Benchmarks run on the demo city generator's 50,000-grid city and on
// 5,000,000 synthetic incidents clustered over it:
//
//	go test ./tiles -run '^$' -bench . -benchmem
//
// "Uncached" renders skip the tile cache; per-zoom arc simplification is
// warm, as it is once a server has drawn a zoom.

const (
	benchGrids     = 50000
	benchIncidents = 5_000_000
)

var (
	benchOnce   sync.Once
	benchLayer  *GridLayer
	benchIndex  *PointIndex
	benchCentre = orb.Point{fixtures.DefaultCenterLon, fixtures.DefaultCenterLat}
	benchErr    error
)

func benchSetup(b *testing.B) {
	b.Helper()
	benchOnce.Do(func() {
		gs, err := fixtures.GenerateCity(fixtures.CityOptions{Grids: benchGrids, Seed: 1})
		if err != nil {
			benchErr = err
			return
		}
		if benchLayer, err = NewGridLayer(gs, GridLayerOptions{}); err != nil {
			benchErr = err
			return
		}
		benchIndex = NewPointIndex()
		benchErr = benchIndex.Add(benchPoints(benchIncidents, 1)...)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
}

// benchPoints scatters n incidents over about 80 × 80 km around the centre,
// half of them in a few hundred hot clusters, over a year.
func benchPoints(n int, seed uint64) []IndexedPoint {
	rng := rand.New(rand.NewPCG(seed, 17))
	type hot struct{ c orb.Point }
	hots := make([]hot, 300)
	for i := range hots {
		hots[i].c = orb.Point{benchCentre[0] + rng.NormFloat64()*0.15, benchCentre[1] + rng.NormFloat64()*0.12}
	}
	cats := []string{"0101", "0102", "0103", "0201", "0202", "0301", "0401", "0501"}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	pts := make([]IndexedPoint, n)
	for i := range pts {
		var p orb.Point
		if i%2 == 0 {
			h := hots[rng.IntN(len(hots))].c
			p = orb.Point{h[0] + rng.NormFloat64()*0.004, h[1] + rng.NormFloat64()*0.003}
		} else {
			p = orb.Point{benchCentre[0] + (rng.Float64()-0.5)*0.9, benchCentre[1] + (rng.Float64()-0.5)*0.7}
		}
		pts[i] = IndexedPoint{
			Row: uint32(i), Lon: p[0], Lat: p[1],
			ReportedAt: base.Add(time.Duration(rng.IntN(365*24*3600)) * time.Second),
			Category:   cats[rng.IntN(len(cats))],
		}
	}
	return pts
}

// benchTiles are the tiles of zoom z around the centre, up to 5 × 5.
func benchTiles(z int) []TileID {
	c := maptile.At(benchCentre, maptile.Zoom(z))
	var out []TileID
	n := uint32(1) << z
	for dy := -2; dy <= 2; dy++ {
		for dx := -2; dx <= 2; dx++ {
			x, y := int64(c.X)+int64(dx), int64(c.Y)+int64(dy)
			if x >= 0 && y >= 0 && x < int64(n) && y < int64(n) {
				out = append(out, TileID{Z: uint32(z), X: uint32(x), Y: uint32(y)})
			}
		}
	}
	return out
}

func tileAt(p orb.Point, z int) TileID {
	t := maptile.At(p, maptile.Zoom(z))
	return TileID{Z: uint32(z), X: t.X, Y: t.Y}
}

func BenchmarkGridTile(b *testing.B) {
	benchSetup(b)
	for z := 10; z <= 16; z++ {
		ids := benchTiles(z)
		for _, id := range ids { // warm the zoom's simplified arcs
			if _, err := benchLayer.Render(id, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("z%d", z), func(b *testing.B) {
			b.ReportAllocs()
			size := 0
			for i := 0; i < b.N; i++ {
				t, err := benchLayer.Render(ids[i%len(ids)], nil)
				if err != nil {
					b.Fatal(err)
				}
				size += len(t)
			}
			b.ReportMetric(float64(size)/float64(b.N), "bytes/tile")
		})
	}
}

func BenchmarkGridTileCached(b *testing.B) {
	benchSetup(b)
	c := NewCache(CacheOptions{})
	ids := benchTiles(14)
	get := func(id TileID) {
		if _, err := c.GetOrRender(CacheKey{Layer: LayerGrids, Tile: id}, func() ([]byte, error) {
			return benchLayer.Render(id, nil)
		}); err != nil {
			b.Fatal(err)
		}
	}
	for _, id := range ids {
		get(id)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		get(ids[i%len(ids)])
	}
}

var benchFilters = []struct {
	name string
	f    PointFilter
}{
	{name: "all"},
	{name: "30days", f: PointFilter{From: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)}},
	{name: "30days+category", f: PointFilter{
		From:     time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
		To:       time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC),
		Category: func(c string) bool { return strings.HasPrefix(c, "01") },
	}},
	{name: "year", f: PointFilter{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}},
}

func BenchmarkHeatTile(b *testing.B) {
	benchSetup(b)
	// At z8 one tile holds all 5,000,000 incidents: the worst case.
	for _, z := range []int{8, 10, 12, 14} {
		ids := benchTiles(z)
		if z == 8 {
			ids = []TileID{tileAt(benchCentre, 8)}
		}
		for _, fc := range benchFilters {
			b.Run(fmt.Sprintf("z%d/%s", z, fc.name), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if _, err := benchIndex.RenderHeat(ids[i%len(ids)], fc.f, HeatOptions{MinCount: 3}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkHeatTileCached(b *testing.B) {
	benchSetup(b)
	c := NewCache(CacheOptions{})
	ids := benchTiles(12)
	f := benchFilters[1].f
	get := func(id TileID) {
		if _, err := c.GetOrRender(CacheKey{Layer: LayerHeat, Tile: id, Query: "from=2025-06-01&to=2025-07-01"}, func() ([]byte, error) {
			return benchIndex.RenderHeat(id, f, HeatOptions{})
		}); err != nil {
			b.Fatal(err)
		}
	}
	for _, id := range ids {
		get(id)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		get(ids[i%len(ids)])
	}
}

func BenchmarkIncidentTile(b *testing.B) {
	benchSetup(b)
	for _, z := range []int{10, 12, 15} {
		ids := benchTiles(z)
		for _, fc := range benchFilters[:2] {
			b.Run(fmt.Sprintf("z%d/%s", z, fc.name), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if _, err := benchIndex.RenderIncidents(ids[i%len(ids)], fc.f, nil, IncidentOptions{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkNewGridLayer(b *testing.B) {
	gs, err := fixtures.GenerateCity(fixtures.CityOptions{Grids: benchGrids, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := NewGridLayer(gs, GridLayerOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPointIndexAdd(b *testing.B) {
	pts := benchPoints(1_000_000, 2)
	b.Run("bulk1M", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			ix := NewPointIndex()
			if err := ix.Add(pts...); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-by-one", func(b *testing.B) {
		ix := NewPointIndex()
		if err := ix.Add(pts...); err != nil {
			b.Fatal(err)
		}
		more := benchPoints(b.N, 3)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range more {
			if err := ix.Add(more[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCacheInvalidatePoint(b *testing.B) {
	c := NewCache(CacheOptions{MaxBytes: 1 << 30})
	for z := 10; z <= 16; z++ {
		for _, id := range benchTiles(z) {
			for q := 0; q < 20; q++ {
				mustPut(b, c, CacheKey{Layer: LayerHeat, Tile: id, Query: fmt.Sprint(q)}, []byte{1})
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := orb.Point{benchCentre[0] + (rng.Float64()-0.5)*0.1, benchCentre[1] + (rng.Float64()-0.5)*0.1}
		c.Invalidate(LayerHeat, orb.Bound{Min: p, Max: p})
	}
}
