package topo

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/gridd/gridd/grids"
	"github.com/paulmach/orb"
	"github.com/peterstace/simplefeatures/geom"
	"github.com/tidwall/rtree"
)

// Defaults of Options.
const (
	DefaultSliverM2  = 10.0
	DefaultMinAreaM2 = 0.01
)

// Options tune Validate.
type Options struct {
	// Jurisdiction is the area the set must cover exactly. Empty: the union
	// of the top-level grids (districts) with enclosed holes filled, so that
	// a hole among the districts is a gap.
	Jurisdiction orb.MultiPolygon
	// SliverM2: grids, and parts of grids, smaller than this are reported
	// as slivers. 0 means DefaultSliverM2; negative turns the check off.
	SliverM2 float64
	// MinAreaM2: overlaps, gaps and outside parts smaller than this are
	// taken for rounding noise and not reported. 0 means DefaultMinAreaM2.
	MinAreaM2 float64
}

func (o Options) withDefaults() Options {
	if o.SliverM2 == 0 {
		o.SliverM2 = DefaultSliverM2
	}
	if o.MinAreaM2 <= 0 {
		o.MinAreaM2 = DefaultMinAreaM2
	}
	return o
}

type item struct {
	g        *grids.Grid
	s        shape
	valid    bool
	areaM2   float64
	parts    []float64 // area of each polygon, m²
	edges    int
	parent   int // index in items, -1 when none in the set
	children []int
	sfg      *geom.Geometry
	// failed: as a parent, its children's edges did not cancel to its own
	// (or a member was invalid), so they were overlaid.
	failed bool
	// suspect: 0 not known yet, 1 being computed, 2 no, 3 yes.
	suspect int8
}

type validator struct {
	opt      Options
	proj     projection
	items    []item
	byCode   map[string]int
	leaves   []int
	leafTree rtree.RTreeGN[float64, int]
	problems []Problem
	sum      Summary
	// gapPieces are uncovered areas found so far, dissolved at the end.
	gapPieces []geom.Polygon
	// notCovered holds, per parent (-1: the jurisdiction), the parts that
	// its children leave to leaves of other parents.
	notCovered map[int][]geom.Polygon
}

// Validate checks a grid set for overlaps between leaf grids, gaps in the
// jurisdiction, invalid geometry, slivers, children outside their parents
// and code problems. It never modifies gs. See the package documentation
// for the method and the projection used for areas.
func Validate(gs []*grids.Grid, opt Options) Report {
	gs = nonNil(gs)
	v := &validator{opt: opt.withDefaults(), notCovered: map[int][]geom.Polygon{}}
	v.run(gs)
	return v.report()
}

func (v *validator) run(gs []*grids.Grid) {
	// The projection's centre need not be exact: a box of one vertex per
	// polygon is near enough and costs nothing.
	b := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	sample := func(mp orb.MultiPolygon) {
		for _, p := range mp {
			if len(p) > 0 && len(p[0]) > 0 && finite(p[0][0]) {
				b = b.Extend(p[0][0])
			}
		}
	}
	for _, g := range gs {
		sample(g.Geometry)
	}
	sample(v.opt.Jurisdiction)
	if b.Min[0] > b.Max[0] {
		b = orb.Bound{}
	}
	v.proj = newProjection(b)
	v.sum.Projection = fmt.Sprintf("equirectangular about %.6f,%.6f on WGS84 radii, areas integrated on the WGS84 ellipsoid", v.proj.lon0, v.proj.lat0)
	v.sum.Grids = len(gs)

	v.load(gs)
	v.checkCodes(gs)
	v.checkShapes()
	v.buildLeafTree()
	v.checkFamilies()
	v.checkJurisdiction()
	v.checkOverlaps()
	v.reportGaps()
}

func (v *validator) fwd(p orb.Point) xy { return v.proj.fwd(p[0], p[1]) }

