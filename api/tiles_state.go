package api

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/store"
	"github.com/gridd/gridd/tiles"
)

// tileState is what the tile endpoints keep between requests: the point
// indexes over the incident columns (one for the whole city, one per scope
// in use), incident counts per grid for each period asked, the grid layers
// of the sets in force, hotspot results, and the tile cache.
//
// The incident columns are append-only, so the indexes follow them by
// indexing the rows added since the last look (sync). That covers incidents
// ingested here, those other replicas wrote (applied by Backend.Watch) and
// columns filled directly. sync then drops the cached tiles the new rows
// touch; status changes, which only the incidents layer shows, are dropped
// by incidentChanged.
type tileState struct {
	b     *Backend
	log   *slog.Logger
	cache *tiles.Cache
	attrs columnAttrs

	mu      sync.Mutex   // serialises sync and the building of scoped indexes
	indexed atomic.Int64 // rows of the columns in the indexes
	all     *tiles.PointIndex
	scoped  map[string]*tiles.PointIndex

	countsMu sync.Mutex
	counts   map[countKey]*countEntry

	layersMu sync.Mutex
	layers   map[int64]*gridLayerEntry // by grid set id

	hotMu sync.Mutex
	hot   map[hotKey]*hotEntry
	// cells computes the Gi* cells of the hotspots layer.
	cells func(ctx context.Context, a Access, from, to time.Time, category string, cellM float64) ([]tiles.HotCell, error)
}

// Bounds on what tileState keeps.
const (
	maxScopedIndexes = 256
	maxCountEntries  = 64
	maxGridLayers    = 4
	maxHotEntries    = 8
	// bulkInvalidate: past this many new rows at once, dropping whole
	// layers is cheaper than finding each tile.
	bulkInvalidate = 4096
	// indexBatch is how many points are indexed at a time.
	indexBatch = 1 << 16
)

func newTileState(b *Backend, cacheBytes int64, log *slog.Logger) *tileState {
	ts := &tileState{
		b: b, log: log, attrs: columnAttrs{b.Columns},
		all:    tiles.NewPointIndex(),
		scoped: map[string]*tiles.PointIndex{},
		counts: map[countKey]*countEntry{},
		layers: map[int64]*gridLayerEntry{},
		hot:    map[hotKey]*hotEntry{},
	}
	if cacheBytes < 0 {
		// A cache too small for any tile: every request renders, through
		// the same path (pooled gzip writers) as a cache miss.
		cacheBytes = 1
	}
	ts.cache = tiles.NewCache(tiles.CacheOptions{MaxBytes: cacheBytes})
	b.OnEvent(ts.onEvent)
	return ts
}

