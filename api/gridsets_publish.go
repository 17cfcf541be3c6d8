package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/grids/topo"
	"github.com/gridd/gridd/store"
)

// PublishRequest puts a draft in force from EffectiveFrom (RFC 3339, or a
// YYYY-MM-DD date in the city's zone). Force publishes a set with
// validation errors; the server logs who did.
type PublishRequest struct {
	EffectiveFrom string `json:"effective_from"`
	Force         bool   `json:"force"`
}

// PublishResponse is the published set and its validation summary.
type PublishResponse struct {
	GridSetInfo
	OK bool `json:"ok"`
	// Forced is true when the set was published despite validation errors.
	Forced     bool         `json:"forced"`
	Validation topo.Summary `json:"validation"`
}

// maxHistoryCheck bounds the stored incidents a publish re-geocodes to
// prove it rewrites no history; more than this many incidents after
// effective_from means the date is long past, and it is refused outright.
const maxHistoryCheck = 100000

// POST /api/v1/gridsets/{id}/publish {"effective_from": …, "force": false}
//
// The set must validate without errors (unless forced), must be indexable
// for geocoding (always), and must not give any incident already stored
// with reported_at at or after effective_from a grid other than the one it
// keeps: publishing never rewrites history, so incidents and geocode?at=
// keep agreeing. The store ends the previous set at effective_from and
// refuses a date not after the latest set's.
func (g *gridsets) handlePublish(w http.ResponseWriter, r *http.Request) error {
	if err := require(r, RolePlanner); err != nil {
		return err
	}
	a := AccessOf(r)
	if a.Scope != "" {
		return problem(http.StatusForbidden, "publishing changes the grids of the whole city: it needs a key without a scope (this one is scoped to %s)", a.Scope)
	}
	id, err := setID(r)
	if err != nil {
		return err
	}
	var req PublishRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return bodyError(err)
		}
		return badRequest("body: %v (want {\"effective_from\": RFC 3339 time, \"force\": false})", err)
	}
	if req.EffectiveFrom == "" {
		return badRequest("effective_from is required: the RFC 3339 time the set comes into force")
	}
	from, err := parseTime(req.EffectiveFrom)
	if err != nil {
		return badRequest("effective_from: %q is not an RFC 3339 time or a YYYY-MM-DD date", req.EffectiveFrom)
	}
	from = store.NormalizeTime(from)

	unlock := g.lock(id)
	defer unlock()
	set, err := g.loadSet(r.Context(), id)
	if err != nil {
		return err
	}
	if set.Status != grids.StatusDraft {
		return problem(http.StatusConflict, "grid set %d is already published", id)
	}
	rep := topo.Validate(set.Grids, topo.Options{})
	if !rep.OK() && !req.Force {
		return validationRefusal(id, rep)
	}
	ix, err := grids.NewIndex(set, grids.IndexOptions{})
	if err != nil {
		return problem(http.StatusUnprocessableEntity, "grid set %d cannot be indexed for geocoding, so it cannot be published even with force: %v", id, err)
	}
	if err := g.checkHistory(r.Context(), ix, from); err != nil {
		return err
	}
	if err := g.s.b.Store.PublishGridSet(r.Context(), id, from); err != nil {
		switch {
		case errors.Is(err, store.ErrConflict):
			return problem(http.StatusConflict, "%v", err)
		case errors.Is(err, store.ErrNotFound):
			return notFound("no grid set %d", id)
		}
		return err
	}
	forced := !rep.OK()
	if forced {
		g.s.log.Warn("grid set published with validation errors (forced)", "set", id, "name", set.Name,
			"effective_from", from.Format(time.RFC3339), "by", a.By(), "errors", rep.Summary.Errors,
			"by_kind", rep.Summary.ByKind)
	} else {
		g.s.log.Info("grid set published", "set", id, "name", set.Name,
			"effective_from", from.Format(time.RFC3339), "by", a.By(), "warnings", rep.Summary.Warnings)
	}
	if err := g.s.b.ReloadSets(r.Context()); err != nil {
		return fmt.Errorf("grid set %d was published from %s, but this server could not load it: %w", id, from.Format(time.RFC3339), err)
	}
	set.Status = grids.StatusPublished
	set.EffectiveFrom = &from
	c := countGrids(set.Grids)
	g.mu.Lock()
	g.counts[id] = c
	g.mu.Unlock()
	return writeJSON(w, http.StatusOK, PublishResponse{
		GridSetInfo: setInfo(set, c, time.Now()),
		OK:          rep.OK(),
		Forced:      forced,
		Validation:  rep.Summary,
	})
}

// validationRefusal is the 422 answer to publishing a set with errors:
// every error problem is listed (up to maxListedErrors).
func validationRefusal(id int64, rep topo.Report) *Problem {
	kinds := make([]string, 0, len(rep.Summary.ByKind))
	for k := range rep.Summary.ByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	p := problem(http.StatusUnprocessableEntity,
		"grid set %d has %d validation errors (%s): fix them, or publish with \"force\": true; see /api/v1/gridsets/%d/validation",
		id, rep.Summary.Errors, strings.Join(kinds, ", "), id)
	for _, pr := range rep.Problems {
		if pr.Severity != topo.SeverityError {
			continue
		}
		if len(p.Errors) == maxListedErrors {
			break
		}
		p.Errors = append(p.Errors, ItemError{Field: pr.Kind, Error: pr.Message})
	}
	return p
}

// checkHistory refuses an effective_from that would rewrite history: an
// incident already stored, reported at or after it, whose kept grid the
// new set would not give it. Those incidents were geocoded with the set in
// force before; once the new set is in force at their reported_at,
// geocode?at= would answer otherwise. The in-memory columns find the
// incidents reported since from; the store gives their kept grids.
func (g *gridsets) checkHistory(ctx context.Context, ix *grids.Index, from time.Time) error {
	v := g.s.b.Columns.View()
	f := newRowFilter()
	f.from = from.UnixMilli() // the columns keep the stores' milliseconds
	rows, _, err := selectRows(ctx, v, f, 0, -1)
	if err != nil {
		return err
	}
	ids := rowIDs(v, rows)
	if len(ids) == 0 {
		return nil
	}
	if len(ids) > maxHistoryCheck {
		return problem(http.StatusConflict,
			"effective_from %s precedes %d incidents already stored: a grid set comes into force after the incidents already reported, so that none changes grid",
			from.Format(time.RFC3339), len(ids))
	}
	incs, err := g.s.b.hydrate(ctx, ids)
	if err != nil {
		return fmt.Errorf("check incidents after %s: %w", from.Format(time.RFC3339), err)
	}
	var bad int
	var examples []string
	for _, inc := range incs {
		if inc.ReportedAt.Before(from) {
			continue // from carried digits below the millisecond
		}
		if got := ix.LocateCode(inc.Lon, inc.Lat); got != inc.GridCode {
			bad++
			if len(examples) < 5 {
				examples = append(examples, fmt.Sprintf("incident %d (%s): %s → %s",
					inc.ID, inc.ReportedAt.UTC().Format(time.RFC3339), orNone(inc.GridCode), orNone(got)))
			}
		}
	}
	if bad == 0 {
		return nil
	}
	return problem(http.StatusConflict,
		"effective_from %s would rewrite history: %d incidents already stored were reported since then and would change grid (%s); choose an effective_from after them",
		from.Format(time.RFC3339), bad, strings.Join(examples, "; "))
}

func orNone(code string) string {
	if code == "" {
		return "(no grid)"
	}
	return code
}