func (v *validator) load(gs []*grids.Grid) {
	v.items = make([]item, len(gs))
	v.byCode = make(map[string]int, len(gs))
	for i, g := range gs {
		if _, ok := v.byCode[g.Code]; !ok {
			v.byCode[g.Code] = i
		}
	}
	var scratch []seg
	for i, g := range gs {
		it := &v.items[i]
		it.g = g
		it.parent = -1
		if pi, ok := v.byCode[g.Parent]; ok && g.Parent != "" && pi != i {
			it.parent = pi
			v.items[pi].children = append(v.items[pi].children, i)
		}
		s, err := newShape(g.Geometry, v.fwd)
		it.s = s
		if err == nil {
			err = s.validateWith(v.proj, &scratch)
		}
		if err != nil {
			p := Problem{Kind: KindInvalidGeometry, Severity: SeverityError, Grids: []string{g.Code},
				Message: fmt.Sprintf("%s: %v; left out of the overlap and gap checks", g.Code, err)}
			if !s.box.empty() {
				p.Place, p.HasPlace = v.proj.inv(xy{(s.box.minX + s.box.maxX) / 2, (s.box.minY + s.box.maxY) / 2}), true
			}
			v.add(p)
			continue
		}
		it.valid = true
		it.parts = make([]float64, len(s.polys))
		for k, poly := range s.polys {
			it.parts[k] = poly.areaM2(v.proj)
			it.areaM2 += it.parts[k]
			for _, r := range poly {
				it.edges += len(r)
			}
		}
		if g.Level == grids.LevelGrid {
			v.leaves = append(v.leaves, i)
		}
	}
	for _, g := range gs {
		if g.Level == grids.LevelGrid {
			v.sum.Leaves++
		}
	}
}

func (v *validator) add(p Problem) { v.problems = append(v.problems, p) }

func (v *validator) sfOf(i int) geom.Geometry {
	it := &v.items[i]
	if it.sfg == nil {
		g := it.s.sf()
		it.sfg = &g
	}
	return *it.sfg
}

func (v *validator) placeOf(i int) (orb.Point, bool) {
	it := &v.items[i]
	if len(it.s.polys) == 0 {
		return orb.Point{}, false
	}
	if !it.valid {
		return v.proj.inv(xy{(it.s.box.minX + it.s.box.maxX) / 2, (it.s.box.minY + it.s.box.maxY) / 2}), true
	}
	return v.proj.inv(it.s.pointOnSurface()), true
}

func (v *validator) checkCodes(gs []*grids.Grid) {
	for _, cp := range checkCodes(gs) {
		p := Problem{Kind: cp.kind, Severity: SeverityError, Grids: cp.grids, Message: cp.msg}
		p.Place, p.HasPlace = v.placeOf(cp.item)
		v.add(p)
	}
}

func (v *validator) checkShapes() {
	for i := range v.items {
		it := &v.items[i]
		if !it.valid {
			continue
		}
		if it.g.Level == grids.LevelGrid {
			v.sum.LeafAreaM2 += it.areaM2
			if len(it.s.polys) > 1 {
				p := Problem{Kind: KindMultipart, Severity: SeverityWarning, Grids: []string{it.g.Code}, AreaM2: it.areaM2,
					Message: fmt.Sprintf("grid %s is in %d separate parts", it.g.Code, len(it.s.polys))}
				p.Place, p.HasPlace = v.placeOf(i)
				v.add(p)
			}
		}
		if v.opt.SliverM2 <= 0 {
			continue
		}
		for k, poly := range it.s.polys {
			a := it.parts[k]
			if a >= v.opt.SliverM2 {
				continue
			}
			part := shape{polys: []polygon{poly}}
			what := "grid"
			if len(it.s.polys) > 1 {
				what = "part of grid"
			}
			v.add(Problem{Kind: KindSliver, Severity: SeverityWarning, Grids: []string{it.g.Code}, AreaM2: a,
				Place: v.proj.inv(part.pointOnSurface()), HasPlace: true, Geometry: v.lonlat(part),
				Message: fmt.Sprintf("%s %s is %.2f m², under the sliver threshold %.0f m²", what, it.g.Code, a, v.opt.SliverM2)})
		}
	}
}

