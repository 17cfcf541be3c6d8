package hotspot

import (
	"math"
	"math/rand/v2"
	"testing"
)

// binOf is the confidence bin of a single z without FDR (the family of one
// series has nothing to correct against): 90, 95, 99 per cent two-sided.
func binOf(z float64) int8 {
	var b int8
	switch a := math.Abs(z); {
	case a >= 2.5758293035489:
		b = 3
	case a >= 1.9599639845401:
		b = 2
	case a >= 1.6448536269515:
		b = 1
	}
	if z < 0 {
		b = -b
	}
	return b
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func ramp(from, to float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = from + (to-from)*float64(i)/float64(n-1)
	}
	return out
}

func with(base []float64, at map[int]float64) []float64 {
	out := append([]float64(nil), base...)
	for i, v := range at {
		out[i] = v
	}
	return out
}

func negate(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = -v
	}
	return out
}

// TestClassifyAllCategories builds a z series for each of the 17 categories
// (20 time steps, so 90% is 18 steps) and classifies it back.
func TestClassifyAllCategories(t *testing.T) {
	const T = 20
	quiet := repeat(0.3, T)
	hot := map[string][]float64{
		"new":          with(quiet, map[int]float64{T - 1: 3}),
		"consecutive":  with(quiet, map[int]float64{T - 4: 2.2, T - 3: 2.5, T - 2: 2.1, T - 1: 3}),
		"intensifying": ramp(2, 4, T),
		"persistent":   with(repeat(2.5, T), map[int]float64{1: 2.8, 4: 2.8, 7: 2.8, 10: 2.8, 13: 2.8, 16: 2.8, 19: 2.8}),
		"diminishing":  ramp(4, 2, T),
		"sporadic":     with(quiet, map[int]float64{2: 2.1, 5: 1.8, 9: 3.1, T - 1: 2.2}),
		"oscillating":  with(quiet, map[int]float64{3: -2.4, 7: 2.6, T - 1: 2.2}),
		"historical":   with(repeat(3, T), map[int]float64{T - 1: 0.4}),
	}
	tests := []struct {
		name string
		z    []float64
		want Category
	}{
		{"no pattern", quiet, NoPattern},
		{"new hot", hot["new"], NewHot},
		{"consecutive hot", hot["consecutive"], ConsecutiveHot},
		{"intensifying hot", hot["intensifying"], IntensifyingHot},
		{"persistent hot", hot["persistent"], PersistentHot},
		{"diminishing hot", hot["diminishing"], DiminishingHot},
		{"sporadic hot", hot["sporadic"], SporadicHot},
		{"oscillating hot", hot["oscillating"], OscillatingHot},
		{"historical hot", hot["historical"], HistoricalHot},
		{"new cold", negate(hot["new"]), NewCold},
		{"consecutive cold", negate(hot["consecutive"]), ConsecutiveCold},
		{"intensifying cold", negate(hot["intensifying"]), IntensifyingCold},
		{"persistent cold", negate(hot["persistent"]), PersistentCold},
		{"diminishing cold", negate(hot["diminishing"]), DiminishingCold},
		{"sporadic cold", negate(hot["sporadic"]), SporadicCold},
		{"oscillating cold", negate(hot["oscillating"]), OscillatingCold},
		{"historical cold", negate(hot["historical"]), HistoricalCold},
	}
	seen := map[Category]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bins := make([]int8, len(tc.z))
			for i, v := range tc.z {
				bins[i] = binOf(v)
			}
			got := Classify(bins, MannKendall(tc.z), 0.05)
			if got != tc.want {
				t.Errorf("Classify = %v, want %v (bins %v, trend %+v)", got, tc.want, bins, MannKendall(tc.z))
			}
			seen[got] = true
		})
	}
	if len(seen) != 17 {
		t.Errorf("saw %d distinct categories, want 17", len(seen))
	}
}

func TestClassifyBoundaries(t *testing.T) {
	none := MKResult{P: 1}
	tests := []struct {
		name string
		bins []int8
		want Category
	}{
		{"exactly 90% hot, final cold-free quiet", []int8{3, 3, 3, 3, 3, 3, 3, 3, 3, 0}, HistoricalHot},
		{"80% hot, final quiet", []int8{3, 3, 3, 3, 3, 3, 3, 3, 0, 0}, NoPattern},
		{"90% hot including final", []int8{0, 3, 3, 3, 3, 3, 3, 3, 3, 3}, PersistentHot},
		{"run of two after nothing", []int8{0, 0, 0, 0, 0, 0, 0, 0, 1, 2}, ConsecutiveHot},
		{"run after an earlier hot", []int8{0, 2, 0, 0, 0, 0, 0, 0, 1, 2}, SporadicHot},
		{"run after an earlier cold", []int8{0, -2, 0, 0, 0, 0, 0, 0, 1, 2}, ConsecutiveHot},
		{"only the final step, cold before", []int8{0, -3, 0, 0, 0, 0, 0, 0, 0, 1}, NewHot},
		{"hot before and final, cold between", []int8{2, 0, -1, 0, 0, 0, 0, 0, 0, 1}, OscillatingHot},
		{"single step hot", []int8{1}, NewHot},
		{"single step quiet", []int8{0}, NoPattern},
		{"empty", nil, NoPattern},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.bins, none, 0.05); got != tc.want {
				t.Errorf("Classify(%v) = %v, want %v", tc.bins, got, tc.want)
			}
		})
	}
}

