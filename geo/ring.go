package geo

import (
	"cmp"
	"math"
	"math/big"
	"slices"

	"github.com/paulmach/orb"
)

// Earth radii on the sphere the metric helpers work on.
const (
	// EarthMeanRadius is the IUGG mean radius R1, the usual haversine radius.
	EarthMeanRadius = 6371008.8
	// EarthAuthalicRadius gives a sphere with the WGS84 ellipsoid's surface
	// area, so spherical areas stay within a fraction of a percent.
	EarthAuthalicRadius = 6371007.2
)

// RingArea is the signed planar (shoelace) area of a ring in squared
// coordinate units: positive for counter-clockwise rings. The ring may be
// closed or not.
func RingArea(r orb.Ring) float64 {
	n := len(r)
	if n < 3 {
		return 0
	}
	// Coordinates are taken relative to the first vertex so that rings far
	// from the origin keep their precision.
	o := r[0]
	var sum float64
	for i := 1; i+1 < n; i++ {
		sum += (r[i][0]-o[0])*(r[i+1][1]-o[1]) - (r[i+1][0]-o[0])*(r[i][1]-o[1])
	}
	return sum / 2
}

// Haversine is the great-circle distance in metres between two lon/lat
// points on a sphere of EarthMeanRadius.
func Haversine(a, b orb.Point) float64 {
	lat1 := a[1] * math.Pi / 180
	lat2 := b[1] * math.Pi / 180
	dLat := lat2 - lat1
	dLon := (b[0] - a[0]) * math.Pi / 180
	s := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1)*math.Cos(lat2)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * EarthMeanRadius * math.Asin(math.Min(1, math.Sqrt(s)))
}

// GeodesicArea is the area in m² of a lon/lat polygon: its exterior less its
// holes, whatever their winding. Each ring's area is the spherical formula
// of Chamberlain & Duquette (2007, "Some algorithms for polygons on a
// sphere", also used by turf and d3) on a sphere of EarthAuthalicRadius. It
// is exact for cells bounded by meridians and parallels and within about
// 0.5% of the ellipsoidal area for city-sized polygons.
func GeodesicArea(p orb.Polygon) float64 {
	if len(p) == 0 {
		return 0
	}
	area := math.Abs(sphericalRingArea(p[0]))
	for _, h := range p[1:] {
		area -= math.Abs(sphericalRingArea(h))
	}
	return area
}

// sphericalRingArea is the signed area (positive counter-clockwise) of a
// ring on the authalic sphere.
func sphericalRingArea(r orb.Ring) float64 {
	n := len(r)
	if n > 1 && r[0] == r[n-1] {
		n--
	}
	if n < 3 {
		return 0
	}
	var sum float64
	for i := range n {
		prev := r[(i+n-1)%n]
		next := r[(i+1)%n]
		sum += (next[0] - prev[0]) * math.Pi / 180 * math.Sin(r[i][1]*math.Pi/180)
	}
	return sum * EarthAuthalicRadius * EarthAuthalicRadius / 2
}

// NormalizePolygon returns a copy of p with RFC 7946 winding: exterior ring
// counter-clockwise, holes clockwise. p itself is never modified.
func NormalizePolygon(p orb.Polygon) orb.Polygon {
	if p == nil {
		return nil
	}
	out := make(orb.Polygon, len(p))
	for i, r := range p {
		c := slices.Clone(r)
		a := RingArea(c)
		if (i == 0 && a < 0) || (i > 0 && a > 0) {
			slices.Reverse(c)
		}
		out[i] = c
	}
	return out
}

// bruteForceMax is the vertex count up to which RingSelfIntersects sweeps
// with its arrays on the stack (smallSweepHits); beyond it the general
// sweep allocates.
const bruteForceMax = 128

// RingSelfIntersects reports whether a ring is not simple, and a place where
// it is not: two non-adjacent edges that cross, touch (a vertex on another
// edge, or two equal vertices) or overlap, or two adjacent edges that fold
// back on each other. Repeated consecutive vertices are ignored, and the
// ring may be closed or not. Orientation tests are exact (filtered floating
// point with an exact fallback), so collinear and touching cases are decided
// correctly. Rings are swept (those of more than 128 vertices along their
// longer axis), so only edges whose boxes overlap are compared: near
// O(n log n) for real boundaries, though a ring whose every edge spans most
// of it (a zigzag) still costs O(n²) box tests. When a ring is not simple,
// the place named is the first conflict in edge order for rings of up to
// 128 vertices.
func RingSelfIntersects(r orb.Ring) (bool, orb.Point) {
	v := ringVertices(r)
	n := len(v)
	switch {
	case n < 2:
		return false, orb.Point{}
	case n == 2:
		// a→b→a runs along the same segment twice.
		return true, v[1]
	case n <= bruteForceMax:
		if !smallSweepHits(v) {
			return false, orb.Point{}
		}
		// Not simple: the pairwise test names the first conflict in edge
		// order, as it always has.
		return pairsSelfIntersect(v)
	}
	return sweepSelfIntersects(v)
}