// lonlat converts a projected shape to a lon/lat Polygon or MultiPolygon.
func (v *validator) lonlat(s shape) orb.Geometry {
	mp := s.orb(v.proj.inv)
	if len(mp) == 1 {
		return mp[0]
	}
	return mp
}

func (v *validator) buildLeafTree() {
	for _, i := range v.leaves {
		b := v.items[i].s.box
		v.leafTree.Insert(b.min(), b.max(), i)
	}
}

// overlay runs a simplefeatures set operation; a failure (degenerate
// input) becomes a check_failed problem and nil.
func (v *validator) overlay(op func(a, b geom.Geometry) (geom.Geometry, error), a, b geom.Geometry, what string, codes ...string) []geom.Polygon {
	g, err := op(a, b)
	if err != nil {
		v.add(Problem{Kind: KindCheckFailed, Severity: SeverityError, Grids: codes,
			Message: fmt.Sprintf("%s: %v", what, err)})
		return nil
	}
	return sfPolygons(g)
}

func (v *validator) union(gs []geom.Geometry, what string, codes ...string) (geom.Geometry, bool) {
	u, err := geom.UnionMany(gs)
	if err != nil {
		v.add(Problem{Kind: KindCheckFailed, Severity: SeverityError, Grids: codes,
			Message: fmt.Sprintf("%s: %v", what, err)})
		return geom.Geometry{}, false
	}
	return u, true
}

// significant keeps the polygons larger than the noise floor and returns
// them as a shape with their total area.
func (v *validator) significant(polys []geom.Polygon) (shape, float64) {
	var keep []geom.Polygon
	var total float64
	for _, p := range polys {
		s := shapeOfSF([]geom.Polygon{p})
		a := s.areaM2(v.proj)
		if a > v.opt.MinAreaM2 {
			keep = append(keep, p)
			total += a
		}
	}
	return shapeOfSF(keep), total
}

func asGeoms(ps []geom.Polygon) []geom.Geometry {
	out := make([]geom.Geometry, len(ps))
	for i, p := range ps {
		out[i] = p.AsGeometry()
	}
	return out
}

// checkOverlaps tests the pairs of leaves whose boxes meet and of which
// one at least is suspect: a leaf whose every family up its chain passed
// the edge-cancellation test, under a root that overlaps no other, is
// proven to overlap no leaf that is not suspect too. The edge test of
// interiorsDisjoint clears the pairs that only share edges and corners;
// the rest are overlaid.
func (v *validator) checkOverlaps() {
	for _, i := range v.leaves {
		if !v.isSuspect(i) {
			continue
		}
		a := &v.items[i]
		v.leafTree.Search(a.s.box.min(), a.s.box.max(), func(_, _ [2]float64, j int) bool {
			if j == i || (j < i && v.isSuspect(j)) {
				return true
			}
			v.sum.NeighbourPairs++
			b := &v.items[j]
			if interiorsDisjoint(&a.s, &b.s) {
				return true
			}
			v.sum.PairOverlays++
			codes := pairCodes(a.g.Code, b.g.Code)
			pieces := v.overlay(geom.Intersection, v.sfOf(i), v.sfOf(j), "overlap of "+strings.Join(codes, " and "), codes...)
			s, area := v.significant(pieces)
			if area == 0 {
				return true
			}
			v.sum.OverlapAreaM2 += area
			v.add(Problem{Kind: KindOverlap, Severity: SeverityError, Grids: codes, AreaM2: area,
				Place: v.proj.inv(s.pointOnSurface()), HasPlace: true, Geometry: v.lonlat(s),
				Message: fmt.Sprintf("grids %s and %s overlap by %.2f m²", codes[0], codes[1], area)})
			return true
		})
	}
}

