package hotspot

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/incidents"
)

// Case is what accountability needs of an incident.
type Case struct {
	Grid       string
	ReportedAt time.Time
	Deadline   *time.Time
	Status     string
	ClosedAt   *time.Time
	Reworks    int
	Extended   bool
}

// Period is a reporting period [From, To) read as of AsOf (zero: To).
type Period struct {
	From, To, AsOf time.Time
}

// Figures are one unit's accountability figures for a period. Rates are nil
// when nothing was due, the median when nothing closed.
type Figures struct {
	Code         string `json:"code"`
	Due          int    `json:"due"`
	Closed       int    `json:"closed"`
	ClosedOnTime int    `json:"closed_on_time"`
	Reworked     int    `json:"reworked"`
	Extended     int    `json:"extended"`
	OverdueOpen  int    `json:"overdue_open"`

	ClosedRate       *float64 `json:"closed_rate"`        // 结案率
	OnTimeRate       *float64 `json:"on_time_rate"`       // 按期结案率
	ReworkRate       *float64 `json:"rework_rate"`        // 返工率
	ExtensionRate    *float64 `json:"extension_rate"`     // 延期率
	MedianCloseHours *float64 `json:"median_close_hours"` // median time to close
}

// Accountability computes the figures of every unit at level for the
// period, as city bulletins publish them (definitions in README.md):
//
//   - due (应结案数): cases with a deadline in [From, To) that has passed by
//     AsOf; rejected cases (不予立案) are never due;
//   - closed: due cases closed by AsOf; on time: closed by their deadline;
//   - reworked: due cases sent back at least once; extended: due cases
//     whose deadline was extended;
//   - overdue open: due cases not closed by AsOf;
//   - rates divide by due; the median time to close (hours, reported →
//     closed) is over the closed due cases.
//
// Units are code prefixes of the level's length (grid 15, community 12,
// street 9, district 6), so each figure is summed from the cases of the
// unit, never averaged from its children. Cases without a grid code of that
// length are gathered under code "" (unassigned). Figures come sorted by
// code.
func Accountability(cases []Case, p Period, level grids.Level) ([]Figures, error) {
	n := level.CodeLen()
	if n == 0 {
		return nil, fmt.Errorf("accountability: unknown level %v", level)
	}
	if p.From.IsZero() || p.To.IsZero() || !p.From.Before(p.To) {
		return nil, errors.New("accountability: need from < to")
	}
	asOf := p.AsOf
	if asOf.IsZero() {
		asOf = p.To
	}
	type acc struct {
		f     Figures
		hours []float64
	}
	units := map[string]*acc{}
	for _, c := range cases {
		if c.Deadline == nil || c.Status == string(incidents.StatusRejected) {
			continue
		}
		d := *c.Deadline
		if d.Before(p.From) || !d.Before(p.To) || !d.Before(asOf) {
			continue
		}
		code := ""
		if len(c.Grid) >= n {
			code = c.Grid[:n]
		}
		a := units[code]
		if a == nil {
			a = &acc{f: Figures{Code: code}}
			units[code] = a
		}
		a.f.Due++
		if c.Reworks > 0 {
			a.f.Reworked++
		}
		if c.Extended {
			a.f.Extended++
		}
		if c.ClosedAt == nil || c.ClosedAt.After(asOf) {
			a.f.OverdueOpen++
			continue
		}
		a.f.Closed++
		if !c.ClosedAt.After(d) {
			a.f.ClosedOnTime++
		}
		a.hours = append(a.hours, c.ClosedAt.Sub(c.ReportedAt).Hours())
	}
	out := make([]Figures, 0, len(units))
	for _, a := range units {
		f := a.f
		due := float64(f.Due)
		f.ClosedRate = ptr(float64(f.Closed) / due)
		f.OnTimeRate = ptr(float64(f.ClosedOnTime) / due)
		f.ReworkRate = ptr(float64(f.Reworked) / due)
		f.ExtensionRate = ptr(float64(f.Extended) / due)
		if len(a.hours) > 0 {
			f.MedianCloseHours = ptr(median(a.hours))
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

func ptr(v float64) *float64 { return &v }

// median sorts v in place.
func median(v []float64) float64 {
	slices.Sort(v)
	k := len(v) / 2
	if len(v)%2 == 1 {
		return v[k]
	}
	return (v[k-1] + v[k]) / 2
}

// CountByCode counts incidents per grid code, over the incidents keep
// accepts (all when nil); empty codes (unassigned) are skipped.
func CountByCode(codes []string, keep func(i int) bool) map[string]int {
	out := map[string]int{}
	for i, c := range codes {
		if c == "" || (keep != nil && !keep(i)) {
			continue
		}
		out[c]++
	}
	return out
}

// RollUp sums per-grid counts into the units of level by code prefix.
func RollUp(counts map[string]int, level grids.Level) (map[string]int, error) {
	n := level.CodeLen()
	if n == 0 {
		return nil, fmt.Errorf("roll up: unknown level %v", level)
	}
	out := map[string]int{}
	for code, v := range counts {
		if len(code) < n {
			return nil, fmt.Errorf("roll up: code %q is shorter than a %v code", code, level)
		}
		out[code[:n]] += v
	}
	return out, nil
}
