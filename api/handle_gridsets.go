package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/paulmach/orb/geojson"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/grids/topo"
	"github.com/gridd/gridd/store"
)

// GridSetInfo describes a grid set without its grids. Times are RFC 3339
// in UTC; a draft has no effective times.
type GridSetInfo struct {
	ID            int64          `json:"id"`
	Name          string         `json:"name"`
	Status        string         `json:"status"`
	CreatedAt     time.Time      `json:"created_at"`
	EffectiveFrom *time.Time     `json:"effective_from"`
	EffectiveTo   *time.Time     `json:"effective_to"`
	InForce       bool           `json:"in_force"` // published and in force now
	Grids         int            `json:"grids"`
	ByLevel       map[string]int `json:"grids_by_level"`
}

// gridCounts counts a set's grids, in all and per level.
type gridCounts struct {
	total   int
	byLevel map[string]int
}

func countGrids(gs []*grids.Grid) gridCounts {
	c := gridCounts{total: len(gs), byLevel: map[string]int{}}
	for _, g := range gs {
		c.byLevel[g.Level.String()]++
	}
	return c
}

func setInfo(set *grids.Set, c gridCounts, now time.Time) GridSetInfo {
	return GridSetInfo{
		ID: set.ID, Name: set.Name, Status: string(set.Status),
		CreatedAt:     set.CreatedAt.UTC(),
		EffectiveFrom: utcPtr(set.EffectiveFrom),
		EffectiveTo:   utcPtr(set.EffectiveTo),
		InForce:       set.InForce(now),
		Grids:         c.total,
		ByLevel:       c.byLevel,
	}
}

// setID reads the {id} of the route.
func setID(r *http.Request) (int64, error) {
	raw := mux.Vars(r)["id"]
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, notFound("no grid set %q: ids are positive whole numbers", raw)
	}
	return id, nil
}

// loadSet reads a set with its grids from the store.
func (g *gridsets) loadSet(ctx context.Context, id int64) (*grids.Set, error) {
	set, err := g.s.b.Store.GetGridSet(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("no grid set %d", id)
	}
	if err != nil {
		return nil, err
	}
	return set, nil
}

// counted returns the grid counts of a set the list shows: published sets
// from memory (they never change), drafts from the store.
func (g *gridsets) counted(ctx context.Context, meta *grids.Set) (gridCounts, error) {
	if meta.Status == grids.StatusPublished {
		g.mu.Lock()
		c, ok := g.counts[meta.ID]
		g.mu.Unlock()
		if ok {
			return c, nil
		}
		for _, s := range g.s.reg.Sets() {
			if s.ID == meta.ID {
				c = countGrids(s.Grids)
				g.mu.Lock()
				g.counts[meta.ID] = c
				g.mu.Unlock()
				return c, nil
			}
		}
	}
	full, err := g.s.b.Store.GetGridSet(ctx, meta.ID)
	if err != nil {
		return gridCounts{}, fmt.Errorf("count grids of set %d: %w", meta.ID, err)
	}
	return countGrids(full.Grids), nil
}

// GET /api/v1/gridsets?status=draft|published
func (g *gridsets) handleList(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r.URL.Query())
	status := q.str("status")
	if status != "" && status != string(grids.StatusDraft) && status != string(grids.StatusPublished) {
		q.fail("status", "%q is not draft or published", status)
	}
	if q.err != nil {
		return q.err
	}
	metas, err := g.s.b.Store.ListGridSets(r.Context())
	if err != nil {
		return err
	}
	now := time.Now()
	out := make([]GridSetInfo, 0, len(metas))
	for _, m := range metas {
		if status != "" && string(m.Status) != status {
			continue
		}
		c, err := g.counted(r.Context(), m)
		if err != nil {
			return err
		}
		out = append(out, setInfo(m, c, now))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"gridsets": out})
}

// createBody is the JSON body that copies a set instead of importing one.
// copy_of is a set id, or "current" for the set in force now.
type createBody struct {
	Type   json.RawMessage `json:"type"`
	CopyOf json.RawMessage `json:"copy_of"`
	Name   string          `json:"name"`
}

