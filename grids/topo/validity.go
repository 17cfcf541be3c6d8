package topo

import (
	"fmt"
	"slices"
)

// validate checks that a shape is a valid OGC (multi)polygon. The common
// case, one polygon without holes, is checked here (the ring must be
// simple); anything else goes to simplefeatures' full check.
func (s shape) validate(p projection) error {
	return s.validateWith(p, nil)
}

// validateWith is validate with a scratch buffer for edges, reused by
// callers that check many shapes.
func (s shape) validateWith(p projection, scratch *[]seg) error {
	if len(s.polys) == 1 && len(s.polys[0]) == 1 {
		if at, ok := ringSimpleWith(s.polys[0][0], scratch); !ok {
			q := p.inv(at)
			return fmt.Errorf("%w: ring is not simple near %.7f,%.7f", errGeometry, q[0], q[1])
		}
		return nil
	}
	if err := s.sf().Validate(); err != nil {
		return fmt.Errorf("%w: %w", errGeometry, err)
	}
	return nil
}

// ringSimple tells whether a closed ring (without its closing vertex and
// without consecutive repeats) neither crosses nor touches itself; when it
// does, at is a vertex of an offending edge.
func ringSimple(r ring) (at xy, ok bool) { return ringSimpleWith(r, nil) }

func ringSimpleWith(r ring, scratch *[]seg) (at xy, ok bool) {
	n := len(r)
	var segs []seg
	if scratch != nil && cap(*scratch) >= n {
		segs = (*scratch)[:n]
	} else {
		segs = make([]seg, n)
		if scratch != nil {
			*scratch = segs
		}
	}
	for i := range n - 1 {
		segs[i] = newSeg(r[i], r[i+1])
	}
	segs[n-1] = newSeg(r[n-1], r[0])
	bad := -1
	check := func(i, j int) bool {
		if i > j {
			i, j = j, i
		}
		if !segmentsSimple(segs[i], segs[j], j == i+1, i == 0 && j == n-1) {
			bad = i
			return false
		}
		return true
	}
	if n <= 128 {
		// Small rings: every pair, the boxes tested from flat arrays.
		var lo, hi [128]float64
		for i := range n {
			lo[i], hi[i] = segs[i].minX, segs[i].maxX
		}
		for i := range n {
			li, hiI := lo[i], hi[i]
			for j := i + 1; j < n; j++ {
				if hiI >= lo[j] && hi[j] >= li &&
					segs[i].maxY >= segs[j].minY && segs[j].maxY >= segs[i].minY {
					if !check(i, j) {
						return segs[bad].a, false
					}
				}
			}
		}
		return xy{}, true
	}
	type key struct {
		x float64
		i int
	}
	keys := make([]key, n)
	for i := range keys {
		keys[i] = key{segs[i].minX, i}
	}
	slices.SortFunc(keys, func(a, b key) int {
		switch {
		case a.x < b.x:
			return -1
		case a.x > b.x:
			return 1
		}
		return 0
	})
	active := make([]int, 0, 16)
	for _, k := range keys {
		i := k.i
		x := segs[i].minX
		active = prune(active, segs, x)
		for _, j := range active {
			if segs[i].maxY >= segs[j].minY && segs[j].maxY >= segs[i].minY {
				if !check(i, j) {
					return segs[bad].a, false
				}
			}
		}
		active = append(active, i)
	}
	return xy{}, true
}

// segmentsSimple tells whether two edges of one ring meet only as a simple
// ring allows: consecutive edges (next: q follows p; wrap: p is the first
// edge and q the last) only at their common vertex without folding back,
// other edges not at all.
func segmentsSimple(p, q seg, next, wrap bool) bool {
	var c, pa, qa xy
	switch {
	case next:
		c, pa, qa = p.b, p.a, q.b
	case wrap:
		c, pa, qa = p.a, p.b, q.a
	default:
		d1, d2 := orient(q.a, q.b, p.a), orient(q.a, q.b, p.b)
		d3, d4 := orient(p.a, p.b, q.a), orient(p.a, p.b, q.b)
		return (d1 > 0 && d2 > 0) || (d1 < 0 && d2 < 0) || (d3 > 0 && d4 > 0) || (d3 < 0 && d4 < 0)
	}
	if pa == qa {
		return false
	}
	return !(orient(c, pa, qa) == 0 && (pa.x-c.x)*(qa.x-c.x)+(pa.y-c.y)*(qa.y-c.y) > 0)
}