// smallSweepHits is the sweep for rings of at most bruteForceMax vertices,
// without allocating: edges sorted by their lowest x on the stack, each
// compared with the edges that start before it ends. Adjacent edges are
// always compared, as pairsSelfIntersect does. NaN coordinates, which no
// order sorts, make it report a hit so that the pairwise test decides.
func smallSweepHits(v []orb.Point) bool {
	n := len(v)
	type edge struct {
		lo, hi, ylo, yhi float64
		i                int
	}
	var edges [bruteForceMax]edge
	var order [bruteForceMax]uint8
	for i := range n {
		a, b := v[i], v[(i+1)%n]
		if a[0] != a[0] || a[1] != a[1] {
			return true
		}
		e := &edges[i]
		e.i = i
		e.lo, e.hi = minMax(a[0], b[0])
		e.ylo, e.yhi = minMax(a[1], b[1])
		// Insertion sort of the indices by lo.
		k := i
		for k > 0 && edges[order[k-1]].lo > e.lo {
			order[k] = order[k-1]
			k--
		}
		order[k] = uint8(i)
	}
	for i := range n {
		if j := i + 1; j < n {
			if hit, _ := edgesConflict(v, i, j); hit {
				return true
			}
		} else if hit, _ := edgesConflict(v, 0, n-1); hit {
			return true
		}
	}
	for a := 0; a < n; a++ {
		ea := &edges[order[a]]
		for b := a + 1; b < n && edges[order[b]].lo <= ea.hi; b++ {
			eb := &edges[order[b]]
			if ea.yhi < eb.ylo || eb.yhi < ea.ylo {
				continue
			}
			i, j := ea.i, eb.i
			if i > j {
				i, j = j, i
			}
			if j == i+1 || (i == 0 && j == n-1) {
				continue // compared above
			}
			if hit, _ := edgesConflict(v, i, j); hit {
				return true
			}
		}
	}
	return false
}

// pairsSelfIntersect compares every pair of edges of a small ring, boxes
// first; the boxes live on the stack.
func pairsSelfIntersect(v []orb.Point) (bool, orb.Point) {
	n := len(v)
	var boxes [bruteForceMax][4]float64 // minX, maxX, minY, maxY
	for i := range n {
		a, b := v[i], v[(i+1)%n]
		boxes[i][0], boxes[i][1] = minMax(a[0], b[0])
		boxes[i][2], boxes[i][3] = minMax(a[1], b[1])
	}
	for i := range n {
		bi := &boxes[i]
		for j := i + 1; j < n; j++ {
			bj := &boxes[j]
			adjacent := j == i+1 || (i == 0 && j == n-1)
			if !adjacent && (bi[1] < bj[0] || bj[1] < bi[0] || bi[3] < bj[2] || bj[3] < bi[2]) {
				continue
			}
			if hit, p := edgesConflict(v, i, j); hit {
				return true, p
			}
		}
	}
	return false, orb.Point{}
}

// ringVertices drops repeated consecutive vertices and the closing vertex.
// It only copies when there is something to drop besides the closing one.
func ringVertices(r orb.Ring) []orb.Point {
	n := len(r)
	for n > 1 && r[n-1] == r[0] {
		n--
	}
	v := []orb.Point(r[:n])
	for i := 1; i < n; i++ {
		if v[i] == v[i-1] {
			out := make([]orb.Point, 0, n)
			out = append(out, v[0])
			for _, p := range v[1:] {
				if p != out[len(out)-1] {
					out = append(out, p)
				}
			}
			return out
		}
	}
	return v
}

// edgesConflict tests edges i (v[i]→v[i+1]) and j>i of the ring v.
func edgesConflict(v []orb.Point, i, j int) (bool, orb.Point) {
	n := len(v)
	a, b := v[i], v[(i+1)%n]
	c, d := v[j], v[(j+1)%n]
	switch {
	case j == i+1:
		// b == c is shared: only a fold back along the same line conflicts.
		return foldsBack(a, b, d)
	case i == 0 && j == n-1:
		// d == a is shared.
		return foldsBack(c, a, b)
	}
	if !boxesOverlap(a, b, c, d) {
		return false, orb.Point{}
	}
	return segmentsIntersect(a, b, c, d)
}

