package grids_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/gridd/gridd/fixtures"
	"github.com/gridd/gridd/grids"
)

// On the demo city's irregular grids: every random point gets the grid a
// brute-force scan finds, and every vertex inside the jurisdiction (shared
// by two or three grids) gets exactly one of the grids that cover it.
func TestIndexOnDemoCity(t *testing.T) {
	gs, err := fixtures.GenerateCity(fixtures.CityOptions{Grids: 400, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	set := &grids.Set{Grids: gs, Status: grids.StatusPublished}
	// 200 cells a grid makes a table large enough to be filled in
	// parallel stripes.
	for _, cpg := range []float64{16, 200} {
		t.Run(fmt.Sprintf("%v cells per grid", cpg), func(t *testing.T) {
			checkDemoCity(t, set, cpg)
		})
	}
}

func checkDemoCity(t *testing.T, set *grids.Set, cellsPerGrid float64) {
	ix, err := grids.NewIndex(set, grids.IndexOptions{CellsPerGrid: cellsPerGrid})
	if err != nil {
		t.Fatal(err)
	}
	leaves := set.Leaves()
	bounds := make([]orb.Bound, len(leaves))
	for i, g := range leaves {
		bounds[i] = g.Bound()
	}
	covers := func(list []*grids.Grid, p orb.Point) []string {
		var out []string
		for i, g := range list {
			if bounds[i].Contains(p) && planar.MultiPolygonContains(g.Geometry, p) {
				out = append(out, g.Code)
			}
		}
		return out
	}
	b := boundOf(leaves)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 100000; i++ {
		p := orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
		want := covers(leaves, p)
		got := ix.LocateCode(p[0], p[1])
		if len(want) > 1 {
			t.Fatalf("random point %v on a boundary: %v", p, want)
		}
		if (len(want) == 0 && got != "") || (len(want) == 1 && got != want[0]) {
			t.Fatalf("point %v: got %q, brute force %v", p, got, want)
		}
	}
	shared := 0
	for _, g := range leaves {
		for _, v := range g.Geometry[0][0] {
			got := ix.LocateCode(v[0], v[1])
			cov := covers(leaves, v)
			found := false
			for _, c := range cov {
				found = found || c == got
			}
			if !found {
				t.Fatalf("vertex %v of %s: got %q, covered by %v", v, g.Code, got, cov)
			}
			if len(cov) > 1 {
				shared++
			}
		}
	}
	if shared < 1000 {
		t.Fatalf("only %d shared vertices tested", shared)
	}
}

// LocateBatch gives every point the grid Locate gives it: random points
// over and around the demo city, and every vertex, in batches of several
// sizes (the smallest go one by one, the others through the sorted,
// staged path).
func TestLocateBatchMatchesLocate(t *testing.T) {
	gs, err := fixtures.GenerateCity(fixtures.CityOptions{Grids: 400, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	set := &grids.Set{Grids: gs, Status: grids.StatusPublished}
	ix, err := grids.NewIndex(set, grids.IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	leaves := set.Leaves()
	b := boundOf(leaves)
	rng := rand.New(rand.NewPCG(8, 9))
	var xs, ys []float64
	for i := 0; i < 200000; i++ {
		xs = append(xs, b.Min[0]-0.01+rng.Float64()*(b.Max[0]-b.Min[0]+0.02))
		ys = append(ys, b.Min[1]-0.01+rng.Float64()*(b.Max[1]-b.Min[1]+0.02))
	}
	for _, g := range leaves {
		for _, v := range g.Geometry[0][0] {
			xs, ys = append(xs, v[0]), append(ys, v[1])
		}
	}
	rng.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i]; ys[i], ys[j] = ys[j], ys[i] })
	out := make([]int32, len(xs))
	inside := 0
	for _, size := range []int{100, 5000, len(xs)} {
		for start := 0; start < len(xs); start += size {
			end := min(start+size, len(xs))
			ix.LocateBatch(xs[start:end], ys[start:end], out[start:end])
		}
		for i := range xs {
			got, want := "", ix.LocateCode(xs[i], ys[i])
			if g := ix.LeafAt(out[i]); g != nil {
				got = g.Code
			}
			if got != want {
				t.Fatalf("batches of %d: point %d (%v, %v): batch %q, one by one %q", size, i, xs[i], ys[i], got, want)
			}
			if size == len(xs) && want != "" {
				inside++
			}
		}
	}
	if inside < len(xs)/3 {
		t.Fatalf("only %d of %d points inside a grid", inside, len(xs))
	}
}

// boundOf is the box of all the grids.
func boundOf(gs []*grids.Grid) orb.Bound {
	b := gs[0].Bound()
	for _, g := range gs[1:] {
		b = b.Union(g.Bound())
	}
	return b
}
