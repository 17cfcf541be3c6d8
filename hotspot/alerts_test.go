package hotspot

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// poissonSeries draws n daily counts with mean mu (times a weekday factor).
func poissonSeries(rng *rand.Rand, n int, mu float64, start time.Time, weekend float64) []int {
	out := make([]int, n)
	for t := range out {
		m := mu
		if wd := start.AddDate(0, 0, t).Weekday(); wd == time.Saturday || wd == time.Sunday {
			m *= weekend
		}
		// Knuth's method is fine for these small means.
		l, k, p := math.Exp(-m), 0, 1.0
		for {
			p *= rng.Float64()
			if p <= l {
				break
			}
			k++
		}
		out[t] = k
	}
	return out
}

func TestAlertsFlagsASpikeOnly(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 20))
	start := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC) // a Monday
	var codes []string
	var series [][]int
	for g := range 200 {
		codes = append(codes, "110101001001"+string(rune('0'+g/100))+string(rune('0'+g/10%10))+string(rune('0'+g%10)))
		series = append(series, poissonSeries(rng, 29, 2, start, 1))
	}
	series[17][28] = 16 // mean 2, sixteen today
	alerts, err := Alerts(codes, series, AlertOptions{Step: StepDay, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].Code != codes[17] {
		t.Fatalf("alerts %+v, want only %s", alerts, codes[17])
	}
	a := alerts[0]
	if a.Observed != 16 || a.Expected < 1 || a.Expected > 3.5 || a.P > 1e-6 || a.Q > 0.05 {
		t.Errorf("alert %+v", a)
	}
}

func TestAlertsWeekdaySeasonality(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 5))
	start := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC) // Monday; day 27 is a Sunday
	var codes []string
	var series [][]int
	for g := range 60 {
		codes = append(codes, string(rune('A'+g%26))+string(rune('a'+g/26)))
		series = append(series, poissonSeries(rng, 28, 1.5, start, 4))
	}
	// Every grid's last day is a busy Sunday (weekend mean 6, weekdays 1.5);
	// grid 0's is busier still.
	series[0][27] = 13
	daily, err := ScoreAlerts(codes, series, AlertOptions{Step: StepDay, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	// Without seasonality (a non-daily step) a Sunday is judged against the
	// all-week mean of about 2.8.
	flat, err := ScoreAlerts(codes, series, AlertOptions{Step: StepWeek, Baseline: 27})
	if err != nil {
		t.Fatal(err)
	}
	if daily[0].Expected < 4.5 || flat[0].Expected > 3.5 || !(flat[0].P < daily[0].P) {
		t.Errorf("Sunday expected %.2f (p %.3g) with seasonality, %.2f (p %.3g) without",
			daily[0].Expected, daily[0].P, flat[0].Expected, flat[0].P)
	}
	for _, a := range daily {
		if a.Significant {
			t.Errorf("ordinary busy Sunday flagged: %+v", a)
		}
	}
}

func TestAlertsModelChoice(t *testing.T) {
	tests := []struct {
		name   string
		series []int
		model  string
		sig    bool
	}{
		// Mean 2, variance about 0.3: Poisson; 9 is far out.
		{"steady baseline", []int{2, 2, 3, 2, 1, 2, 2, 3, 2, 2, 9}, "poisson", true},
		// Same mean, bursty: negative binomial; 9 is within its tail.
		{"bursty baseline", []int{0, 0, 8, 0, 0, 7, 0, 0, 5, 0, 9}, "negbin", false},
		// A jump from nothing to two is below the minimum count.
		{"tiny counts", []int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, "poisson", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ScoreAlerts([]string{"g"}, [][]int{tc.series}, AlertOptions{Step: StepWeek, Baseline: 10})
			if err != nil {
				t.Fatal(err)
			}
			if s[0].Model != tc.model || s[0].Significant != tc.sig {
				t.Errorf("score %+v, want model %s significant %v", s[0], tc.model, tc.sig)
			}
		})
	}
}