// foldsBack reports whether the path a→b→c turns back on itself, so that the
// edges overlap along more than their shared vertex b.
func foldsBack(a, b, c orb.Point) (bool, orb.Point) {
	// Edges that go on forward cannot fold back. Rounding keeps the sign
	// of each difference and product, so for a true fold back both terms
	// are at most zero and the test below never skips it.
	if (b[0]-a[0])*(c[0]-b[0])+(b[1]-a[1])*(c[1]-b[1]) > 0 {
		return false, orb.Point{}
	}
	if orient(a, b, c) == 0 && sameSide(a, b, c) {
		return true, b
	}
	return false, orb.Point{}
}

// sameSide tells whether a and c, collinear with b and distinct from it, lie
// on the same side of b. Along an axis where a and b differ the line is a
// graph over that axis, so comparing that coordinate is exact.
func sameSide(a, b, c orb.Point) bool {
	for k := range 2 {
		if a[k] != b[k] {
			return (a[k] < b[k]) == (c[k] < b[k]) && c[k] != b[k]
		}
	}
	return false
}

func boxesOverlap(a, b, c, d orb.Point) bool {
	for k := range 2 {
		abLo, abHi := minMax(a[k], b[k])
		cdLo, cdHi := minMax(c[k], d[k])
		if abHi < cdLo || cdHi < abLo {
			return false
		}
	}
	return true
}

// minMax orders two coordinates; plain comparisons are much cheaper than
// math.Min and math.Max, whose NaN and signed-zero care is not needed here.
func minMax(x, y float64) (float64, float64) {
	if x < y {
		return x, y
	}
	return y, x
}

// segmentsIntersect reports whether closed segments ab and cd share a point,
// and one such point.
func segmentsIntersect(a, b, c, d orb.Point) (bool, orb.Point) {
	o1 := orient(a, b, c)
	o2 := orient(a, b, d)
	o3 := orient(c, d, a)
	o4 := orient(c, d, b)
	if o1*o2 < 0 && o3*o4 < 0 {
		return true, crossing(a, b, c, d)
	}
	switch {
	case o1 == 0 && onSegment(a, b, c):
		return true, c
	case o2 == 0 && onSegment(a, b, d):
		return true, d
	case o3 == 0 && onSegment(c, d, a):
		return true, a
	case o4 == 0 && onSegment(c, d, b):
		return true, b
	}
	return false, orb.Point{}
}

// onSegment tells whether p, known to be collinear with ab, lies on it.
func onSegment(a, b, p orb.Point) bool {
	x0, x1 := minMax(a[0], b[0])
	y0, y1 := minMax(a[1], b[1])
	return p[0] >= x0 && p[0] <= x1 && p[1] >= y0 && p[1] <= y1
}

// crossing is the point where two properly crossing segments meet.
func crossing(a, b, c, d orb.Point) orb.Point {
	rx, ry := b[0]-a[0], b[1]-a[1]
	sx, sy := d[0]-c[0], d[1]-c[1]
	den := rx*sy - ry*sx
	if den == 0 {
		return a
	}
	t := ((c[0]-a[0])*sy - (c[1]-a[1])*sx) / den
	t = math.Max(0, math.Min(1, t))
	return orb.Point{a[0] + t*rx, a[1] + t*ry}
}

// ccwErrBound is Shewchuk's error bound for the floating-point orientation
// determinant ((3 + 16ε)ε with ε = 2⁻⁵³); below it the sign is recomputed
// exactly.
const ccwErrBound = (3.0 + 16.0*0x1p-53) * 0x1p-53

// orient is the sign of the turn a→b→c: +1 counter-clockwise, −1 clockwise,
// 0 collinear, decided exactly.
func orient(a, b, c orb.Point) int {
	l := (a[0] - c[0]) * (b[1] - c[1])
	r := (a[1] - c[1]) * (b[0] - c[0])
	det := l - r
	bound := ccwErrBound * (math.Abs(l) + math.Abs(r))
	if det > bound {
		return 1
	}
	if det < -bound {
		return -1
	}
	return orientExact(a, b, c)
}

