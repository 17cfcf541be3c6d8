package hotspot

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// AlertOptions configure ScoreAlerts.
type AlertOptions struct {
	// Step of the series; StepDay turns on weekday seasonality.
	Step Step
	// Start is the start of period 0 (its weekday matters for daily steps).
	Start time.Time
	// Baseline is how many periods before the last one form the baseline;
	// 0 means 28 days, 12 weeks or 12 months, capped at what the series hold.
	Baseline int
	// Guard is how many periods between the baseline and the last one are
	// left out of both (0: none). A rise that builds up over several
	// periods otherwise lifts its own baseline and is never flagged; CDC's
	// EARS C2 keeps a guard of 2 for the same reason.
	Guard int
	// FDR is the Benjamini–Hochberg level across grids; 0 means 0.05.
	FDR float64
	// MinObserved is the least count in the last period that may raise an
	// alert (a jump from 0 to 1 is not news); 0 means 3.
	MinObserved int
}

// AlertScore is one grid's last period against its own baseline.
type AlertScore struct {
	Code     string  `json:"code"`
	Observed int     `json:"observed"`
	Expected float64 `json:"expected"`
	// Model is "poisson", or "negbin" when the baseline is overdispersed;
	// Size is then the negative binomial size r (variance μ + μ²/r).
	Model       string  `json:"model"`
	Size        float64 `json:"size,omitempty"`
	P           float64 `json:"p"` // P(Y ≥ observed) under the baseline model
	Q           float64 `json:"q"` // Benjamini–Hochberg adjusted across grids
	Significant bool    `json:"significant"`
}

// ScoreAlerts tests, for every grid, whether the last period's count breaks
// the grid's own baseline: series[g] holds grid codes[g]'s counts per period,
// oldest first, the last entry being the period under test.
//
// The baseline is the opt.Baseline periods before the last one, or before
// the opt.Guard periods that precede it. For daily steps each
// weekday has a seasonal factor, pooled over all grids' baselines (a single
// grid has too few counts per weekday): f_d = mean count on weekday d ÷ mean
// count. The expected count is μ = (Σ y_t/f_{d(t)} + 0.5)/B · f_{d(last)}; the
// 0.5 (a Jeffreys prior) keeps a grid with an empty baseline from alerting on
// its first incident. When the deseasonalised baseline variance v exceeds its
// mean m the count is negative binomial with size r = m²/(v−m) (method of
// moments), else Poisson. P is the upper tail P(Y ≥ observed); Q adjusts P
// across all grids by Benjamini–Hochberg, and a grid is significant when
// Q ≤ opt.FDR and it observed at least opt.MinObserved.
func ScoreAlerts(codes []string, series [][]int, opt AlertOptions) ([]AlertScore, error) {
	if len(codes) != len(series) {
		return nil, fmt.Errorf("alerts: %d codes but %d series", len(codes), len(series))
	}
	if len(series) == 0 {
		return nil, nil
	}
	L := len(series[0])
	for g, s := range series {
		if len(s) != L {
			return nil, fmt.Errorf("alerts: series %q has %d periods, want %d", codes[g], len(s), L)
		}
	}
	if L < 3 {
		return nil, errors.New("alerts: need at least two baseline periods and the last one")
	}
	if opt.Step == StepDay && opt.Start.IsZero() {
		return nil, errors.New("alerts: daily steps need the start of period 0")
	}
	B := opt.Baseline
	if B == 0 {
		switch opt.Step {
		case StepDay:
			B = 28
		default:
			B = 12
		}
	}
	if opt.Guard < 0 {
		return nil, fmt.Errorf("alerts: negative guard %d", opt.Guard)
	}
	B = min(B, L-1-opt.Guard)
	if B < 2 {
		return nil, fmt.Errorf("alerts: baseline of %d periods is too short", B)
	}
	fdr := opt.FDR
	if fdr == 0 {
		fdr = 0.05
	}
	minObs := opt.MinObserved
	if minObs == 0 {
		minObs = 3
	}
	first, last := L-1-opt.Guard-B, L-1
	season := weekdayFactors(series, first, first+B, opt)
	out := make([]AlertScore, len(series))
	u := make([]float64, B)
	for g, s := range series {
		var sum float64
		for k := range B {
			u[k] = float64(s[first+k]) / season[first+k]
			sum += u[k]
		}
		m := sum / float64(B)
		var ss float64
		for _, v := range u {
			ss += (v - m) * (v - m)
		}
		v := ss / float64(B-1)
		mu := (sum + 0.5) / float64(B) * season[last]
		sc := AlertScore{Code: codes[g], Observed: s[last], Expected: mu, Model: "poisson"}
		if v > m && m > 0 {
			sc.Model = "negbin"
			sc.Size = m * m / (v - m)
			sc.P = negBinUpper(s[last], mu, sc.Size)
		} else {
			sc.P = poissonUpper(s[last], mu)
		}
		out[g] = sc
	}
	p := make([]float64, len(out))
	for g := range out {
		p[g] = out[g].P
	}
	for g, q := range BHAdjust(p) {
		out[g].Q = q
		out[g].Significant = q <= fdr && out[g].Observed >= minObs
	}
	return out, nil
}