// isSuspect tells whether a grid may overlap others: its parent's family
// failed, its parent is suspect, or it is a root overlapping another root
// (marked by checkJurisdiction). A broken parent chain (a cycle) is
// suspect.
func (v *validator) isSuspect(i int) bool {
	it := &v.items[i]
	switch it.suspect {
	case 1, 3:
		return true
	case 2:
		return false
	}
	it.suspect = 1
	yes := false
	if p := it.parent; p >= 0 {
		yes = v.items[p].failed || v.isSuspect(p)
	}
	if yes {
		it.suspect = 3
	} else {
		it.suspect = 2
	}
	return yes
}

func pairCodes(a, b string) []string {
	if b < a {
		a, b = b, a
	}
	return []string{a, b}
}

// segKey is an undirected edge, its endpoints in lexicographic order.
type segKey struct{ a, b xy }

// chain accumulates directed edges as a 1-chain: an edge and its reverse
// cancel. When the children of a parent tile it exactly, the chain of the
// children minus the chain of the parent is zero: the sum of the
// children's indicator functions is then the parent's almost everywhere,
// which rules out overlaps among them, gaps in the parent and parts
// outside it at once, exactly, without an overlay.
type chain map[segKey]int32

func (c chain) add(s *shape, sign int32) {
	s.segments(func(a, b xy) {
		if less(a, b) {
			c[segKey{a, b}] += sign
		} else {
			c[segKey{b, a}] -= sign
		}
	})
}

func (c chain) zero() bool {
	for _, n := range c {
		if n != 0 {
			return false
		}
	}
	return true
}

// checkFamilies compares each parent with its children.
func (v *validator) checkFamilies() {
	var c edgeTable
	for p := range v.items {
		it := &v.items[p]
		if len(it.children) == 0 && it.g.Level == grids.LevelGrid {
			continue
		}
		kids := it.children
		ok := it.valid
		n := it.edges
		for _, k := range kids {
			ok = ok && v.items[k].valid
			n += v.items[k].edges
		}
		if !ok {
			// An invalid member cannot be overlaid: the problem is
			// reported, and the siblings' overlaps are still checked.
			it.failed = true
			continue
		}
		c.reset(n)
		for _, k := range kids {
			c.add(&v.items[k].s, 1)
		}
		c.add(&it.s, -1)
		if c.zero() {
			continue
		}
		it.failed = true
		v.sum.ExactFamilies++
		v.exactFamily(p, kids)
	}
}

// exactFamily overlays a parent with its children: the parent's area they
// leave uncovered becomes a gap candidate, each child's area outside it an
// outside_parent problem.
func (v *validator) exactFamily(p int, kids []int) {
	pc := v.items[p].g.Code
	pg := v.sfOf(p)
	if len(kids) == 0 {
		v.candidate(p, sfPolygons(pg))
		return
	}
	kg := make([]geom.Geometry, len(kids))
	for i, k := range kids {
		kg[i] = v.sfOf(k)
	}
	u, ok := v.union(kg, "union of the children of "+pc, pc)
	if !ok {
		return
	}
	v.candidate(p, v.overlay(geom.Difference, pg, u, "children of "+pc+" against it", pc))
	for _, k := range kids {
		kc := v.items[k].g.Code
		s, area := v.significant(v.overlay(geom.Difference, v.sfOf(k), pg, kc+" against its parent", kc, pc))
		if area == 0 {
			continue
		}
		v.add(Problem{Kind: KindOutsideParent, Severity: SeverityError, Grids: []string{kc, pc}, AreaM2: area,
			Place: v.proj.inv(s.pointOnSurface()), HasPlace: true, Geometry: v.lonlat(s),
			Message: fmt.Sprintf("%.2f m² of %s lie outside its parent %s", area, kc, pc)})
	}
}

