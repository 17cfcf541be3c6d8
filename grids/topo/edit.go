package topo

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gridd/gridd/grids"
	"github.com/paulmach/orb"
	"github.com/peterstace/simplefeatures/geom"
)

// EditResult is the outcome of an edit of a draft: the edited set (fresh
// copies; the input is never modified), what happened to which codes, and
// the validation before and after.
type EditResult struct {
	Grids []*grids.Grid `json:"-"`
	// Added and Removed list codes created and deleted; Changed the codes
	// kept whose geometry changed (the grid edited, neighbours given a cut
	// vertex, parents resized by a move); Renamed the codes a move changed.
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	Changed []string `json:"changed"`
	Renamed []Rename `json:"renamed"`
	Before  Report   `json:"before"`
	After   Report   `json:"after"`
	Delta   Delta    `json:"delta"`
}

// Rename is a code changed by Move.
type Rename struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// ErrEdit marks an edit that cannot be made as asked (unknown code, a line
// that does not cross the grid…); the draft is then left as it was.
var ErrEdit = errors.New("edit refused")

func editErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+fmt.Sprintf(format, args...), ErrEdit)
}

// Clone deep-copies a set: grids, geometries and attribute maps.
func Clone(gs []*grids.Grid) []*grids.Grid {
	out := make([]*grids.Grid, len(gs))
	for i, g := range gs {
		out[i] = cloneGrid(g)
	}
	return out
}

func cloneGrid(g *grids.Grid) *grids.Grid {
	c := *g
	if g.Geometry != nil {
		c.Geometry = orb.Clone(g.Geometry).(orb.MultiPolygon)
	}
	if g.Attrs != nil {
		c.Attrs = make(map[string]any, len(g.Attrs))
		for k, v := range g.Attrs {
			c.Attrs[k] = v
		}
	}
	return &c
}

func indexOf(gs []*grids.Grid, code string) int {
	for i, g := range gs {
		if g.Code == code {
			return i
		}
	}
	return -1
}

func hasChildren(gs []*grids.Grid, code string) bool {
	for _, g := range gs {
		if g.Parent == code {
			return true
		}
	}
	return false
}

func finish(orig []*grids.Grid, res EditResult, opt Options) EditResult {
	res.Before = Validate(orig, opt)
	res.After = Validate(res.Grids, opt)
	res.Delta = DeltaOf(res.Before, res.After)
	for _, l := range []*[]string{&res.Added, &res.Removed, &res.Changed} {
		if *l == nil {
			*l = []string{}
		}
		sort.Strings(*l)
	}
	if res.Renamed == nil {
		res.Renamed = []Rename{}
	}
	return res
}

// lonlat conversions: edits overlay in lon/lat directly, so that the
// vertices kept are the input's bit for bit and shared edges stay shared.
func llFwd(p orb.Point) xy { return xy{p[0], p[1]} }
func llInv(q xy) orb.Point { return orb.Point{q.x, q.y} }

func sfLonLat(mp orb.MultiPolygon, code string) (geom.Geometry, error) {
	s, err := newShape(mp, llFwd)
	if err == nil {
		err = s.validate(projection{kx: 1, ky: 1})
	}
	if err != nil {
		return geom.Geometry{}, editErr("grid %s: %v", code, err)
	}
	return s.sf(), nil
}

func orbOfSF(g geom.Geometry) orb.MultiPolygon {
	return shapeOfSF(sfPolygons(g)).orb(llInv)
}

// NormalizeGeometry returns a copy of mp with closed rings, consecutive
// repeated vertices dropped and RFC 7946 winding (shells counter-clockwise,
// holes clockwise).
func NormalizeGeometry(mp orb.MultiPolygon) orb.MultiPolygon {
	s, _ := newShape(mp, llFwd)
	return s.orb(llInv)
}

