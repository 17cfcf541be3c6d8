package topo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/gridd/gridd/fixtures"
	"github.com/gridd/gridd/grids"
)

func demoCity(tb testing.TB, n int) []*grids.Grid {
	tb.Helper()
	gs, err := fixtures.GenerateCity(fixtures.CityOptions{Grids: n, Seed: 7})
	if err != nil {
		tb.Fatal(err)
	}
	return gs
}

func TestDemoCityValidatesClean(t *testing.T) {
	gs := demoCity(t, 1000)
	r := Validate(gs, Options{})
	if !r.Clean() {
		logReport(t, r)
		t.Fatalf("demo city: %d problems", len(r.Problems))
	}
	if r.Summary.Leaves != 1000 {
		t.Errorf("%d leaves, want 1000", r.Summary.Leaves)
	}
	if r.Summary.ExactFamilies != 0 || r.Summary.PairOverlays != 0 {
		t.Errorf("clean city needed overlays: %d families, %d pairs", r.Summary.ExactFamilies, r.Summary.PairOverlays)
	}
	// The leaves tile the jurisdiction: their areas add up to it.
	if rel := (r.Summary.LeafAreaM2 - r.Summary.JurisdictionAreaM2) / r.Summary.JurisdictionAreaM2; rel > 1e-9 || rel < -1e-9 {
		t.Errorf("leaf area %.3f vs jurisdiction %.3f m²", r.Summary.LeafAreaM2, r.Summary.JurisdictionAreaM2)
	}
	t.Logf("%+v", r.Summary)
}

func BenchmarkValidate50k(b *testing.B) {
	gs := demoCity(b, 50000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := Validate(gs, Options{})
		if !r.Clean() {
			b.Fatalf("%d problems", len(r.Problems))
		}
	}
}

// sharedVertex finds, in the demo city, two leaves a and b of one community
// and a vertex of their common boundary that no other grid has, with both
// its ring neighbours on that boundary too; it returns the candidates in a
// deterministic order.
type vertexMove struct {
	a, b          int // indices in the set
	ai, bi        int // index of the vertex in the rings of a and b
	prev, v, next orb.Point
}

func sharedVertices(gs []*grids.Grid) []vertexMove {
	uses := map[orb.Point]int{}
	for _, g := range gs {
		for _, p := range g.Geometry {
			for _, r := range p {
				for _, v := range r[:len(r)-1] {
					uses[v]++
				}
			}
		}
	}
	owner := map[orb.Point][]int{}
	for i, g := range gs {
		if g.Level != grids.LevelGrid {
			continue
		}
		for _, v := range g.Geometry[0][0][:len(g.Geometry[0][0])-1] {
			owner[v] = append(owner[v], i)
		}
	}
	var out []vertexMove
	for i, g := range gs {
		if g.Level != grids.LevelGrid || len(g.Geometry) != 1 || len(g.Geometry[0]) != 1 {
			continue
		}
		r := g.Geometry[0][0]
		n := len(r) - 1
		for k := 0; k < n; k++ {
			v := r[k]
			if uses[v] != 2 || len(owner[v]) != 2 {
				continue
			}
			j := owner[v][0]
			if j == i {
				j = owner[v][1]
			}
			if j < i || gs[j].Parent != g.Parent {
				continue
			}
			prev, next := r[(k+n-1)%n], r[(k+1)%n]
			if uses[prev] < 2 || uses[next] < 2 || !slices.Contains(owner[prev], j) || !slices.Contains(owner[next], j) {
				continue
			}
			bi := slices.Index(gs[j].Geometry[0][0], v)
			out = append(out, vertexMove{a: i, b: j, ai: k, bi: bi, prev: prev, v: v, next: next})
		}
	}
	return out
}

// moveVertex returns a copy of gs with the vertex moved to w in both grids.
func moveVertex(gs []*grids.Grid, m vertexMove, w orb.Point) []*grids.Grid {
	out := Clone(gs)
	for _, x := range [][2]int{{m.a, m.ai}, {m.b, m.bi}} {
		r := out[x[0]].Geometry[0][0]
		r[x[1]] = w
		if x[1] == 0 {
			r[len(r)-1] = w
		}
	}
	return out
}