// candidate takes area of a parent (or of the jurisdiction, p = -1) that
// its children do not cover and splits it into the part no leaf covers (a
// gap) and the part leaves of other parents cover.
func (v *validator) candidate(p int, polys []geom.Polygon) {
	for _, poly := range polys {
		s, area := v.significant([]geom.Polygon{poly})
		if area == 0 {
			continue
		}
		var near []geom.Geometry
		v.leafTree.Search(s.box.min(), s.box.max(), func(_, _ [2]float64, j int) bool {
			near = append(near, v.sfOf(j))
			return true
		})
		if len(near) == 0 {
			v.gapPieces = append(v.gapPieces, poly)
			continue
		}
		u, ok := v.union(near, "union of leaves near an uncovered area")
		if !ok {
			continue
		}
		g := poly.AsGeometry()
		v.gapPieces = append(v.gapPieces, v.overlay(geom.Difference, g, u, "uncovered area against the leaves")...)
		v.notCovered[p] = append(v.notCovered[p], v.overlay(geom.Intersection, g, u, "uncovered area against the leaves")...)
	}
}

// roots are the valid grids with no parent in the set.
func (v *validator) roots() []int {
	var out []int
	for i := range v.items {
		it := &v.items[i]
		if it.valid && it.parent < 0 {
			out = append(out, i)
		}
	}
	return out
}

func (v *validator) checkJurisdiction() {
	roots := v.roots()
	if len(v.opt.Jurisdiction) > 0 {
		v.givenJurisdiction(roots)
		return
	}
	if len(roots) == 0 {
		return
	}
	if !v.markOverlappingRoots(roots) {
		if holes, area, ok := traceHoles(roots, v); ok {
			v.sum.JurisdictionAreaM2 = area
			for _, h := range holes {
				v.hole(h, roots)
			}
			return
		}
	}
	// Overlapping roots or a boundary that touches itself: overlay.
	gs := make([]geom.Geometry, len(roots))
	for i, r := range roots {
		gs[i] = v.sfOf(r)
	}
	u, ok := v.union(gs, "union of the top-level grids")
	if !ok {
		return
	}
	for _, p := range sfPolygons(u) {
		shell := geom.NewPolygon([]geom.LineString{p.ExteriorRing()})
		v.sum.JurisdictionAreaM2 += shapeOfSF([]geom.Polygon{shell}).areaM2(v.proj)
		for i := range p.NumInteriorRings() {
			h := shapeOfSF([]geom.Polygon{geom.NewPolygon([]geom.LineString{p.InteriorRingN(i)})})
			v.candidate(-1, v.overlay(geom.Difference, h.sf(), u, "hole among the top-level grids"))
		}
	}
}

// hole takes a hole in the union of the roots, as a counter-clockwise
// shape, minus any root lying inside it, as a gap candidate.
func (v *validator) hole(h shape, roots []int) {
	var inside []geom.Geometry
	for _, r := range roots {
		if v.items[r].s.box.intersects(h.box) {
			inside = append(inside, v.sfOf(r))
		}
	}
	if len(inside) == 0 {
		v.candidate(-1, sfPolygons(h.sf()))
		return
	}
	u, ok := v.union(inside, "union of the top-level grids around a hole")
	if !ok {
		return
	}
	v.candidate(-1, v.overlay(geom.Difference, h.sf(), u, "hole among the top-level grids"))
}

// markOverlappingRoots marks as suspect the roots that overlap another
// root by more than the noise floor, and tells whether there was any.
// Overlapping roots are not reported themselves: their leaves are.
func (v *validator) markOverlappingRoots(roots []int) bool {
	var tree rtree.RTreeGN[float64, int]
	for _, r := range roots {
		tree.Insert(v.items[r].s.box.min(), v.items[r].s.box.max(), r)
	}
	any := false
	for _, i := range roots {
		a := &v.items[i]
		tree.Search(a.s.box.min(), a.s.box.max(), func(_, _ [2]float64, j int) bool {
			b := &v.items[j]
			if j <= i || interiorsDisjoint(&a.s, &b.s) {
				return true
			}
			g, err := geom.Intersection(v.sfOf(i), v.sfOf(j))
			if err == nil {
				if _, area := v.significant(sfPolygons(g)); area == 0 {
					return true
				}
			}
			a.suspect, b.suspect = 3, 3
			any = true
			return true
		})
	}
	return any
}