// sync indexes the rows appended to the columns since the last call and
// drops the cached tiles they touch. Points are indexed before tiles are
// dropped, so that no render that started before the drop is cached.
func (ts *tileState) sync() {
	if int64(ts.b.Columns.Len()) == ts.indexed.Load() {
		return
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	from := int(ts.indexed.Load())
	v := ts.b.Columns.View()
	n := v.Len()
	if n <= from {
		return
	}
	if err := addRows(ts.all, v, from, n, ""); err != nil {
		ts.log.Error("index incidents for tiles", "err", err)
	}
	for scope, ix := range ts.scoped {
		if err := addRows(ix, v, from, n, scope); err != nil {
			ts.log.Error("index incidents for tiles", "scope", scope, "err", err)
		}
	}
	ts.indexed.Store(int64(n))
	ts.invalidateRows(v, from, n)
}

// addRows indexes rows [from, n) of v whose grid starts with prefix.
func addRows(ix *tiles.PointIndex, v incidents.View, from, n int, prefix string) error {
	c := rowFilter{from: math.MinInt64, to: math.MaxInt64, prefix: prefix}.compile(v)
	cats := v.Categories()
	batch := make([]tiles.IndexedPoint, 0, min(indexBatch, n-from))
	for i := from; i < n; i++ {
		if prefix != "" && !c.match(i) {
			continue
		}
		batch = append(batch, tiles.IndexedPoint{
			Row: uint32(i), Lon: v.Lon(i), Lat: v.Lat(i),
			ReportedAt: time.Unix(v.ReportedAt(i), 0), Category: cats[v.Category(i)],
		})
		if len(batch) == cap(batch) {
			if err := ix.Add(batch...); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return ix.Add(batch...)
}

// invalidateRows drops the cached tiles that rows [from, n) change: the
// incidents and heat tiles around each point, and the grids tiles of each
// grid whose count moved and of its ancestors (counts roll up).
func (ts *tileState) invalidateRows(v incidents.View, from, n int) {
	if ts.cache == nil {
		return
	}
	if n-from > bulkInvalidate {
		for _, l := range []string{tiles.LayerIncidents, tiles.LayerHeat, tiles.LayerGrids, tiles.LayerHotspots} {
			ts.cache.InvalidateLayer(l)
		}
		return
	}
	codes := map[string]bool{}
	gs := v.Grids()
	for i := from; i < n; i++ {
		p := orb.Point{v.Lon(i), v.Lat(i)}
		ts.incidentChanged(p)
		ts.cache.Invalidate(tiles.LayerHeat, p.Bound())
		code := gs[v.Grid(i)]
		for lv := grids.LevelDistrict; lv <= grids.LevelGrid; lv++ {
			if k := lv.CodeLen(); len(code) >= k {
				codes[code[:k]] = true
			}
		}
	}
	ts.layersMu.Lock()
	layers := make([]*tiles.GridLayer, 0, len(ts.layers))
	for _, e := range ts.layers {
		if e.layer != nil {
			layers = append(layers, e.layer)
		}
	}
	ts.layersMu.Unlock()
	for code := range codes {
		for _, l := range layers {
			if b, ok := l.Bound(code); ok {
				ts.cache.Invalidate(tiles.LayerGrids, b)
			}
		}
	}
	// Gi* is global: any new incident changes every cell. Hotspot tiles are
	// keyed by the row count, so the old ones only need to go.
	ts.cache.InvalidateLayer(tiles.LayerHotspots)
}

// incidentChanged drops the incidents tiles around p, after a status
// change (the layer shows each incident's status).
func (ts *tileState) incidentChanged(p orb.Point) {
	if ts.cache != nil {
		ts.cache.Invalidate(tiles.LayerIncidents, p.Bound())
	}
}

// onEvent follows changes other replicas made: status changes drop their
// incidents tiles; a resync drops everything.
func (ts *tileState) onEvent(ev store.Event) {
	if ts.cache == nil {
		return
	}
	switch ev.Kind {
	case store.EventIncidentUpdated:
		if ev.Local {
			return // dropped by the handler that made the change
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		incs, err := ts.b.hydrate(ctx, ev.IDs)
		if err != nil {
			ts.log.Error("read updated incidents for tiles", "err", err)
			ts.cache.InvalidateLayer(tiles.LayerIncidents)
			return
		}
		for _, inc := range incs {
			ts.incidentChanged(orb.Point{inc.Lon, inc.Lat})
		}
	case store.EventResync:
		for _, l := range []string{tiles.LayerIncidents, tiles.LayerHeat, tiles.LayerGrids, tiles.LayerHotspots} {
			ts.cache.InvalidateLayer(l)
		}
	}
}

// pointIndex returns the index of the incidents a scope sees, building a
// scope's index on first use.
func (ts *tileState) pointIndex(scope string) (*tiles.PointIndex, error) {
	ts.sync()
	if scope == "" {
		return ts.all, nil
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ix, ok := ts.scoped[scope]; ok {
		return ix, nil
	}
	if len(ts.scoped) >= maxScopedIndexes {
		for k := range ts.scoped {
			delete(ts.scoped, k)
			break
		}
	}
	ix := tiles.NewPointIndex()
	if err := addRows(ix, ts.b.Columns.View(), 0, int(ts.indexed.Load()), scope); err != nil {
		return nil, fmt.Errorf("index incidents of scope %s: %w", scope, err)
	}
	ts.scoped[scope] = ix
	return ix, nil
}

// render returns the tile of k from the cache or from render.
func (ts *tileState) render(k tiles.CacheKey, render func() ([]byte, error)) (*tiles.Tile, error) {
	if ts.cache != nil {
		return ts.cache.GetOrRender(k, render)
	}
	raw, err := render()
	if err != nil {
		return nil, err
	}
	return tiles.NewTile(raw)
}

// columnAttrs gives the incidents layer each point's current attributes
// from the columns, so status changes show without reindexing.
type columnAttrs struct{ c *incidents.Columns }

func (a columnAttrs) IncidentAttrs(row uint32) (tiles.IncidentAttrs, bool) {
	v := a.c.View()
	i := int(row)
	if i >= v.Len() {
		return tiles.IncidentAttrs{}, false
	}
	return tiles.IncidentAttrs{
		ID: v.ID(i), Category: v.Categories()[v.Category(i)],
		Status: string(v.Status(i)), Grid: v.Grids()[v.Grid(i)],
	}, true
}

// countKey names the incident counts of one period, category and scope.
type countKey struct {
	from, to int64
	category string
	scope    string
}

// countEntry counts incidents per grid code, rolled up to the ancestors,
// catching up with rows appended since it last counted.
type countEntry struct {
	mu     sync.Mutex
	rows   int
	leaf   []int // by grid dictionary code
	rolled map[string]int
}

// gridCounts returns the counts of k; the map is never changed afterwards.
func (ts *tileState) gridCounts(ctx context.Context, k countKey) (map[string]int, error) {
	ts.countsMu.Lock()
	e, ok := ts.counts[k]
	if !ok {
		if len(ts.counts) >= maxCountEntries {
			for old := range ts.counts {
				delete(ts.counts, old)
				break
			}
		}
		e = &countEntry{}
		ts.counts[k] = e
	}
	ts.countsMu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	v := ts.b.Columns.View()
	n := v.Len()
	if e.rolled != nil && n == e.rows {
		return e.rolled, nil
	}
	c := rowFilter{from: milliOfSecond(k.from), to: milliOfSecond(k.to), category: k.category, prefix: k.scope}.compile(v)
	if len(e.leaf) < len(v.Grids()) {
		e.leaf = append(e.leaf, make([]int, len(v.Grids())-len(e.leaf))...)
	}
	if !c.none {
		for i := e.rows; i < n; i++ {
			if i&0xffff == 0 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if c.match(i) {
				e.leaf[v.Grid(i)]++
			}
		}
	}
	gs := v.Grids()
	leaf := make(map[string]int)
	for code, cnt := range e.leaf {
		if cnt > 0 && gs[code] != "" {
			leaf[gs[code]] = cnt
		}
	}
	e.rolled = tiles.RollUpCounts(leaf)
	e.rows = n
	return e.rolled, nil
}

// gridLayerEntry builds a set's grid layer once; layer and err are
// written under tileState.layersMu.
type gridLayerEntry struct {
	once  sync.Once
	layer *tiles.GridLayer
	err   error
}

func (ts *tileState) gridLayer(set *grids.Set) (*tiles.GridLayer, error) {
	ts.layersMu.Lock()
	e, ok := ts.layers[set.ID]
	if !ok {
		if len(ts.layers) >= maxGridLayers {
			for id := range ts.layers {
				delete(ts.layers, id)
				break
			}
		}
		e = &gridLayerEntry{}
		ts.layers[set.ID] = e
	}
	ts.layersMu.Unlock()
	e.once.Do(func() {
		l, err := tiles.NewGridLayer(set.Grids, tiles.GridLayerOptions{})
		if err != nil {
			err = fmt.Errorf("grid layer of set %d: %w", set.ID, err)
		}
		// Under the lock: invalidateRows reads the layers of every entry.
		ts.layersMu.Lock()
		e.layer, e.err = l, err
		ts.layersMu.Unlock()
	})
	return e.layer, e.err
}

// hotKey names one hotspot analysis.
type hotKey struct {
	from, to int64
	category string
	scope    string
	cellM    float64
	setID    int64
	rows     int
}

type hotEntry struct {
	once  sync.Once
	layer *tiles.HotspotLayer
	err   error
}

// hotspotLayer runs Gi* (through cells, the analytics' own function, so
// that the layer and /api/v1/hotspots agree) once per data version.
func (ts *tileState) hotspotLayer(ctx context.Context, a Access, k hotKey, from, to time.Time) (*tiles.HotspotLayer, error) {
	ts.hotMu.Lock()
	e, ok := ts.hot[k]
	if !ok {
		for old := range ts.hot {
			if old.rows != k.rows || len(ts.hot) >= maxHotEntries {
				delete(ts.hot, old)
			}
		}
		e = &hotEntry{}
		ts.hot[k] = e
	}
	ts.hotMu.Unlock()
	e.once.Do(func() {
		var cells []tiles.HotCell
		cells, e.err = ts.cells(ctx, a, from, to, k.category, k.cellM)
		if e.err == nil {
			e.layer = tiles.NewHotspotLayer(cells)
		}
	})
	if e.err != nil {
		// A failed analysis (cancelled, say) is not kept.
		ts.hotMu.Lock()
		if ts.hot[k] == e {
			delete(ts.hot, k)
		}
		ts.hotMu.Unlock()
	}
	return e.layer, e.err
}

// collector exposes the tile cache's counters.
func (ts *tileState) collector() prometheus.Collector {
	return &cacheCollector{
		ts:      ts,
		entries: prometheus.NewDesc("gridd_tile_cache_entries", "Tiles held in the cache.", nil, nil),
		bytes:   prometheus.NewDesc("gridd_tile_cache_bytes", "Gzipped bytes held in the tile cache.", nil, nil),
		events:  prometheus.NewDesc("gridd_tile_cache_events_total", "Tile cache hits, misses, evictions and invalidations.", []string{"event"}, nil),
		indexed: prometheus.NewDesc("gridd_tile_indexed_incidents", "Incidents in the tile point index.", nil, nil),
	}
}

type cacheCollector struct {
	ts                              *tileState
	entries, bytes, events, indexed *prometheus.Desc
}

func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.entries
	ch <- c.bytes
	ch <- c.events
	ch <- c.indexed
}

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.indexed, prometheus.GaugeValue, float64(c.ts.indexed.Load()))
	if c.ts.cache == nil {
		return
	}
	st := c.ts.cache.Stats()
	ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(st.Entries))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(st.Bytes))
	for name, v := range map[string]uint64{"hit": st.Hits, "miss": st.Misses, "eviction": st.Evictions, "invalidation": st.Invalidated} {
		ch <- prometheus.MustNewConstMetric(c.events, prometheus.CounterValue, float64(v), name)
	}
}
