package hotspot

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// GiStar computes the Getis-Ord Gi* z-score of every feature:
//
//	Gi*_i = (Σ_j w_ij x_j − W_i x̄) / (S √((n S1_i − W_i²)/(n−1)))
//
// with x̄ and S = √(Σx²/n − x̄²) taken over all n features, W_i = Σ_j w_ij
// and S1_i = Σ_j w_ij². The neighbour lists must include the feature itself
// (DistanceBand/LatticeBand with includeSelf, or WithSelf); this is spdep's
// localG on an include.self list and the ArcGIS Hot Spot Analysis statistic.
// A feature whose value cannot be told apart from the rest (all values equal,
// or its neighbourhood is the whole study area) gets z = 0.
func GiStar(x []float64, nb Neighbours) ([]float64, error) {
	if err := checkInputs(x, nb); err != nil {
		return nil, fmt.Errorf("gi*: %w", err)
	}
	z := make([]float64, len(x))
	mean, s := meanSD(x)
	giStarInto(z, x, nb, mean, s)
	return z, nil
}

// Gi computes the Getis-Ord Gi z-score, the variant that leaves the feature
// itself out: mean and variance of the other n−1 values,
//
//	Gi_i = (Σ_j w_ij x_j − W_i x̄_i) / (s_i √(((n−1) S1_i − W_i²)/(n−2)))
//
// as spdep's localG on a list without self. Lists must not contain self.
func Gi(x []float64, nb Neighbours) ([]float64, error) {
	if err := checkInputs(x, nb); err != nil {
		return nil, fmt.Errorf("gi: %w", err)
	}
	n := len(x)
	if n < 3 {
		return nil, errors.New("gi: needs at least three features")
	}
	var sum, sum2 float64
	for _, v := range x {
		sum += v
		sum2 += v * v
	}
	z := make([]float64, n)
	fn := float64(n)
	for i := range n {
		lo, hi := nb.Offsets[i], nb.Offsets[i+1]
		var lag, w, w2 float64
		for k := lo; k < hi; k++ {
			j := nb.Index[k]
			if int(j) == i {
				return nil, fmt.Errorf("gi: feature %d lists itself; use GiStar", i)
			}
			wk := 1.0
			if nb.Weights != nil {
				wk = nb.Weights[k]
			}
			lag += wk * x[j]
			w += wk
			w2 += wk * wk
		}
		xbar := (sum - x[i]) / (fn - 1)
		s2 := (sum2-x[i]*x[i])/(fn-1) - xbar*xbar
		den := s2 * ((fn-1)*w2 - w*w) / (fn - 2)
		z[i] = ratio(lag-w*xbar, den)
	}
	return z, nil
}

func checkInputs(x []float64, nb Neighbours) error {
	if nb.Len() != len(x) {
		return fmt.Errorf("%d values but %d neighbour lists", len(x), nb.Len())
	}
	if len(x) < 2 {
		return errors.New("needs at least two features")
	}
	if nb.Weights != nil && len(nb.Weights) != len(nb.Index) {
		return errors.New("weights and index differ in length")
	}
	return nil
}

// meanSD returns the mean and the population standard deviation.
func meanSD(x []float64) (float64, float64) {
	var sum float64
	for _, v := range x {
		sum += v
	}
	mean := sum / float64(len(x))
	// Two-pass variance: counts can be large and nearly equal, where
	// Σx²/n − x̄² cancels badly.
	var ss float64
	for _, v := range x {
		d := v - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / float64(len(x)))
}

// giStarInto is the hot loop of GiStar, shared with the space-time version.
func giStarInto(z, x []float64, nb Neighbours, mean, s float64) {
	fn := float64(len(x))
	if nb.Weights == nil {
		// Binary weights: W = S1 = count, so the denominator depends only on
		// the count; cache it for the few distinct counts a lattice has.
		var cacheW [64]float64
		for i := range z {
			lo, hi := nb.Offsets[i], nb.Offsets[i+1]
			var lag float64
			for _, j := range nb.Index[lo:hi] {
				lag += x[j]
			}
			c := int(hi - lo)
			var den float64
			if c < len(cacheW) && cacheW[c] != 0 {
				den = cacheW[c]
			} else {
				w := float64(c)
				den = s * math.Sqrt((fn*w-w*w)/(fn-1))
				if c < len(cacheW) {
					cacheW[c] = den
				}
			}
			z[i] = zOrZero(lag-float64(c)*mean, den)
		}
		return
	}
	for i := range z {
		lo, hi := nb.Offsets[i], nb.Offsets[i+1]
		var lag, w, w2 float64
		for k := lo; k < hi; k++ {
			wk := nb.Weights[k]
			lag += wk * x[nb.Index[k]]
			w += wk
			w2 += wk * wk
		}
		z[i] = zOrZero(lag-w*mean, s*math.Sqrt((fn*w2-w*w)/(fn-1)))
	}
}