// traceHoles walks the boundary chain of non-overlapping roots. Where every
// vertex has one outgoing edge the chain splits into unique rings: the
// counter-clockwise ones are the outlines of the jurisdiction, the
// clockwise ones holes in it. ok is false when the chain does not split
// that simply and an overlay must decide.
func traceHoles(roots []int, v *validator) (holes []shape, area float64, ok bool) {
	c := chain{}
	for _, r := range roots {
		c.add(&v.items[r].s, 1)
	}
	next := map[xy]xy{}
	for k, n := range c {
		var from, to xy
		switch n {
		case 0:
			continue
		case 1:
			from, to = k.a, k.b
		case -1:
			from, to = k.b, k.a
		default:
			return nil, 0, false
		}
		if _, dup := next[from]; dup {
			return nil, 0, false
		}
		next[from] = to
	}
	starts := make([]xy, 0, len(next))
	for p := range next {
		starts = append(starts, p)
	}
	sort.Slice(starts, func(i, j int) bool { return less(starts[i], starts[j]) })
	seen := make(map[xy]bool, len(next))
	for _, s := range starts {
		if seen[s] {
			continue
		}
		var r ring
		for p := s; !seen[p]; {
			seen[p] = true
			r = append(r, p)
			q, found := next[p]
			if !found {
				return nil, 0, false
			}
			p = q
		}
		if r[0] != s || next[r[len(r)-1]] != s {
			return nil, 0, false
		}
		a := ringArea(r)
		if a > 0 {
			area += polygon{r}.areaM2(v.proj)
			continue
		}
		reverse(r)
		h := shape{polys: []polygon{{r}}, box: emptyBox()}
		for _, p := range r {
			h.box.extend(p)
		}
		holes = append(holes, h)
	}
	return holes, area, true
}

// givenJurisdiction compares the roots with the jurisdiction given.
func (v *validator) givenJurisdiction(roots []int) {
	j, err := newShape(v.opt.Jurisdiction, v.fwd)
	if err == nil {
		if verr := j.sf().Validate(); verr != nil {
			err = fmt.Errorf("%w: %w", errGeometry, verr)
		}
	}
	if err != nil {
		v.add(Problem{Kind: KindInvalidGeometry, Severity: SeverityError,
			Message: fmt.Sprintf("jurisdiction: %v; gaps against it not checked", err)})
		return
	}
	v.sum.JurisdictionAreaM2 = j.areaM2(v.proj)
	c := chain{}
	for _, r := range roots {
		c.add(&v.items[r].s, 1)
	}
	c.add(&j, -1)
	if c.zero() {
		return
	}
	v.sum.ExactFamilies++
	v.markOverlappingRoots(roots)
	jg := j.sf()
	gs := make([]geom.Geometry, len(roots))
	for i, r := range roots {
		gs[i] = v.sfOf(r)
	}
	if len(gs) == 0 {
		v.candidate(-1, sfPolygons(jg))
		return
	}
	u, ok := v.union(gs, "union of the top-level grids")
	if !ok {
		return
	}
	v.candidate(-1, v.overlay(geom.Difference, jg, u, "jurisdiction against the top-level grids"))
	for _, r := range roots {
		rc := v.items[r].g.Code
		s, area := v.significant(v.overlay(geom.Difference, v.sfOf(r), jg, rc+" against the jurisdiction", rc))
		if area == 0 {
			continue
		}
		v.add(Problem{Kind: KindOutsideJurisdiction, Severity: SeverityError, Grids: []string{rc}, AreaM2: area,
			Place: v.proj.inv(s.pointOnSurface()), HasPlace: true, Geometry: v.lonlat(s),
			Message: fmt.Sprintf("%.2f m² of %s lie outside the jurisdiction", area, rc)})
	}
}