// CreatedGridSet answers a create: the new draft and its validation
// summary (the problems are at /validation).
type CreatedGridSet struct {
	GridSetInfo
	OK         bool         `json:"ok"`
	Validation topo.Summary `json:"validation"`
}

// maxListedErrors bounds the per-item errors a problem answer spells out.
const maxListedErrors = 100

// POST /api/v1/gridsets?name=&crs=&copy_of=
//
// The body is a grids GeoJSON FeatureCollection (all levels), imported as
// a new draft; or {"copy_of": ID|"current", "name": …} (or ?copy_of=),
// which copies a set into a new draft.
func (g *gridsets) handleCreate(w http.ResponseWriter, r *http.Request) error {
	if err := require(r, RolePlanner); err != nil {
		return err
	}
	q := newQuery(r.URL.Query())
	name := q.str("name")
	copyOf := q.str("copy_of")
	crs := q.crs("crs")
	if q.err != nil {
		return q.err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err)
	}
	if copyOf != "" && len(bytes.TrimSpace(body)) > 0 {
		return badRequest("give either ?copy_of= or a body, not both")
	}
	if copyOf == "" && bytes.Contains(body, []byte(`"copy_of"`)) {
		// A body that is not JSON falls through to the GeoJSON reader,
		// whose message says what is wrong with it.
		var head createBody
		if json.Unmarshal(body, &head) == nil && head.CopyOf != nil {
			if head.Type != nil {
				return badRequest("give either a grids FeatureCollection or {\"copy_of\": …}, not both")
			}
			copyOf = strings.Trim(strings.TrimSpace(string(head.CopyOf)), `"`)
			if name == "" {
				name = head.Name
			}
		}
	}

	var gs []*grids.Grid
	if copyOf != "" {
		src, err := g.copySource(r.Context(), copyOf)
		if err != nil {
			return err
		}
		gs = src.Grids
		if name == "" {
			name = "copy of " + src.Name
		}
	} else {
		if len(bytes.TrimSpace(body)) == 0 {
			return badRequest("the body is empty: send a grids GeoJSON FeatureCollection, or {\"copy_of\": ID}")
		}
		gs, err = grids.ReadGeoJSON(bytes.NewReader(body), grids.ImportOptions{CRS: crs})
		if err != nil {
			return importProblem(err)
		}
		if name == "" {
			name = "draft " + time.Now().UTC().Format(time.RFC3339)
		}
	}

	id, err := g.s.b.Store.CreateGridSet(r.Context(), &grids.Set{Name: name, Grids: gs})
	if err != nil {
		return err
	}
	set, err := g.loadSet(r.Context(), id)
	if err != nil {
		return err
	}
	rep := topo.Validate(set.Grids, topo.Options{})
	g.s.log.Info("grid set draft created", "set", id, "name", name, "grids", len(set.Grids),
		"copy_of", copyOf, "errors", rep.Summary.Errors, "by", AccessOf(r).By())
	w.Header().Set("Location", "/api/v1/gridsets/"+strconv.FormatInt(id, 10))
	return writeJSON(w, http.StatusCreated, CreatedGridSet{
		GridSetInfo: setInfo(set, countGrids(set.Grids), time.Now()),
		OK:          rep.OK(),
		Validation:  rep.Summary,
	})
}

// copySource finds the set to copy: an id, or "current".
func (g *gridsets) copySource(ctx context.Context, ref string) (*grids.Set, error) {
	if ref == "current" {
		ix, err := g.s.reg.Current()
		if errors.Is(err, grids.ErrNoSet) {
			return nil, problem(http.StatusUnprocessableEntity, "copy_of current: no grid set is in force now")
		}
		if err != nil {
			return nil, err
		}
		return ix.Set(), nil
	}
	id, err := strconv.ParseInt(ref, 10, 64)
	if err != nil || id <= 0 {
		return nil, badRequest("copy_of %q: want a grid set id or \"current\"", ref)
	}
	set, err := g.s.b.Store.GetGridSet(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem(http.StatusUnprocessableEntity, "copy_of: no grid set %d", id)
	}
	return set, err
}

