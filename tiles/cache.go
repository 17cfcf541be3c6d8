package tiles

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"

	"github.com/paulmach/orb"
)

// Tile is an encoded tile ready to serve: stored gzipped, with a strong
// ETag derived from its bytes.
type Tile struct {
	gz     []byte
	rawLen int
	hash   string
}

// NewTile gzips an encoded tile.
func NewTile(raw []byte) (*Tile, error) {
	zw, err := gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression)
	if err != nil {
		return nil, fmt.Errorf("gzip tile: %w", err)
	}
	return newTile(raw, zw)
}

func newTile(raw []byte, zw *gzip.Writer) (*Tile, error) {
	var buf bytes.Buffer
	zw.Reset(&buf)
	if _, err := zw.Write(raw); err != nil {
		return nil, fmt.Errorf("gzip tile: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip tile: %w", err)
	}
	sum := sha256.Sum256(raw)
	return &Tile{gz: buf.Bytes(), rawLen: len(raw), hash: hex.EncodeToString(sum[:16])}, nil
}

// Gzip is the tile gzipped, to send with Content-Encoding: gzip. Callers
// must not change it.
func (t *Tile) Gzip() []byte { return t.gz }

// Raw is the tile as encoded, for clients that do not accept gzip.
func (t *Tile) Raw() ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(t.gz))
	if err != nil {
		return nil, fmt.Errorf("gunzip tile: %w", err)
	}
	out := make([]byte, 0, t.rawLen)
	buf := bytes.NewBuffer(out)
	if _, err := io.Copy(buf, zr); err != nil {
		return nil, fmt.Errorf("gunzip tile: %w", err)
	}
	return buf.Bytes(), nil
}

// Len is the size of the encoded (not gzipped) tile.
func (t *Tile) Len() int { return t.rawLen }

// Empty reports a tile without features.
func (t *Tile) Empty() bool { return t.rawLen == 0 }

// ETag is the strong entity tag of the representation sent: a hash of the
// encoded tile, marked "-gz" for the gzipped one, since two codings of the
// same tile are different representations (RFC 9110 §8.8.3).
func (t *Tile) ETag(gzipped bool) string {
	if gzipped {
		return `"` + t.hash + `-gz"`
	}
	return `"` + t.hash + `"`
}

// NotModified evaluates an If-None-Match header against the tile, with the
// weak comparison RFC 9110 §13.1.2 prescribes; either coding matches, as
// the content is the same.
func (t *Tile) NotModified(ifNoneMatch string) bool {
	for _, tag := range strings.Split(ifNoneMatch, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return true
		}
		tag = strings.TrimPrefix(tag, "W/")
		if tag == t.ETag(false) || tag == t.ETag(true) {
			return true
		}
	}
	return false
}

// CacheKey names a cached tile. Query is the request's canonical filter
// (from, to, category, viewer k…) as the caller writes it; Version is the
// caller's data version (grid set, hotspot parameters…), so that wholesale
// changes need no invalidation.
type CacheKey struct {
	Layer   string
	Tile    TileID
	Query   string
	Version uint64
}

// CacheOptions configure a Cache. Zero values take the defaults.
type CacheOptions struct {
	// MaxBytes bounds the gzipped bytes held (plus a small per-entry
	// overhead); least recently used tiles go first. Default 256 MiB.
	MaxBytes int64
	// BufferPx is each layer's tile margin in nominal pixels, which
	// decides which tiles a change touches (default DefaultBufferPx). It
	// must be at least the margin the layer is rendered with.
	BufferPx func(layer string) float64
}

// CacheStats are counters for metrics.
type CacheStats struct {
	Entries     int
	Bytes       int64
	Hits        uint64
	Misses      uint64
	Evictions   uint64
	Invalidated uint64
}

// Cache holds rendered tiles in memory, least recently used out first.
// Invalidate drops exactly the tiles a change touches, at every zoom. It is
// safe for concurrent use.
type Cache struct {
	maxBytes int64
	bufferPx func(string) float64
	gzPool   sync.Pool

	mu       sync.Mutex
	entries  map[CacheKey]*cacheEntry
	byTile   map[string]map[TileID][]*cacheEntry // layer → tile → entries
	lru      cacheEntry                          // sentinel: next is the newest
	bytes    int64
	inflight map[CacheKey]*renderCall
	seq      uint64
	log      [invalidationLog]invalidation // ring, indexed by seq
	stats    CacheStats
}

