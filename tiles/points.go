package tiles

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// PointIndex holds incident positions for the incidents and heat layers.
//
// Points are kept sorted by a Morton (Z-order) key of their Web Mercator
// position at 2³¹ steps per axis (about 2 cm). A quadtree cell at any zoom
// is then one contiguous run of keys: a tile or a heat cell is found by two
// binary searches, and an unfiltered count is the length of the run. Time
// and category filters scan only the runs of the tile asked for, over flat
// columns (time, category id), never the whole index.
//
// New points go to a small unsorted tail that queries scan in full; once it
// grows past tailMax it is sorted and merged into the main run. Readers
// work on immutable snapshots, so queries never block on writers.
type PointIndex struct {
	mu      sync.Mutex // serialises writers
	catIdx  map[string]uint16
	tailMax int
	snap    atomic.Pointer[pointSnapshot]
}

// IndexedPoint is one incident as the index stores it.
type IndexedPoint struct {
	// Row is the caller's handle for the incident, handed back to
	// AttrSource when the incidents layer draws single points.
	Row      uint32
	Lon, Lat float64
	// ReportedAt drives the From/To filter.
	ReportedAt time.Time
	// Category is the catalogue code, for the category filter.
	Category string
}

// PointFilter selects incidents for the incidents and heat layers. The
// zero value selects all.
type PointFilter struct {
	// From and To bound ReportedAt to [From, To); a zero time is open.
	From, To time.Time
	// Category, when set, keeps the incidents whose category code it
	// accepts. It is called once per distinct category, not per incident.
	Category func(code string) bool
}

const (
	keyBits        = 31 // Morton bits per axis
	defaultTailMax = 1 << 16
)

type pointColumns struct {
	keys  []uint64
	times []int64 // unix seconds
	cats  []uint16
	rows  []uint32
}

func (c *pointColumns) len() int { return len(c.keys) }

type pointSnapshot struct {
	main pointColumns // sorted by key, then insertion order
	tail pointColumns // unsorted, newest points
	cats []string     // category dictionary, indexed by id
}

// NewPointIndex returns an empty index.
func NewPointIndex() *PointIndex {
	ix := &PointIndex{catIdx: make(map[string]uint16), tailMax: defaultTailMax}
	ix.snap.Store(&pointSnapshot{})
	return ix
}

// Len is the number of points indexed.
func (ix *PointIndex) Len() int {
	s := ix.snap.Load()
	return s.main.len() + s.tail.len()
}