// importProblem turns a GeoJSON import error into 422 with every bad
// feature listed (up to maxListedErrors), or 400 for a body that is not a
// FeatureCollection at all.
func importProblem(err error) error {
	var ie *grids.ImportError
	if !errors.As(err, &ie) {
		return badRequest("%v", err)
	}
	p := problem(http.StatusUnprocessableEntity, "%d invalid features; nothing was stored", len(ie.Errors))
	for i, fe := range ie.Errors {
		if i == maxListedErrors {
			break
		}
		idx := fe.Index
		p.Errors = append(p.Errors, ItemError{Index: &idx, Field: fe.Code, Error: fe.Reason})
	}
	return p
}

// GridSetDetail is a set with its grids as GeoJSON.
type GridSetDetail struct {
	GridSetInfo
	Features *geojson.FeatureCollection `json:"features"`
}

// GET /api/v1/gridsets/{id}?format=json|geojson
func (g *gridsets) handleGet(w http.ResponseWriter, r *http.Request) error {
	id, err := setID(r)
	if err != nil {
		return err
	}
	format, err := formatParam(r, "json", "geojson")
	if err != nil {
		return err
	}
	set, err := g.loadSet(r.Context(), id)
	if err != nil {
		return err
	}
	fc := geojson.NewFeatureCollection()
	for _, gr := range set.Grids {
		fc.Append(gridFeature(gr))
	}
	info := setInfo(set, countGrids(set.Grids), time.Now())
	if format == "geojson" {
		fc.ExtraMembers = geojson.Properties{"set_id": set.ID, "name": set.Name, "status": set.Status}
		w.Header().Set("Content-Type", "application/geo+json")
		return writeJSON(w, http.StatusOK, fc)
	}
	return writeJSON(w, http.StatusOK, GridSetDetail{GridSetInfo: info, Features: fc})
}

// formatParam reads ?format=, one of allowed; the first is the default.
func formatParam(r *http.Request, allowed ...string) (string, error) {
	f := strings.TrimSpace(r.URL.Query().Get("format"))
	if f == "" {
		return allowed[0], nil
	}
	for _, a := range allowed {
		if f == a {
			return f, nil
		}
	}
	return "", badRequest("parameter format: %q is not one of %s", f, strings.Join(allowed, ", "))
}

// ValidationReport is the answer of /validation: topo.Validate's report.
type ValidationReport struct {
	SetID int64 `json:"set_id"`
	// OK is true when there is no error: the set may be published.
	OK bool `json:"ok"`
	topo.Report
}

// GET /api/v1/gridsets/{id}/validation?format=json|geojson|text&sliver_m2=
func (g *gridsets) handleValidation(w http.ResponseWriter, r *http.Request) error {
	id, err := setID(r)
	if err != nil {
		return err
	}
	format, err := formatParam(r, "json", "geojson", "text")
	if err != nil {
		return err
	}
	q := newQuery(r.URL.Query())
	sliver, _ := q.float("sliver_m2")
	if q.err != nil {
		return q.err
	}
	set, err := g.loadSet(r.Context(), id)
	if err != nil {
		return err
	}
	rep := topo.Validate(set.Grids, topo.Options{SliverM2: sliver})
	switch format {
	case "geojson":
		fc := rep.GeoJSON()
		fc.ExtraMembers = geojson.Properties{"set_id": set.ID, "ok": rep.OK(), "summary": rep.Summary}
		w.Header().Set("Content-Type", "application/geo+json")
		return writeJSON(w, http.StatusOK, fc)
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		var b bytes.Buffer
		if err := rep.WriteText(&b); err != nil {
			return err
		}
		_, err := w.Write(b.Bytes())
		return err
	}
	return writeJSON(w, http.StatusOK, ValidationReport{SetID: set.ID, OK: rep.OK(), Report: rep})
}