// Alerts returns only the significant scores, strongest first.
func Alerts(codes []string, series [][]int, opt AlertOptions) ([]AlertScore, error) {
	all, err := ScoreAlerts(codes, series, opt)
	if err != nil {
		return nil, err
	}
	var out []AlertScore
	for _, a := range all {
		if a.Significant {
			out = append(out, a)
		}
	}
	slices.SortStableFunc(out, func(a, b AlertScore) int {
		switch {
		case a.P < b.P:
			return -1
		case a.P > b.P:
			return 1
		}
		return 0
	})
	return out, nil
}

// CountSeries builds the per-grid count series ScoreAlerts reads: for each
// of gridCodes, the number of incidents per period [bounds[t], bounds[t+1]),
// from incident columns codes (grid code per incident) and times (unix
// seconds). Incidents of other grids or outside the bounds are ignored; a
// grid without incidents gets a zero series, so quiet grids keep their
// place in the FDR family. Step.Boundaries gives bounds ending at the
// alert time.
func CountSeries(gridCodes, codes []string, times []int64, bounds []time.Time) ([][]int, error) {
	if len(codes) != len(times) {
		return nil, errors.New("count series: codes and times differ in length")
	}
	if len(bounds) < 2 {
		return nil, errors.New("count series: need at least one period")
	}
	unix := make([]int64, len(bounds))
	for i, b := range bounds {
		unix[i] = b.Unix()
		if i > 0 && unix[i] <= unix[i-1] {
			return nil, errors.New("count series: bounds must increase")
		}
	}
	row := make(map[string]int, len(gridCodes))
	series := make([][]int, len(gridCodes))
	flat := make([]int, len(gridCodes)*(len(bounds)-1))
	for g, c := range gridCodes {
		row[c] = g
		series[g] = flat[g*(len(bounds)-1) : (g+1)*(len(bounds)-1)]
	}
	for i, ts := range times {
		if ts < unix[0] || ts >= unix[len(unix)-1] {
			continue
		}
		g, ok := row[codes[i]]
		if !ok {
			continue
		}
		t, _ := slices.BinarySearch(unix, ts+1)
		series[g][t-1]++
	}
	return series, nil
}

// weekdayFactors returns a multiplicative factor per period: 1 unless the
// step is daily, then the weekday factor of that period's weekday, pooled
// over the baseline periods [first, end).
func weekdayFactors(series [][]int, first, end int, opt AlertOptions) []float64 {
	f := make([]float64, len(series[0]))
	for t := range f {
		f[t] = 1
	}
	if opt.Step != StepDay {
		return f
	}
	var sum, n [7]float64
	var total, periods float64
	for t := first; t < end; t++ {
		d := opt.Start.AddDate(0, 0, t).Weekday()
		for _, s := range series {
			sum[d] += float64(s[t])
			total += float64(s[t])
		}
		n[d]++
		periods++
	}
	if total == 0 {
		return f
	}
	overall := total / periods
	var fd [7]float64
	for d := range fd {
		fd[d] = 1
		// A weekday seen but never busy would give a zero factor and divide
		// by zero; keep 1 there, and for weekdays the baseline lacks.
		if n[d] > 0 && sum[d] > 0 {
			fd[d] = sum[d] / n[d] / overall
		}
	}
	for t := range f {
		f[t] = fd[opt.Start.AddDate(0, 0, t).Weekday()]
	}
	return f
}

