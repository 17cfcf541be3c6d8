package tiles

import (
	"math"
	"math/bits"
	"slices"
	"sync/atomic"

	"github.com/paulmach/orb"
)

// Neighbouring grids share edges. Simplifying each polygon on its own would
// move a shared edge differently on its two sides and open slivers, so the
// rings of one level are cut into arcs at junctions (as TopoJSON does), each
// arc is simplified once per zoom, and both neighbours reuse the result.

// arcRef is one arc of a ring, walked backwards when rev is set.
type arcRef struct {
	arc int32
	rev bool
}

// topology holds the arcs of one level in world coordinates and their
// per-zoom simplifications, computed when first needed.
type topology struct {
	arcs       [][]orb.Point
	simplifyPx float64
	zooms      [MaxZoom + 1]atomic.Pointer[[]atomic.Pointer[[]orb.Point]]
}

type neighbourPair struct{ a, b int32 }

func lessPoint(p, q orb.Point) bool {
	return p[0] < q[0] || p[0] == q[0] && p[1] < q[1]
}

// pointTable numbers distinct points: an open-addressing hash table, much
// lighter than a map for the millions of vertices of a city.
type pointTable struct {
	slots []int32 // 1 + index into pts; 0 is empty
	pts   []orb.Point
	mask  uint64
}

func newPointTable(n int) *pointTable {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	return &pointTable{slots: make([]int32, size), pts: make([]orb.Point, 0, n), mask: uint64(size - 1)}
}

// id returns the number of p, assigning the next one to a new point.
func (t *pointTable) id(p orb.Point) int32 {
	h := mix64(math.Float64bits(p[0])^bits.RotateLeft64(math.Float64bits(p[1]), 32)) & t.mask
	for {
		s := t.slots[h]
		if s == 0 {
			t.pts = append(t.pts, p)
			t.slots[h] = int32(len(t.pts))
			return int32(len(t.pts) - 1)
		}
		if t.pts[s-1] == p {
			return s - 1
		}
		h = (h + 1) & t.mask
	}
}

// buildTopology cuts rings (lon/lat, open: no closing point) into shared
// arcs. A vertex is a junction when it is met with two different pairs of
// neighbours (where three grids meet, or a shared edge ends), plus each
// ring's least and greatest vertex so that every ring has two junctions
// that all rings through them agree on.
func buildTopology(rings [][]orb.Point, simplifyPx float64) (*topology, [][]arcRef) {
	total := 0
	for _, r := range rings {
		total += len(r)
	}
	table := newPointTable(total)
	ids := make([][]int32, len(rings))
	flat := make([]int32, total)
	for ri, r := range rings {
		ids[ri], flat = flat[:len(r):len(r)], flat[len(r):]
		for i, p := range r {
			ids[ri][i] = table.id(p)
		}
	}
	n := len(table.pts)
	pairs := make([]neighbourPair, n)
	seen := make([]bool, n)
	junction := make([]bool, n)
	for ri, r := range ids {
		m := len(r)
		if m < 3 {
			continue
		}
		lo, hi := 0, 0
		for i, v := range r {
			prev, next := r[(i+m-1)%m], r[(i+1)%m]
			if next < prev {
				prev, next = next, prev
			}
			pair := neighbourPair{prev, next}
			if !seen[v] {
				seen[v], pairs[v] = true, pair
			} else if pairs[v] != pair {
				junction[v] = true
			}
			if lessPoint(rings[ri][i], rings[ri][lo]) {
				lo = i
			}
			if lessPoint(rings[ri][hi], rings[ri][i]) {
				hi = i
			}
		}
		junction[r[lo]] = true
		junction[r[hi]] = true
	}

	type arcKey struct{ first, second, last int32 }
	topo := &topology{simplifyPx: simplifyPx}
	var arcIDs [][]int32 // vertex numbers of each arc, for deduplication
	byKey := make(map[arcKey][]int32)
	refs := make([][]arcRef, len(rings))
	var cuts []int
	a := make([]int32, 0, 64)
	for ri, r := range ids {
		m := len(r)
		if m < 3 {
			continue
		}
		cuts = cuts[:0]
		for i, v := range r {
			if junction[v] {
				cuts = append(cuts, i)
			}
		}
		for k, start := range cuts {
			end := cuts[0] + m
			if k+1 < len(cuts) {
				end = cuts[k+1]
			}
			a = a[:0]
			for i := start; i <= end; i++ {
				a = append(a, r[i%m])
			}
			last := len(a) - 1
			pa, pz := table.pts[a[0]], table.pts[a[last]]
			rev := lessPoint(pz, pa) || a[0] == a[last] && lessPoint(table.pts[a[last-1]], table.pts[a[1]])
			if rev {
				slices.Reverse(a)
			}
			key := arcKey{a[0], a[1], a[last]}
			idx := int32(-1)
			for _, cand := range byKey[key] {
				if slices.Equal(arcIDs[cand], a) {
					idx = cand
					break
				}
			}
			if idx < 0 {
				idx = int32(len(arcIDs))
				arcIDs = append(arcIDs, slices.Clone(a))
				byKey[key] = append(byKey[key], idx)
			}
			refs[ri] = append(refs[ri], arcRef{arc: idx, rev: rev})
		}
	}
	// Project each distinct vertex once.
	world := make([]orb.Point, n)
	for i, p := range table.pts {
		world[i] = toWorld(p)
	}
	topo.arcs = make([][]orb.Point, len(arcIDs))
	for i, vs := range arcIDs {
		pts := make([]orb.Point, len(vs))
		for k, v := range vs {
			pts[k] = world[v]
		}
		topo.arcs[i] = pts
	}
	return topo, refs
}

