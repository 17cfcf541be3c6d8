package hotspot

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The CSV files in testdata are written by testdata/gen_reference.R from
// R's spdep and stats; see that script for what each holds.

const refTol = 1e-6

func readCSV(t *testing.T, name string) (header []string, rows [][]string) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return all[0], all[1:]
}

// column returns the named column parsed as floats.
func column(t *testing.T, name, col string) []float64 {
	t.Helper()
	header, rows := readCSV(t, name)
	k := slices.Index(header, col)
	if k < 0 {
		t.Fatalf("%s: no column %q in %v", name, col, header)
	}
	out := make([]float64, len(rows))
	for i, r := range rows {
		v, err := strconv.ParseFloat(r[k], 64)
		if err != nil {
			t.Fatalf("%s row %d: %v", name, i+2, err)
		}
		out[i] = v
	}
	return out
}

// readPairs loads 0-based (i, j) neighbour pairs as CSR lists over n features.
func readPairs(t *testing.T, name string, n int) Neighbours {
	t.Helper()
	_, rows := readCSV(t, name)
	lists := make([][]int32, n)
	for _, r := range rows {
		i, err1 := strconv.Atoi(r[0])
		j, err2 := strconv.Atoi(r[1])
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: bad pair %v", name, r)
		}
		lists[i] = append(lists[i], int32(j))
	}
	nb := Neighbours{Offsets: make([]int32, n+1)}
	for i, l := range lists {
		slices.Sort(l)
		nb.Index = append(nb.Index, l...)
		nb.Offsets[i+1] = int32(len(nb.Index))
	}
	if err := nb.Validate(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return nb
}

func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol || math.IsNaN(got[i]) != math.IsNaN(want[i]) {
			t.Errorf("%s[%d] = %.10g, want %.10g", what, i, got[i], want[i])
		}
	}
}

func assertSameLists(t *testing.T, what string, got, want Neighbours) {
	t.Helper()
	if got.Len() != want.Len() {
		t.Fatalf("%s: %d lists, want %d", what, got.Len(), want.Len())
	}
	for i := 0; i < got.Len(); i++ {
		if !slices.Equal(got.Of(i), want.Of(i)) {
			t.Errorf("%s: feature %d has %v, want %v", what, i, got.Of(i), want.Of(i))
		}
	}
}

func TestGetisOrdLatticeAgainstSpdep(t *testing.T) {
	const file = "getisord.csv"
	xs, ys, val := column(t, file, "x"), column(t, file, "y"), column(t, file, "val")
	wantGi, wantGiStar := column(t, file, "gi"), column(t, file, "gistar")
	rnb := readPairs(t, "getisord_nb30.csv", len(xs))

	built, err := DistanceBand(xs, ys, 30, false)
	if err != nil {
		t.Fatal(err)
	}
	assertSameLists(t, "DistanceBand(30)", built, rnb)

	// getisord is a 16×16 lattice of 30-unit cells, row-major from (0, 0).
	col, row := make([]int32, len(xs)), make([]int32, len(xs))
	for i := range xs {
		col[i], row[i] = int32(xs[i]/30), int32(ys[i]/30)
	}
	lattice, err := LatticeBand(16, 16, col, row, 30, 30, true)
	if err != nil {
		t.Fatal(err)
	}
	assertSameLists(t, "LatticeBand(30)", lattice, rnb.WithSelf())

	gi, err := Gi(val, rnb)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "Gi", gi, wantGi, refTol)
	for _, tc := range []struct {
		name string
		nb   Neighbours
	}{
		{"spdep list + self", rnb.WithSelf()},
		{"DistanceBand with self", mustBand(t, xs, ys, 30)},
		{"LatticeBand", lattice},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z, err := GiStar(val, tc.nb)
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, "Gi*", z, wantGiStar, refTol)
		})
	}
	// The figures printed for spdep's localG example, point 120 (R's
	// 1-based index, 119 here) at d = 30.
	star, err := GiStar(val, lattice)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(gi[119]-1.221979) > 1e-6 {
		t.Errorf("Gi[119] = %.7f, want 1.221979", gi[119])
	}
	if math.Abs(star[119]-1.45078) > 5e-6 {
		t.Errorf("Gi*[119] = %.7f, want 1.45078", star[119])
	}
}

func mustBand(t *testing.T, xs, ys []float64, band float64) Neighbours {
	t.Helper()
	nb, err := DistanceBand(xs, ys, band, true)
	if err != nil {
		t.Fatal(err)
	}
	return nb
}

