package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/store/gpkg"
	"github.com/gridd/gridd/tiles"
)

// benchIncidents is the size of the heat benchmark's data (SPEC: a heat
// tile over 5 million incidents under 50 ms uncached).
const benchIncidents = 5_000_000

// Load bounds: requests in flight (the machine has two cores) and the
// longest a sub-benchmark's load may run.
const (
	benchWorkers = 2
	benchMaxTime = 30 * time.Second
	benchMaxReqs = 20000
)

// BenchmarkTiles loads a server on loopback with grids tiles at z10–z16
// and heat tiles over 5 million incidents, cached and uncached, and reports
// the latency percentiles a client sees (p50-ms, p99-ms).
func BenchmarkTiles(b *testing.B) {
	ctx := context.Background()
	cd := testCity(b)
	st, err := gpkg.Open(filepath.Join(b.TempDir(), "bench.gpkg"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	be, err := OpenBackend(ctx, st, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := be.ImportGrids(ctx, "bench city", cd.city, true, testFrom); err != nil {
		b.Fatal(err)
	}
	fillColumns(b, be, cityBoundOf(cd), benchIncidents)

	log := slog.New(slog.DiscardHandler)
	cached := httptest.NewServer(New(Options{Backend: be, Logger: log, Open: true}))
	defer cached.Close()
	uncached := httptest.NewServer(New(Options{Backend: be, Logger: log, Open: true, TileCacheBytes: -1}))
	defer uncached.Close()

	bound := cityBoundOf(cd)
	paths := map[string][]string{}
	for _, layer := range []string{tiles.LayerGrids, tiles.LayerHeat} {
		for z := 10; z <= 16; z++ {
			for _, id := range tilesOver(bound, z, 24) {
				paths[layer] = append(paths[layer], tilePath(layer, id, ""))
			}
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchWorkers * 2}}
	// Index the 5 million points and count them per grid before measuring.
	for _, srv := range []*httptest.Server{cached, uncached} {
		for _, layer := range []string{tiles.LayerGrids, tiles.LayerHeat} {
			if _, err := fetchTile(client, srv.URL+paths[layer][0]); err != nil {
				b.Fatal(err)
			}
		}
	}

	for _, layer := range []string{tiles.LayerGrids, tiles.LayerHeat} {
		for _, mode := range []struct {
			name string
			srv  *httptest.Server
		}{{"cached", cached}, {"uncached", uncached}} {
			b.Run(layer+"/"+mode.name, func(b *testing.B) {
				if mode.name == "cached" {
					for _, p := range paths[layer] {
						if _, err := fetchTile(client, mode.srv.URL+p); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				lat, bytes := loadTiles(b, client, mode.srv.URL, paths[layer], min(b.N, benchMaxReqs))
				b.StopTimer()
				b.ReportMetric(percentile(lat, 0.50), "p50-ms")
				b.ReportMetric(percentile(lat, 0.99), "p99-ms")
				b.ReportMetric(float64(bytes)/float64(max(1, len(lat))), "bytes/tile")
			})
		}
	}
}

// fillColumns appends n synthetic incidents to the columns directly,
// clustered like a city's (a few dense centres over uniform noise), each
// geocoded to its grid.
func fillColumns(tb testing.TB, be *Backend, bound orb.Bound, n int) {
	tb.Helper()
	ix, err := be.Registry.Current()
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	cats := be.Catalogue.All()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w, h := bound.Max[0]-bound.Min[0], bound.Max[1]-bound.Min[1]
	var centres []orb.Point
	for range 12 {
		centres = append(centres, orb.Point{bound.Min[0] + rng.Float64()*w, bound.Min[1] + rng.Float64()*h})
	}
	inc := &incidents.Incident{Status: incidents.StatusReported, Source: incidents.SourcePatrol}
	base := int64(be.Columns.Len()) + 1_000_000
	for i := range n {
		var p orb.Point
		if rng.IntN(3) == 0 {
			p = orb.Point{bound.Min[0] + rng.Float64()*w, bound.Min[1] + rng.Float64()*h}
		} else {
			c := centres[rng.IntN(len(centres))]
			p = orb.Point{c[0] + rng.NormFloat64()*w/40, c[1] + rng.NormFloat64()*h/40}
		}
		inc.ID = base + int64(i)
		inc.Lon, inc.Lat = p[0], p[1]
		inc.ReportedAt = start.Add(time.Duration(rng.Int64N(int64(300 * 24 * time.Hour))))
		inc.Category = cats[rng.IntN(len(cats))].Code
		inc.GridCode = ix.LocateCode(p[0], p[1])
		if _, err := be.Columns.Append(inc); err != nil {
			tb.Fatal(err)
		}
	}
}

// tilesOver lists up to max tiles of zoom z over bound, spread evenly.
func tilesOver(bound orb.Bound, z, max int) []tiles.TileID {
	lo := maptile.At(orb.Point{bound.Min[0], bound.Max[1]}, maptile.Zoom(z))
	hi := maptile.At(orb.Point{bound.Max[0], bound.Min[1]}, maptile.Zoom(z))
	var all []tiles.TileID
	for y := lo.Y; y <= hi.Y; y++ {
		for x := lo.X; x <= hi.X; x++ {
			all = append(all, tiles.TileID{Z: uint32(z), X: x, Y: y})
		}
	}
	if len(all) <= max {
		return all
	}
	out := make([]tiles.TileID, 0, max)
	for i := range max {
		out = append(out, all[i*len(all)/max])
	}
	return out
}

func fetchTile(c *http.Client, u string) (int, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	n, err := io.Copy(io.Discard, res.Body)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusNoContent {
		return 0, fmt.Errorf("GET %s: status %d", u, res.StatusCode)
	}
	return int(n), nil
}

// loadTiles sends n requests over paths from benchWorkers clients, stopping
// early at benchMaxTime, and returns each request's latency in ms.
func loadTiles(b *testing.B, c *http.Client, base string, paths []string, n int) ([]float64, int64) {
	var (
		mu    sync.Mutex
		lat   = make([]float64, 0, n)
		bytes int64
		wg    sync.WaitGroup
	)
	jobs := make(chan string)
	deadline := time.Now().Add(benchMaxTime)
	for range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				t0 := time.Now()
				size, err := fetchTile(c, base+p)
				d := time.Since(t0)
				if err != nil {
					b.Error(err)
					continue
				}
				mu.Lock()
				lat = append(lat, float64(d.Microseconds())/1000)
				bytes += int64(size)
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n && time.Now().Before(deadline); i++ {
		jobs <- paths[i%len(paths)]
	}
	close(jobs)
	wg.Wait()
	return lat, bytes
}

func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}
