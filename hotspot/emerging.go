package hotspot

import (
	"errors"
	"fmt"
	"math"
)

// Category is an emerging hot spot pattern, coded as ArcGIS Pro's Emerging
// Hot Spot Analysis codes its CATEGORY field: 1…8 hot patterns, −1…−8 their
// cold mirrors, 0 no pattern.
type Category int8

const (
	NoPattern       Category = 0
	NewHot          Category = 1
	ConsecutiveHot  Category = 2
	IntensifyingHot Category = 3
	PersistentHot   Category = 4
	DiminishingHot  Category = 5
	SporadicHot     Category = 6
	OscillatingHot  Category = 7
	HistoricalHot   Category = 8

	NewCold          Category = -1
	ConsecutiveCold  Category = -2
	IntensifyingCold Category = -3
	PersistentCold   Category = -4
	DiminishingCold  Category = -5
	SporadicCold     Category = -6
	OscillatingCold  Category = -7
	HistoricalCold   Category = -8
)

var categoryNames = [...]string{
	"new", "consecutive", "intensifying", "persistent",
	"diminishing", "sporadic", "oscillating", "historical",
}

// String names the category as the API writes it: "new_hot_spot",
// "historical_cold_spot", …, or "no_pattern".
func (c Category) String() string {
	switch {
	case c == 0:
		return "no_pattern"
	case c > 0 && c <= 8:
		return categoryNames[c-1] + "_hot_spot"
	case c < 0 && c >= -8:
		return categoryNames[-c-1] + "_cold_spot"
	}
	return fmt.Sprintf("category(%d)", int8(c))
}

// MarshalText writes the name, so JSON carries "new_hot_spot".
func (c Category) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// ParseCategory reads a name written by String.
func ParseCategory(s string) (Category, error) {
	for c := Category(-8); c <= 8; c++ {
		if c.String() == s {
			return c, nil
		}
	}
	return 0, fmt.Errorf("unknown emerging category %q", s)
}

// Classify assigns a location its emerging hot spot category from its bins
// over time (FDR confidence bins, ±1…±3 significant, 0 not; the last entry
// is the final time step) and the Mann–Kendall trend of its Gi* z-scores,
// significant at trendAlpha. The rules are ArcGIS Pro's "How Emerging Hot
// Spot Analysis works" pattern definitions, quoted for the hot side (the
// cold side mirrors them with hot and cold swapped):
//
//   - New: "a statistically significant hot spot for the final time step and
//     has never been a statistically significant hot spot before."
//   - Consecutive: "a single uninterrupted run of at least two statistically
//     significant hot spot bins in the final time-step intervals. The
//     location has never been a statistically significant hot spot prior to
//     the final hot spot run and less than ninety percent of all bins are
//     statistically significant hot spots."
//   - Intensifying: "a statistically significant hot spot for ninety percent
//     of the time-step intervals, including the final time step. In
//     addition, the intensity of clustering of high counts in each time step
//     is increasing overall and that increase is statistically significant."
//   - Persistent: "a statistically significant hot spot for ninety percent of
//     the time-step intervals with no discernible trend indicating an
//     increase or decrease in the intensity of clustering over time."
//   - Diminishing: as intensifying, with a significant decrease.
//   - Sporadic: "an on-again then off-again hot spot. Less than ninety
//     percent of the time-step intervals have been statistically significant
//     hot spots and none of the time-step intervals have been statistically
//     significant cold spots." Current ArcGIS Pro versions add that the final
//     time-step interval is hot, as for oscillating.
//   - Oscillating: "a statistically significant hot spot for the final
//     time-step interval that has a history of also being a statistically
//     significant cold spot during a prior time step. Less than ninety
//     percent of the time-step intervals have been statistically significant
//     hot spots."
//   - Historical: "the most recent time period is not hot, but at least
//     ninety percent of the time-step intervals have been statistically
//     significant hot spots."
//
// Readings where the text leaves room: "ninety percent" means at least 90%
// of the steps (counted exactly, hot·10 ≥ 9·T). Persistent also needs the
// final step hot, since a location whose final step is not hot is
// historical. "Increasing intensity" for a hot spot is a significant
// positive trend of its z-scores (more strongly hot); for a cold spot it is a
// significant negative trend (more strongly cold). New, consecutive and the
// ≥90% patterns take precedence over sporadic and oscillating, which are
// told apart by whether any step was significantly of the opposite kind.
func Classify(bins []int8, trend MKResult, trendAlpha float64) Category {
	if len(bins) == 0 {
		return NoPattern
	}
	if c := classifySide(bins, trend, trendAlpha, 1); c != NoPattern {
		return c
	}
	return -classifySide(bins, trend, trendAlpha, -1)
}

// classifySide applies the hot rules with sign = 1, or their cold mirror
// with sign = −1 (returning the hot code; the caller negates it).
func classifySide(bins []int8, trend MKResult, alpha float64, sign int8) Category {
	T := len(bins)
	var same, opposite int
	for _, b := range bins {
		switch {
		case b*sign > 0:
			same++
		case b*sign < 0:
			opposite++
		}
	}
	ninety := same*10 >= 9*T
	finalSame := bins[T-1]*sign > 0
	if !finalSame {
		if ninety {
			return HistoricalHot
		}
		return NoPattern
	}
	if same == 1 {
		return NewHot
	}
	if ninety {
		significant := trend.P < alpha
		towards := trend.Z * float64(sign) // > 0: becoming more extreme
		switch {
		case significant && towards > 0:
			return IntensifyingHot
		case significant && towards < 0:
			return DiminishingHot
		}
		return PersistentHot
	}
	run := 0
	for t := T - 1; t >= 0 && bins[t]*sign > 0; t-- {
		run++
	}
	if run >= 2 && run == same {
		return ConsecutiveHot
	}
	if opposite == 0 {
		return SporadicHot
	}
	return OscillatingHot
}