// rawRing appends the unsimplified vertices of a ring, in world
// coordinates, to dst.
func (t *topology) rawRing(dst []orb.Point, refs []arcRef) []orb.Point {
	for _, r := range refs {
		dst = appendArc(dst, t.arcs[r.arc], r.rev)
	}
	return dst
}

func appendArc(dst, a []orb.Point, rev bool) []orb.Point {
	// Each arc ends where the next begins: skip its last vertex.
	if rev {
		for i := len(a) - 1; i > 0; i-- {
			dst = append(dst, a[i])
		}
		return dst
	}
	return append(dst, a[:len(a)-1]...)
}

// arc returns arc i simplified for zoom z (Douglas–Peucker with a tolerance
// of simplifyPx nominal pixels). Results are cached; concurrent callers may
// compute the same arc twice, with the same outcome.
func (t *topology) arc(i int32, z uint32) []orb.Point {
	src := t.arcs[i]
	if len(src) <= 2 || t.simplifyPx <= 0 {
		return src
	}
	slots := t.zooms[z].Load()
	if slots == nil {
		fresh := make([]atomic.Pointer[[]orb.Point], len(t.arcs))
		if !t.zooms[z].CompareAndSwap(nil, &fresh) {
			slots = t.zooms[z].Load()
		} else {
			slots = &fresh
		}
	}
	if p := (*slots)[i].Load(); p != nil {
		return *p
	}
	tol := t.simplifyPx / pixelsPerTile / float64(uint64(1)<<z)
	s := douglasPeucker(src, tol)
	(*slots)[i].Store(&s)
	return s
}

// ring appends the vertices of a ring at zoom z to dst, without the closing
// point.
func (t *topology) ring(dst []orb.Point, refs []arcRef, z uint32) []orb.Point {
	for _, r := range refs {
		dst = appendArc(dst, t.arc(r.arc, z), r.rev)
	}
	return dst
}

// douglasPeucker keeps the end points and every vertex farther than tol
// from the chord of its span. Distances are to the chord segment, so that
// closed arcs (first = last) simplify sensibly. It returns src itself when
// every vertex is kept.
func douglasPeucker(src []orb.Point, tol float64) []orb.Point {
	n := len(src)
	keep := make([]bool, n)
	keep[0], keep[n-1] = true, true
	tol2 := tol * tol
	type span struct{ a, b int }
	stack := []span{{0, n - 1}}
	kept := 2
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		best, bestD := -1, tol2
		for i := s.a + 1; i < s.b; i++ {
			if d := segDist2(src[i], src[s.a], src[s.b]); d > bestD {
				best, bestD = i, d
			}
		}
		if best < 0 {
			continue
		}
		keep[best] = true
		kept++
		stack = append(stack, span{s.a, best}, span{best, s.b})
	}
	if kept == n {
		return src
	}
	out := make([]orb.Point, 0, kept)
	for i, k := range keep {
		if k {
			out = append(out, src[i])
		}
	}
	return out
}

// segDist2 is the squared distance from p to the segment ab.
func segDist2(p, a, b orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	px, py := p[0]-a[0], p[1]-a[1]
	l2 := dx*dx + dy*dy
	if l2 > 0 {
		t := (px*dx + py*dy) / l2
		t = max(0, min(1, t))
		px -= t * dx
		py -= t * dy
	}
	return px*px + py*py
}