// reportGaps dissolves the uncovered pieces into gap problems, each named
// after the non-leaf grids that contain it, and reports the parts of
// parents covered only by other parents' leaves.
func (v *validator) reportGaps() {
	if len(v.gapPieces) > 0 {
		u, ok := v.union(asGeoms(v.gapPieces), "dissolve of the gaps")
		if ok {
			for _, p := range sfPolygons(u) {
				s, area := v.significant([]geom.Polygon{p})
				if area == 0 {
					continue
				}
				place := s.pointOnSurface()
				codes := v.containing(place)
				v.sum.GapAreaM2 += area
				msg := fmt.Sprintf("%.2f m² covered by no grid", area)
				if len(codes) > 0 {
					msg += " inside " + strings.Join(codes, " > ")
				}
				v.add(Problem{Kind: KindGap, Severity: SeverityError, Grids: codes, AreaM2: area,
					Place: v.proj.inv(place), HasPlace: true, Geometry: v.lonlat(s), Message: msg})
			}
		}
	}
	parents := make([]int, 0, len(v.notCovered))
	for p := range v.notCovered {
		parents = append(parents, p)
	}
	sort.Ints(parents)
	for _, p := range parents {
		pieces := v.notCovered[p]
		if len(pieces) == 0 {
			continue
		}
		u, ok := v.union(asGeoms(pieces), "dissolve of uncovered parent areas")
		if !ok {
			continue
		}
		s, area := v.significant(sfPolygons(u))
		if area == 0 {
			continue
		}
		pr := Problem{Kind: KindParentNotCovered, Severity: SeverityError, AreaM2: area,
			Place: v.proj.inv(s.pointOnSurface()), HasPlace: true, Geometry: v.lonlat(s)}
		if p >= 0 {
			pc := v.items[p].g.Code
			pr.Grids = []string{pc}
			pr.Message = fmt.Sprintf("%.2f m² of %s are covered by none of its children but by grids of other parents", area, pc)
		} else {
			pr.Message = fmt.Sprintf("%.2f m² of the jurisdiction are covered by grids but by no top-level grid", area)
		}
		v.add(pr)
	}
}

// containing lists, top level first, the valid non-leaf grids whose
// geometry contains p.
func (v *validator) containing(p xy) []string {
	type hit struct {
		level grids.Level
		code  string
	}
	var hits []hit
	for i := range v.items {
		it := &v.items[i]
		if !it.valid || it.g.Level == grids.LevelGrid || !it.s.contains(p) {
			continue
		}
		hits = append(hits, hit{it.g.Level, it.g.Code})
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].level != hits[j].level {
			return hits[i].level < hits[j].level
		}
		return hits[i].code < hits[j].code
	})
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.code
	}
	return out
}

func (v *validator) report() Report {
	sortProblems(v.problems)
	v.sum.ByKind = map[string]int{}
	for _, p := range v.problems {
		v.sum.ByKind[p.Kind]++
		if p.Severity == SeverityError {
			v.sum.Errors++
		} else {
			v.sum.Warnings++
		}
	}
	if v.problems == nil {
		v.problems = []Problem{}
	}
	return Report{Problems: v.problems, Summary: v.sum}
}

func finite(p orb.Point) bool {
	return !math.IsNaN(p[0]) && !math.IsNaN(p[1]) && !math.IsInf(p[0], 0) && !math.IsInf(p[1], 0)
}

// nonNil drops nil entries, which carry nothing to check.
func nonNil(gs []*grids.Grid) []*grids.Grid {
	for _, g := range gs {
		if g == nil {
			out := make([]*grids.Grid, 0, len(gs))
			for _, g := range gs {
				if g != nil {
					out = append(out, g)
				}
			}
			return out
		}
	}
	return gs
}
