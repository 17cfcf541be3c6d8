package hotspot

import "math"

// MKResult is a Mann–Kendall trend test on one series.
type MKResult struct {
	S   float64 // Σ_{i<j} sign(x_j − x_i)
	Var float64 // variance of S under no trend, corrected for ties
	Z   float64 // (S − sign(S)) / √Var: continuity-corrected
	P   float64 // two-sided
}

// MannKendall tests a series for a monotonic trend. The variance is
//
//	Var(S) = [n(n−1)(2n+5) − Σ_t t(t−1)(2t+5)] / 18
//
// summed over groups of t tied values, and Z carries the continuity
// correction (S−1 for S>0, S+1 for S<0), as Kendall::MannKendall and R's
// cor.test(method="kendall", exact=FALSE, continuity=TRUE) compute it. A
// series with fewer than three values, or all values tied, has Z=0 and P=1.
// NaN values are not allowed.
func MannKendall(x []float64) MKResult {
	return mannKendall(x, make([]bool, len(x)))
}

// mannKendall uses seen (len ≥ len(x)) to mark values already counted in a
// tie group, so cube-wide loops do not allocate per cell. The pair loop is
// branch-free: z-score series make the comparisons unpredictable.
func mannKendall(x []float64, seen []bool) MKResult {
	n := len(x)
	seen = seen[:n]
	clear(seen)
	var s int
	var ties float64
	for i := 0; i < n; i++ {
		xi := x[i]
		var up, down int
		for _, xj := range x[i+1:] {
			up += b2i(xj > xi)
			down += b2i(xj < xi)
		}
		s += up - down
		eq := n - 1 - i - up - down
		if eq == 0 || seen[i] {
			continue
		}
		// x[i] opens a tie group of 1+eq values; mark the rest.
		for j := i + 1; j < n; j++ {
			if x[j] == xi {
				seen[j] = true
			}
		}
		t := float64(1 + eq)
		ties += t * (t - 1) * (2*t + 5)
	}
	fn := float64(n)
	v := (fn*(fn-1)*(2*fn+5) - ties) / 18
	r := MKResult{S: float64(s), Var: v, P: 1}
	if n < 3 || !(v > 0) {
		return r
	}
	switch {
	case s > 0:
		r.Z = float64(s-1) / math.Sqrt(v)
	case s < 0:
		r.Z = float64(s+1) / math.Sqrt(v)
	}
	r.P = PNorm2(r.Z)
	return r
}

// b2i compiles to a flag move, not a branch.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