// ReplaceGeometry gives grid code a new geometry.
func ReplaceGeometry(gs []*grids.Grid, code string, g orb.MultiPolygon, opt Options) (EditResult, error) {
	i := indexOf(gs, code)
	if i < 0 {
		return EditResult{}, editErr("no grid %s", code)
	}
	out := Clone(gs)
	out[i].Geometry = NormalizeGeometry(g)
	return finish(gs, EditResult{Grids: out, Changed: []string{code}}, opt), nil
}

// Split cuts a grid without children in two along a polyline. The line is
// extended straight from both ends until it leaves the grid; the part on
// its left (looking along it) becomes newCodes[0], the part on its right
// newCodes[1]. An empty code means the next free code under the parent; a
// half may reuse the code split. Where the cut meets the grid's outline the
// cut point is inserted into every grid that has that edge too
// (neighbours, parents), so shared edges stay exact.
func Split(gs []*grids.Grid, code string, line orb.LineString, newCodes [2]string, opt Options) (EditResult, error) {
	i := indexOf(gs, code)
	if i < 0 {
		return EditResult{}, editErr("no grid %s", code)
	}
	g := gs[i]
	if hasChildren(gs, code) {
		return EditResult{}, editErr("grid %s has children: split its children instead", code)
	}
	poly, err := sfLonLat(g.Geometry, code)
	if err != nil {
		return EditResult{}, err
	}
	line = dedupLine(line)
	if len(line) < 2 {
		return EditResult{}, editErr("the cut line needs two distinct points")
	}
	half, err := leftSide(line, g.Geometry.Bound().Union(line.Bound()))
	if err != nil {
		return EditResult{}, err
	}
	left, err := geom.Intersection(poly, half)
	if err != nil {
		return EditResult{}, fmt.Errorf("split %s: %w", code, err)
	}
	right, err := geom.Difference(poly, half)
	if err != nil {
		return EditResult{}, fmt.Errorf("split %s: %w", code, err)
	}
	total := poly.Area()
	if left.Area() <= 1e-9*total || right.Area() <= 1e-9*total {
		return EditResult{}, editErr("the line does not cut grid %s in two", code)
	}
	codes, err := newCodesUnder(gs, g, newCodes[:], code)
	if err != nil {
		return EditResult{}, err
	}

	out := make([]*grids.Grid, 0, len(gs)+1)
	res := EditResult{Removed: []string{code}}
	for j, h := range gs {
		if j != i {
			out = append(out, cloneGrid(h))
			continue
		}
		for k, part := range []geom.Geometry{left, right} {
			c := cloneGrid(g)
			c.Code = codes[k]
			c.Name = g.Name + " " + string(rune('A'+k))
			c.Geometry = orbOfSF(part)
			out = append(out, c)
			res.Added = append(res.Added, codes[k])
		}
	}
	if codes[0] == code || codes[1] == code {
		res.Removed = nil
		res.Added = slices.DeleteFunc(res.Added, func(s string) bool { return s == code })
		res.Changed = []string{code}
	}
	res.Changed = append(res.Changed, insertCutPoints(out, g.Geometry, codes)...)
	res.Grids = out
	return finish(gs, res, opt), nil
}

func dedupLine(l orb.LineString) orb.LineString {
	var out orb.LineString
	for _, p := range l {
		if len(out) == 0 || out[len(out)-1] != p {
			out = append(out, p)
		}
	}
	return out
}