func TestDemoCityBoundaryMoveDiff(t *testing.T) {
	gs := demoCity(t, 1000)
	cands := sharedVertices(gs)
	if len(cands) == 0 {
		t.Fatal("no movable shared vertex in the demo city")
	}
	// Longest chords first: the vertex is pushed across the chord
	// prev–next to half its length beyond, so a sizeable area changes
	// hands.
	slices.SortStableFunc(cands, func(x, y vertexMove) int {
		dx, dy := dist2(x.prev, x.next), dist2(y.prev, y.next)
		switch {
		case dx > dy:
			return -1
		case dx < dy:
			return 1
		}
		return 0
	})
	var (
		m    vertexMove
		next []*grids.Grid
		quad orb.Polygon
	)
	for _, cand := range cands[:min(len(cands), 50)] {
		mid := orb.Point{(cand.prev[0] + cand.next[0]) / 2, (cand.prev[1] + cand.next[1]) / 2}
		dx, dy := cand.next[0]-cand.prev[0], cand.next[1]-cand.prev[1]
		nx, ny := -dy/2, dx/2 // half the chord, turned a quarter
		if (cand.v[0]-mid[0])*nx+(cand.v[1]-mid[1])*ny > 0 {
			nx, ny = -nx, -ny
		}
		w := orb.Point{mid[0] + nx, mid[1] + ny}
		q := orb.Polygon{orb.Ring{cand.prev, cand.v, cand.next, w, cand.prev}}
		p := newProjection(q.Bound())
		qs, err := newShape(orb.MultiPolygon{q}, func(x orb.Point) xy { return p.fwd(x[0], x[1]) })
		if err != nil || qs.validate(p) != nil {
			continue
		}
		moved := moveVertex(gs, cand, w)
		if Validate(moved, Options{}).Clean() {
			m, next, quad = cand, moved, q
			break
		}
	}
	if next == nil {
		t.Fatal("no vertex move kept the city valid")
	}
	// The grid that loses the area is the one the vertex bulged into.
	from, to := gs[m.a].Code, gs[m.b].Code
	if !planar.PolygonContains(gs[m.a].Geometry[0], orb.Point{(m.v[0]*2 + m.prev[0] + m.next[0]) / 4, (m.v[1]*2 + m.prev[1] + m.next[1]) / 4}) {
		from, to = to, from
	}

	// Incidents: a third around the moved area, a third around the two
	// grids, a third over the city.
	rng := rand.New(rand.NewPCG(1, 2))
	qb := quad.Bound()
	bb := gs[m.a].Geometry.Bound().Union(gs[m.b].Geometry.Bound())
	cityB := gs[0].Geometry.Bound()
	for _, g := range gs {
		cityB = cityB.Union(g.Geometry.Bound())
	}
	var inc []IncidentPoint
	var want []int64
	for id := int64(1); id <= 30000; id++ {
		b := [3]orb.Bound{qb, bb, cityB}[id%3]
		p := orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
		inc = append(inc, IncidentPoint{ID: id, Lon: p[0], Lat: p[1]})
		if planar.PolygonContains(quad, p) {
			want = append(want, id)
		}
	}
	if len(want) == 0 {
		t.Fatalf("no incident fell in the moved area %v", quad)
	}
	r := Diff(gs, next, inc, DiffOptions{})
	if len(r.Transfers) != 1 {
		t.Fatalf("transfers %+v, want one pair", r.Transfers)
	}
	tr := r.Transfers[0]
	if tr.From != from || tr.To != to || !slices.Equal(tr.IDs, want) {
		t.Errorf("transfer %s→%s %d incidents, want %s→%s %d", tr.From, tr.To, tr.Count, from, to, len(want))
	}
	if len(r.Grids) != 2 || r.Grids[0].DeltaM2+r.Grids[1].DeltaM2 > 1e-3 || r.Grids[0].DeltaM2+r.Grids[1].DeltaM2 < -1e-3 {
		t.Errorf("grid changes %+v", r.Grids)
	}
	quadArea := areaOf(orb.MultiPolygon{quad})
	for _, g := range r.Grids {
		if !near(math.Abs(g.DeltaM2), quadArea, 1e-3*quadArea) {
			t.Errorf("%s changed by %.3f m², the moved area is %.3f", g.Code, g.DeltaM2, quadArea)
		}
	}
	t.Logf("moved %d of %d incidents, %.1f m²", len(want), len(inc), quadArea)

	// The same move as two edits: after the first the grids overlap or
	// leave a gap of exactly the moved area, after the second all is well.
	res, err := ReplaceGeometry(gs, gs[m.a].Code, next[m.a].Geometry, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Delta.Added) != 1 || !near(res.Delta.Added[0].AreaM2, quadArea, 0.01) {
		logReport(t, res.After)
		t.Errorf("first edit added %d problems, want one of %.2f m²", len(res.Delta.Added), quadArea)
	}
	res, err = ReplaceGeometry(res.Grids, gs[m.b].Code, next[m.b].Geometry, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.After.Clean() || len(res.Delta.Removed) != 1 {
		t.Errorf("second edit: clean %v, removed %d", res.After.Clean(), len(res.Delta.Removed))
	}
}

func TestDemoCitySplitMerge(t *testing.T) {
	gs := demoCity(t, 1000)
	var leaf *grids.Grid
	for _, g := range gs {
		if g.Level == grids.LevelGrid && g.Code > "" {
			leaf = g
			if len(g.Geometry[0][0]) > 40 {
				break
			}
		}
	}
	b := leaf.Geometry.Bound()
	c := b.Center()
	// A kinked line through the grid's centre.
	line := orb.LineString{
		{b.Min[0], b.Min[1] + 0.3*(b.Max[1]-b.Min[1])},
		{c[0] + 0.05*(b.Max[0]-b.Min[0]), c[1]},
		{b.Max[0], b.Max[1] - 0.2*(b.Max[1]-b.Min[1])},
	}
	res, err := Split(gs, leaf.Code, line, [2]string{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.After.Clean() || res.After.Summary.ExactFamilies != 0 {
		logReport(t, res.After)
		t.Fatalf("after split: clean %v, %d families overlaid", res.After.Clean(), res.After.Summary.ExactFamilies)
	}
	if len(res.Added) != 2 || len(res.Changed) == 0 {
		t.Errorf("added %v changed %v", res.Added, res.Changed)
	}
	merged, err := Merge(res.Grids, res.Added, leaf.Code, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !merged.After.Clean() {
		logReport(t, merged.After)
		t.Fatal("not clean after merge")
	}
	got := find(merged.Grids, leaf.Code)
	a0, a1 := areaOf(leaf.Geometry), areaOf(got.Geometry)
	if rel := math.Abs(a1-a0) / a0; rel > 1e-6 {
		t.Errorf("area %.6f m² after split and merge, %.6f before (%.1e)", a1, a0, rel)
	}
	t.Logf("split %s (%.0f m²) into %v; neighbours and parents given cut points: %v", leaf.Code, a0, res.Added, res.Changed)
}