func TestAlertsRejects(t *testing.T) {
	tests := []struct {
		name   string
		codes  []string
		series [][]int
		opt    AlertOptions
	}{
		{"codes and series differ", []string{"a"}, nil, AlertOptions{Step: StepWeek}},
		{"ragged", []string{"a", "b"}, [][]int{{1, 2, 3}, {1, 2}}, AlertOptions{Step: StepWeek}},
		{"too short", []string{"a"}, [][]int{{1, 2}}, AlertOptions{Step: StepWeek}},
		{"daily without start", []string{"a"}, [][]int{{1, 2, 3}}, AlertOptions{Step: StepDay}},
		{"negative guard", []string{"a"}, [][]int{{1, 2, 3, 4}}, AlertOptions{Step: StepWeek, Guard: -1}},
		{"guard leaves no baseline", []string{"a"}, [][]int{{1, 2, 3, 4}}, AlertOptions{Step: StepWeek, Guard: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ScoreAlerts(tc.codes, tc.series, tc.opt); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestCountSeries(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2024, 5, d, h, 0, 0, 0, time.UTC) }
	bounds, err := StepDay.Boundaries(day(1, 0), day(4, 0))
	if err != nil {
		t.Fatal(err)
	}
	codes := []string{"a", "b", "a", "a", "zz", "b"}
	times := []int64{day(1, 0).Unix(), day(2, 5).Unix(), day(3, 23).Unix(), day(4, 0).Unix(), day(2, 1).Unix(), day(0, 12).Unix()}
	got, err := CountSeries([]string{"a", "b", "quiet"}, codes, times, bounds)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int{{1, 0, 1}, {0, 1, 0}, {0, 0, 0}}
	for g := range want {
		if !slices.Equal(got[g], want[g]) {
			t.Errorf("grid %d: %v, want %v", g, got[g], want[g])
		}
	}
	if _, err := CountSeries(nil, codes, times[:2], bounds); err == nil {
		t.Error("length mismatch accepted")
	}
}

// A rise building up over weeks (the demo's emerging hot spot goes 1:3:5:7)
// lifts its own baseline: only a guard between baseline and the week tested
// keeps it visible.
func TestAlertsGuardKeepsARampVisible(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	start := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)
	var codes []string
	var series [][]int
	for g := range 100 {
		codes = append(codes, string(rune('A'+g%26))+string(rune('a'+g/26)))
		series = append(series, poissonSeries(rng, 16, 1, start, 1))
	}
	copy(series[7][12:], []int{25, 80, 130, 190})
	tests := []struct {
		name    string
		guard   int
		flagged bool
	}{
		{"no guard", 0, false},
		{"guard of two", 2, true},
		{"guard of three", 3, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			all, err := ScoreAlerts(codes, series, AlertOptions{Step: StepWeek, Guard: tc.guard})
			if err != nil {
				t.Fatal(err)
			}
			if all[7].Significant != tc.flagged {
				t.Errorf("ramp scored %+v, want significant %v", all[7], tc.flagged)
			}
			// The baseline is the 12 weeks before the guard, whatever it is.
			want := 0.5
			for _, v := range series[7][15-tc.guard-12 : 15-tc.guard] {
				want += float64(v)
			}
			if want /= 12; math.Abs(all[7].Expected-want) > 1e-12 {
				t.Errorf("expected %v, want %v", all[7].Expected, want)
			}
			for g, a := range all {
				if g != 7 && a.Significant {
					t.Errorf("quiet grid flagged: %+v", a)
				}
			}
		})
	}
}

// A daily baseline behind a guard still gets the weekday factors of its own
// days, and the day tested keeps its weekday.
func TestAlertsGuardDailySeasonality(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	start := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC) // Monday; day 27 is a Sunday
	var codes []string
	var series [][]int
	for g := range 60 {
		codes = append(codes, string(rune('A'+g%26))+string(rune('a'+g/26)))
		series = append(series, poissonSeries(rng, 28, 1.5, start, 4))
	}
	all, err := ScoreAlerts(codes, series, AlertOptions{Step: StepDay, Start: start, Guard: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		if a.Significant {
			t.Errorf("ordinary busy Sunday flagged: %+v", a)
		}
	}
	// Sunday's mean is 6 against 1.5 on weekdays: the expectation must
	// carry the Sunday factor (about 1.9 × the all-week mean of 2.79).
	var mean float64
	for _, a := range all {
		mean += a.Expected / float64(len(all))
	}
	if mean < 4.5 || mean > 7.5 {
		t.Errorf("mean expected count on the Sunday tested %.2f, want about 6", mean)
	}
}
