package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"

	"github.com/gridd/gridd/fixtures"
	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/grids/topo"
	"github.com/gridd/gridd/internal/pgtest"
	"github.com/gridd/gridd/store"
	"github.com/gridd/gridd/store/gpkg"
	"github.com/gridd/gridd/store/postgis"
)

// The planner tests run on a small city of their own (200 leaves), in a
// store that starts empty.
var plannerCityOpt = fixtures.CityOptions{Grids: 200, Seed: 3}

// Times of the sets published in the history tests (the city's zone).
var (
	plannerT0 = time.Date(2025, 1, 1, 0, 0, 0, 0, cityZone)
	plannerT1 = time.Date(2025, 6, 1, 0, 0, 0, 0, cityZone)
)

// lockedBuffer collects the server's log; handlers write concurrently.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type plannerFixture struct {
	*fixture
	city []*grids.Grid
	log  *lockedBuffer
}

// newPlannerFixture serves an empty store (a fresh GeoPackage when st is
// nil) with keys for each role and a planner scoped to one street.
func newPlannerFixture(t *testing.T, st store.Store) *plannerFixture {
	t.Helper()
	city, err := fixtures.GenerateCity(plannerCityOpt)
	if err != nil {
		t.Fatal(err)
	}
	if st == nil {
		if st, err = gpkg.Open(filepath.Join(t.TempDir(), "planner.gpkg")); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	keys := map[string]string{}
	street := ""
	for _, g := range city {
		if g.Level == grids.LevelStreet {
			street = g.Code
			break
		}
	}
	for name, spec := range map[string]struct {
		role  Role
		scope string
	}{
		"viewer": {RoleViewer, ""}, "analyst": {RoleAnalyst, ""}, "planner": {RolePlanner, ""},
		"admin": {RoleAdmin, ""}, "s-planner": {RolePlanner, street},
	} {
		secret, k, err := NewKey(spec.role, spec.scope, name, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		keys[name] = secret
	}
	b, err := OpenBackend(ctx, st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	logBuf := &lockedBuffer{}
	srv := New(Options{Backend: b, Logger: slog.New(slog.NewTextHandler(logBuf, nil))})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &plannerFixture{
		fixture: &fixture{t: t, st: st, b: b, srv: srv, http: hs, keys: keys},
		city:    city,
		log:     logBuf,
	}
}

func geoJSONOf(t testing.TB, gs []*grids.Grid) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := grids.WriteGeoJSON(&b, gs); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jsonBody(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// must sends a request as key and fails unless the status is want.
func (f *plannerFixture) must(method, path, key, ct string, body []byte, want int) response {
	f.t.Helper()
	r := f.do(method, path, key, ct, body)
	if r.status != want {
		f.t.Fatalf("%s %s as %s: status %d, want %d: %s", method, path, key, r.status, want, truncate(r.body))
	}
	return r
}

// createDraft imports gs as a draft through the API.
func (f *plannerFixture) createDraft(gs []*grids.Grid, name string) CreatedGridSet {
	f.t.Helper()
	r := f.must(http.MethodPost, "/api/v1/gridsets?name="+url.QueryEscape(name), "planner", "application/geo+json", geoJSONOf(f.t, gs), http.StatusCreated)
	var c CreatedGridSet
	r.json(f.t, &c)
	if want := fmt.Sprintf("/api/v1/gridsets/%d", c.ID); r.header.Get("Location") != want {
		f.t.Errorf("Location %q, want %q", r.header.Get("Location"), want)
	}
	return c
}

func (f *plannerFixture) copyDraft(of int64) CreatedGridSet {
	f.t.Helper()
	r := f.must(http.MethodPost, "/api/v1/gridsets", "planner", "application/json", jsonBody(f.t, map[string]any{"copy_of": of}), http.StatusCreated)
	var c CreatedGridSet
	r.json(f.t, &c)
	return c
}

func (f *plannerFixture) publish(id int64, from time.Time, force bool, key string) response {
	f.t.Helper()
	body := jsonBody(f.t, PublishRequest{EffectiveFrom: from.Format(time.RFC3339), Force: force})
	return f.do(http.MethodPost, fmt.Sprintf("/api/v1/gridsets/%d/publish", id), key, "application/json", body)
}

func (f *plannerFixture) edit(id int64, req map[string]any) EditResponse {
	f.t.Helper()
	r := f.must(http.MethodPost, fmt.Sprintf("/api/v1/gridsets/%d/edits", id), "planner", "application/json", jsonBody(f.t, req), http.StatusOK)
	var e EditResponse
	r.json(f.t, &e)
	return e
}

func (f *plannerFixture) validation(id int64) ValidationReport {
	f.t.Helper()
	r := f.must(http.MethodGet, fmt.Sprintf("/api/v1/gridsets/%d/validation", id), "planner", "", nil, http.StatusOK)
	var v ValidationReport
	r.json(f.t, &v)
	return v
}

func (f *plannerFixture) list() map[int64]GridSetInfo {
	f.t.Helper()
	var l struct {
		GridSets []GridSetInfo `json:"gridsets"`
	}
	f.must(http.MethodGet, "/api/v1/gridsets", "planner", "", nil, http.StatusOK).json(f.t, &l)
	m := map[int64]GridSetInfo{}
	for _, s := range l.GridSets {
		m[s.ID] = s
	}
	return m
}

func geomJSON(g orb.Geometry) json.RawMessage {
	b, _ := json.Marshal(geojson.NewGeometry(g))
	return b
}

// sharedVertex finds two leaves of one community sharing a vertex that no
// other grid, leaf or parent, has: moving it in one leaf only opens an
// overlap or a gap between the two, and moving it in both closes it.
func sharedVertex(t testing.TB, city []*grids.Grid) (a, b *grids.Grid, v orb.Point) {
	t.Helper()
	owners := map[orb.Point][]*grids.Grid{}
	parentVertex := map[orb.Point]bool{}
	for _, g := range city {
		seen := map[orb.Point]bool{}
		for _, poly := range g.Geometry {
			for _, ring := range poly {
				for _, p := range ring {
					if g.Level != grids.LevelGrid {
						parentVertex[p] = true
					} else if !seen[p] {
						seen[p] = true
						owners[p] = append(owners[p], g)
					}
				}
			}
		}
	}
	for _, g := range city {
		if g.Level != grids.LevelGrid {
			continue
		}
		for _, p := range g.Geometry[0][0] {
			o := owners[p]
			if len(o) == 2 && !parentVertex[p] && o[0].Parent == o[1].Parent {
				return o[0], o[1], p
			}
		}
	}
	t.Fatal("no vertex shared by exactly two leaves of one community")
	return nil, nil, orb.Point{}
}

// moveVertex returns g's geometry with every occurrence of from at to.
func moveVertex(g orb.MultiPolygon, from, to orb.Point) orb.MultiPolygon {
	out := orb.Clone(g).(orb.MultiPolygon)
	for _, poly := range out {
		for _, ring := range poly {
			for i, p := range ring {
				if p == from {
					ring[i] = to
				}
			}
		}
	}
	return out
}

func hasProblem(ps []topo.Problem, kind string, codes ...string) bool {
	for _, p := range ps {
		if p.Kind != kind {
			continue
		}
		all := true
		for _, c := range codes {
			if !containsString(p.Grids, c) {
				all = false
			}
		}
		if all {
			return true
		}
	}
	return false
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func TestGridsetCreateValidatePublish(t *testing.T) {
	f := newPlannerFixture(t, nil)
	c := f.createDraft(f.city, "city 2025")
	if c.Status != "draft" || c.Name != "city 2025" || c.Grids != len(f.city) || c.ByLevel["grid"] != plannerCityOpt.Grids {
		t.Fatalf("created %+v, want a draft of %d grids, %d leaves", c.GridSetInfo, len(f.city), plannerCityOpt.Grids)
	}
	if !c.OK || c.Validation.Errors != 0 {
		t.Errorf("create: ok %v, %d errors; want a clean city", c.OK, c.Validation.Errors)
	}

	v := f.validation(c.ID)
	if !v.OK || len(v.Problems) != 0 || v.Summary.Leaves != plannerCityOpt.Grids {
		t.Errorf("validation: ok %v, %d problems, %d leaves", v.OK, len(v.Problems), v.Summary.Leaves)
	}

	var fc geojson.FeatureCollection
	r := f.must(http.MethodGet, fmt.Sprintf("/api/v1/gridsets/%d?format=geojson", c.ID), "planner", "", nil, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/geo+json" {
		t.Errorf("geojson Content-Type %q", ct)
	}
	r.json(t, &fc)
	if len(fc.Features) != len(f.city) {
		t.Errorf("geojson has %d features, want %d", len(fc.Features), len(f.city))
	}
	var detail struct {
		GridSetInfo
		Features geojson.FeatureCollection `json:"features"`
	}
	f.must(http.MethodGet, fmt.Sprintf("/api/v1/gridsets/%d", c.ID), "planner", "", nil, http.StatusOK).json(t, &detail)
	if detail.ID != c.ID || len(detail.Features.Features) != len(f.city) {
		t.Errorf("detail: id %d, %d features", detail.ID, len(detail.Features.Features))
	}

	if got := f.list()[c.ID]; got.Status != "draft" || got.InForce || got.Grids != len(f.city) {
		t.Errorf("listed before publishing: %+v", got)
	}
	r = f.publish(c.ID, plannerT0, false, "planner")
	if r.status != http.StatusOK {
		t.Fatalf("publish: %d %s", r.status, truncate(r.body))
	}
	var pub PublishResponse
	r.json(t, &pub)
	if pub.Status != "published" || pub.Forced || !pub.InForce || pub.EffectiveFrom == nil || !pub.EffectiveFrom.Equal(plannerT0) {
		t.Errorf("published: %+v", pub)
	}
	if got := f.list()[c.ID]; got.Status != "published" || !got.InForce || got.ByLevel["grid"] != plannerCityOpt.Grids {
		t.Errorf("listed after publishing: %+v", got)
	}
	if !strings.Contains(f.log.String(), "grid set published") {
		t.Errorf("publish not logged:\n%s", f.log.String())
	}

	// The geocoder follows: a leaf's inner point answers with the new set.
	leaf := f.city[len(f.city)-1]
	p := innerPoint(t, leaf)
	var gr GeocodeResult
	f.must(http.MethodGet, fmt.Sprintf("/api/v1/geocode?lon=%v&lat=%v", p[0], p[1]), "planner", "", nil, http.StatusOK).json(t, &gr)
	if gr.SetID != c.ID || gr.Grid == nil || gr.Grid.Code != leaf.Code {
		t.Errorf("geocode after publishing: %+v, want %s in set %d", gr, leaf.Code, c.ID)
	}

	// Published sets never change.
	r = f.do(http.MethodPost, fmt.Sprintf("/api/v1/gridsets/%d/edits", c.ID), "planner", "application/json",
		jsonBody(t, map[string]any{"op": "move", "code": leaf.Code, "parent": leaf.Parent}))
	if r.status != http.StatusConflict {
		t.Errorf("edit of a published set: status %d, want 409", r.status)
	}
	if r := f.publish(c.ID, plannerT1, false, "planner"); r.status != http.StatusConflict {
		t.Errorf("publishing twice: status %d, want 409", r.status)
	}
}

// innerPoint is a point well inside g (its pole-ish: the bound's centre
// nudged onto the polygon), tested with orb's planar containment.
func innerPoint(t testing.TB, g *grids.Grid) orb.Point {
	t.Helper()
	pts := pointsIn(g, 7)
	if len(pts) == 0 {
		t.Fatalf("no inner point in %s", g.Code)
	}
	return pts[len(pts)/2]
}

// pointsIn samples an n×n lattice over g's bound and keeps the points
// inside g, away from its outline by a tenth of a lattice step.
func pointsIn(g *grids.Grid, n int) []orb.Point {
	b := g.Bound()
	dx, dy := (b.Max[0]-b.Min[0])/float64(n+1), (b.Max[1]-b.Min[1])/float64(n+1)
	var out []orb.Point
	for i := 1; i <= n; i++ {
		for j := 1; j <= n; j++ {
			p := orb.Point{b.Min[0] + float64(i)*dx, b.Min[1] + float64(j)*dy}
			ok := planar.MultiPolygonContains(g.Geometry, p)
			for _, d := range []orb.Point{{dx / 10, 0}, {-dx / 10, 0}, {0, dy / 10}, {0, -dy / 10}} {
				ok = ok && planar.MultiPolygonContains(g.Geometry, orb.Point{p[0] + d[0], p[1] + d[1]})
			}
			if ok {
				out = append(out, p)
			}
		}
	}
	return out
}

func TestGridsetEditShowsValidationDelta(t *testing.T) {
	f := newPlannerFixture(t, nil)
	base := f.createDraft(f.city, "base")
	if r := f.publish(base.ID, plannerT0, false, "planner"); r.status != http.StatusOK {
		t.Fatalf("publish base: %d %s", r.status, truncate(r.body))
	}
	draft := f.copyDraft(base.ID)
	if draft.Status != "draft" || draft.Grids != len(f.city) || draft.Name != "copy of base" || !draft.OK {
		t.Fatalf("copy: %+v ok %v", draft.GridSetInfo, draft.OK)
	}

	a, b, v := sharedVertex(t, f.city)
	// A few metres towards b's middle: into b, away from every other grid.
	c := b.Bound().Center()
	to := orb.Point{v[0] + 0.05*(c[0]-v[0]), v[1] + 0.05*(c[1]-v[1])}

	first := f.edit(draft.ID, map[string]any{"op": "replace_geometry", "code": a.Code, "geometry": geomJSON(moveVertex(a.Geometry, v, to))})
	if first.OK || len(first.Delta.Added) == 0 || len(first.Delta.Removed) != 0 {
		t.Fatalf("moving a shared vertex in one grid: ok %v, delta %+v; want new errors", first.OK, first.Delta)
	}
	if !hasProblem(first.Delta.Added, topo.KindOverlap, a.Code, b.Code) {
		t.Errorf("delta added %+v, want an overlap of %s and %s", first.Delta.Added, a.Code, b.Code)
	}
	if !containsString(first.Changed, a.Code) {
		t.Errorf("changed %v, want %s", first.Changed, a.Code)
	}
	stored := f.validation(draft.ID)
	if stored.OK || !hasProblem(stored.Problems, topo.KindOverlap, a.Code, b.Code) {
		t.Errorf("stored draft validation: ok %v, %d problems; want the overlap", stored.OK, len(stored.Problems))
	}
	var fc geojson.FeatureCollection
	f.must(http.MethodGet, fmt.Sprintf("/api/v1/gridsets/%d/validation?format=geojson", draft.ID), "planner", "", nil, http.StatusOK).json(t, &fc)
	if len(fc.Features) == 0 || fc.Features[0].Properties["kind"] == nil {
		t.Errorf("validation geojson: %d features", len(fc.Features))
	}

	second := f.edit(draft.ID, map[string]any{"op": "replace_geometry", "code": b.Code, "geometry": geomJSON(moveVertex(b.Geometry, v, to))})
	if !second.OK || len(second.Delta.Added) != 0 || !hasProblem(second.Delta.Removed, topo.KindOverlap, a.Code, b.Code) {
		t.Errorf("moving it in the neighbour too: ok %v, delta %+v; want the overlap removed", second.OK, second.Delta)
	}
	if v := f.validation(draft.ID); !v.OK || len(v.Problems) != 0 {
		t.Errorf("after both edits: ok %v, problems %+v", v.OK, v.Problems)
	}

	// Split then merge back: each a clean set, with the codes accounted for.
	leaf := f.city[len(f.city)-1]
	bb := leaf.Bound()
	mid := bb.Center()[0]
	line := orb.LineString{{mid, bb.Min[1] - 1e-4}, {mid, bb.Max[1] + 1e-4}}
	split := f.edit(draft.ID, map[string]any{"op": "split", "code": leaf.Code, "line": geomJSON(line)})
	if !split.OK || len(split.Added) != 2 || !containsString(split.Removed, leaf.Code) || len(split.Delta.Added) != 0 {
		t.Fatalf("split: ok %v added %v removed %v delta %+v", split.OK, split.Added, split.Removed, split.Delta)
	}
	merge := f.edit(draft.ID, map[string]any{"op": "merge", "codes": split.Added, "new_code": leaf.Code})
	if !merge.OK || !containsString(merge.Added, leaf.Code) || len(merge.Removed) != 2 || len(merge.Delta.Added) != 0 {
		t.Errorf("merge: ok %v added %v removed %v delta %+v", merge.OK, merge.Added, merge.Removed, merge.Delta)
	}

	// Move a leaf to the neighbouring community: it is re-coded under it.
	from, to2 := neighbourAcrossCommunities(t, f.city, a.Code, b.Code)
	move := f.edit(draft.ID, map[string]any{"op": "move", "code": from.Code, "parent": to2.Parent})
	if len(move.Renamed) == 0 || move.Renamed[0].From != from.Code || !strings.HasPrefix(move.Renamed[0].To, to2.Parent) {
		t.Errorf("move: renamed %+v, want %s under %s", move.Renamed, from.Code, to2.Parent)
	}
	if !move.OK {
		t.Errorf("move: errors after %+v", move.Delta.Added)
	}

	// The diff against the base names the reshaped grids.
	var d DiffResponse
	f.must(http.MethodGet, fmt.Sprintf("/api/v1/gridsets/%d/diff?base=%d", draft.ID, base.ID), "planner", "", nil, http.StatusOK).json(t, &d)
	changed := map[string]string{}
	for _, gc := range d.Grids {
		changed[gc.Code] = gc.Change
	}
	if changed[a.Code] != "reshaped" || changed[b.Code] != "reshaped" || changed[from.Code] != "removed" {
		t.Errorf("diff grids: %v; want %s and %s reshaped, %s removed", changed, a.Code, b.Code, from.Code)
	}
	if d.BaseID != base.ID || d.SetID != draft.ID {
		t.Errorf("diff ids: base %d set %d", d.BaseID, d.SetID)
	}
}

// neighbourAcrossCommunities finds two leaves of one street, in different
// communities, that share an edge; neither is one of skip.
func neighbourAcrossCommunities(t testing.TB, city []*grids.Grid, skip ...string) (a, b *grids.Grid) {
	t.Helper()
	type edge struct{ p, q orb.Point }
	owner := map[edge]*grids.Grid{}
	var leaves []*grids.Grid
	for _, g := range city {
		if g.Level == grids.LevelGrid {
			leaves = append(leaves, g)
		}
	}
	sort.Slice(leaves, func(i, j int) bool { return leaves[i].Code < leaves[j].Code })
	for _, g := range leaves {
		ring := g.Geometry[0][0]
		for i := 0; i+1 < len(ring); i++ {
			owner[edge{ring[i], ring[i+1]}] = g
		}
	}
	for _, g := range leaves {
		ring := g.Geometry[0][0]
		for i := 0; i+1 < len(ring); i++ {
			o := owner[edge{ring[i+1], ring[i]}]
			if o != nil && o.Parent != g.Parent && o.Parent[:9] == g.Parent[:9] &&
				!containsString(skip, g.Code) && !containsString(skip, o.Code) {
				return g, o
			}
		}
	}
	t.Fatal("no neighbours across communities of one street")
	return nil, nil
}

func TestGridsetPublishRefusesErrorsUnlessForced(t *testing.T) {
	f := newPlannerFixture(t, nil)
	base := f.createDraft(f.city, "base")
	if r := f.publish(base.ID, plannerT0, false, "planner"); r.status != http.StatusOK {
		t.Fatalf("publish base: %d %s", r.status, truncate(r.body))
	}
	draft := f.copyDraft(base.ID)
	a, b, v := sharedVertex(t, f.city)
	c := b.Bound().Center()
	to := orb.Point{v[0] + 0.05*(c[0]-v[0]), v[1] + 0.05*(c[1]-v[1])}
	if e := f.edit(draft.ID, map[string]any{"op": "replace_geometry", "code": a.Code, "geometry": geomJSON(moveVertex(a.Geometry, v, to))}); e.OK {
		t.Fatal("the overlapping draft validates clean")
	}

	r := f.publish(draft.ID, plannerT1, false, "planner")
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("publish with an overlap: status %d, want 422: %s", r.status, truncate(r.body))
	}
	p := r.problem(t)
	found := false
	for _, e := range p.Errors {
		found = found || (e.Field == topo.KindOverlap && strings.Contains(e.Error, a.Code) && strings.Contains(e.Error, b.Code))
	}
	if !found {
		t.Errorf("refusal lists %+v, want the overlap of %s and %s", p.Errors, a.Code, b.Code)
	}
	if info := f.list()[draft.ID]; info.Status != "draft" {
		t.Errorf("refused set is %s", info.Status)
	}
	if strings.Contains(f.log.String(), "forced") {
		t.Errorf("a refused publish was logged as forced")
	}

	r = f.publish(draft.ID, plannerT1, true, "planner")
	if r.status != http.StatusOK {
		t.Fatalf("forced publish: status %d: %s", r.status, truncate(r.body))
	}
	var pub PublishResponse
	r.json(t, &pub)
	if !pub.Forced || pub.OK || pub.Validation.Errors == 0 {
		t.Errorf("forced publish answer: forced %v ok %v errors %d", pub.Forced, pub.OK, pub.Validation.Errors)
	}
	var warn string
	for _, line := range strings.Split(f.log.String(), "\n") {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "forced") {
			warn = line
		}
	}
	if !strings.Contains(warn, "by=\"planner (") || !strings.Contains(warn, fmt.Sprintf("set=%d", draft.ID)) {
		t.Errorf("forced publish log line %q, want the set and who", warn)
	}
	// The base ended where the forced set began.
	if info := f.list()[base.ID]; info.EffectiveTo == nil || !info.EffectiveTo.Equal(plannerT1) {
		t.Errorf("base set ends %v, want %v", info.EffectiveTo, plannerT1)
	}
}

func TestGridsetErrors(t *testing.T) {
	f := newPlannerFixture(t, nil)
	base := f.createDraft(f.city, "base")
	if r := f.publish(base.ID, plannerT0, false, "planner"); r.status != http.StatusOK {
		t.Fatalf("publish base: %d %s", r.status, truncate(r.body))
	}
	draft := f.copyDraft(base.ID)
	bowtie, err := os.ReadFile(filepath.Join("..", "grids", "testdata", "bad", "bowtie.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	leaf := f.city[len(f.city)-1]
	other := f.city[len(f.city)-2]
	far := orb.LineString{{0, 0}, {0.001, 0.001}}
	edits := fmt.Sprintf("/api/v1/gridsets/%d/edits", draft.ID)
	tests := []struct {
		name, method, path, key, ct string
		body                        []byte
		want                        int
	}{
		{"unknown set", "GET", "/api/v1/gridsets/999", "planner", "", nil, 404},
		{"bad id", "GET", "/api/v1/gridsets/abc/validation", "planner", "", nil, 404},
		{"bad format", "GET", fmt.Sprintf("/api/v1/gridsets/%d?format=kml", draft.ID), "planner", "", nil, 400},
		{"invalid feature", "POST", "/api/v1/gridsets", "planner", "application/geo+json", bowtie, 422},
		{"not json", "POST", "/api/v1/gridsets", "planner", "application/geo+json", []byte("grids"), 400},
		{"empty body", "POST", "/api/v1/gridsets", "planner", "application/geo+json", nil, 400},
		{"copy of unknown", "POST", "/api/v1/gridsets", "planner", "application/json", []byte(`{"copy_of": 999}`), 422},
		{"copy of garbage", "POST", "/api/v1/gridsets?copy_of=x", "planner", "", nil, 400},
		{"analyst creates", "POST", "/api/v1/gridsets", "analyst", "application/json", []byte(`{"copy_of": "current"}`), 403},
		{"unknown op", "POST", edits, "planner", "application/json", []byte(`{"op":"rotate","code":"1"}`), 400},
		{"unknown field", "POST", edits, "planner", "application/json", []byte(`{"op":"move","code":"1","parnet":"2"}`), 400},
		{"point geometry", "POST", edits, "planner", "application/json",
			jsonBody(t, map[string]any{"op": "replace_geometry", "code": leaf.Code, "geometry": geomJSON(orb.Point{116.4, 39.9})}), 400},
		{"line misses grid", "POST", edits, "planner", "application/json",
			jsonBody(t, map[string]any{"op": "split", "code": leaf.Code, "line": geomJSON(far)}), 422},
		{"merge one", "POST", edits, "planner", "application/json", jsonBody(t, map[string]any{"op": "merge", "codes": []string{leaf.Code}}), 400},
		{"merge unknown", "POST", edits, "planner", "application/json", jsonBody(t, map[string]any{"op": "merge", "codes": []string{leaf.Code, "110101999999999"}}), 422},
		{"analyst edits", "POST", edits, "analyst", "application/json", jsonBody(t, map[string]any{"op": "move", "code": leaf.Code, "parent": leaf.Parent}), 403},
		{"scoped planner outside scope", "POST", edits, "s-planner", "application/json",
			jsonBody(t, map[string]any{"op": "merge", "codes": []string{leaf.Code, other.Code}}), 403},
		{"scoped planner publishes", "POST", fmt.Sprintf("/api/v1/gridsets/%d/publish", draft.ID), "s-planner", "application/json",
			[]byte(`{"effective_from":"2026-01-01T00:00:00Z"}`), 403},
		{"no effective_from", "POST", fmt.Sprintf("/api/v1/gridsets/%d/publish", draft.ID), "planner", "application/json", []byte(`{}`), 400},
		{"bad effective_from", "POST", fmt.Sprintf("/api/v1/gridsets/%d/publish", draft.ID), "planner", "application/json", []byte(`{"effective_from":"soon"}`), 400},
		{"from not after the base", "POST", fmt.Sprintf("/api/v1/gridsets/%d/publish", draft.ID), "planner", "application/json",
			jsonBody(t, PublishRequest{EffectiveFrom: plannerT0.Add(-time.Hour).Format(time.RFC3339)}), 409},
		{"diff against unknown", "GET", fmt.Sprintf("/api/v1/gridsets/%d/diff?base=999", draft.ID), "planner", "", nil, 404},
		{"diff bad days", "GET", fmt.Sprintf("/api/v1/gridsets/%d/diff?days=-1", draft.ID), "planner", "", nil, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(tc.method, tc.path, tc.key, tc.ct, tc.body)
			if r.status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.status, tc.want, truncate(r.body))
			}
			if p := r.problem(t); p.Status != tc.want || p.Detail == "" {
				t.Errorf("problem %+v", p)
			}
		})
	}
	// The failed edits left the draft as it was.
	if v := f.validation(draft.ID); !v.OK || v.Summary.Grids != len(f.city) {
		t.Errorf("draft after refused edits: ok %v, %d grids", v.OK, v.Summary.Grids)
	}
	// A scoped planner may edit inside its street.
	var inside []string
	for _, g := range f.city {
		if g.Level == grids.LevelGrid && strings.HasPrefix(g.Code, f.keysScope(t)) && len(inside) < 1 {
			inside = append(inside, g.Code)
		}
	}
	g := byCode(f.city)[inside[0]]
	r := f.do(http.MethodPost, edits, "s-planner", "application/json",
		jsonBody(t, map[string]any{"op": "replace_geometry", "code": g.Code, "geometry": geomJSON(g.Geometry)}))
	if r.status != http.StatusOK {
		t.Errorf("scoped planner editing inside its scope: %d %s", r.status, truncate(r.body))
	}
}

// keysScope is the street the s-planner key is scoped to.
func (f *plannerFixture) keysScope(t testing.TB) string {
	t.Helper()
	for _, g := range f.city {
		if g.Level == grids.LevelStreet {
			return g.Code
		}
	}
	t.Fatal("no street")
	return ""
}

func byCode(gs []*grids.Grid) map[string]*grids.Grid {
	m := map[string]*grids.Grid{}
	for _, g := range gs {
		m[g.Code] = g
	}
	return m
}

func TestGridsetHistoryGeoPackage(t *testing.T) {
	testGridsetHistory(t, newPlannerFixture(t, nil))
}

func TestGridsetHistoryPostGIS(t *testing.T) {
	ctx := context.Background()
	st, err := postgis.Open(ctx, pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	testGridsetHistory(t, newPlannerFixture(t, st))
}

// testGridsetHistory publishes set A from T0 and, after incidents came in,
// set B from T1, in which one grid is split into two new codes. Incidents
// reported before T1 keep A's grid, whenever they arrive; later ones get
// B's halves; the incident endpoint and geocode?at= agree on each.
func testGridsetHistory(t *testing.T, f *plannerFixture) {
	a := f.createDraft(f.city, "A")
	if r := f.publish(a.ID, plannerT0, false, "planner"); r.status != http.StatusOK {
		t.Fatalf("publish A: %d %s", r.status, truncate(r.body))
	}
	cityByCode := byCode(f.city)
	split := f.city[len(f.city)-1]
	control := f.city[len(f.city)-2]
	if split.Level != grids.LevelGrid || control.Level != grids.LevelGrid {
		t.Fatal("the last grids of the city are not leaves")
	}
	bb := split.Bound()
	mid := bb.Center()[0]
	var pts []orb.Point
	for _, p := range pointsIn(split, 6) {
		if math.Abs(p[0]-mid) > (bb.Max[0]-bb.Min[0])/50 {
			pts = append(pts, p)
		}
	}
	pts = append(pts, innerPoint(t, control))
	if len(pts) < 5 {
		t.Fatalf("only %d sample points in %s", len(pts), split.Code)
	}

	type sent struct {
		p  orb.Point
		at time.Time
		id int64
	}
	var all []sent
	ingest := func(at time.Time) {
		t.Helper()
		var body bytes.Buffer
		for i, p := range pts {
			fmt.Fprintf(&body, `{"lon":%v,"lat":%v,"reported_at":%q,"category":"E0102"}`+"\n",
				p[0], p[1], at.Add(time.Duration(i)*time.Minute).Format(time.RFC3339))
		}
		var res IngestResponse
		f.must(http.MethodPost, "/api/v1/incidents", "admin", "application/x-ndjson", body.Bytes(), http.StatusCreated).json(t, &res)
		if len(res.Results) != len(pts) {
			t.Fatalf("ingested %d of %d", len(res.Results), len(pts))
		}
		for i, x := range res.Results {
			all = append(all, sent{p: pts[i], at: at.Add(time.Duration(i) * time.Minute), id: x.ID})
		}
	}
	ingest(time.Date(2025, 3, 1, 9, 0, 0, 0, cityZone))

	b := f.copyDraft(a.ID)
	line := orb.LineString{{mid, bb.Min[1] - 1e-4}, {mid, bb.Max[1] + 1e-4}}
	e := f.edit(b.ID, map[string]any{"op": "split", "code": split.Code, "line": geomJSON(line)})
	if len(e.Added) != 2 || containsString(e.Added, split.Code) || !e.OK {
		t.Fatalf("split: added %v ok %v", e.Added, e.OK)
	}
	var bGeo geojson.FeatureCollection
	f.must(http.MethodGet, fmt.Sprintf("/api/v1/gridsets/%d?format=geojson", b.ID), "planner", "", nil, http.StatusOK).json(t, &bGeo)
	halves := map[string]orb.Geometry{}
	for _, ft := range bGeo.Features {
		if c, _ := ft.Properties["code"].(string); containsString(e.Added, c) {
			halves[c] = ft.Geometry
		}
	}
	if len(halves) != 2 {
		t.Fatalf("draft B holds %d of the halves %v", len(halves), e.Added)
	}

	// From a date before the March incidents, B would move them: refused.
	r := f.publish(b.ID, time.Date(2025, 2, 1, 0, 0, 0, 0, cityZone), false, "planner")
	if r.status != http.StatusConflict || !strings.Contains(r.problem(t).Detail, "rewrite history") {
		t.Fatalf("publishing before stored incidents: status %d: %s", r.status, truncate(r.body))
	}
	if r := f.publish(b.ID, plannerT1, false, "planner"); r.status != http.StatusOK {
		t.Fatalf("publish B: %d %s", r.status, truncate(r.body))
	}
	ingest(time.Date(2025, 7, 1, 9, 0, 0, 0, cityZone)) // after T1
	ingest(time.Date(2025, 4, 1, 9, 0, 0, 0, cityZone)) // before T1, sent after B

	expected := func(s sent) string {
		if !planar.MultiPolygonContains(split.Geometry, s.p) {
			return control.Code
		}
		if s.at.Before(plannerT1) {
			return split.Code
		}
		for code, g := range halves {
			if geometryContains(g, s.p) {
				return code
			}
		}
		return "(no half)"
	}
	for _, s := range all {
		var inc IncidentFeature
		f.must(http.MethodGet, fmt.Sprintf("/api/v1/incidents/%d", s.id), "admin", "", nil, http.StatusOK).json(t, &inc)
		var gr GeocodeResult
		f.must(http.MethodGet, fmt.Sprintf("/api/v1/geocode?lon=%v&lat=%v&at=%s", s.p[0], s.p[1], url.QueryEscape(s.at.Format(time.RFC3339))),
			"admin", "", nil, http.StatusOK).json(t, &gr)
		want := expected(s)
		if inc.Properties.GridCode != want || gr.Grid == nil || gr.Grid.Code != want {
			got := "(none)"
			if gr.Grid != nil {
				got = gr.Grid.Code
			}
			t.Errorf("incident %d at %s: stored grid %s, geocode?at= %s; want %s", s.id, s.at.Format(time.RFC3339), inc.Properties.GridCode, got, want)
		}
		if _, ok := cityByCode[want]; !ok && !containsString(e.Added, want) {
			t.Errorf("expected grid %s is in neither set", want)
		}
	}

	// The diff of B against A moves every incident of the split grid.
	var d DiffResponse
	f.must(http.MethodGet, fmt.Sprintf("/api/v1/gridsets/%d/diff?base=%d&days=0", b.ID, a.ID), "planner", "", nil, http.StatusOK).json(t, &d)
	inSplit := 0
	for _, s := range all {
		if planar.MultiPolygonContains(split.Geometry, s.p) {
			inSplit++
		}
	}
	moved := 0
	for _, tr := range d.Transfers {
		if tr.From != split.Code || !containsString(e.Added, tr.To) {
			t.Errorf("transfer %s → %s", tr.From, tr.To)
		}
		moved += tr.Count
	}
	if d.Incidents != len(all) || d.Moved != inSplit || moved != inSplit {
		t.Errorf("diff: %d incidents, %d moved (transfers %d); want %d and %d", d.Incidents, d.Moved, moved, len(all), inSplit)
	}
	r = f.must(http.MethodGet, fmt.Sprintf("/api/v1/gridsets/%d/diff?base=%d&days=0&format=text", b.ID, a.ID), "planner", "", nil, http.StatusOK)
	if !strings.Contains(string(r.body), fmt.Sprintf("%d change grid", inSplit)) {
		t.Errorf("text diff:\n%s", r.body)
	}
}

func geometryContains(g orb.Geometry, p orb.Point) bool {
	switch t := g.(type) {
	case orb.Polygon:
		return planar.PolygonContains(t, p)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(t, p)
	}
	return false
}