// leftSide is the polygon left of the line extended at both ends to a box
// around b, closed counter-clockwise along the box.
func leftSide(line orb.LineString, b orb.Bound) (geom.Geometry, error) {
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	m := 0.1*math.Max(w, h) + 1e-7
	bx := box{b.Min[0] - m, b.Min[1] - m, b.Max[0] + m, b.Max[1] + m}
	n := len(line)
	start := exitPoint(bx, xy{line[0][0], line[0][1]}, xy{line[0][0] - line[1][0], line[0][1] - line[1][1]})
	end := exitPoint(bx, xy{line[n-1][0], line[n-1][1]}, xy{line[n-1][0] - line[n-2][0], line[n-1][1] - line[n-2][1]})
	r := ring{start}
	for _, p := range line {
		r = append(r, xy{p[0], p[1]})
	}
	r = append(r, end)
	per := 2 * (bx.maxX - bx.minX + bx.maxY - bx.minY)
	ts, te := perimeterParam(bx, start), perimeterParam(bx, end)
	span := math.Mod(ts-te+per, per)
	if span == 0 {
		return geom.Geometry{}, editErr("the cut line leaves and enters at the same point")
	}
	corners := []xy{{bx.minX, bx.minY}, {bx.maxX, bx.minY}, {bx.maxX, bx.maxY}, {bx.minX, bx.maxY}}
	type cp struct {
		d float64
		p xy
	}
	var cs []cp
	for _, c := range corners {
		d := math.Mod(perimeterParam(bx, c)-te+per, per)
		if d > 0 && d < span {
			cs = append(cs, cp{d, c})
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	for _, c := range cs {
		r = append(r, c.p)
	}
	if at, ok := ringSimple(dedupRing(r)); !ok {
		return geom.Geometry{}, editErr("the cut line, extended to the grid's surroundings, crosses itself near %.7f,%.7f", at.x, at.y)
	}
	s := shape{polys: []polygon{{dedupRing(r)}}}
	return s.sf(), nil
}

func dedupRing(r ring) ring {
	out := make(ring, 0, len(r))
	for _, p := range r {
		if len(out) == 0 || out[len(out)-1] != p {
			out = append(out, p)
		}
	}
	for len(out) > 1 && out[len(out)-1] == out[0] {
		out = out[:len(out)-1]
	}
	return out
}

// exitPoint is where the ray from o (inside bx) along d leaves bx, snapped
// onto the side it crosses.
func exitPoint(bx box, o, d xy) xy {
	t := math.Inf(1)
	side := -1
	try := func(tt float64, s int) {
		if tt >= 0 && tt < t {
			t, side = tt, s
		}
	}
	if d.x > 0 {
		try((bx.maxX-o.x)/d.x, 1)
	} else if d.x < 0 {
		try((bx.minX-o.x)/d.x, 3)
	}
	if d.y > 0 {
		try((bx.maxY-o.y)/d.y, 2)
	} else if d.y < 0 {
		try((bx.minY-o.y)/d.y, 0)
	}
	p := xy{o.x + t*d.x, o.y + t*d.y}
	switch side {
	case 0:
		p.y = bx.minY
	case 1:
		p.x = bx.maxX
	case 2:
		p.y = bx.maxY
	case 3:
		p.x = bx.minX
	}
	p.x = math.Min(math.Max(p.x, bx.minX), bx.maxX)
	p.y = math.Min(math.Max(p.y, bx.minY), bx.maxY)
	return p
}

// perimeterParam is the counter-clockwise distance along the box outline
// from its south-west corner to p, which lies on the outline.
func perimeterParam(bx box, p xy) float64 {
	w, h := bx.maxX-bx.minX, bx.maxY-bx.minY
	switch {
	case p.y == bx.minY && p.x < bx.maxX:
		return p.x - bx.minX
	case p.x == bx.maxX && p.y < bx.maxY:
		return w + p.y - bx.minY
	case p.y == bx.maxY && p.x > bx.minX:
		return w + h + bx.maxX - p.x
	default:
		return 2*w + h + bx.maxY - p.y
	}
}

// insertCutPoints finds the vertices of the new grids that are not
// vertices of the grid they came from but lie on one of its edges, and
// inserts them into every other grid of out that has that edge, so that
// neighbours and parents keep exactly the same edges. It returns the codes
// of the grids changed.
func insertCutPoints(out []*grids.Grid, orig orb.MultiPolygon, newCodes []string) []string {
	old := map[orb.Point]bool{}
	var edges [][2]orb.Point
	for _, p := range orig {
		for _, r := range p {
			for k := 0; k+1 < len(r); k++ {
				old[r[k]] = true
				if r[k] != r[k+1] {
					edges = append(edges, [2]orb.Point{r[k], r[k+1]})
				}
			}
		}
	}
	// cuts maps an edge, as written in the original, to the points on it.
	cuts := map[[2]orb.Point][]orb.Point{}
	seen := map[orb.Point]bool{}
	for _, g := range out {
		if !slices.Contains(newCodes, g.Code) {
			continue
		}
		for _, p := range g.Geometry {
			for _, r := range p {
				for _, v := range r {
					if old[v] || seen[v] {
						continue
					}
					seen[v] = true
					if e, ok := edgeUnder(edges, v); ok {
						cuts[e] = append(cuts[e], v)
					}
				}
			}
		}
	}
	if len(cuts) == 0 {
		return nil
	}
	var changed []string
	for _, g := range out {
		if slices.Contains(newCodes, g.Code) {
			continue
		}
		touched := false
		for pi, p := range g.Geometry {
			for ri, r := range p {
				if ringHasCut(r, cuts) {
					g.Geometry[pi][ri] = rebuildRing(r, cuts)
					touched = true
				}
			}
		}
		if touched {
			changed = append(changed, g.Code)
		}
	}
	return changed
}

func ringHasCut(r orb.Ring, cuts map[[2]orb.Point][]orb.Point) bool {
	for k := 0; k+1 < len(r); k++ {
		if cuts[[2]orb.Point{r[k], r[k+1]}] != nil || cuts[[2]orb.Point{r[k+1], r[k]}] != nil {
			return true
		}
	}
	return false
}

// rebuildRing copies r with the cut points inserted into the edges that
// have some, in order along each edge.
func rebuildRing(r orb.Ring, cuts map[[2]orb.Point][]orb.Point) orb.Ring {
	out := make(orb.Ring, 0, len(r)+2)
	for k := 0; k+1 < len(r); k++ {
		a, b := r[k], r[k+1]
		out = append(out, a)
		pts := cuts[[2]orb.Point{a, b}]
		if pts == nil {
			pts = cuts[[2]orb.Point{b, a}]
		}
		if pts != nil {
			sorted := slices.Clone(pts)
			sort.Slice(sorted, func(i, j int) bool { return dist2(a, sorted[i]) < dist2(a, sorted[j]) })
			out = append(out, sorted...)
		}
	}
	return append(out, r[len(r)-1])
}

func dist2(a, b orb.Point) float64 {
	dx, dy := a[0]-b[0], a[1]-b[1]
	return dx*dx + dy*dy
}

// edgeUnder finds the original edge that v lies on, to rounding.
func edgeUnder(edges [][2]orb.Point, v orb.Point) ([2]orb.Point, bool) {
	best, bestD := -1, math.Inf(1)
	for k, e := range edges {
		d := distToSegment(v, e[0], e[1])
		if d < bestD {
			best, bestD = k, d
		}
	}
	if best < 0 {
		return [2]orb.Point{}, false
	}
	e := edges[best]
	scale := math.Max(math.Sqrt(dist2(e[0], e[1])), math.Max(math.Abs(v[0]), math.Abs(v[1])))
	if bestD > 1e-12*scale {
		return [2]orb.Point{}, false
	}
	return e, true
}

func distToSegment(p, a, b orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l2))
	}
	return math.Hypot(p[0]-(a[0]+t*dx), p[1]-(a[1]+t*dy))
}