// invalidationLog is how many recent invalidations a render in progress
// can be checked against before its result is stored; older renders are
// simply not stored.
const invalidationLog = 1024

type invalidation struct {
	seq   uint64
	layer string
	world orb.Bound
	all   bool
}

type cacheEntry struct {
	key        CacheKey
	tile       *Tile
	size       int64
	prev, next *cacheEntry
}

type renderCall struct {
	done chan struct{}
	tile *Tile
	err  error
}

// entryOverhead approximates the bookkeeping bytes of one entry.
const entryOverhead = 160

// NewCache returns an empty cache.
func NewCache(o CacheOptions) *Cache {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 256 << 20
	}
	if o.BufferPx == nil {
		o.BufferPx = DefaultBufferPx
	}
	c := &Cache{
		maxBytes: o.MaxBytes,
		bufferPx: o.BufferPx,
		entries:  make(map[CacheKey]*cacheEntry),
		byTile:   make(map[string]map[TileID][]*cacheEntry),
		inflight: make(map[CacheKey]*renderCall),
	}
	c.gzPool.New = func() any {
		zw, _ := gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression)
		return zw
	}
	c.lru.next, c.lru.prev = &c.lru, &c.lru
	return c
}

// Get returns a cached tile.
func (c *Cache) Get(k CacheKey) (*Tile, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		c.stats.Misses++
		return nil, false
	}
	c.stats.Hits++
	c.touch(e)
	return e.tile, true
}

// GetOrRender returns the cached tile, or renders, gzips and caches it.
// Concurrent requests for one key share a single render. A render that an
// Invalidate touching its tile overtook is returned but not cached, so the
// cache never keeps a tile older than a change it was told about.
func (c *Cache) GetOrRender(k CacheKey, render func() ([]byte, error)) (*Tile, error) {
	c.mu.Lock()
	if e, ok := c.entries[k]; ok {
		c.stats.Hits++
		c.touch(e)
		c.mu.Unlock()
		return e.tile, nil
	}
	c.stats.Misses++
	if call, ok := c.inflight[k]; ok {
		c.mu.Unlock()
		<-call.done
		return call.tile, call.err
	}
	call := &renderCall{done: make(chan struct{})}
	c.inflight[k] = call
	start := c.seq
	c.mu.Unlock()

	finished := false
	defer func() {
		if !finished { // render panicked: release the waiters, then go on panicking
			call.err = fmt.Errorf("render tile %s %s: panic", k.Layer, k.Tile)
			c.mu.Lock()
			delete(c.inflight, k)
			c.mu.Unlock()
			close(call.done)
		}
	}()
	raw, err := render()
	var t *Tile
	if err == nil {
		zw := c.gzPool.Get().(*gzip.Writer)
		t, err = newTile(raw, zw)
		c.gzPool.Put(zw)
	}
	finished = true

	c.mu.Lock()
	delete(c.inflight, k)
	if err == nil && c.unchangedSince(k, start) {
		c.insert(k, t)
	}
	c.mu.Unlock()
	call.tile, call.err = t, err
	close(call.done)
	return t, err
}

// unchangedSince reports that no invalidation since seq start touched k.
func (c *Cache) unchangedSince(k CacheKey, start uint64) bool {
	if c.seq == start {
		return true
	}
	if c.seq-start > invalidationLog {
		return false
	}
	var tb orb.Bound
	tbSet := false
	for s := start + 1; s <= c.seq; s++ {
		inv := &c.log[s%invalidationLog]
		if inv.layer != k.Layer {
			continue
		}
		if inv.all {
			return false
		}
		if !tbSet {
			tb, tbSet = k.Tile.worldBound(c.bufferPx(k.Layer)), true
		}
		if boundsTouch(tb, inv.world) {
			return false
		}
	}
	return true
}

func (c *Cache) insert(k CacheKey, t *Tile) {
	if old, ok := c.entries[k]; ok {
		c.remove(old)
	}
	e := &cacheEntry{key: k, tile: t, size: int64(len(t.gz) + len(k.Query) + len(k.Layer) + entryOverhead)}
	if e.size > c.maxBytes {
		return
	}
	c.entries[k] = e
	tiles := c.byTile[k.Layer]
	if tiles == nil {
		tiles = make(map[TileID][]*cacheEntry)
		c.byTile[k.Layer] = tiles
	}
	tiles[k.Tile] = append(tiles[k.Tile], e)
	e.next, e.prev = c.lru.next, &c.lru
	e.next.prev, c.lru.next = e, e
	c.bytes += e.size
	for c.bytes > c.maxBytes {
		c.remove(c.lru.prev)
		c.stats.Evictions++
	}
}

