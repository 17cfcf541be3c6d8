package grids

import (
	"math"
	"sort"
	"sync"
	"sync/atomic"
)

// LocateBatch geocodes many points at once, writing each point's leaf id to
// out (-1 when no grid holds it; see LeafAt). Points are visited in the
// order of their cells, not of the input, so that the cell table and the
// rings stay in cache: on a city of 50,000 grids random-order lookups wait
// on memory for most of their time. out must be at least as long as xs.
func (ix *Index) LocateBatch(xs, ys []float64, out []int32) {
	n := len(xs)
	if n < 256 {
		for i := 0; i < n; i++ {
			out[i] = ix.locateID(xs[i], ys[i])
		}
		return
	}
	// Key: cell order in the high 32 bits, input position in the low 32;
	// points outside the table sort last with an all-ones cell.
	sc := batchScratchPool.Get().(*batchScratch)
	defer batchScratchPool.Put(sc)
	sc.grow(n)
	keys := sc.keys[:n]
	for i := 0; i < n; i++ {
		fx := (xs[i] - ix.minX) * ix.invW
		fy := (ys[i] - ix.minY) * ix.invH
		cell := uint64(1<<32 - 1)
		if fx >= 0 && fy >= 0 && fx < float64(ix.nx) && fy < float64(ix.ny) {
			// Tile-major order: blocks of 16×16 cells (a few grids) are
			// finished before the next, so each grid's rings are loaded
			// once for all the points near it.
			cx, cy := uint64(fx), uint64(fy)
			cell = ((cy>>4)*uint64(ix.nx+15)/16+cx>>4)<<8 | (cy&15)<<4 | cx&15
		}
		keys[i] = cell<<32 | uint64(i)
	}
	radixSortHigh32(keys, sc.tmp[:n])
	// Gather the coordinates in cell order, locate, scatter the answers:
	// three tight loops whose independent loads the processor overlaps,
	// instead of one loop that waits on each random load in turn.
	sx, sy := sc.sx[:n], sc.sy[:n]
	m := 0
	for _, k := range keys {
		if k>>32 == 1<<32-1 {
			break // outside the table; these sort last
		}
		i := uint32(k)
		sx[m], sy[m] = xs[i], ys[i]
		m++
	}
	res := sc.res[:n]
	pend := sc.pend[:0]
	for j := 0; j < m; j++ {
		id, v := ix.locateCell(sx[j], sy[j])
		res[j] = id
		if id == needList {
			pend = append(pend, pendingPoint{j: int32(j), v: v})
		}
	}
	for j := m; j < n; j++ {
		res[j] = -1
	}
	ix.resolve(pend, sx, sy, res)
	sc.pend = pend[:0]
	for j, k := range keys {
		out[uint32(k)] = res[j]
	}
}

// pendingPoint is a point of a batch that needs the polygon tests of its
// cell's candidate list (at offset v of cellCand): j is its position in the
// batch, k the candidate to test next.
type pendingPoint struct {
	j    int32
	v, k uint32
}

// resolveChunk is how many pending points resolve goes through a stage at
// a time: their rings' lines stay in the first-level cache between stages.
const resolveChunk = 64

// resolve runs the polygon tests of the pending points, with the answers
// locateID would give, into res. A test waits on memory: the polygon, the
// band of its edges, the edges, the vertices, each found through the one
// before, and on a city of 50,000 grids each is likely a cache miss. So the
// points go in chunks through stages that each make one of those loads for
// every point of the chunk; the loads of one stage do not wait on each
// other, and the processor overlaps them. A point that its candidate does
// not claim tries the next one in the following round.
func (ix *Index) resolve(pend []pendingPoint, xs, ys []float64, res []int32) {
	var (
		poly   [resolveChunk]*preparedPoly
		lo, hi [resolveChunk]uint32
	)
	var touched uint64
	for len(pend) > 0 {
		kept := 0
		for c0 := 0; c0 < len(pend); c0 += resolveChunk {
			ch := pend[c0:min(c0+resolveChunk, len(pend))]
			for i, q := range ch {
				poly[i] = &ix.polys[ix.cellCand[q.v+2+q.k]]
			}
			for i, q := range ch {
				lo[i], hi[i] = poly[i].bandOf(xs[q.j], ys[q.j])
			}
			// Bring each band's first edge and vertex in; their values
			// are not needed, only the loads.
			for i := range ch {
				if lo[i] < hi[i] {
					p := poly[i]
					touched += math.Float64bits(p.pts[p.bandEdges[lo[i]]][1])
				}
			}
			for i, q := range ch {
				x, y := xs[q.j], ys[q.j]
				if poly[i].crossesOdd(x, y, lo[i], hi[i]) {
					res[q.j] = int32(ix.cellCand[q.v+2+q.k])
					continue
				}
				if q.k+1 < ix.cellCand[q.v] {
					q.k++
					pend[kept] = q
					kept++
					continue
				}
				res[q.j] = ix.onListBoundary(ix.cellList(q.v), x, y)
			}
		}
		pend = pend[:kept]
	}
	resolveSink.Add(touched)
}

// resolveSink keeps resolve's loads from being optimised away.
var resolveSink atomic.Uint64

// radixSortHigh32 sorts keys by their high 32 bits (LSD, 11-bit digits,
// stable), using tmp as scratch of the same length.
func radixSortHigh32(keys, tmp []uint64) {
	const bits = 11
	const buckets = 1 << bits
	var count [buckets]int
	src, dst := keys, tmp
	for shift := uint(32); shift < 64; shift += bits {
		clear(count[:])
		for _, k := range src {
			count[(k>>shift)&(buckets-1)]++
		}
		// Skip a pass whose digit is the same for every key.
		if count[(src[0]>>shift)&(buckets-1)] == len(src) {
			continue
		}
		sum := 0
		for b := range count {
			c := count[b]
			count[b] = sum
			sum += c
		}
		for _, k := range src {
			d := (k >> shift) & (buckets - 1)
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
}

// LeafAt returns the leaf grid with the given id (as LocateBatch writes).
func (ix *Index) LeafAt(id int32) *Grid {
	if id < 0 || int(id) >= len(ix.leaves) {
		return nil
	}
	return ix.leaves[id]
}

func (ix *Index) leafID(g *Grid) int {
	i := sort.Search(len(ix.leaves), func(i int) bool { return ix.leaves[i].Code >= g.Code })
	if i < len(ix.leaves) && ix.leaves[i] == g {
		return i
	}
	return -1
}

// batchScratch holds LocateBatch's working arrays between calls, so that a
// stream of batches does not allocate and clear them again each time.
type batchScratch struct {
	keys, tmp []uint64
	sx, sy    []float64
	res       []int32
	pend      []pendingPoint
}

var batchScratchPool = sync.Pool{New: func() any { return new(batchScratch) }}

func (sc *batchScratch) grow(n int) {
	if cap(sc.keys) >= n {
		return
	}
	sc.keys, sc.tmp = make([]uint64, n), make([]uint64, n)
	sc.sx, sc.sy = make([]float64, n), make([]float64, n)
	sc.res = make([]int32, n)
}