// newCodesUnder fills the empty codes with the next free codes under g's
// parent (never reusing a code being replaced, whose history belongs to
// the old geometry) and checks the others: distinct, and not used by any
// grid but the ones being replaced.
func newCodesUnder(gs []*grids.Grid, g *grids.Grid, want []string, replaced ...string) ([]string, error) {
	used := map[string]bool{}
	for _, h := range gs {
		used[h.Code] = true
	}
	out := make([]string, len(want))
	for k, c := range want {
		if c == "" {
			continue
		}
		if (used[c] && !slices.Contains(replaced, c)) || slices.Contains(out, c) {
			return nil, editErr("code %s is already used", c)
		}
		out[k] = c
	}
	for _, c := range out {
		used[c] = true
	}
	for k := range out {
		if out[k] != "" {
			continue
		}
		c, err := nextFree(used, g.Parent, g.Level)
		if err != nil {
			return nil, err
		}
		used[c] = true
		out[k] = c
	}
	return out, nil
}

// nextFree is the parent's code followed by one more than the highest
// three-digit sequence in use under it, or the lowest free one once 999 is
// taken.
func nextFree(used map[string]bool, parent string, level grids.Level) (string, error) {
	if parent == "" && level != grids.LevelDistrict {
		return "", editErr("cannot choose a code without a parent: give one")
	}
	if level == grids.LevelDistrict {
		return "", editErr("district codes are administrative division codes: give one")
	}
	top := 0
	for c := range used {
		if len(c) == len(parent)+3 && strings.HasPrefix(c, parent) {
			if n, err := strconv.Atoi(c[len(parent):]); err == nil && n > top {
				top = n
			}
		}
	}
	if top < 999 {
		return fmt.Sprintf("%s%03d", parent, top+1), nil
	}
	for n := 1; n <= 999; n++ {
		if c := fmt.Sprintf("%s%03d", parent, n); !used[c] {
			return c, nil
		}
	}
	return "", editErr("no free code left under %s", parent)
}

