package topo

import (
	"sort"
)

// seg is a directed edge with its box, and the index of the edge in the
// list it was collected into.
type seg struct {
	a, b       xy
	minX, maxX float64
	minY, maxY float64
	pos        int // rank of the edge in its shape's edge order
}

func newSeg(a, b xy) seg {
	s := seg{a: a, b: b, minX: a.x, maxX: b.x, minY: a.y, maxY: b.y}
	if b.x < a.x {
		s.minX, s.maxX = b.x, a.x
	}
	if b.y < a.y {
		s.minY, s.maxY = b.y, a.y
	}
	return s
}

func (s seg) inBox(b box) bool {
	return s.minX <= b.maxX && b.minX <= s.maxX && s.minY <= b.maxY && b.minY <= s.maxY
}

func orient(a, b, c xy) float64 {
	return (b.x-a.x)*(c.y-a.y) - (b.y-a.y)*(c.x-a.x)
}

// segRelation classifies two edges whose boxes meet. ok means they meet at
// most in one shared endpoint, or are the same edge run in opposite
// directions (shared is then true): the only contacts two grids of a clean
// set have. Anything else (a crossing, a vertex on the other's edge,
// collinear overlap, the same edge in the same direction) is not ok. touch
// reports that they have a common endpoint, at.
func segRelation(p, q seg) (ok, shared, touch bool, at xy) {
	p1, p2, q1, q2 := p.a, p.b, q.a, q.b
	if p1 == q2 && p2 == q1 {
		return true, true, true, p1
	}
	if p1 == q1 && p2 == q2 {
		return false, false, false, xy{}
	}
	var c, pa, qa xy
	switch {
	case p1 == q1:
		c, pa, qa = p1, p2, q2
	case p1 == q2:
		c, pa, qa = p1, p2, q1
	case p2 == q1:
		c, pa, qa = p2, p1, q2
	case p2 == q2:
		c, pa, qa = p2, p1, q1
	default:
		d1, d2 := orient(q1, q2, p1), orient(q1, q2, p2)
		d3, d4 := orient(p1, p2, q1), orient(p1, p2, q2)
		if (d1 > 0 && d2 > 0) || (d1 < 0 && d2 < 0) || (d3 > 0 && d4 > 0) || (d3 < 0 && d4 < 0) {
			return true, false, false, xy{}
		}
		return false, false, false, xy{}
	}
	// Two edges from a common vertex meet elsewhere only if they run along
	// the same ray.
	if orient(c, pa, qa) == 0 && (pa.x-c.x)*(qa.x-c.x)+(pa.y-c.y)*(qa.y-c.y) > 0 {
		return false, false, false, xy{}
	}
	return true, false, true, c
}

// interiorsDisjoint proves, without an overlay, that two valid shapes have
// disjoint interiors; false means "not proven", and the caller runs the
// exact overlay. The proof: if every pair of edges is disjoint, meets in
// one shared endpoint or is the same edge reversed, then the open edges of
// each shape miss the other's boundary, and so do its vertices but the
// shared ones; a run of edges between shared vertices thus lies wholly
// inside or wholly outside the other shape, which one point of it tells.
// If no run is inside, neither boundary enters the other's interior, and
// two connected interiors that do not meet each other's boundary either
// are disjoint or coincide — and coincident parts would have had the same
// edges in the same direction, which is not ok above.
func interiorsDisjoint(s, t *shape) bool {
	ob := s.box.intersect(t.box)
	if ob.empty() || ob.minX == ob.maxX || ob.minY == ob.maxY {
		return true
	}
	// No early exit when one side has no edge in the common box: the
	// other shape may then lie wholly inside it, which the run test finds.
	as, na := collectSegs(s, ob)
	bs, nb := collectSegs(t, ob)
	sharedA := make([]bool, na)
	sharedB := make([]bool, nb)
	touched := map[xy]bool{}
	if !sweepPairs(as, bs, func(i, j int) bool {
		ok, sh, touch, at := segRelation(as[i], bs[j])
		if sh {
			sharedA[as[i].pos], sharedB[bs[j].pos] = true, true
			touched[as[i].a], touched[as[i].b] = true, true
		} else if touch {
			touched[at] = true
		}
		return ok
	}) {
		return false
	}
	return boundaryOutside(s, t, ob, sharedA, touched) && boundaryOutside(t, s, ob, sharedB, touched)
}

// boundaryOutside tells whether no edge of s runs inside t, given which
// edges of s are shared with t and the vertices where the two touch:
// along a ring the side can only change at a touched vertex, so one
// point-in-polygon test per run of edges is enough.
func boundaryOutside(s, t *shape, ob box, shared []bool, touched map[xy]bool) bool {
	const unknown, outside, inside = 0, 1, 2
	pos := 0
	for _, poly := range s.polys {
		for _, r := range poly {
			side := unknown
			n := len(r)
			for k := range n {
				a, b := r[k], r[(k+1)%n]
				if touched[a] {
					side = unknown
				}
				e := newSeg(a, b)
				switch {
				case !e.inBox(ob):
					side = outside // beyond t's box
				case shared[pos]:
					side = unknown
				case side == unknown:
					side = outside
					if t.contains(mid(e)) {
						return false
					}
				}
				pos++
			}
		}
	}
	return true
}

func mid(e seg) xy { return xy{(e.a.x + e.b.x) / 2, (e.a.y + e.b.y) / 2} }

// collectSegs lists the edges of s whose boxes meet b, numbered in the
// shape's edge order, and the number of edges of s.
func collectSegs(s *shape, b box) ([]seg, int) {
	var out []seg
	n := 0
	s.segments(func(p, q xy) {
		e := newSeg(p, q)
		if e.inBox(b) {
			e.pos = n
			out = append(out, e)
		}
		n++
	})
	return out, n
}

// sweepPairs calls fn for every pair (one from as, one from bs) whose boxes
// meet, sweeping along x; it stops and returns false as soon as fn does.
// The slices are reordered.
func sweepPairs(as, bs []seg, fn func(i, j int) bool) bool {
	if len(as)*len(bs) <= 256 {
		for i := range as {
			for j := range bs {
				if as[i].maxX >= bs[j].minX && bs[j].maxX >= as[i].minX &&
					as[i].maxY >= bs[j].minY && bs[j].maxY >= as[i].minY {
					if !fn(i, j) {
						return false
					}
				}
			}
		}
		return true
	}
	sort.Slice(as, func(i, j int) bool { return as[i].minX < as[j].minX })
	sort.Slice(bs, func(i, j int) bool { return bs[i].minX < bs[j].minX })
	var activeA, activeB []int
	i, j := 0, 0
	for i < len(as) || j < len(bs) {
		if j >= len(bs) || (i < len(as) && as[i].minX <= bs[j].minX) {
			x := as[i].minX
			activeB = prune(activeB, bs, x)
			for _, k := range activeB {
				if as[i].maxY >= bs[k].minY && bs[k].maxY >= as[i].minY {
					if !fn(i, k) {
						return false
					}
				}
			}
			activeA = append(activeA, i)
			i++
		} else {
			x := bs[j].minX
			activeA = prune(activeA, as, x)
			for _, k := range activeA {
				if bs[j].maxY >= as[k].minY && as[k].maxY >= bs[j].minY {
					if !fn(k, j) {
						return false
					}
				}
			}
			activeB = append(activeB, j)
			j++
		}
	}
	return true
}

// prune drops from active the edges that end before x.
func prune(active []int, segs []seg, x float64) []int {
	out := active[:0]
	for _, k := range active {
		if segs[k].maxX >= x {
			out = append(out, k)
		}
	}
	return out
}
