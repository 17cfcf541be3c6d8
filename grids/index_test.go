package grids

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// latticeCity builds a partition whose coordinates are dyadic rationals, so
// that vertices and points at dyadic fractions of edges are represented
// exactly and "on the boundary" means exactly on it. Cells of a jittered
// lattice, each lattice edge subdivided (both neighbours share the
// vertices), some cells cut in two along a diagonal, and one cell with a
// hole that another grid fills.
func latticeCity(nx, ny int, seed uint64) *Set {
	rng := rand.New(rand.NewPCG(seed, 7))
	const step = 1.0 / 16
	const q = 1.0 / 1024
	vx := make([][]orb.Point, nx+1)
	for i := range vx {
		vx[i] = make([]orb.Point, ny+1)
		for j := range vx[i] {
			jx, jy := 0.0, 0.0
			if i > 0 && i < nx {
				jx = float64(rng.IntN(17)-8) * q
			}
			if j > 0 && j < ny {
				jy = float64(rng.IntN(17)-8) * q
			}
			vx[i][j] = orb.Point{116 + float64(i)*step + jx, 39 + float64(j)*step + jy}
		}
	}
	// edge returns the points from a to b (a included, b excluded),
	// subdivided at quarters: exact for dyadic endpoints.
	edge := func(a, b orb.Point) []orb.Point {
		var out []orb.Point
		for k := 0; k < 4; k++ {
			t := float64(k) / 4
			out = append(out, orb.Point{a[0] + (b[0]-a[0])*t, a[1] + (b[1]-a[1])*t})
		}
		return out
	}
	set := &Set{ID: 1, Status: StatusPublished}
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	set.EffectiveFrom = &from
	dist := &Grid{Code: "110101", Name: "区", Level: LevelDistrict}
	street := &Grid{Code: "110101001", Name: "街道", Level: LevelStreet, Parent: dist.Code}
	comm := &Grid{Code: "110101001001", Name: "社区", Level: LevelCommunity, Parent: street.Code}
	set.Grids = append(set.Grids, dist, street, comm)
	seq := 0
	add := func(mp orb.MultiPolygon) {
		seq++
		set.Grids = append(set.Grids, &Grid{
			Code: fmt.Sprintf("%s%03d", comm.Code, seq), Name: fmt.Sprintf("网格%d", seq),
			Level: LevelGrid, Parent: comm.Code, Geometry: mp,
		})
	}
	for i := 0; i < nx; i++ {
		for j := 0; j < ny; j++ {
			a, b, c, d := vx[i][j], vx[i+1][j], vx[i+1][j+1], vx[i][j+1]
			var ring orb.Ring
			ring = append(ring, edge(a, b)...)
			ring = append(ring, edge(b, c)...)
			ring = append(ring, edge(c, d)...)
			ring = append(ring, edge(d, a)...)
			ring = append(ring, a)
			switch {
			case i == nx/2 && j == ny/2:
				// A cell with a hole; another grid fills the hole.
				cx, cy := (a[0]+c[0])/2, (a[1]+c[1])/2
				h := 1.0 / 128
				hole := orb.Ring{{cx - h, cy - h}, {cx - h, cy + h}, {cx + h, cy + h}, {cx + h, cy - h}, {cx - h, cy - h}}
				add(orb.MultiPolygon{{ring, hole}})
				fill := orb.Ring{{cx - h, cy - h}, {cx + h, cy - h}, {cx + h, cy + h}, {cx - h, cy + h}, {cx - h, cy - h}}
				add(orb.MultiPolygon{{fill}})
			case (i+j)%3 == 0:
				// Cut along the a–c diagonal into two triangles-with-bends.
				t1 := orb.Ring{}
				t1 = append(t1, edge(a, b)...)
				t1 = append(t1, edge(b, c)...)
				t1 = append(t1, edge(c, a)...)
				t1 = append(t1, a)
				t2 := orb.Ring{}
				t2 = append(t2, edge(a, c)...)
				t2 = append(t2, edge(c, d)...)
				t2 = append(t2, edge(d, a)...)
				t2 = append(t2, a)
				add(orb.MultiPolygon{{t1}})
				add(orb.MultiPolygon{{t2}})
			default:
				add(orb.MultiPolygon{{ring}})
			}
		}
	}
	return set
}

