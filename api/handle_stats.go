package api

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/hotspot"
)

// unitFigures are one unit's accountability figures with its name and the
// incidents reported in it during the period.
type unitFigures struct {
	hotspot.Figures
	Name     string `json:"name"`
	Reported int    `json:"reported"`
}

type statsResponse struct {
	From  time.Time     `json:"from"`
	To    time.Time     `json:"to"`
	AsOf  time.Time     `json:"as_of"`
	Level string        `json:"level"`
	SetID int64         `json:"set_id"`
	Scope string        `json:"scope,omitempty"`
	Units []unitFigures `json:"units"`
}

// GET /api/v1/stats/grids?from=&to=&as_of=&level=
//
// Accountability figures (hotspot.Accountability: 结案率, 按期结案率, 返工率,
// 延期率, overdue open cases, median hours to close) of every unit of level
// (grid by default, or community, street, district) for the cases due in
// [from, to), read as of as_of, plus the incidents reported in the period.
// Units are those of the set in force at the end of the period and any
// that cases name; a scoped key sees its subtree only and no level above
// its scope. to defaults to the end of the day of the latest incident (or
// now), from to a month before to, as_of to to or now, whichever is earlier.
func (an *analytics) handleStats(w http.ResponseWriter, r *http.Request) error {
	acc := AccessOf(r)
	if err := require(r, RoleAnalyst); err != nil {
		return err
	}
	q := newQuery(r.URL.Query())
	from, to, hasFrom, hasTo := readPeriod(q)
	asOf, hasAsOf := q.time("as_of")
	level := grids.LevelGrid
	if l := q.str("level"); l != "" {
		var err error
		if level, err = grids.ParseLevel(l); err != nil {
			q.fail("level", "%v", err)
		}
	}
	if q.err != nil {
		return q.err
	}
	if acc.Scope != "" && level.CodeLen() < len(acc.Scope) {
		return problem(http.StatusForbidden, "the key is scoped to %s: figures of a level above it (%s) are not available to it", acc.Scope, level)
	}
	v := an.s.b.Columns.View()
	now := time.Now()
	if !hasTo {
		var latest int64
		for i := range v.Len() {
			latest = max(latest, v.ReportedAt(i))
		}
		to = defaultEnd(latest, now)
	}
	if !hasFrom {
		from = to.AddDate(0, -1, 0)
	}
	if !from.Before(to) {
		return unprocessable("from %s is not before to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if !hasAsOf {
		asOf = to
		if now.Before(asOf) {
			asOf = now
		}
	}
	ix, err := an.setAt(setTime(to, true))
	if err != nil {
		return err
	}

	names := v.Grids()
	inScope := make([]bool, len(names))
	for i, code := range names {
		inScope[i] = acc.Sees(code) && (acc.Scope == "" || code != "")
	}
	// Only cases due within the period can count; the rest are skipped
	// before a Case is built.
	lo, hi, asOfUnix := from.Unix(), to.Unix(), asOf.Unix()
	var cases []hotspot.Case
	reported := map[string]int{}
	for i := range v.Len() {
		g := v.Grid(i)
		if int(g) >= len(inScope) || !inScope[g] {
			continue
		}
		if t := v.ReportedAt(i); t >= lo && t < hi {
			if code := names[g]; code != "" {
				reported[code]++
			}
		}
		d := v.Deadline(i)
		if d == 0 || d < lo || d >= hi || d >= asOfUnix {
			continue
		}
		c := hotspot.Case{
			Grid: names[g], ReportedAt: time.Unix(v.ReportedAt(i), 0),
			Status: string(v.Status(i)), Reworks: v.Reworks(i), Extended: v.Extended(i),
		}
		dt := time.Unix(d, 0)
		c.Deadline = &dt
		if ct := v.ClosedAt(i); ct != 0 {
			closed := time.Unix(ct, 0)
			c.ClosedAt = &closed
		}
		cases = append(cases, c)
	}
	figs, err := hotspot.Accountability(cases, hotspot.Period{From: from, To: to, AsOf: asOf}, level)
	if err != nil {
		return unprocessable("%v", err)
	}
	rolled, err := hotspot.RollUp(reported, level)
	if err != nil {
		return err
	}

	units := map[string]*unitFigures{}
	unit := func(code string) *unitFigures {
		u := units[code]
		if u == nil {
			u = &unitFigures{Figures: hotspot.Figures{Code: code}}
			if g := ix.Grid(code); g != nil {
				u.Name = g.Name
			}
			units[code] = u
		}
		return u
	}
	for _, g := range ix.Set().Grids {
		if g.Level == level && strings.HasPrefix(g.Code, acc.Scope) {
			unit(g.Code)
		}
	}
	for _, f := range figs {
		unit(f.Code).Figures = f
	}
	for code, n := range rolled {
		unit(code).Reported = n
	}
	res := statsResponse{From: from, To: to, AsOf: asOf, Level: level.String(), SetID: ix.Set().ID, Scope: acc.Scope,
		Units: make([]unitFigures, 0, len(units))}
	for _, u := range units {
		if u.Code == "" {
			u.Name = "unassigned"
		}
		res.Units = append(res.Units, *u)
	}
	slices.SortFunc(res.Units, func(a, b unitFigures) int { return strings.Compare(a.Code, b.Code) })
	return writeJSON(w, http.StatusOK, res)
}