// poissonUpper is P(Y ≥ y) for Y ~ Poisson(mu), summed from whichever tail
// is small so that tiny p-values keep their precision.
func poissonUpper(y int, mu float64) float64 {
	if y <= 0 {
		return 1
	}
	if !(mu > 0) {
		return 0
	}
	logPMF := func(k int) float64 {
		lg, _ := math.Lgamma(float64(k) + 1)
		return float64(k)*math.Log(mu) - mu - lg
	}
	if float64(y) > mu {
		// Upper tail: terms fall from y on.
		term := math.Exp(logPMF(y))
		sum := term
		for k := y + 1; term > sum*1e-17; k++ {
			term *= mu / float64(k)
			sum += term
		}
		return math.Min(sum, 1)
	}
	// Lower tail: 1 − P(Y ≤ y−1), terms rising towards y−1.
	term := math.Exp(logPMF(y - 1))
	sum := term
	for k := y - 1; k > 0 && term > sum*1e-17; k-- {
		term *= float64(k) / mu
		sum += term
	}
	return math.Max(0, 1-sum)
}

// negBinUpper is P(Y ≥ y) for a negative binomial of mean mu and size r
// (pmf Γ(k+r)/(Γ(r) k!) · (r/(r+mu))^r · (mu/(r+mu))^k).
func negBinUpper(y int, mu, r float64) float64 {
	if y <= 0 {
		return 1
	}
	if !(mu > 0) {
		return 0
	}
	q := mu / (r + mu)
	// Both tails start from one exact pmf term and recur from it, like
	// poissonUpper.
	if float64(y) > mu {
		// The pmf peaks below the mean, so past the mean its terms fall
		// geometrically (ratio → q < 1) and the upper tail is the small one.
		term := math.Exp(negBinLogPMF(y, mu, r))
		sum := term
		for k := y; term > sum*1e-17; k++ {
			term *= (float64(k) + r) / float64(k+1) * q
			sum += term
		}
		return math.Min(sum, 1)
	}
	// Lower tail: 1 − P(Y ≤ y−1), from y−1 down.
	term := math.Exp(negBinLogPMF(y-1, mu, r))
	sum := term
	for k := y - 1; k > 0 && term > sum*1e-17; k-- {
		term *= float64(k) / ((float64(k-1) + r) * q)
		sum += term
	}
	return math.Max(0, 1-sum)
}

// negBinLogPMF is log P(Y = k) for a negative binomial of mean mu and size
// r. A nearly Poisson baseline (variance a hair above its mean) gives a huge
// r, where Lgamma(k+r) − Lgamma(r) and r·log(r/(r+mu)) cancel away every
// digit; there the rising factorial is summed term by term and the
// logarithms are taken with log1p, which tends to the Poisson pmf.
func negBinLogPMF(k int, mu, r float64) float64 {
	lk, _ := math.Lgamma(float64(k) + 1)
	fk := float64(k)
	if r < 1e5 {
		a, _ := math.Lgamma(fk + r)
		b, _ := math.Lgamma(r)
		return a - b - lk - r*math.Log1p(mu/r) + fk*math.Log(mu/(r+mu))
	}
	// log Γ(k+r)/Γ(r) = k·log r + Σ_{j<k} log1p(j/r); the k·log r joins
	// k·log(mu/(r+mu)) as k·(log mu − log1p(mu/r)).
	var rising float64
	for j := 1; j < k; j++ {
		rising += math.Log1p(float64(j) / r)
	}
	return rising - lk + fk*math.Log(mu) - (r+fk)*math.Log1p(mu/r)
}