func TestColumbusAgainstSpdep(t *testing.T) {
	const file = "columbus.csv"
	xs, ys, crime := column(t, file, "x"), column(t, file, "y"), column(t, file, "crime")
	n := len(xs)
	contig := readPairs(t, "columbus_nb.csv", n)

	t.Run("contiguity Gi*", func(t *testing.T) {
		z, err := GiStar(crime, contig.WithSelf())
		if err != nil {
			t.Fatal(err)
		}
		assertClose(t, "Gi*", z, column(t, file, "gistar"), refTol)
	})
	t.Run("contiguity Gi", func(t *testing.T) {
		z, err := Gi(crime, contig)
		if err != nil {
			t.Fatal(err)
		}
		assertClose(t, "Gi", z, column(t, file, "gi"), refTol)
	})
	t.Run("k nearest 4", func(t *testing.T) {
		nb, err := KNearest(xs, ys, 4, true)
		if err != nil {
			t.Fatal(err)
		}
		assertSameLists(t, "KNearest(4)", nb, readPairs(t, "columbus_knn4.csv", n).WithSelf())
		z, err := GiStar(crime, nb)
		if err != nil {
			t.Fatal(err)
		}
		assertClose(t, "Gi*", z, column(t, file, "gistar_knn4"), refTol)
	})
	t.Run("distance band 4", func(t *testing.T) {
		nb := mustBand(t, xs, ys, 4)
		assertSameLists(t, "DistanceBand(4)", nb, readPairs(t, "columbus_d4.csv", n).WithSelf())
		z, err := GiStar(crime, nb)
		if err != nil {
			t.Fatal(err)
		}
		assertClose(t, "Gi*", z, column(t, file, "gistar_d4"), refTol)
	})
}

// esda's G_Local docstring example: six points, DistanceBand(threshold=15),
// binary weights, star=True.
func TestEsdaSixPoints(t *testing.T) {
	xs := []float64{10, 20, 40, 15, 30, 30}
	ys := []float64{10, 10, 10, 20, 20, 30}
	y := []float64{2, 3, 3.2, 5, 8, 7}
	nb := mustBand(t, xs, ys, 15)
	z, err := GiStar(y, nb)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331}
	assertClose(t, "Gi*", z, want, 1e-8)
	// Same docstring, star=False: Zs.
	nb0, err := DistanceBand(xs, ys, 15, false)
	if err != nil {
		t.Fatal(err)
	}
	gi, err := Gi(y, nb0)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "Gi", gi, []float64{-1.0136729, -0.04361589, 1.31558703, -0.31412676, 1.15373986, 1.77833941}, 1e-7)
}

func TestMannKendallAgainstR(t *testing.T) {
	_, rows := readCSV(t, "mannkendall.csv")
	for _, r := range rows {
		var x []float64
		for _, s := range strings.Split(r[0], ";") {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatal(err)
			}
			x = append(x, v)
		}
		want := make([]float64, 4)
		for k := range want {
			want[k], _ = strconv.ParseFloat(r[k+1], 64)
		}
		got := MannKendall(x)
		assertClose(t, "MK "+r[0], []float64{got.S, got.Var, got.Z, got.P}, want, refTol)
	}
}

func TestMannKendallIssueFigures(t *testing.T) {
	tests := []struct {
		name string
		x    []float64
		want MKResult
	}{
		{"rising", []float64{1, 2, 3, 4, 5}, MKResult{S: 10, Var: 16.667, Z: 2.20454, P: 0.027486}},
		{"pi digits", []float64{3, 1, 4, 1, 5, 9, 2, 6, 5, 3}, MKResult{S: 12, Var: 122, Z: 0.995893, P: 0.319302}},
		{"flat", []float64{2, 2, 2, 2}, MKResult{S: 0, Var: 0, Z: 0, P: 1}},
		{"too short", []float64{1, 2}, MKResult{S: 1, Var: 1, Z: 0, P: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := MannKendall(tc.x)
			if got.S != tc.want.S || math.Abs(got.Var-tc.want.Var) > 5e-4 ||
				math.Abs(got.Z-tc.want.Z) > 5e-6 || math.Abs(got.P-tc.want.P) > 5e-7 {
				t.Errorf("MannKendall(%v) = %+v, want %+v", tc.x, got, tc.want)
			}
		})
	}
}

func TestCountTailsAgainstR(t *testing.T) {
	_, rows := readCSV(t, "tails.csv")
	for _, r := range rows {
		y, _ := strconv.Atoi(r[0])
		mu, _ := strconv.ParseFloat(r[1], 64)
		size, _ := strconv.ParseFloat(r[2], 64)
		want, _ := strconv.ParseFloat(r[3], 64)
		var got float64
		if size == 0 {
			got = poissonUpper(y, mu)
		} else {
			got = negBinUpper(y, mu, size)
		}
		// Relative for the tiny tails, where the absolute test says nothing.
		if math.Abs(got-want) > 1e-9*math.Max(want, 1e-300) && math.Abs(got-want) > 1e-12 {
			t.Errorf("P(Y >= %d | mu=%v, size=%v) = %.12g, want %.12g", y, mu, size, got, want)
		}
	}
}

func TestBHAdjustAgainstR(t *testing.T) {
	p := column(t, "bh.csv", "p")
	assertClose(t, "BH", BHAdjust(p), column(t, "bh.csv", "q"), 1e-12)
}
