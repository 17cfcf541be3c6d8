package api

import (
	"net/http"
	"time"

	"github.com/gridd/gridd/hotspot"
)

// defaultGuard is how many periods before the one tested stay out of the
// baseline (hotspot.AlertOptions.Guard): a rise that builds up over a few
// weeks would otherwise lift its own baseline and never be flagged. Two is
// the guard of CDC's EARS C2.
const defaultGuard = 2

// The alert rule: Benjamini–Hochberg level across grids and the least
// count that may raise an alert (hotspot's defaults, stated in responses).
const (
	alertFDR         = 0.05
	alertMinObserved = 3
)

// defaultBaseline mirrors hotspot's: 28 days, 12 weeks or 12 months.
func defaultBaseline(step hotspot.Step) int {
	if step == hotspot.StepDay {
		return 28
	}
	return 12
}

// stepsBack is t moved n steps earlier, in t's location.
func stepsBack(step hotspot.Step, t time.Time, n int) time.Time {
	switch step {
	case hotspot.StepDay:
		return t.AddDate(0, 0, -n)
	case hotspot.StepWeek:
		return t.AddDate(0, 0, -7*n)
	}
	return t.AddDate(0, -n, 0)
}

type periodMeta struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// alertEntry is one grid's last period against its baseline.
type alertEntry struct {
	Code        string  `json:"code"`
	Name        string  `json:"name"`
	Parent      string  `json:"parent,omitempty"`
	Observed    int     `json:"observed"`
	Expected    float64 `json:"expected"`
	Model       string  `json:"model"`
	Size        float64 `json:"size,omitempty"`
	P           float64 `json:"p"`
	Q           float64 `json:"q"`
	Significant bool    `json:"significant"`
}

type alertsResponse struct {
	At          time.Time    `json:"at"`
	Step        string       `json:"step"`
	SetID       int64        `json:"set_id"`
	Tested      periodMeta   `json:"tested"`
	Baseline    periodMeta   `json:"baseline"`
	Periods     int          `json:"baseline_periods"`
	Guard       int          `json:"guard"`
	FDR         float64      `json:"fdr"`
	MinObserved int          `json:"min_observed"`
	Grids       int          `json:"grids"` // the family tested
	Alerts      []alertEntry `json:"alerts"`
	Scores      []alertEntry `json:"scores,omitempty"` // every grid, with all=true
}

// GET /api/v1/alerts?at=&step=day|week|month&baseline=&guard=&all=
//
// Grids of the set in force at at (within the key's scope) whose count in
// the last period before at breaks their own baseline (hotspot.Alerts):
// the baseline periods before a guard of 2 periods, negative binomial or
// Poisson, Benjamini–Hochberg q ≤ 0.05 across the grids and at least 3
// incidents. at defaults to the end of the day of the latest incident (or
// now), step to week.
func (an *analytics) handleAlerts(w http.ResponseWriter, r *http.Request) error {
	acc := AccessOf(r)
	if err := require(r, RoleAnalyst); err != nil {
		return err
	}
	q := newQuery(r.URL.Query())
	at, hasAt := q.time("at")
	step := hotspot.StepWeek
	if s := q.str("step"); s != "" {
		var err error
		if step, err = hotspot.ParseStep(s); err != nil {
			q.fail("step", "%v", err)
		}
	}
	baseline := q.int("baseline", defaultBaseline(step), 2, 400)
	guard := q.int("guard", defaultGuard, 0, 60)
	all := q.str("all") == "true" || q.str("all") == "1"
	if q.err != nil {
		return q.err
	}
	rs := an.points(acc.Scope)
	if !hasAt {
		at = defaultEnd(rs.latest, time.Now())
	}
	bounds, err := step.Boundaries(stepsBack(step, at, baseline+guard+1), at)
	if err != nil {
		return unprocessable("%v", err)
	}
	ix, err := an.setAt(at.Add(-time.Nanosecond))
	if err != nil {
		return err
	}
	leaves := scopeLeaves(ix, acc.Scope)
	codes := make([]string, len(leaves))
	for i, g := range leaves {
		codes[i] = g.Code
	}
	// Only the incidents of the periods in play are handed on.
	lo, hi := bounds[0].Unix(), at.Unix()
	names := rs.view.Grids()
	var rowCodes []string
	var rowTimes []int64
	for i, t := range rs.pts.ReportedAt {
		if t >= lo && t < hi {
			rowCodes = append(rowCodes, names[rs.grid[i]])
			rowTimes = append(rowTimes, t)
		}
	}
	series, err := hotspot.CountSeries(codes, rowCodes, rowTimes, bounds)
	if err != nil {
		return err
	}
	opt := hotspot.AlertOptions{Step: step, Start: bounds[0], Baseline: baseline, Guard: guard,
		FDR: alertFDR, MinObserved: alertMinObserved}
	flagged, err := hotspot.Alerts(codes, series, opt)
	if err != nil {
		return unprocessable("%v", err)
	}
	res := alertsResponse{
		At: at, Step: step.String(), SetID: ix.Set().ID,
		Tested:   periodMeta{From: bounds[len(bounds)-2], To: at},
		Baseline: periodMeta{From: bounds[0], To: bounds[baseline]},
		Periods:  baseline, Guard: guard, FDR: alertFDR, MinObserved: alertMinObserved,
		Grids: len(codes), Alerts: []alertEntry{},
	}
	entry := func(s hotspot.AlertScore) alertEntry {
		e := alertEntry{Code: s.Code, Observed: s.Observed, Expected: s.Expected, Model: s.Model,
			Size: s.Size, P: s.P, Q: s.Q, Significant: s.Significant}
		if g := ix.Grid(s.Code); g != nil {
			e.Name, e.Parent = g.Name, g.Parent
		}
		return e
	}
	for _, s := range flagged {
		res.Alerts = append(res.Alerts, entry(s))
	}
	if all {
		scores, err := hotspot.ScoreAlerts(codes, series, opt)
		if err != nil {
			return unprocessable("%v", err)
		}
		for _, s := range scores {
			res.Scores = append(res.Scores, entry(s))
		}
	}
	return writeJSON(w, http.StatusOK, res)
}
