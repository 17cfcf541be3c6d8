package hotspot

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/gridd/gridd/grids"
)

func at(day, hour int) *time.Time {
	t := time.Date(2024, 6, day, hour, 0, 0, 0, time.UTC)
	return &t
}

// accountabilityCases: two grids of one community, one grid of another
// community in the same street, in June 2024 read as of 20 June.
func accountabilityCases() []Case {
	const g1, g2, g3 = "110101001001001", "110101001001002", "110101001002001"
	return []Case{
		// g1: due 5th, closed on time after 48 h.
		{Grid: g1, ReportedAt: *at(2, 0), Deadline: at(5, 0), Status: "closed", ClosedAt: at(4, 0)},
		// g1: due 10th, closed late (12th) after 120 h, reworked once.
		{Grid: g1, ReportedAt: *at(7, 0), Deadline: at(10, 0), Status: "closed", ClosedAt: at(12, 0), Reworks: 1},
		// g1: due 15th, still open: overdue; its deadline was extended.
		{Grid: g1, ReportedAt: *at(8, 0), Deadline: at(15, 0), Status: "dispatched", Extended: true},
		// g1: due 25th, after as-of: not yet due.
		{Grid: g1, ReportedAt: *at(18, 0), Deadline: at(25, 0), Status: "closed", ClosedAt: at(19, 0)},
		// g1: due 31 May (day 0 of June): outside the period.
		{Grid: g1, ReportedAt: *at(1, 0), Deadline: at(0, 0), Status: "closed", ClosedAt: at(2, 0)},
		// g1: rejected, never due.
		{Grid: g1, ReportedAt: *at(3, 0), Deadline: at(6, 0), Status: "rejected"},
		// g1: no deadline (not yet filed).
		{Grid: g1, ReportedAt: *at(3, 0), Status: "reported"},
		// g2: due 8th, closed exactly at the deadline (on time) after 24 h.
		{Grid: g2, ReportedAt: *at(7, 0), Deadline: at(8, 0), Status: "closed", ClosedAt: at(8, 0)},
		// g3: due 9th, closed after the as-of time: open as of the 20th.
		{Grid: g3, ReportedAt: *at(1, 0), Deadline: at(9, 0), Status: "closed", ClosedAt: at(22, 0)},
		// No grid: unassigned.
		{Grid: "", ReportedAt: *at(1, 0), Deadline: at(3, 0), Status: "filed"},
	}
}

func f(v float64) *float64 { return &v }

func TestAccountability(t *testing.T) {
	period := Period{
		From: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
		To:   time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC),
		AsOf: time.Date(2024, 6, 20, 0, 0, 0, 0, time.UTC),
	}
	tests := []struct {
		name  string
		level grids.Level
		want  []Figures
	}{
		{"grid", grids.LevelGrid, []Figures{
			{Code: "", Due: 1, OverdueOpen: 1, ClosedRate: f(0), OnTimeRate: f(0), ReworkRate: f(0), ExtensionRate: f(0)},
			{Code: "110101001001001", Due: 3, Closed: 2, ClosedOnTime: 1, Reworked: 1, Extended: 1, OverdueOpen: 1,
				ClosedRate: f(2.0 / 3), OnTimeRate: f(1.0 / 3), ReworkRate: f(1.0 / 3), ExtensionRate: f(1.0 / 3), MedianCloseHours: f(84)},
			{Code: "110101001001002", Due: 1, Closed: 1, ClosedOnTime: 1,
				ClosedRate: f(1), OnTimeRate: f(1), ReworkRate: f(0), ExtensionRate: f(0), MedianCloseHours: f(24)},
			{Code: "110101001002001", Due: 1, OverdueOpen: 1, ClosedRate: f(0), OnTimeRate: f(0), ReworkRate: f(0), ExtensionRate: f(0)},
		}},
		{"community", grids.LevelCommunity, []Figures{
			{Code: "", Due: 1, OverdueOpen: 1, ClosedRate: f(0), OnTimeRate: f(0), ReworkRate: f(0), ExtensionRate: f(0)},
			{Code: "110101001001", Due: 4, Closed: 3, ClosedOnTime: 2, Reworked: 1, Extended: 1, OverdueOpen: 1,
				ClosedRate: f(0.75), OnTimeRate: f(0.5), ReworkRate: f(0.25), ExtensionRate: f(0.25), MedianCloseHours: f(48)},
			{Code: "110101001002", Due: 1, OverdueOpen: 1, ClosedRate: f(0), OnTimeRate: f(0), ReworkRate: f(0), ExtensionRate: f(0)},
		}},
		{"street", grids.LevelStreet, []Figures{
			{Code: "", Due: 1, OverdueOpen: 1, ClosedRate: f(0), OnTimeRate: f(0), ReworkRate: f(0), ExtensionRate: f(0)},
			{Code: "110101001", Due: 5, Closed: 3, ClosedOnTime: 2, Reworked: 1, Extended: 1, OverdueOpen: 2,
				ClosedRate: f(0.6), OnTimeRate: f(0.4), ReworkRate: f(0.2), ExtensionRate: f(0.2), MedianCloseHours: f(48)},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Accountability(accountabilityCases(), period, tc.level)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d units, want %d: %+v", len(got), len(tc.want), got)
			}
			for i := range got {
				if !sameFigures(got[i], tc.want[i]) {
					t.Errorf("unit %d:\n got %s\nwant %s", i, show(got[i]), show(tc.want[i]))
				}
			}
		})
	}
}

