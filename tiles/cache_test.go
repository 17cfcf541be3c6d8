package tiles

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"
)

func mustPut(t testing.TB, c *Cache, k CacheKey, raw []byte) {
	t.Helper()
	if _, err := c.GetOrRender(k, func() ([]byte, error) { return raw, nil }); err != nil {
		t.Fatal(err)
	}
}

// touchedOracle decides in Web Mercator metres, through orb/project, which
// tiles a change touches: the tile grown by its buffer meets the change's
// projected bound.
func touchedOracle(k CacheKey, b orb.Bound, bufferPx float64) bool {
	tb := k.Tile.MercatorBound()
	pad := (tb.Max[0] - tb.Min[0]) * bufferPx / 256
	tb = tb.Pad(pad)
	mb := orb.Bound{Min: project.WGS84.ToMercator(b.Min), Max: project.WGS84.ToMercator(b.Max)}
	return tb.Min[0] <= mb.Max[0] && tb.Max[0] >= mb.Min[0] && tb.Min[1] <= mb.Max[1] && tb.Max[1] >= mb.Min[1]
}

func TestCacheInvalidateDropsExactlyTouchedTiles(t *testing.T) {
	tests := []struct {
		name    string
		entries int
		size    float64 // change size in degrees; 0 is a point
	}{
		{name: "point, many tiles cached (walks tile ranges)", entries: 3000, size: 0},
		{name: "grid-sized change", entries: 3000, size: 0.005},
		{name: "district-sized change, few tiles cached (scans entries)", entries: 200, size: 0.3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.entries), 1))
			for round := 0; round < 20; round++ {
				c := NewCache(CacheOptions{MaxBytes: 1 << 30})
				var keys []CacheKey
				// Tiles around the city at all zooms, two layers, two queries.
				for len(keys) < tc.entries {
					z := rng.IntN(MaxZoom + 1)
					p := orb.Point{cityW + (rng.Float64()-0.25)*0.4, cityS + (rng.Float64()-0.25)*0.2}
					id := tilesOver(orb.Bound{Min: p, Max: p}, z)[0]
					layer := []string{LayerIncidents, LayerGrids}[rng.IntN(2)]
					k := CacheKey{Layer: layer, Tile: id, Query: fmt.Sprint("q", rng.IntN(2)), Version: 1}
					mustPut(t, c, k, []byte{1, 2, 3})
					keys = append(keys, k)
				}
				p := orb.Point{cityW + rng.Float64()*0.2, cityS + rng.Float64()*0.1}
				change := orb.Bound{Min: p, Max: orb.Point{p[0] + tc.size, p[1] + tc.size/2}}
				dropped := c.Invalidate(LayerIncidents, change)
				wantDropped := map[CacheKey]bool{}
				for _, k := range keys {
					if k.Layer == LayerIncidents && touchedOracle(k, change, DefaultBufferPx(LayerIncidents)) {
						wantDropped[k] = true
					}
				}
				for _, k := range keys {
					_, ok := c.Get(k)
					if ok == wantDropped[k] {
						t.Fatalf("round %d: %v (%v) cached=%v after invalidating %v", round, k.Tile, k.Layer, ok, change)
					}
				}
				if dropped != len(wantDropped) {
					t.Fatalf("Invalidate reported %d, want %d", dropped, len(wantDropped))
				}
			}
		})
	}
}

func TestCacheInvalidateLayer(t *testing.T) {
	c := NewCache(CacheOptions{})
	mustPut(t, c, CacheKey{Layer: LayerGrids, Tile: TileID{1, 0, 0}}, []byte{1})
	mustPut(t, c, CacheKey{Layer: LayerHeat, Tile: TileID{1, 0, 0}}, []byte{1})
	if n := c.InvalidateLayer(LayerGrids); n != 1 {
		t.Fatalf("dropped %d", n)
	}
	if _, ok := c.Get(CacheKey{Layer: LayerHeat, Tile: TileID{1, 0, 0}}); !ok {
		t.Fatal("other layer dropped")
	}
}