// Merge dissolves grids without children, siblings of one level, into one
// grid. It keeps the name, department and attributes of the first; newCode
// empty keeps the first's code too.
func Merge(gs []*grids.Grid, codes []string, newCode string, opt Options) (EditResult, error) {
	if len(codes) < 2 {
		return EditResult{}, editErr("merge needs two grids or more")
	}
	var parts []geom.Geometry
	var first *grids.Grid
	idx := map[int]bool{}
	for _, c := range codes {
		i := indexOf(gs, c)
		if i < 0 {
			return EditResult{}, editErr("no grid %s", c)
		}
		if idx[i] {
			return EditResult{}, editErr("grid %s given twice", c)
		}
		idx[i] = true
		g := gs[i]
		if first == nil {
			first = g
		} else if g.Parent != first.Parent || g.Level != first.Level {
			return EditResult{}, editErr("grids %s and %s have different parents or levels: move one first", first.Code, c)
		}
		if hasChildren(gs, c) {
			return EditResult{}, editErr("grid %s has children", c)
		}
		sg, err := sfLonLat(g.Geometry, c)
		if err != nil {
			return EditResult{}, err
		}
		parts = append(parts, sg)
	}
	u, err := geom.UnionMany(parts)
	if err != nil {
		return EditResult{}, fmt.Errorf("merge %s: %w", strings.Join(codes, ", "), err)
	}
	code := first.Code
	if newCode != "" && newCode != first.Code {
		cs, err := newCodesUnder(gs, first, []string{newCode}, codes...)
		if err != nil {
			return EditResult{}, err
		}
		code = cs[0]
	}
	res := EditResult{}
	out := make([]*grids.Grid, 0, len(gs))
	for i, g := range gs {
		if !idx[i] {
			out = append(out, cloneGrid(g))
			continue
		}
		if g != first {
			continue
		}
		c := cloneGrid(g)
		c.Code = code
		c.Geometry = orbOfSF(u)
		out = append(out, c)
	}
	for _, c := range codes {
		if c != code {
			res.Removed = append(res.Removed, c)
		}
	}
	if code == first.Code {
		res.Changed = []string{code}
	} else {
		res.Added = []string{code}
	}
	res.Grids = out
	return finish(gs, res, opt), nil
}