func sameFigures(a, b Figures) bool {
	eq := func(x, y *float64) bool {
		if x == nil || y == nil {
			return x == y
		}
		return math.Abs(*x-*y) < 1e-12
	}
	return a.Code == b.Code && a.Due == b.Due && a.Closed == b.Closed && a.ClosedOnTime == b.ClosedOnTime &&
		a.Reworked == b.Reworked && a.Extended == b.Extended && a.OverdueOpen == b.OverdueOpen &&
		eq(a.ClosedRate, b.ClosedRate) && eq(a.OnTimeRate, b.OnTimeRate) && eq(a.ReworkRate, b.ReworkRate) &&
		eq(a.ExtensionRate, b.ExtensionRate) && eq(a.MedianCloseHours, b.MedianCloseHours)
}

func show(f Figures) string {
	v := func(p *float64) any {
		if p == nil {
			return "nil"
		}
		return *p
	}
	return fmt.Sprintf("%s due=%d closed=%d ontime=%d rework=%d ext=%d overdue=%d rates=%v/%v/%v/%v median=%v",
		f.Code, f.Due, f.Closed, f.ClosedOnTime, f.Reworked, f.Extended, f.OverdueOpen,
		v(f.ClosedRate), v(f.OnTimeRate), v(f.ReworkRate), v(f.ExtensionRate), v(f.MedianCloseHours))
}

func TestAccountabilityAsOfDefaultsToEnd(t *testing.T) {
	period := Period{
		From: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
		To:   time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC),
	}
	got, err := Accountability(accountabilityCases(), period, grids.LevelDistrict)
	if err != nil {
		t.Fatal(err)
	}
	// As of 1 July the 25th-deadline case is due and the late g3 close counts.
	want := Figures{Code: "110101", Due: 6, Closed: 5, ClosedOnTime: 3, Reworked: 1, Extended: 1, OverdueOpen: 1}
	d := got[len(got)-1]
	if d.Code != want.Code || d.Due != want.Due || d.Closed != want.Closed || d.ClosedOnTime != want.ClosedOnTime || d.OverdueOpen != want.OverdueOpen {
		t.Errorf("got %s", show(d))
	}
}

func TestAccountabilityRejects(t *testing.T) {
	good := Period{From: *at(1, 0), To: *at(30, 0)}
	if _, err := Accountability(nil, good, grids.LevelUnknown); err == nil {
		t.Error("unknown level accepted")
	}
	if _, err := Accountability(nil, Period{From: *at(5, 0), To: *at(5, 0)}, grids.LevelGrid); err == nil {
		t.Error("empty period accepted")
	}
}

func TestCountByCodeAndRollUp(t *testing.T) {
	codes := []string{"110101001001001", "110101001001002", "110101001001001", "", "110102003004005"}
	counts := CountByCode(codes, func(i int) bool { return i != 2 })
	if counts["110101001001001"] != 1 || counts["110101001001002"] != 1 || counts["110102003004005"] != 1 || len(counts) != 3 {
		t.Errorf("counts %v", counts)
	}
	tests := []struct {
		name  string
		level grids.Level
		want  map[string]int
	}{
		{"district", grids.LevelDistrict, map[string]int{"110101": 2, "110102": 1}},
		{"community", grids.LevelCommunity, map[string]int{"110101001001": 2, "110102003004": 1}},
		{"grid", grids.LevelGrid, counts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RollUp(counts, tc.level)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s: %d, want %d", k, got[k], v)
				}
			}
		})
	}
	if _, err := RollUp(map[string]int{"1101": 1}, grids.LevelStreet); err == nil {
		t.Error("short code accepted")
	}
}