func TestCategoryNames(t *testing.T) {
	for c := Category(-8); c <= 8; c++ {
		back, err := ParseCategory(c.String())
		if err != nil || back != c {
			t.Errorf("ParseCategory(%q) = %v, %v", c.String(), back, err)
		}
	}
	if NewHot.String() != "new_hot_spot" || HistoricalCold.String() != "historical_cold_spot" || NoPattern.String() != "no_pattern" {
		t.Errorf("unexpected names %v %v %v", NewHot, HistoricalCold, NoPattern)
	}
}

// TestSpaceTimeGiStarBruteForce checks the ring-buffer space-time Gi*
// against plain Gi* on the cube flattened to N·T features with the
// space-time neighbour lists written out in full.
func TestSpaceTimeGiStarBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const nx, ny, T = 7, 6, 9
	N := nx * ny
	col, row := make([]int32, N), make([]int32, N)
	for i := range N {
		col[i], row[i] = int32(i%nx), int32(i/nx)
	}
	nb, err := LatticeBand(nx, ny, col, row, 100, 150, true)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, N*T)
	for i := range x {
		x[i] = float64(rng.IntN(6))
	}
	for _, steps := range []int{1, 2, 4} {
		flat := Neighbours{Offsets: make([]int32, N*T+1)}
		for tt := range T {
			for i := range N {
				for s := max(0, tt-steps); s <= tt; s++ {
					for _, j := range nb.Of(i) {
						flat.Index = append(flat.Index, int32(s*N)+j)
					}
				}
				flat.Offsets[tt*N+i+1] = int32(len(flat.Index))
			}
		}
		want, err := GiStar(x, flat)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float64, N*T)
		spaceTimeGiStar(got, x, N, T, nb, steps)
		assertClose(t, "space-time Gi*", got, want, 1e-9)
	}
}

// TestEmergingPlantedHotSpot plants a cluster that appears in the last three
// weeks of a quiet random city and expects its centre to come out as a
// consecutive hot spot.
func TestEmergingPlantedHotSpot(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	const nx, ny, T = 20, 20, 12
	N := nx * ny
	col, row := make([]int32, N), make([]int32, N)
	for i := range N {
		col[i], row[i] = int32(i%nx), int32(i/nx)
	}
	nb, err := LatticeBand(nx, ny, col, row, 200, 300, true)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cube{N: N, T: T, Values: make([]float64, N*T)}
	for k := range c.Values {
		c.Values[k] = float64(rng.IntN(3))
	}
	centre := 14*nx + 14
	for tt := T - 3; tt < T; tt++ {
		for dr := -1; dr <= 1; dr++ {
			for dc := -1; dc <= 1; dc++ {
				c.Values[tt*N+centre+dr*nx+dc] += 12
			}
		}
	}
	res, err := Emerging(c, nb, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Category[centre]; got != ConsecutiveHot {
		t.Errorf("planted centre: %v, bins %v", got, columnBins(res, centre))
	}
	var quiet int
	for _, cat := range res.Category {
		if cat == NoPattern {
			quiet++
		}
	}
	if quiet < N*3/4 {
		t.Errorf("only %d of %d cells show no pattern in random noise", quiet, N)
	}
	if res.Trend[centre].Z <= 0 {
		t.Errorf("planted centre trend z = %v, want > 0", res.Trend[centre].Z)
	}
}

func columnBins(r *EmergingResult, i int) []int8 {
	out := make([]int8, r.T)
	for t := range out {
		out[t] = r.Bins[t*r.N+i]
	}
	return out
}

func TestEmergingRejectsBadInput(t *testing.T) {
	nb, _ := LatticeBand(2, 1, []int32{0, 1}, []int32{0, 0}, 1, 1, true)
	tests := []struct {
		name  string
		cube  *Cube
		steps int
		alpha float64
	}{
		{"nil cube", nil, 1, 0},
		{"short values", &Cube{N: 2, T: 2, Values: []float64{1}}, 1, 0},
		{"negative steps", &Cube{N: 2, T: 1, Values: []float64{1, 2}}, -1, 0},
		{"alpha above one", &Cube{N: 2, T: 1, Values: []float64{1, 2}}, 1, 2},
		{"lists do not match", &Cube{N: 3, T: 1, Values: []float64{1, 2, 3}}, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Emerging(tc.cube, nb, tc.steps, tc.alpha); err == nil {
				t.Error("no error")
			}
		})
	}
}