// bruteCovers lists, in code order, the leaves whose closed area holds p.
func bruteCovers(leaves []*Grid, p orb.Point) []string {
	var out []string
	for _, g := range leaves {
		if !boundOf(g).Contains(p) {
			continue
		}
		for _, poly := range g.Geometry {
			if planar.PolygonContains(poly, p) || onRing(poly, p) {
				out = append(out, g.Code)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

var boundCache sync.Map // *Grid → orb.Bound

func boundOf(g *Grid) orb.Bound {
	if b, ok := boundCache.Load(g); ok {
		return b.(orb.Bound)
	}
	b := g.Bound()
	boundCache.Store(g, b)
	return b
}

// onRing: PolygonContains counts a hole's boundary as outside; the closed
// area of the polygon includes it.
func onRing(poly orb.Polygon, p orb.Point) bool {
	for _, r := range poly {
		for i := 0; i+1 < len(r); i++ {
			a, b := r[i], r[i+1]
			if p[0] < min(a[0], b[0]) || p[0] > max(a[0], b[0]) || p[1] < min(a[1], b[1]) || p[1] > max(a[1], b[1]) {
				continue
			}
			if (b[0]-a[0])*(p[1]-a[1])-(b[1]-a[1])*(p[0]-a[0]) == 0 {
				return true
			}
		}
	}
	return false
}

// expected applies the documented rule with the oracle: one covering grid
// wins outright; on a shared boundary the grid holding p nudged east then
// north wins; on the outer boundary the smallest covering code.
func expected(leaves []*Grid, p orb.Point) string {
	cov := bruteCovers(leaves, p)
	switch len(cov) {
	case 0:
		return ""
	case 1:
		return cov[0]
	}
	nudged := orb.Point{p[0] + 1.0/(1<<20), p[1] + 1.0/(1<<40)}
	if n := bruteCovers(leaves, nudged); len(n) == 1 {
		return n[0]
	}
	return cov[0]
}

func TestIndexMatchesBruteForce(t *testing.T) {
	set := latticeCity(12, 10, 1)
	ix, err := NewIndex(set, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	leaves := set.Leaves()
	b := leaves[0].Bound()
	for _, g := range leaves {
		b = b.Union(g.Bound())
	}
	rng := rand.New(rand.NewPCG(2, 3))
	var pts []orb.Point
	// Random points over the box and a margin around it.
	for i := 0; i < 100000; i++ {
		pts = append(pts, orb.Point{
			b.Min[0] - 0.02 + rng.Float64()*(b.Max[0]-b.Min[0]+0.04),
			b.Min[1] - 0.02 + rng.Float64()*(b.Max[1]-b.Min[1]+0.04),
		})
	}
	// Every vertex and dyadic points along every edge.
	onBoundary := 0
	for _, g := range leaves {
		for _, poly := range g.Geometry {
			for _, r := range poly {
				for i := 0; i+1 < len(r); i++ {
					a, c := r[i], r[i+1]
					for k := 0; k < 8; k++ {
						f := float64(k) / 8
						pts = append(pts, orb.Point{a[0] + (c[0]-a[0])*f, a[1] + (c[1]-a[1])*f})
						onBoundary++
					}
				}
			}
		}
	}
	if onBoundary < 10000 {
		t.Fatalf("only %d boundary points", onBoundary)
	}
	mismatch, multi := 0, 0
	for _, p := range pts {
		want := expected(leaves, p)
		got := ix.LocateCode(p[0], p[1])
		if len(bruteCovers(leaves, p)) > 1 {
			multi++
		}
		if got != want {
			mismatch++
			if mismatch <= 10 {
				t.Errorf("point %v: got %q, want %q (covered by %v)", p, got, want, bruteCovers(leaves, p))
			}
		}
	}
	if mismatch > 0 {
		t.Fatalf("%d of %d points differ", mismatch, len(pts))
	}
	if multi < 5000 {
		t.Fatalf("only %d points on shared boundaries were tested", multi)
	}
}

// Every point inside the jurisdiction gets exactly one grid: no point of a
// shared boundary is claimed twice or left out by the half-open rule.
func TestIndexExactlyOneClaim(t *testing.T) {
	set := latticeCity(8, 8, 5)
	ix, err := NewIndex(set, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	leaves := set.Leaves()
	outer := orb.Bound{Min: orb.Point{116, 39}, Max: orb.Point{116.5, 39.5}}
	for _, g := range leaves {
		for _, poly := range g.Geometry {
			for _, r := range poly {
				for _, v := range r {
					// Skip the jurisdiction's own outline.
					if v[0] == outer.Min[0] || v[1] == outer.Min[1] || v[0] == outer.Max[0] || v[1] == outer.Max[1] {
						continue
					}
					claims := 0
					for i := range ix.polys {
						if ix.polys[i].claims(v[0], v[1]) {
							claims++
						}
					}
					if claims != 1 {
						t.Fatalf("vertex %v of %s claimed by %d grids", v, g.Code, claims)
					}
				}
			}
		}
	}
}

func TestIndexSnap(t *testing.T) {
	set := latticeCity(4, 4, 9)
	ix, err := NewIndex(set, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		p      orb.Point
		snapM  float64
		status MatchStatus
	}{
		{"inside", orb.Point{116.1, 39.1}, 0, Inside},
		{"west of the city, no snap", orb.Point{115.9999, 39.1}, 0, Unassigned},
		{"west of the city, 20 m snap", orb.Point{115.9999, 39.1}, 20, Snapped},
		{"west of the city, 5 m snap", orb.Point{115.9999, 39.1}, 5, Unassigned},
		{"far away", orb.Point{100, 20}, 1000, Unassigned},
		{"NaN", orb.Point{nan(), 39}, 1000, Unassigned},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := ix.Locate(tc.p[0], tc.p[1], tc.snapM)
			if m.Status != tc.status {
				t.Fatalf("status %v, want %v", m.Status, tc.status)
			}
			if tc.status == Snapped && (m.DistanceM < 5 || m.DistanceM > 20) {
				t.Fatalf("snapped at %.2f m, want about 8.6 m", m.DistanceM)
			}
		})
	}
}

func nan() float64 { var z float64; return z / z }

func TestRegistryAt(t *testing.T) {
	a := latticeCity(3, 3, 1)
	b := latticeCity(3, 3, 2)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t1 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	a.ID, b.ID = 1, 2
	a.EffectiveFrom, a.EffectiveTo = &t0, &t1
	b.EffectiveFrom = &t1
	r := NewRegistry(IndexOptions{})
	if err := r.Replace([]*Set{b, a}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		at   time.Time
		want *Set
	}{
		{"before any set", t0.Add(-time.Second), nil},
		{"first set", t0, a},
		{"last instant of the first set", t1.Add(-time.Nanosecond), a},
		{"second set from its start", t1, b},
		{"now", time.Now(), b},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ix, err := r.At(tc.at)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("got set %d, want none", ix.Set().ID)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ix.Set() != tc.want {
				t.Fatalf("got set %d, want %d", ix.Set().ID, tc.want.ID)
			}
		})
	}
}

// Readers keep geocoding while sets are swapped in (run with -race).
func TestRegistryConcurrentSwap(t *testing.T) {
	a := latticeCity(4, 4, 1)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a.EffectiveFrom = &t0
	r := NewRegistry(IndexOptions{})
	if err := r.Replace([]*Set{a}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				ix, err := r.Current()
				if err != nil {
					errs <- err
					return
				}
				if ix.LocateCode(116.1, 39.1) == "" {
					errs <- fmt.Errorf("lost a point during a swap")
					return
				}
			}
		}()
	}
	for i := 0; i < 50; i++ {
		s := latticeCity(4, 4, uint64(i+2))
		s.ID = int64(i + 2)
		from := t0.Add(time.Duration(i+1) * time.Hour)
		s.EffectiveFrom = &from
		if err := r.Replace([]*Set{a, s}); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	for w := 0; w < 4; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// The sub-cell blocks answer for most points of the cells that edges cross,
// and each answer is the one the cell's candidate list gives: on random
// points, and on points on and beside the lines between sub-cells, where
// rounding in the mapping to sub-cells would show.
func TestSubCellsAnswerAsTheList(t *testing.T) {
	set := latticeCity(12, 10, 1)
	for _, cpg := range []float64{2, 16, 64} {
		t.Run(fmt.Sprintf("%v cells per grid", cpg), func(t *testing.T) {
			ix, err := NewIndex(set, IndexOptions{CellsPerGrid: cpg})
			if err != nil {
				t.Fatal(err)
			}
			byCell := func(x, y float64) (id int32, edgeCell bool) {
				fx, fy := (x-ix.minX)*ix.invW, (y-ix.minY)*ix.invH
				if !(fx >= 0 && fy >= 0 && fx < float64(ix.nx) && fy < float64(ix.ny)) {
					return -1, false
				}
				v := ix.cells[int(fy)*ix.nx+int(fx)]
				if v&sureBit != 0 {
					if v == noCell {
						return -1, false
					}
					return int32(v &^ sureBit), false
				}
				return ix.byList(ix.cellList(v), x, y), true
			}
			rng := rand.New(rand.NewPCG(5, 6))
			x0, y0 := ix.minX, ix.minY
			w, h := float64(ix.nx)/ix.invW, float64(ix.ny)/ix.invH
			var pts []orb.Point
			for i := 0; i < 50000; i++ {
				pts = append(pts, orb.Point{x0 + rng.Float64()*w, y0 + rng.Float64()*h})
			}
			for g := 0; g <= ix.nx*subSide; g++ {
				x := x0 + float64(g)/(ix.invW*subSide)
				for k := 0; k < 8; k++ {
					y := y0 + rng.Float64()*h
					pts = append(pts, orb.Point{x, y}, orb.Point{math.Nextafter(x, 0), y}, orb.Point{math.Nextafter(x, 200), y})
				}
			}
			for g := 0; g <= ix.ny*subSide; g++ {
				y := y0 + float64(g)/(ix.invH*subSide)
				for k := 0; k < 8; k++ {
					x := x0 + rng.Float64()*w
					pts = append(pts, orb.Point{x, y}, orb.Point{x, math.Nextafter(y, 0)}, orb.Point{x, math.Nextafter(y, 200)})
				}
			}
			edgePts, fromSub := 0, 0
			for _, p := range pts {
				want, edgeCell := byCell(p[0], p[1])
				if got := ix.locateID(p[0], p[1]); got != want {
					t.Fatalf("point %v: sub-cells give leaf %d, the cell's list %d", p, got, want)
				}
				if !edgeCell {
					continue
				}
				edgePts++
				gx, gy := int((p[0]-x0)*ix.invW*subSide), int((p[1]-y0)*ix.invH*subSide)
				v := ix.cells[(gy>>subBits)*ix.nx+gx>>subBits]
				s := (gy&(subSide-1))<<subBits | gx&(subSide-1)
				if ix.cellSub[int(ix.cellCand[v+1])+s>>1]>>(uint(s&1)*4)&15 != subAny {
					fromSub++
				}
			}
			t.Logf("%d points, %d in cells edges cross, %d of those answered by their sub-cell", len(pts), edgePts, fromSub)
			if edgePts < len(pts)/10 || fromSub < edgePts/3 {
				t.Fatalf("%d of %d points in edge cells answered by sub-cells", fromSub, edgePts)
			}
		})
	}
}