// orientExact decides the orientation sign exactly. When the coordinate
// differences are exact, as they are for any two points in the same region
// (Sterbenz), the determinant is a sum of four floats obtained with FMA, and
// its sign comes from an exact expansion sum; otherwise it falls back to
// rational arithmetic. Non-finite input counts as collinear.
func orientExact(a, b, c orb.Point) int {
	acx, acxErr := twoDiff(a[0], c[0])
	bcy, bcyErr := twoDiff(b[1], c[1])
	acy, acyErr := twoDiff(a[1], c[1])
	bcx, bcxErr := twoDiff(b[0], c[0])
	if acxErr == 0 && bcyErr == 0 && acyErr == 0 && bcxErr == 0 {
		l := acx * bcy
		lErr := math.FMA(acx, bcy, -l)
		r := acy * bcx
		rErr := math.FMA(acy, bcx, -r)
		if !math.IsInf(l, 0) && !math.IsInf(r, 0) && !math.IsNaN(lErr) && !math.IsNaN(rErr) &&
			// Products this small may have lost bits to underflow.
			(l == 0 || math.Abs(l) > 0x1p-900) && (r == 0 || math.Abs(r) > 0x1p-900) {
			return expansionSign(l, lErr, -r, -rErr)
		}
	}
	return orientRat(a, b, c)
}

// twoDiff returns x−y rounded and its rounding error, exactly (Knuth).
func twoDiff(x, y float64) (float64, float64) {
	d := x - y
	bv := x - d
	av := d + bv
	return d, (x - av) + (bv - y)
}

// twoSum returns x+y rounded and its rounding error, exactly (Knuth).
func twoSum(x, y float64) (float64, float64) {
	s := x + y
	bv := s - x
	av := s - bv
	return s, (x - av) + (y - bv)
}

// expansionSign is the sign of the exact sum of four finite floats: the
// terms are merged into a non-overlapping expansion (Shewchuk's
// Grow-Expansion), whose largest non-zero component carries the sign.
func expansionSign(terms ...float64) int {
	var e [8]float64
	n := 0
	for _, t := range terms {
		q := t
		k := 0
		for i := range n {
			var h float64
			q, h = twoSum(q, e[i])
			if h != 0 {
				e[k] = h
				k++
			}
		}
		e[k] = q
		n = k + 1
	}
	for i := n - 1; i >= 0; i-- {
		switch {
		case e[i] > 0:
			return 1
		case e[i] < 0:
			return -1
		}
	}
	return 0
}

// orientRat evaluates the orientation determinant in rational arithmetic.
func orientRat(a, b, c orb.Point) int {
	for _, p := range [3]orb.Point{a, b, c} {
		if math.IsNaN(p[0]+p[1]) || math.IsInf(p[0]+p[1], 0) {
			return 0
		}
	}
	rat := func(f float64) *big.Rat { return new(big.Rat).SetFloat64(f) }
	acx := new(big.Rat).Sub(rat(a[0]), rat(c[0]))
	bcy := new(big.Rat).Sub(rat(b[1]), rat(c[1]))
	acy := new(big.Rat).Sub(rat(a[1]), rat(c[1]))
	bcx := new(big.Rat).Sub(rat(b[0]), rat(c[0]))
	l := acx.Mul(acx, bcy)
	r := acy.Mul(acy, bcx)
	return l.Cmp(r)
}

// sweepSelfIntersects sorts the edges along the ring's longer axis and
// compares each edge only with the earlier ones whose extent on that axis
// still reaches it, and whose extent on the other axis overlaps.
func sweepSelfIntersects(v []orb.Point) (bool, orb.Point) {
	n := len(v)
	bound := orb.MultiPoint(v).Bound()
	ax := 0 // sweep axis
	if bound.Max[1]-bound.Min[1] > bound.Max[0]-bound.Min[0] {
		ax = 1
	}
	oy := 1 - ax
	// Edges sort by where they start on the sweep axis; the rest of their
	// box is read from v when needed, which keeps the sorted items small.
	type edge struct {
		lo float64
		i  int
	}
	edges := make([]edge, n)
	for i := range n {
		edges[i] = edge{lo: math.Min(v[i][ax], v[(i+1)%n][ax]), i: i}
	}
	slices.SortFunc(edges, func(p, q edge) int {
		if c := cmp.Compare(p.lo, q.lo); c != 0 {
			return c
		}
		return p.i - q.i
	})
	type span struct {
		hi, olo, ohi float64
		i            int
	}
	active := make([]span, 0, 16)
	for _, e := range edges {
		a, b := v[e.i], v[(e.i+1)%n]
		cur := span{i: e.i}
		_, cur.hi = minMax(a[ax], b[ax])
		cur.olo, cur.ohi = minMax(a[oy], b[oy])
		// Drop edges that end before this one starts; keep the rest in order.
		k := 0
		for _, s := range active {
			if s.hi >= e.lo {
				active[k] = s
				k++
			}
		}
		active = active[:k]
		for _, s := range active {
			if s.ohi < cur.olo || cur.ohi < s.olo {
				continue
			}
			i, j := s.i, cur.i
			if i > j {
				i, j = j, i
			}
			if hit, p := edgesConflict(v, i, j); hit {
				return true, p
			}
		}
		active = append(active, cur)
	}
	return false, orb.Point{}
}
