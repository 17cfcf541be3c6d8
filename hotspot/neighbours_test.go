package hotspot

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

func randomPoints(rng *rand.Rand, n int, clustered bool) (xs, ys []float64) {
	xs, ys = make([]float64, n), make([]float64, n)
	for i := range xs {
		if clustered && i%3 == 0 {
			// A tight clump and a far outlier stress the bucket sizing.
			xs[i], ys[i] = 500+rng.NormFloat64()*3, 500+rng.NormFloat64()*3
			continue
		}
		xs[i], ys[i] = rng.Float64()*1000, rng.Float64()*1000
	}
	if clustered {
		xs[n-1], ys[n-1] = 1e5, -3e4
	}
	return xs, ys
}

func bruteBand(xs, ys []float64, band float64, self bool) [][]int32 {
	out := make([][]int32, len(xs))
	for i := range xs {
		for j := range xs {
			if i == j && !self {
				continue
			}
			if math.Hypot(xs[i]-xs[j], ys[i]-ys[j]) <= band {
				out[i] = append(out[i], int32(j))
			}
		}
	}
	return out
}

func bruteKNN(xs, ys []float64, k int) [][]int32 {
	out := make([][]int32, len(xs))
	for i := range xs {
		idx := make([]int, 0, len(xs)-1)
		for j := range xs {
			if j != i {
				idx = append(idx, j)
			}
		}
		d := func(j int) float64 { dx, dy := xs[i]-xs[j], ys[i]-ys[j]; return dx*dx + dy*dy }
		sort.SliceStable(idx, func(a, b int) bool { return d(idx[a]) < d(idx[b]) })
		for _, j := range idx[:k] {
			out[i] = append(out[i], int32(j))
		}
		slices.Sort(out[i])
	}
	return out
}

func TestDistanceBandMatchesBruteForce(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		band      float64
		clustered bool
		self      bool
	}{
		{"uniform", 400, 60, false, false},
		{"uniform with self", 400, 60, false, true},
		{"clustered tiny band", 300, 2, true, false},
		{"band wider than extent", 50, 5000, false, true},
		{"zero band", 100, 0, false, true},
	}
	for k, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(k), 3))
			xs, ys := randomPoints(rng, tc.n, tc.clustered)
			nb, err := DistanceBand(xs, ys, tc.band, tc.self)
			if err != nil {
				t.Fatal(err)
			}
			if err := nb.Validate(); err != nil {
				t.Fatal(err)
			}
			want := bruteBand(xs, ys, tc.band, tc.self)
			for i := range want {
				if !slices.Equal(nb.Of(i), want[i]) {
					t.Fatalf("point %d: %v, want %v", i, nb.Of(i), want[i])
				}
			}
		})
	}
}

func TestKNearestMatchesBruteForce(t *testing.T) {
	for _, tc := range []struct {
		name      string
		n, k      int
		clustered bool
	}{
		{"uniform k1", 300, 1, false},
		{"uniform k8", 300, 8, false},
		{"clustered k5", 240, 5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.n), uint64(tc.k)))
			xs, ys := randomPoints(rng, tc.n, tc.clustered)
			nb, err := KNearest(xs, ys, tc.k, false)
			if err != nil {
				t.Fatal(err)
			}
			want := bruteKNN(xs, ys, tc.k)
			for i := range want {
				if !slices.Equal(nb.Of(i), want[i]) {
					t.Fatalf("point %d: %v, want %v", i, nb.Of(i), want[i])
				}
			}
		})
	}
}