func TestCacheEvictsLeastRecentlyUsedByBytes(t *testing.T) {
	raw := bytes.Repeat([]byte("tile"), 10)
	one, err := NewTile(raw)
	if err != nil {
		t.Fatal(err)
	}
	per := int64(len(one.Gzip()) + len(LayerHeat) + entryOverhead)
	c := NewCache(CacheOptions{MaxBytes: 3 * per})
	k := func(x uint32) CacheKey { return CacheKey{Layer: LayerHeat, Tile: TileID{Z: 5, X: x}} }
	mustPut(t, c, k(0), raw)
	mustPut(t, c, k(1), raw)
	mustPut(t, c, k(2), raw)
	c.Get(k(0)) // 1 is now the least recently used
	mustPut(t, c, k(3), raw)
	for x, want := range []bool{true, false, true, true} {
		if _, ok := c.Get(k(uint32(x))); ok != want {
			t.Errorf("tile %d cached = %v, want %v", x, ok, want)
		}
	}
	s := c.Stats()
	if s.Bytes > 3*per || s.Entries != 3 || s.Evictions != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestCacheSharesConcurrentRenders(t *testing.T) {
	c := NewCache(CacheOptions{})
	var renders atomic.Int32
	release := make(chan struct{})
	k := CacheKey{Layer: LayerGrids, Tile: TileID{3, 1, 1}}
	var wg sync.WaitGroup
	tiles := make([]*Tile, 8)
	for i := range tiles {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tl, err := c.GetOrRender(k, func() ([]byte, error) {
				renders.Add(1)
				<-release
				return []byte("abc"), nil
			})
			if err != nil {
				t.Error(err)
			}
			tiles[i] = tl
		}()
	}
	for c.Stats().Misses < 8 { // wait until every goroutine has asked
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if renders.Load() != 1 {
		t.Errorf("%d renders, want 1", renders.Load())
	}
	for _, tl := range tiles[1:] {
		if tl != tiles[0] {
			t.Fatal("callers got different tiles")
		}
	}
}

func TestCacheDoesNotStoreRenderOvertakenByInvalidate(t *testing.T) {
	tests := []struct {
		name   string
		change orb.Bound
		layer  string
		stored bool
	}{
		{name: "change inside the tile", layer: LayerHeat, change: orb.Bound{Min: orb.Point{116.5, 39.8}, Max: orb.Point{116.5, 39.8}}, stored: false},
		{name: "change elsewhere", layer: LayerHeat, change: orb.Bound{Min: orb.Point{10, 10}, Max: orb.Point{10, 10}}, stored: true},
		{name: "other layer", layer: LayerGrids, change: orb.Bound{Min: orb.Point{116.5, 39.8}, Max: orb.Point{116.5, 39.8}}, stored: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCache(CacheOptions{})
			k := CacheKey{Layer: LayerHeat, Tile: cityTile}
			tl, err := c.GetOrRender(k, func() ([]byte, error) {
				c.Invalidate(tc.layer, tc.change) // arrives while rendering
				return []byte("old"), nil
			})
			if err != nil || tl == nil {
				t.Fatal(err)
			}
			if _, ok := c.Get(k); ok != tc.stored {
				t.Errorf("stored = %v, want %v", ok, tc.stored)
			}
		})
	}
}

func TestCacheRenderErrorNotCached(t *testing.T) {
	c := NewCache(CacheOptions{})
	k := CacheKey{Layer: LayerGrids}
	if _, err := c.GetOrRender(k, func() ([]byte, error) { return nil, io.ErrUnexpectedEOF }); err == nil {
		t.Fatal("error lost")
	}
	if _, ok := c.Get(k); ok {
		t.Fatal("error cached")
	}
}

func TestTileGzipETag(t *testing.T) {
	raw := []byte("some tile bytes")
	tl, err := NewTile(raw)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(tl.Gzip()))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	back, err := tl.Raw()
	if err != nil || !bytes.Equal(plain, raw) || !bytes.Equal(back, raw) {
		t.Fatalf("gzip round trip: %q, %q, %v", plain, back, err)
	}
	other, _ := NewTile([]byte("other bytes"))
	same, _ := NewTile(append([]byte(nil), raw...))
	if tl.ETag(false) == other.ETag(false) || tl.ETag(false) != same.ETag(false) || tl.ETag(true) == tl.ETag(false) {
		t.Fatalf("etags %s %s %s %s", tl.ETag(false), tl.ETag(true), other.ETag(false), same.ETag(false))
	}
	tests := []struct {
		name   string
		header string
		want   bool
	}{
		{name: "none", header: "", want: false},
		{name: "identity tag", header: tl.ETag(false), want: true},
		{name: "gzip tag", header: tl.ETag(true), want: true},
		{name: "weak", header: "W/" + tl.ETag(false), want: true},
		{name: "list", header: `"x", ` + tl.ETag(true), want: true},
		{name: "star", header: "*", want: true},
		{name: "other", header: other.ETag(false), want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tl.NotModified(tc.header); got != tc.want {
				t.Errorf("NotModified(%q) = %v", tc.header, got)
			}
		})
	}
	empty, _ := NewTile(nil)
	if !empty.Empty() || tl.Empty() || tl.Len() != len(raw) {
		t.Error("Empty/Len")
	}
}