// EmergingResult is the outcome of an emerging hot spot analysis over a cube
// of N cells × T slices.
type EmergingResult struct {
	Category []Category // per cell
	Trend    []MKResult // per cell: Mann–Kendall on its Gi* z-scores
	// Z and Bins are per bin, slice-major like Cube.Values: the space-time
	// Gi* z-score and FDR confidence bin (per slice) of cell i in slice t.
	Z     []float64
	Bins  []int8
	N, T  int
	BandM float64 // distance band used when built from a grid; 0 otherwise
}

// Emerging runs the space-time analysis on a cube, following ArcGIS Pro's
// Emerging Hot Spot Analysis:
//
//  1. Space-time Gi*: the neighbourhood of bin (i, t) is every spatial
//     neighbour j of i (self included) in slices t−timeSteps … t — ArcGIS
//     finds the bins within the neighbourhood distance, then adds for each
//     the bins at the same location in the previous N time steps. Mean and
//     standard deviation are those of the whole cube, n = N·T.
//  2. Each slice's bins get p-values and Benjamini–Hochberg FDR confidence
//     bins (the family is the slice's N cells).
//  3. Each cell's z-score series gets a Mann–Kendall trend test, and
//     Classify gives its category.
//
// nb lists must include self; timeSteps 0 means 1, trendAlpha 0 means 0.05.
func Emerging(c *Cube, nb Neighbours, timeSteps int, trendAlpha float64) (*EmergingResult, error) {
	if c == nil || c.N < 2 || c.T < 1 || len(c.Values) != c.N*c.T {
		return nil, errors.New("emerging: malformed cube")
	}
	if nb.Len() != c.N {
		return nil, fmt.Errorf("emerging: %d cells but %d neighbour lists", c.N, nb.Len())
	}
	if timeSteps < 0 {
		return nil, fmt.Errorf("emerging: negative neighbourhood time step %d", timeSteps)
	}
	if timeSteps == 0 {
		timeSteps = 1
	}
	if trendAlpha == 0 {
		trendAlpha = 0.05
	}
	if !(trendAlpha > 0 && trendAlpha < 1) {
		return nil, fmt.Errorf("emerging: trend alpha %v outside (0, 1)", trendAlpha)
	}
	N, T := c.N, c.T
	res := &EmergingResult{
		Category: make([]Category, N),
		Trend:    make([]MKResult, N),
		Z:        make([]float64, N*T),
		Bins:     make([]int8, N*T),
		N:        N, T: T,
	}
	spaceTimeGiStar(res.Z, c.Values, N, T, nb, timeSteps)
	p := make([]float64, N)
	for t := range T {
		zt := res.Z[t*N : (t+1)*N]
		for i, v := range zt {
			p[i] = PNorm2(v)
		}
		copy(res.Bins[t*N:(t+1)*N], FDRBins(zt, p))
	}
	series := make([]float64, T)
	bins := make([]int8, T)
	seen := make([]bool, T)
	for i := range N {
		for t := range T {
			series[t] = res.Z[t*N+i]
			bins[t] = res.Bins[t*N+i]
		}
		res.Trend[i] = mannKendall(series, seen)
		res.Category[i] = Classify(bins, res.Trend[i], trendAlpha)
	}
	return res, nil
}

// spaceTimeGiStar writes the space-time Gi* of every bin into z. The spatial
// lag of each slice is computed once and summed over the time window with a
// ring of timeSteps+1 slices, so the cost is O(N·k·T) whatever timeSteps is.
func spaceTimeGiStar(z, x []float64, N, T int, nb Neighbours, timeSteps int) {
	mean, s := meanSD(x)
	fn := float64(N * T)
	w := make([]float64, N)
	w2 := make([]float64, N)
	for i := range N {
		for k := nb.Offsets[i]; k < nb.Offsets[i+1]; k++ {
			wk := 1.0
			if nb.Weights != nil {
				wk = nb.Weights[k]
			}
			w[i] += wk
			w2[i] += wk * wk
		}
	}
	ring := make([][]float64, timeSteps+1)
	for r := range ring {
		ring[r] = make([]float64, N)
	}
	window := make([]float64, N)
	for t := range T {
		slot := ring[t%len(ring)]
		if t >= len(ring) {
			// The slice leaving the window.
			for i, v := range slot {
				window[i] -= v
			}
		}
		xt := x[t*N : (t+1)*N]
		for i := range N {
			lo, hi := nb.Offsets[i], nb.Offsets[i+1]
			var lag float64
			if nb.Weights == nil {
				for _, j := range nb.Index[lo:hi] {
					lag += xt[j]
				}
			} else {
				for k := lo; k < hi; k++ {
					lag += nb.Weights[k] * xt[nb.Index[k]]
				}
			}
			slot[i] = lag
			window[i] += lag
		}
		m := float64(min(t, timeSteps) + 1)
		zt := z[t*N : (t+1)*N]
		for i := range N {
			W, S1 := w[i]*m, w2[i]*m
			zt[i] = zOrZero(window[i]-W*mean, s*math.Sqrt((fn*S1-W*W)/(fn-1)))
		}
	}
}