func (c *Cache) touch(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.next, e.prev = c.lru.next, &c.lru
	e.next.prev, c.lru.next = e, e
}

func (c *Cache) remove(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	delete(c.entries, e.key)
	tiles := c.byTile[e.key.Layer]
	list := tiles[e.key.Tile]
	for i, x := range list {
		if x == e {
			list[i] = list[len(list)-1]
			list = list[:len(list)-1]
			break
		}
	}
	if len(list) == 0 {
		delete(tiles, e.key.Tile)
		if len(tiles) == 0 {
			delete(c.byTile, e.key.Layer)
		}
	} else {
		tiles[e.key.Tile] = list
	}
	c.bytes -= e.size
}

// Invalidate drops the cached tiles of layer, at every zoom and for every
// query and version, whose area grown by the layer's buffer meets b
// (lon/lat; edges touching count). Use the incident's position for the
// incidents and heat layers, and the bounds of the grids whose geometry or
// counts changed (GridLayer.Bound) for the grids layer. It returns the
// number of tiles dropped.
func (c *Cache) Invalidate(layer string, b orb.Bound) int {
	wb := worldBoundOf(b)
	buf := c.bufferPx(layer)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logInvalidation(invalidation{layer: layer, world: wb})
	tiles := c.byTile[layer]
	if len(tiles) == 0 {
		return 0
	}
	var doomed []*cacheEntry
	// Walk the tiles b reaches at each zoom, unless that is more work
	// than looking at every cached tile of the layer.
	pad := buf / pixelsPerTile
	var ranges [MaxZoom + 1][4]int64
	span := 0.0
	for z := range ranges {
		n := float64(uint64(1) << z)
		// One tile wider than needed on each side; the exact test below
		// decides.
		x0 := max(0, int64(math.Floor(wb.Min[0]*n-pad))-1)
		x1 := min(int64(n)-1, int64(math.Floor(wb.Max[0]*n+pad))+1)
		y0 := max(0, int64(math.Floor(wb.Min[1]*n-pad))-1)
		y1 := min(int64(n)-1, int64(math.Floor(wb.Max[1]*n+pad))+1)
		ranges[z] = [4]int64{x0, y0, x1, y1}
		if x1 >= x0 && y1 >= y0 {
			span += float64(x1-x0+1) * float64(y1-y0+1)
		}
	}
	if span <= float64(len(tiles)) {
		for z, r := range ranges {
			for y := r[1]; y <= r[3]; y++ {
				for x := r[0]; x <= r[2]; x++ {
					id := TileID{Z: uint32(z), X: uint32(x), Y: uint32(y)}
					if list, ok := tiles[id]; ok && boundsTouch(id.worldBound(buf), wb) {
						doomed = append(doomed, list...)
					}
				}
			}
		}
	} else {
		for id, list := range tiles {
			if boundsTouch(id.worldBound(buf), wb) {
				doomed = append(doomed, list...)
			}
		}
	}
	for _, e := range doomed {
		c.remove(e)
	}
	c.stats.Invalidated += uint64(len(doomed))
	return len(doomed)
}

// InvalidateLayer drops every cached tile of layer.
func (c *Cache) InvalidateLayer(layer string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logInvalidation(invalidation{layer: layer, all: true})
	var doomed []*cacheEntry
	for _, list := range c.byTile[layer] {
		doomed = append(doomed, list...)
	}
	for _, e := range doomed {
		c.remove(e)
	}
	c.stats.Invalidated += uint64(len(doomed))
	return len(doomed)
}

func (c *Cache) logInvalidation(inv invalidation) {
	c.seq++
	inv.seq = c.seq
	c.log[c.seq%invalidationLog] = inv
}

// Stats returns the counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries = len(c.entries)
	s.Bytes = c.bytes
	return s
}

// boundsTouch reports whether two closed boxes share a point.
func boundsTouch(a, b orb.Bound) bool {
	return a.Min[0] <= b.Max[0] && a.Max[0] >= b.Min[0] &&
		a.Min[1] <= b.Max[1] && a.Max[1] >= b.Min[1]
}