// Add indexes points. Queries running meanwhile see the index as it was
// before or after the whole batch. Points keep their position for good:
// to move or drop one, build a new index and swap it in.
func (ix *PointIndex) Add(pts ...IndexedPoint) error {
	if len(pts) == 0 {
		return nil
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	old := ix.snap.Load()
	fresh := make(map[string]struct{})
	for _, p := range pts {
		if math.IsNaN(p.Lon) || math.IsNaN(p.Lat) || math.IsInf(p.Lon, 0) || math.IsInf(p.Lat, 0) {
			return fmt.Errorf("index point row %d: coordinates %v, %v are not finite", p.Row, p.Lon, p.Lat)
		}
		if _, ok := ix.catIdx[p.Category]; !ok {
			fresh[p.Category] = struct{}{}
		}
	}
	if len(old.cats)+len(fresh) > math.MaxUint16+1 {
		return fmt.Errorf("index points: more than %d categories", math.MaxUint16+1)
	}
	s := &pointSnapshot{main: old.main, tail: old.tail, cats: old.cats}
	for _, p := range pts {
		cat, ok := ix.catIdx[p.Category]
		if !ok {
			cat = uint16(len(s.cats))
			ix.catIdx[p.Category] = cat
			// Appending beyond the old length leaves older snapshots intact.
			s.cats = append(s.cats, p.Category)
		}
		// The tail grows in place the same way: older snapshots never
		// read past their own length.
		s.tail.keys = append(s.tail.keys, mortonKey(p.Lon, p.Lat))
		s.tail.times = append(s.tail.times, p.ReportedAt.Unix())
		s.tail.cats = append(s.tail.cats, cat)
		s.tail.rows = append(s.tail.rows, p.Row)
	}
	if s.tail.len() > ix.tailMax {
		s.main = mergeRuns(s.main, s.tail)
		s.tail = pointColumns{}
	}
	ix.snap.Store(s)
	return nil
}

// mergeRuns sorts tail and merges it into main, into fresh slices (readers
// may still hold main).
func mergeRuns(main, tail pointColumns) pointColumns {
	order := sortByKey(tail.keys)
	n := main.len() + tail.len()
	out := pointColumns{
		keys:  make([]uint64, 0, n),
		times: make([]int64, 0, n),
		cats:  make([]uint16, 0, n),
		rows:  make([]uint32, 0, n),
	}
	i, j := 0, 0
	for i < main.len() || j < len(order) {
		// Main first on equal keys: older points keep their place.
		if j == len(order) || i < main.len() && main.keys[i] <= tail.keys[order[j]] {
			out.keys = append(out.keys, main.keys[i])
			out.times = append(out.times, main.times[i])
			out.cats = append(out.cats, main.cats[i])
			out.rows = append(out.rows, main.rows[i])
			i++
			continue
		}
		k := order[j]
		out.keys = append(out.keys, tail.keys[k])
		out.times = append(out.times, tail.times[k])
		out.cats = append(out.cats, tail.cats[k])
		out.rows = append(out.rows, tail.rows[k])
		j++
	}
	return out
}

// sortByKey returns the permutation that sorts keys, stable, by an LSD
// radix sort on 16-bit digits (the keys hold 62 bits).
func sortByKey(keys []uint64) []uint32 {
	n := len(keys)
	if n < 256 {
		order := make([]uint32, n)
		for i := range order {
			order[i] = uint32(i)
		}
		slices.SortStableFunc(order, func(a, b uint32) int { return cmp.Compare(keys[a], keys[b]) })
		return order
	}
	order := make([]uint32, n)
	tmp := make([]uint32, n)
	for i := range order {
		order[i] = uint32(i)
	}
	var count [1 << 16]int
	for shift := uint(0); shift < 2*keyBits; shift += 16 {
		clear(count[:])
		for _, k := range keys {
			count[(k>>shift)&0xffff]++
		}
		sum := 0
		for d := range count {
			count[d], sum = sum, sum+count[d]
		}
		for _, i := range order {
			d := (keys[i] >> shift) & 0xffff
			tmp[count[d]] = i
			count[d]++
		}
		order, tmp = tmp, order
	}
	return order
}

// mortonKey interleaves the quantised world x (even bits) and y (odd bits).
func mortonKey(lon, lat float64) uint64 {
	const scale = 1 << keyBits
	x := int64(lonToWorld(lon) * scale)
	y := int64(latToWorld(lat) * scale)
	x = max(0, min(scale-1, x))
	y = max(0, min(scale-1, y))
	return spread(uint64(x)) | spread(uint64(y))<<1
}

// spread puts the low 32 bits of v on the even bits.
func spread(v uint64) uint64 {
	v &= 0xffffffff
	v = (v | v<<16) & 0x0000ffff0000ffff
	v = (v | v<<8) & 0x00ff00ff00ff00ff
	v = (v | v<<4) & 0x0f0f0f0f0f0f0f0f
	v = (v | v<<2) & 0x3333333333333333
	v = (v | v<<1) & 0x5555555555555555
	return v
}

// compact gathers the even bits of v.
func compact(v uint64) uint64 {
	v &= 0x5555555555555555
	v = (v | v>>1) & 0x3333333333333333
	v = (v | v>>2) & 0x0f0f0f0f0f0f0f0f
	v = (v | v>>4) & 0x00ff00ff00ff00ff
	v = (v | v>>8) & 0x0000ffff0000ffff
	v = (v | v>>16) & 0x00000000ffffffff
	return v
}

// cellRange is the run of keys inside quadtree cell (cx, cy) at level lv.
func cellRange(lv, cx, cy uint32) (lo, hi uint64) {
	shift := 2 * uint(keyBits-lv)
	prefix := spread(uint64(cx)) | spread(uint64(cy))<<1
	return prefix << shift, (prefix + 1) << shift
}

// lowerBound is the first index in keys[from:to] whose key is >= k.
func lowerBound(keys []uint64, from, to int, k uint64) int {
	for from < to {
		m := int(uint(from+to) >> 1)
		if keys[m] < k {
			from = m + 1
		} else {
			to = m
		}
	}
	return from
}

// compiledFilter is a PointFilter resolved against a snapshot.
type compiledFilter struct {
	from, to int64
	cats     []bool // nil: all categories
	none     bool   // true when nothing can match
	all      bool   // true when everything matches
}

func compileFilter(f PointFilter, s *pointSnapshot) compiledFilter {
	c := compiledFilter{from: math.MinInt64, to: math.MaxInt64}
	if !f.From.IsZero() {
		c.from = f.From.Unix()
	}
	if !f.To.IsZero() {
		c.to = f.To.Unix()
	}
	if c.from >= c.to {
		c.none = true
	}
	if f.Category != nil {
		c.cats = make([]bool, len(s.cats))
		any := false
		for i, name := range s.cats {
			c.cats[i] = f.Category(name)
			any = any || c.cats[i]
		}
		c.none = c.none || !any
	}
	c.all = !c.none && c.cats == nil && f.From.IsZero() && f.To.IsZero()
	return c
}

func (c *compiledFilter) match(cols *pointColumns, i int) bool {
	return c.inWindow(cols.times[i]) && (c.cats == nil || c.cats[cols.cats[i]])
}

// inWindow tests from <= t < to with one unsigned comparison.
func (c *compiledFilter) inWindow(t int64) bool {
	return uint64(t)-uint64(c.from) < uint64(c.to)-uint64(c.from)
}

// count is the number of points in [lo, hi) of cols that pass. The loops
// avoid branches on the outcome: a selective filter over random times
// would mispredict on every other point.
func (c *compiledFilter) count(cols *pointColumns, lo, hi int) int32 {
	from, span := uint64(c.from), uint64(c.to)-uint64(c.from)
	times := cols.times[lo:hi]
	var n int32
	if c.cats == nil {
		for _, t := range times {
			n += b2i(uint64(t)-from < span)
		}
		return n
	}
	cats, ok := cols.cats[lo:hi], c.cats
	for k, t := range times {
		n += b2i(uint64(t)-from < span) & b2i(ok[cats[k]])
	}
	return n
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// cellRect is a rectangle of quadtree cells at one level, half-open,
// clamped to the world.
type cellRect struct {
	lv             uint32
	x0, y0, x1, y1 int64
}

// tileCells returns the cells at level t.Z+sub (2^sub per tile side) that
// cover the tile grown by pad cells on every side.
func tileCells(t TileID, sub uint32, pad int64) cellRect {
	n := int64(1) << sub
	world := int64(1) << (t.Z + sub)
	r := cellRect{
		lv: t.Z + sub,
		x0: int64(t.X)*n - pad, y0: int64(t.Y)*n - pad,
		x1: int64(t.X+1)*n + pad, y1: int64(t.Y+1)*n + pad,
	}
	r.x0, r.y0 = max(0, r.x0), max(0, r.y0)
	r.x1, r.y1 = min(world, r.x1), min(world, r.y1)
	return r
}

// cellVisitor receives the points of one cell: the cell, and the index
// ranges [lo, hi) of main holding its points.
type cellVisitor func(cx, cy uint32, lo, hi int)

// eachCell finds the run of main that each cell of r holds. Cells are
// walked row by row; each search starts where the tile's run starts.
func (s *pointSnapshot) eachCell(r cellRect, visit cellVisitor) {
	keys := s.main.keys
	for cy := r.y0; cy < r.y1; cy++ {
		for cx := r.x0; cx < r.x1; cx++ {
			klo, khi := cellRange(r.lv, uint32(cx), uint32(cy))
			lo := lowerBound(keys, 0, len(keys), klo)
			hi := lowerBound(keys, lo, len(keys), khi)
			if hi > lo {
				visit(uint32(cx), uint32(cy), lo, hi)
			}
		}
	}
}

// cellOf reports the cell of r holding key, if any.
func (r cellRect) cellOf(key uint64) (cx, cy uint32, ok bool) {
	shift := 2 * uint(keyBits-r.lv)
	c := key >> shift
	x, y := int64(compact(c)), int64(compact(c>>1))
	if x < r.x0 || x >= r.x1 || y < r.y0 || y >= r.y1 {
		return 0, 0, false
	}
	return uint32(x), uint32(y), true
}

// keyXY returns the quantised world position of a key.
func keyXY(k uint64) (x, y uint32) {
	return uint32(compact(k)), uint32(compact(k >> 1))
}

// keyToTile converts a quantised world coordinate to tile units of zoom z
// relative to tile origin o.
func keyToTile(v uint32, z uint32, o uint32) int32 {
	s := int(z) + 12 - keyBits // 12 = log2(Extent)
	var u int64
	if s >= 0 {
		u = int64(v) << uint(s)
	} else {
		u = int64(v) >> uint(-s)
	}
	return int32(u - int64(o)*Extent)
}