func TestKNearestTiesBreakByIndex(t *testing.T) {
	// A plus shape: the centre's four neighbours are all at distance 1.
	xs := []float64{0, 1, -1, 0, 0}
	ys := []float64{0, 0, 0, 1, -1}
	nb, err := KNearest(xs, ys, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := nb.Of(0); !slices.Equal(got, []int32{1, 2}) {
		t.Errorf("centre neighbours %v, want [1 2]", got)
	}
}

func TestLatticeBandMatchesDistanceBand(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	const nx, ny, cell = 23, 17, 250.0
	var col, row []int32
	var xs, ys []float64
	for r := range ny {
		for c := range nx {
			if rng.Float64() < 0.3 {
				continue // masked out, like cells outside the jurisdiction
			}
			col, row = append(col, int32(c)), append(row, int32(r))
			xs, ys = append(xs, (float64(c)+0.5)*cell), append(ys, (float64(r)+0.5)*cell)
		}
	}
	for _, band := range []float64{0, cell, cell * math.Sqrt2, 2 * cell, 3.3 * cell} {
		for _, self := range []bool{false, true} {
			got, err := LatticeBand(nx, ny, col, row, cell, band, self)
			if err != nil {
				t.Fatal(err)
			}
			// The distance search needs the same tolerance the lattice uses
			// at exact multiples of the cell.
			want, err := DistanceBand(xs, ys, band*(1+1e-9), self)
			if err != nil {
				t.Fatal(err)
			}
			assertSameLists(t, "lattice", got, want)
		}
	}
}

func TestLatticeBandRejects(t *testing.T) {
	tests := []struct {
		name     string
		nx, ny   int
		col, row []int32
		cell     float64
	}{
		{"outside lattice", 2, 2, []int32{2}, []int32{0}, 1},
		{"duplicate cell", 2, 2, []int32{1, 1}, []int32{0, 0}, 1},
		{"length mismatch", 2, 2, []int32{1}, nil, 1},
		{"zero cell", 2, 2, []int32{1}, []int32{1}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := LatticeBand(tc.nx, tc.ny, tc.col, tc.row, tc.cell, 1, true); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestDefaultBandGivesEveryoneANeighbour(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	xs, ys := randomPoints(rng, 500, true)
	band, err := DefaultBand(xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	want := 0.0
	for i := range xs {
		best := math.Inf(1)
		for j := range xs {
			if i != j {
				best = math.Min(best, math.Hypot(xs[i]-xs[j], ys[i]-ys[j]))
			}
		}
		want = math.Max(want, best)
	}
	if math.Abs(band-want) > 1e-9*want {
		t.Fatalf("DefaultBand = %v, want %v", band, want)
	}
	nb, err := DistanceBand(xs, ys, band, false)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range nb.Counts() {
		if c == 0 {
			t.Errorf("point %d has no neighbour within the default band", i)
		}
	}
}

func TestWithSelf(t *testing.T) {
	nb := Neighbours{
		Offsets: []int32{0, 2, 3, 3, 5},
		Index:   []int32{1, 3, 0, 0, 3},
		Weights: []float64{0.5, 2, 1, 4, 1},
	}
	got := nb.WithSelf()
	wantIndex := []int32{0, 1, 3, 0, 1, 2, 0, 3}
	wantWeights := []float64{1, 0.5, 2, 1, 1, 1, 4, 1}
	if !slices.Equal(got.Index, wantIndex) || !slices.Equal(got.Weights, wantWeights) ||
		!slices.Equal(got.Offsets, []int32{0, 3, 5, 6, 8}) {
		t.Errorf("WithSelf = %+v", got)
	}
}

func TestGiStarWeightedMatchesBinary(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	xs, ys := randomPoints(rng, 200, false)
	nb, err := DistanceBand(xs, ys, 90, true)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, len(xs))
	for i := range x {
		x[i] = float64(rng.IntN(9))
	}
	binary, err := GiStar(x, nb)
	if err != nil {
		t.Fatal(err)
	}
	weighted := nb
	weighted.Weights = repeat(1, len(nb.Index))
	w, err := GiStar(x, weighted)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "weighted", w, binary, 1e-12)
}

func TestGiStarDegenerate(t *testing.T) {
	nb, _ := LatticeBand(3, 1, []int32{0, 1, 2}, []int32{0, 0, 0}, 1, 1, true)
	tests := []struct {
		name string
		x    []float64
	}{
		{"all equal", []float64{2, 2, 2}},
		{"all zero", []float64{0, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z, err := GiStar(tc.x, nb)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range z {
				if v != 0 {
					t.Errorf("z[%d] = %v, want 0", i, v)
				}
			}
		})
	}
	// A neighbourhood that is the whole study area says nothing either.
	all, _ := LatticeBand(3, 1, []int32{0, 1, 2}, []int32{0, 0, 0}, 1, 5, true)
	z, _ := GiStar([]float64{1, 5, 9}, all)
	for i, v := range z {
		if v != 0 || math.IsNaN(v) {
			t.Errorf("whole-area z[%d] = %v, want 0", i, v)
		}
	}
	if _, err := GiStar([]float64{1, 2}, nb); err == nil {
		t.Error("length mismatch accepted")
	}
}

func TestFDRBins(t *testing.T) {
	// m = 10 tests. BH cut-offs: at 0.10 the largest p_(k) ≤ k/100;
	// at 0.05 ≤ k/200; at 0.01 ≤ k/1000.
	p := []float64{0.0005, 0.009, 0.011, 0.035, 0.06, 0.2, 0.5, 0.7, 0.9, 0.95}
	z := []float64{4, -3, 2.5, 2.1, 1.9, 1, -0.5, 0.3, 0.1, 0.05}
	// 0.10: k=4 → 0.035 ≤ 0.04 passes (k=5: 0.06 > 0.05). 0.05: k=3 →
	// 0.011 ≤ 0.015 passes. 0.01: k=1 → 0.0005 ≤ 0.001; k=2: 0.009 > 0.002.
	want := []int8{3, -2, 2, 1, 0, 0, 0, 0, 0, 0}
	if got := FDRBins(z, p); !slices.Equal(got, want) {
		t.Errorf("FDRBins = %v, want %v", got, want)
	}
	if got := FDRBins([]float64{1}, []float64{math.NaN()}); got[0] != 0 {
		t.Errorf("NaN p got bin %d", got[0])
	}
}