// Move puts a grid under another parent of the level above: it takes the
// next free code there (its descendants are re-coded along), and the old
// and new ancestors up to the common one lose and gain its area.
func Move(gs []*grids.Grid, code, newParent string, opt Options) (EditResult, error) {
	i := indexOf(gs, code)
	if i < 0 {
		return EditResult{}, editErr("no grid %s", code)
	}
	pi := indexOf(gs, newParent)
	if pi < 0 {
		return EditResult{}, editErr("no grid %s", newParent)
	}
	g, np := gs[i], gs[pi]
	if np.Level != g.Level-1 {
		return EditResult{}, editErr("a %s goes under a %s, not a %s", g.Level, g.Level-1, np.Level)
	}
	if g.Parent == newParent {
		return EditResult{}, editErr("grid %s is already under %s", code, newParent)
	}
	used := map[string]bool{}
	for _, h := range gs {
		used[h.Code] = true
	}
	newCode, err := nextFree(used, newParent, g.Level)
	if err != nil {
		return EditResult{}, err
	}
	area, err := sfLonLat(g.Geometry, code)
	if err != nil {
		return EditResult{}, err
	}
	out := Clone(gs)
	byCode := map[string]*grids.Grid{}
	for _, h := range out {
		byCode[h.Code] = h
	}
	// Ancestors on each side, up to the common one.
	chainOf := func(c string) []string {
		var ch []string
		for seen := 0; c != "" && seen <= len(gs); seen++ {
			ch = append(ch, c)
			h := byCode[c]
			if h == nil {
				break
			}
			c = h.Parent
		}
		return ch
	}
	oldChain, newChain := chainOf(g.Parent), chainOf(newParent)
	common := map[string]bool{}
	for _, c := range oldChain {
		if slices.Contains(newChain, c) {
			common[c] = true
		}
	}
	res := EditResult{}
	resize := func(chain []string, op func(a, b geom.Geometry) (geom.Geometry, error)) error {
		for _, c := range chain {
			if common[c] {
				return nil
			}
			h := byCode[c]
			if h == nil {
				continue
			}
			hg, err := sfLonLat(h.Geometry, c)
			if err != nil {
				return err
			}
			r, err := op(hg, area)
			if err != nil {
				return fmt.Errorf("move %s: resize %s: %w", code, c, err)
			}
			h.Geometry = orbOfSF(r)
			res.Changed = append(res.Changed, c)
		}
		return nil
	}
	if err := resize(oldChain, geom.Difference); err != nil {
		return EditResult{}, err
	}
	if err := resize(newChain, geom.Union); err != nil {
		return EditResult{}, err
	}
	// Re-code the grid and its descendants, found before any is renamed.
	var moved []*grids.Grid
	for _, h := range out {
		if h.Code == code || isDescendant(byCode, h, code) {
			moved = append(moved, h)
		}
	}
	for _, h := range moved {
		nc := newCode + h.Code[len(code):]
		if !strings.HasPrefix(h.Code, code) {
			// A descendant whose code disagrees with its chain keeps its
			// own suffix-less code: only its parent link follows.
			nc = h.Code
		} else {
			res.Renamed = append(res.Renamed, Rename{From: h.Code, To: nc})
		}
		switch {
		case h.Code == code:
			h.Parent = newParent
		case strings.HasPrefix(h.Parent, code):
			h.Parent = newCode + h.Parent[len(code):]
		}
		h.Code = nc
	}
	sort.Slice(res.Renamed, func(a, b int) bool { return res.Renamed[a].From < res.Renamed[b].From })
	res.Grids = out
	return finish(gs, res, opt), nil
}

func isDescendant(byCode map[string]*grids.Grid, h *grids.Grid, anc string) bool {
	for seen := 0; h != nil && seen < len(byCode); seen++ {
		if h.Parent == anc {
			return true
		}
		h = byCode[h.Parent]
	}
	return false
}
