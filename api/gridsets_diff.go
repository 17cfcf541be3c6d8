package api

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/grids/topo"
)

// DiffResponse is the impact of replacing the base set with this one.
// Each transfer lists at most IDsPerTransfer incident ids; its count is
// always the full number.
type DiffResponse struct {
	SetID          int64      `json:"set_id"`
	BaseID         int64      `json:"base_id"`
	Since          *time.Time `json:"since"` // incidents reported since; null for all
	IDsPerTransfer int        `json:"ids_per_transfer"`
	topo.DiffReport
}

// GET /api/v1/gridsets/{id}/diff?base=&days=&since=&ids=&format=json|text
//
// base is a set id, default the set in force now. The incidents are those
// reported in the last `days` days (default 90, 0 for all) or since
// `since`, restricted to the key's scope; both sets place them with the
// geocoder's own index, so boundary points follow its rule.
func (g *gridsets) handleDiff(w http.ResponseWriter, r *http.Request) error {
	id, err := setID(r)
	if err != nil {
		return err
	}
	format, err := formatParam(r, "json", "text")
	if err != nil {
		return err
	}
	q := newQuery(r.URL.Query())
	baseRef := q.str("base")
	days := q.int("days", 90, 0, 36500)
	since, hasSince := q.time("since")
	idsMax := q.int("ids", 1000, 0, 1000000)
	if q.err != nil {
		return q.err
	}
	now := time.Now()
	if !hasSince && days > 0 {
		since = now.Add(-time.Duration(days) * 24 * time.Hour)
	}

	set, err := g.loadSet(r.Context(), id)
	if err != nil {
		return err
	}
	var base *grids.Set
	var baseIx *grids.Index
	if baseRef == "" || baseRef == "current" {
		ix, err := g.s.reg.Current()
		if errors.Is(err, grids.ErrNoSet) {
			return problem(http.StatusUnprocessableEntity, "no grid set is in force now to compare with: give base=ID")
		}
		if err != nil {
			return err
		}
		base, baseIx = ix.Set(), ix
	} else {
		bid, err := strconv.ParseInt(baseRef, 10, 64)
		if err != nil || bid <= 0 {
			return badRequest("parameter base: %q is not a grid set id", baseRef)
		}
		if base, err = g.loadSet(r.Context(), bid); err != nil {
			return err
		}
	}

	opt := topo.DiffOptions{Since: since}
	// The geocoder's index decides boundary points; a set it cannot index
	// (a draft with a grid lacking geometry) falls back to topo's locator.
	if baseIx == nil {
		baseIx, _ = grids.NewIndex(base, grids.IndexOptions{})
	}
	if baseIx != nil {
		opt.LocateOld = baseIx.LocateCode
	}
	if newIx, err := grids.NewIndex(set, grids.IndexOptions{}); err == nil {
		opt.LocateNew = newIx.LocateCode
	}

	pts := g.incidentPoints(AccessOf(r), since)
	rep := topo.Diff(base.Grids, set.Grids, pts, opt)
	for i := range rep.Transfers {
		if ids := rep.Transfers[i].IDs; len(ids) > idsMax {
			rep.Transfers[i].IDs = ids[:idsMax]
		}
	}
	if format == "text" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		var b bytes.Buffer
		if err := rep.WriteText(&b); err != nil {
			return err
		}
		_, err := w.Write(b.Bytes())
		return err
	}
	out := DiffResponse{SetID: set.ID, BaseID: base.ID, IDsPerTransfer: idsMax, DiffReport: rep}
	if !since.IsZero() {
		s := since.UTC()
		out.Since = &s
	}
	return writeJSON(w, http.StatusOK, out)
}

// incidentPoints are the incidents of the columns reported since `since`
// (all when zero) that the key may see.
func (g *gridsets) incidentPoints(a Access, since time.Time) []topo.IncidentPoint {
	v := g.s.b.Columns.View()
	dict := v.Grids()
	var from int64
	if !since.IsZero() {
		from = since.Unix()
	}
	var pts []topo.IncidentPoint
	for i := 0; i < v.Len(); i++ {
		t := v.ReportedAt(i)
		if t < from {
			continue
		}
		if a.Scope != "" {
			if gi := int(v.Grid(i)); gi >= len(dict) || !a.Sees(dict[gi]) {
				continue
			}
		}
		pts = append(pts, topo.IncidentPoint{ID: v.ID(i), Lon: v.Lon(i), Lat: v.Lat(i), At: time.Unix(t, 0)})
	}
	return pts
}
