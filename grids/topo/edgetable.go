package topo

import "math"

// edgeTable accumulates directed edges as a 1-chain, like chain, but with
// open addressing and generation stamps so that one table serves every
// family without being cleared, and tells in O(1) whether the chain is
// zero. Keys compare exactly.
type edgeTable struct {
	keys    []segKey
	vals    []int32
	gen     []uint32
	cur     uint32
	mask    uint64
	nonzero int
}

// reset empties the table for about n distinct edges.
func (t *edgeTable) reset(n int) {
	size := 16
	for size < 2*n {
		size *= 2
	}
	if size > len(t.keys) {
		t.keys = make([]segKey, size)
		t.vals = make([]int32, size)
		t.gen = make([]uint32, size)
		t.cur = 0
	}
	t.mask = uint64(len(t.keys) - 1)
	t.cur++
	if t.cur == 0 { // wrapped: stamps are ambiguous, start afresh
		clear(t.gen)
		t.cur = 1
	}
	t.nonzero = 0
}

func fbits(v float64) uint64 { return math.Float64bits(v + 0) } // -0 hashes as +0

func (k segKey) hash() uint64 {
	h := fbits(k.a.x)*0x9E3779B97F4A7C15 ^ fbits(k.a.y)*0xC2B2AE3D27D4EB4F ^
		fbits(k.b.x)*0x165667B19E3779F9 ^ fbits(k.b.y)*0xD6E8FEB86659FD93
	h ^= h >> 32
	h *= 0x9E3779B97F4A7C15
	return h ^ h>>29
}

func (t *edgeTable) add1(k segKey, d int32) {
	for h := k.hash() & t.mask; ; h = (h + 1) & t.mask {
		if t.gen[h] != t.cur {
			t.gen[h], t.keys[h], t.vals[h] = t.cur, k, d
			t.nonzero++
			return
		}
		if t.keys[h] == k {
			was := t.vals[h]
			t.vals[h] += d
			switch {
			case was == 0:
				t.nonzero++
			case t.vals[h] == 0:
				t.nonzero--
			}
			return
		}
	}
}

// add adds every directed edge of s with the given sign; an edge and its
// reverse cancel.
func (t *edgeTable) add(s *shape, sign int32) {
	s.segments(func(a, b xy) {
		if less(a, b) {
			t.add1(segKey{a, b}, sign)
		} else {
			t.add1(segKey{b, a}, -sign)
		}
	})
}

func (t *edgeTable) zero() bool { return t.nonzero == 0 }
