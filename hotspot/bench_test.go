package hotspot

import (
	"math/rand/v2"
	"testing"
)

// fullLattice numbers every cell of an nx×ny lattice row-major.
func fullLattice(nx, ny int) (col, row []int32) {
	col, row = make([]int32, nx*ny), make([]int32, nx*ny)
	for i := range col {
		col[i], row[i] = int32(i%nx), int32(i/nx)
	}
	return col, row
}

func randomCounts(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(rng.IntN(4) * rng.IntN(3))
	}
	return x
}

// 1,000,000 cells of 100 m with a 150 m band: the 3×3 block, self included.
func BenchmarkNeighbours1M(b *testing.B) {
	col, row := fullLattice(1000, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LatticeBand(1000, 1000, col, row, 100, 150, true); err != nil {
			b.Fatal(err)
		}
	}
}

// The general distance search on the same 1M cell centres.
func BenchmarkDistanceBand1M(b *testing.B) {
	col, row := fullLattice(1000, 1000)
	xs, ys := make([]float64, len(col)), make([]float64, len(col))
	for i := range col {
		xs[i], ys[i] = (float64(col[i])+0.5)*100, (float64(row[i])+0.5)*100
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DistanceBand(xs, ys, 150, true); err != nil {
			b.Fatal(err)
		}
	}
}

// Gi* over 1,000,000 cells once the neighbours are known.
func BenchmarkGiStar1M(b *testing.B) {
	col, row := fullLattice(1000, 1000)
	nb, err := LatticeBand(1000, 1000, col, row, 100, 150, true)
	if err != nil {
		b.Fatal(err)
	}
	x := randomCounts(len(col), 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := GiStar(x, nb); err != nil {
			b.Fatal(err)
		}
	}
}

// Gi*, p-values and FDR bins: the whole hot spot response over 1M cells.
func BenchmarkGiStarFDR1M(b *testing.B) {
	col, row := fullLattice(1000, 1000)
	nb, err := LatticeBand(1000, 1000, col, row, 100, 150, true)
	if err != nil {
		b.Fatal(err)
	}
	x := randomCounts(len(col), 1)
	b.ReportAllocs()
	for b.Loop() {
		z, _ := GiStar(x, nb)
		FDRBins(z, PValues(z))
	}
}

// Emerging hot spots on 100,000 cells × 52 weekly slices: space-time Gi*,
// per-slice FDR, Mann–Kendall and classification.
func BenchmarkEmerging100kx52(b *testing.B) {
	const nx, ny, T = 400, 250, 52
	col, row := fullLattice(nx, ny)
	nb, err := LatticeBand(nx, ny, col, row, 200, 300, true)
	if err != nil {
		b.Fatal(err)
	}
	c := &Cube{N: nx * ny, T: T, Values: randomCounts(nx*ny*T, 2)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Emerging(c, nb, 1, 0.05); err != nil {
			b.Fatal(err)
		}
	}
}

// Exact quartic kernel density of 100,000 points on a 256×256 raster with a
// bandwidth of 8 cells.
func BenchmarkKDE(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 100000
	xs, ys := make([]float64, n), make([]float64, n)
	for i := range xs {
		xs[i], ys[i] = rng.NormFloat64()*40+128, rng.NormFloat64()*40+128
	}
	r := Raster{Cell: 1, NX: 256, NY: 256}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := KernelDensity(xs, ys, nil, r, 8); err != nil {
			b.Fatal(err)
		}
	}
}

// The heat tile path: counts binned on a 256×256 tile raster, spread with
// an 8-cell kernel; the cost is independent of the number of incidents.
func BenchmarkKDEBinned(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	counts := make([]float64, 256*256)
	for range 5000000 / 50 {
		c, r := min(max(int(rng.NormFloat64()*40+128), 0), 255), min(max(int(rng.NormFloat64()*40+128), 0), 255)
		counts[r*256+c] += 50
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := KernelDensityBinned(counts, 256, 256, 1, 8); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMannKendall52(b *testing.B) {
	x := randomCounts(52, 9)
	seen := make([]bool, 52)
	b.ReportAllocs()
	for b.Loop() {
		mannKendall(x, seen)
	}
}