// zOrZero divides, mapping a degenerate denominator (no variance) to 0.
func zOrZero(num, den float64) float64 {
	if !(den > 0) {
		return 0
	}
	// Rounding leaves |num| ~ 1e-13 where it should be 0; below that the
	// ratio is noise, not a signal.
	if math.Abs(num) < 1e-12*den {
		return 0
	}
	return num / den
}

// ratio is zOrZero on a squared denominator.
func ratio(num, den2 float64) float64 {
	if !(den2 > 0) {
		return 0
	}
	return zOrZero(num, math.Sqrt(den2))
}

// PValues returns two-sided p-values of standard normal z-scores.
func PValues(z []float64) []float64 {
	p := make([]float64, len(z))
	for i, v := range z {
		p[i] = PNorm2(v)
	}
	return p
}

// PNorm2 is the two-sided standard normal p-value of z.
func PNorm2(z float64) float64 { return math.Erfc(math.Abs(z) / math.Sqrt2) }

// FDR levels of the confidence bins ±1, ±2, ±3 (90, 95, 99 per cent).
var fdrLevels = [3]float64{0.10, 0.05, 0.01}

// FDRBins assigns each feature a confidence bin after the Benjamini–Hochberg
// false discovery rate correction, as ArcGIS Hot Spot Analysis reports
// Gi_Bin: for each level q in 0.10, 0.05, 0.01, the p-values are sorted and
// the largest p_(k) ≤ k·q/m is the cut-off; features at or under it are
// significant at that level. The bin is ±1, ±2 or ±3 for the strictest level
// passed, with the sign of z (hot positive, cold negative), else 0.
func FDRBins(z, p []float64) []int8 {
	bins := make([]int8, len(z))
	cut := BHCutoffs(p, fdrLevels[:])
	for i := range z {
		var b int8
		for l, c := range cut {
			if p[i] <= c {
				b = int8(l + 1)
			}
		}
		if z[i] < 0 {
			b = -b
		}
		bins[i] = b
	}
	return bins
}

// BHCutoffs returns, for each FDR level q, the Benjamini–Hochberg p-value
// cut-off: the largest sorted p_(k) with p_(k) ≤ k·q/m, or −1 when no
// p-value passes. NaN p-values never pass.
func BHCutoffs(p []float64, levels []float64) []float64 {
	// A cut-off p_(k) ≤ k·q/m ≤ q, so only p-values up to the loosest level
	// can be one, and every p-value below a candidate is itself at most q:
	// sorting just those keeps the ranks right at a fraction of the cost.
	var loosest float64
	for _, q := range levels {
		loosest = math.Max(loosest, q)
	}
	var sorted []float64
	for _, v := range p {
		if v <= loosest { // false for NaN
			sorted = append(sorted, v)
		}
	}
	slices.Sort(sorted)
	m := float64(len(p))
	out := make([]float64, len(levels))
	for l, q := range levels {
		out[l] = -1
		for k := len(sorted) - 1; k >= 0; k-- {
			if sorted[k] <= float64(k+1)*q/m {
				out[l] = sorted[k]
				break
			}
		}
	}
	return out
}

// BHAdjust returns Benjamini–Hochberg adjusted p-values (q-values), as R's
// p.adjust(p, "BH"): q_(k) = min over j ≥ k of m·p_(j)/j, capped at 1.
func BHAdjust(p []float64) []float64 {
	m := len(p)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case p[a] < p[b]:
			return -1
		case p[a] > p[b]:
			return 1
		}
		return 0
	})
	q := make([]float64, m)
	run := 1.0
	for k := m - 1; k >= 0; k-- {
		i := idx[k]
		v := p[i] * float64(m) / float64(k+1)
		run = math.Min(run, v)
		q[i] = run
	}
	return q
}
