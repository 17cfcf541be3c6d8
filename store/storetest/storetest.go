// Package storetest is the contract suite every store.Store passes. Store
// packages call Run from their tests against a real database: no mocks.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/store"
)

// OpenFunc opens a new, empty store for one test, and returns with it a
// reopen function that opens another Store value on the same data. The
// suite closes s before reopening in the restart test; in the replica test
// both are open at once. Both are closed by the suite; Close must be safe
// to call more than once.
type OpenFunc func(t *testing.T) (s store.Store, reopen func(t *testing.T) store.Store)

// Harness describes the store under test.
type Harness struct {
	Open OpenFunc
	// SharedEvents: Store values opened on the same data see each other's
	// events (PostGIS LISTEN/NOTIFY). Without it events are checked within
	// one Store value only.
	SharedEvents bool
}

// Run runs the contract suite.
func Run(t *testing.T, h Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{name: "GridSetLifecycle", fn: testGridSetLifecycle},
		{name: "PublishOrdering", fn: testPublishOrdering},
		{name: "InsertRoundTrip", fn: testInsertRoundTrip},
		{name: "InsertIdempotent", fn: testInsertIdempotent},
		{name: "InsertAllOrNothing", fn: testInsertAllOrNothing},
		{name: "QueryFilters", fn: testQueryFilters},
		{name: "QueryPaging", fn: testQueryPaging},
		{name: "UpdateWorkflow", fn: testUpdateWorkflow},
		{name: "Keys", fn: testKeys},
		{name: "ConcurrentWriters", fn: testConcurrentWriters},
		{name: "Reopen", fn: testReopen},
		{name: "Events", fn: testEvents},
		{name: "LoadAndSync", fn: testLoadAndSync},
		{name: "Ingest", fn: testIngest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, h) })
	}
}

func open(t *testing.T, h Harness) (store.Store, func(t *testing.T) store.Store) {
	t.Helper()
	s, reopen := h.Open(t)
	t.Cleanup(func() { s.Close() })
	return s, func(t *testing.T) store.Store {
		s2 := reopen(t)
		t.Cleanup(func() { s2.Close() })
		return s2
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// base is a fixed, millisecond-precise time: stores keep milliseconds.
var base = time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)

func square(lon, lat, size float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{lon, lat}, {lon + size, lat}, {lon + size, lat + size}, {lon, lat + size}, {lon, lat}}}}
}

// sampleGrids is a small hierarchy: a district, a street, a community and
// two grids, the shapes of a real import.
func sampleGrids() []*grids.Grid {
	return []*grids.Grid{
		{Code: "110101", Name: "东城区", Level: grids.LevelDistrict, Geometry: square(116.38, 39.90, 0.02), Department: "城管委"},
		{Code: "110101001", Name: "东华门街道", Level: grids.LevelStreet, Parent: "110101", Geometry: square(116.38, 39.90, 0.02)},
		{Code: "110101001001", Name: "多福巷社区", Level: grids.LevelCommunity, Parent: "110101001", Geometry: square(116.38, 39.90, 0.02)},
		{Code: "110101001001001", Name: "网格一", Level: grids.LevelGrid, Parent: "110101001001",
			Geometry: square(116.38, 39.90, 0.01), Attrs: map[string]any{"area_m2": 1234.5, "tags": []any{"a", "b"}}},
		{Code: "110101001001002", Name: "网格二", Level: grids.LevelGrid, Parent: "110101001001",
			Geometry: orb.MultiPolygon{
				{{{116.39, 39.90}, {116.40, 39.90}, {116.40, 39.91}, {116.39, 39.91}, {116.39, 39.90}},
					{{116.392, 39.902}, {116.392, 39.904}, {116.394, 39.904}, {116.394, 39.902}, {116.392, 39.902}}},
				{{{116.395, 39.915}, {116.396, 39.915}, {116.396, 39.916}, {116.395, 39.916}, {116.395, 39.915}}},
			}},
	}
}

func sortedByCode(gs []*grids.Grid) []*grids.Grid {
	out := append([]*grids.Grid(nil), gs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

func checkGrids(t *testing.T, got, want []*grids.Grid) {
	t.Helper()
	want = sortedByCode(want)
	if len(got) != len(want) {
		t.Fatalf("got %d grids, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Code != w.Code || g.Name != w.Name || g.Level != w.Level || g.Parent != w.Parent || g.Department != w.Department {
			t.Errorf("grid %d = %+v, want %+v", i, *g, *w)
		}
		if !orb.Equal(g.Geometry, w.Geometry) {
			t.Errorf("grid %s geometry %v, want %v", w.Code, g.Geometry, w.Geometry)
		}
		if len(g.Attrs) != len(w.Attrs) || (len(w.Attrs) > 0 && !reflect.DeepEqual(g.Attrs, w.Attrs)) {
			t.Errorf("grid %s attrs %v, want %v", w.Code, g.Attrs, w.Attrs)
		}
	}
}

func testGridSetLifecycle(t *testing.T, h Harness) {
	s, _ := open(t, h)
	c := ctx(t)
	if _, err := s.GetGridSet(c, 999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get missing set: %v, want ErrNotFound", err)
	}
	id, err := s.CreateGridSet(c, &grids.Set{Name: "2024 draft", Grids: sampleGrids()})
	if err != nil {
		t.Fatal(err)
	}
	set, err := s.GetGridSet(c, id)
	if err != nil {
		t.Fatal(err)
	}
	if set.ID != id || set.Name != "2024 draft" || set.Status != grids.StatusDraft || set.EffectiveFrom != nil || set.CreatedAt.IsZero() {
		t.Fatalf("new set = %+v", set)
	}
	checkGrids(t, set.Grids, sampleGrids())

	// A draft can be redrawn.
	redrawn := sampleGrids()[:4]
	redrawn[3].Name = "网格一（调整）"
	if err := s.ReplaceGrids(c, id, redrawn); err != nil {
		t.Fatal(err)
	}
	set, err = s.GetGridSet(c, id)
	if err != nil {
		t.Fatal(err)
	}
	checkGrids(t, set.Grids, redrawn)

	from := base
	if err := s.PublishGridSet(c, id, from); err != nil {
		t.Fatal(err)
	}
	set, err = s.GetGridSet(c, id)
	if err != nil {
		t.Fatal(err)
	}
	if set.Status != grids.StatusPublished || set.EffectiveFrom == nil || !set.EffectiveFrom.Equal(from) || set.EffectiveTo != nil {
		t.Fatalf("published set = %+v", set)
	}
	if !set.InForce(from.Add(time.Hour)) || set.InForce(from.Add(-time.Hour)) {
		t.Fatal("InForce wrong after publish")
	}
	// Published sets are immutable.
	if err := s.ReplaceGrids(c, id, sampleGrids()); !errors.Is(err, store.ErrImmutable) {
		t.Fatalf("replace grids of a published set: %v, want ErrImmutable", err)
	}
	if err := s.PublishGridSet(c, id, from.Add(48*time.Hour)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("publish twice: %v, want ErrConflict", err)
	}
	if err := s.ReplaceGrids(c, 999, sampleGrids()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("replace grids of a missing set: %v, want ErrNotFound", err)
	}
	if err := s.PublishGridSet(c, 999, from); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("publish a missing set: %v, want ErrNotFound", err)
	}
	sets, err := s.ListGridSets(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 1 || sets[0].ID != id || sets[0].Status != grids.StatusPublished || len(sets[0].Grids) != 0 {
		t.Fatalf("list = %+v", sets)
	}
}

func testPublishOrdering(t *testing.T, h Harness) {
	s, _ := open(t, h)
	c := ctx(t)
	mk := func(name string) int64 {
		id, err := s.CreateGridSet(c, &grids.Set{Name: name, Grids: sampleGrids()})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	a, b, d := mk("a"), mk("b"), mk("c")
	t1, t2 := base, base.Add(30*24*time.Hour)
	if err := s.PublishGridSet(c, a, t1); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		from time.Time
	}{
		{name: "earlier than the set in force", from: t1.Add(-time.Hour)},
		{name: "same instant as the set in force", from: t1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.PublishGridSet(c, b, tt.from); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("publish at %s: %v, want ErrConflict", tt.from, err)
			}
			got, err := s.GetGridSet(c, b)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != grids.StatusDraft {
				t.Fatal("refused publish changed the set")
			}
		})
	}
	if err := s.PublishGridSet(c, b, t2); err != nil {
		t.Fatal(err)
	}
	ga, _ := s.GetGridSet(c, a)
	gb, _ := s.GetGridSet(c, b)
	if ga.EffectiveTo == nil || !ga.EffectiveTo.Equal(t2) {
		t.Fatalf("previous set effective_to = %v, want %v", ga.EffectiveTo, t2)
	}
	if gb.EffectiveTo != nil || !gb.EffectiveFrom.Equal(t2) {
		t.Fatalf("new set = %+v", gb)
	}
	for _, tc := range []struct {
		at   time.Time
		want int64
	}{{t1.Add(time.Hour), a}, {t2.Add(-time.Millisecond), a}, {t2, b}, {t2.Add(1000 * time.Hour), b}} {
		inForce := 0
		var who int64
		for _, set := range []*grids.Set{ga, gb} {
			if set.InForce(tc.at) {
				inForce++
				who = set.ID
			}
		}
		if inForce != 1 || who != tc.want {
			t.Errorf("at %s: %d sets in force (%d), want exactly %d", tc.at, inForce, who, tc.want)
		}
	}
	// The draft left over is untouched and still publishable later.
	if err := s.PublishGridSet(c, d, t2.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	gb, _ = s.GetGridSet(c, b)
	if gb.EffectiveTo == nil || !gb.EffectiveTo.Equal(t2.Add(24*time.Hour)) {
		t.Fatalf("set b effective_to = %v", gb.EffectiveTo)
	}
	ga, _ = s.GetGridSet(c, a)
	if !ga.EffectiveTo.Equal(t2) {
		t.Fatal("an older set's end moved")
	}
}

func ptr(t time.Time) *time.Time { return &t }

// fullIncident sets every field, so a round trip checks every column.
func fullIncident(ext string, i int) *incidents.Incident {
	rep := base.Add(time.Duration(i) * time.Minute).Add(123 * time.Millisecond)
	inc := &incidents.Incident{
		ExternalID: ext, Category: "E0102", Source: incidents.SourceHotline,
		Description: fmt.Sprintf("暴露垃圾 #%d, \"quoted\"\nsecond line", i),
		ReportedAt:  rep, Lon: 116.3974125 + float64(i)*1e-4, Lat: 39.9087243 + float64(i)*1e-4,
		GridCode: "110101001001001", Status: incidents.StatusReported, Deadline: ptr(rep.Add(72 * time.Hour)),
	}
	if i%3 == 1 {
		// An imported past case, with step times, history and counters.
		inc.Status = incidents.StatusClosed
		inc.FiledAt, inc.DispatchedAt = ptr(rep.Add(time.Hour)), ptr(rep.Add(2*time.Hour))
		inc.HandledAt, inc.ClosedAt = ptr(rep.Add(5*time.Hour)), ptr(rep.Add(6*time.Hour))
		inc.Reworks, inc.Extended = 1, true
		inc.History = []incidents.Transition{
			{At: rep.Add(time.Hour), By: "import", From: incidents.StatusReported, To: incidents.StatusFiled},
			{At: rep.Add(6 * time.Hour), By: "import", From: incidents.StatusHandled, To: incidents.StatusClosed, Note: "结案"},
		}
	}
	if i%5 == 2 {
		inc.GridCode = "" // unassigned
		inc.Source = ""
		inc.Deadline = nil
	}
	return inc
}

func clone(inc *incidents.Incident) *incidents.Incident {
	c := *inc
	c.History = append([]incidents.Transition(nil), inc.History...)
	return &c
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// diff describes how got differs from want; withHistory also compares the
// history, which only GetIncident returns.
func diff(got, want *incidents.Incident, withHistory bool) string {
	switch {
	case got.ID != want.ID:
		return fmt.Sprintf("id %d, want %d", got.ID, want.ID)
	case got.ExternalID != want.ExternalID, got.Category != want.Category, got.Source != want.Source,
		got.Description != want.Description, got.GridCode != want.GridCode, got.Status != want.Status,
		got.Reworks != want.Reworks, got.Extended != want.Extended:
		return fmt.Sprintf("fields\n got %+v\nwant %+v", *got, *want)
	case got.Lon != want.Lon || got.Lat != want.Lat:
		return fmt.Sprintf("location %v,%v, want %v,%v (stores keep float64 exactly)", got.Lon, got.Lat, want.Lon, want.Lat)
	case !got.ReportedAt.Equal(want.ReportedAt):
		return fmt.Sprintf("reported_at %s, want %s", got.ReportedAt, want.ReportedAt)
	case !sameTime(got.Deadline, want.Deadline), !sameTime(got.FiledAt, want.FiledAt),
		!sameTime(got.DispatchedAt, want.DispatchedAt), !sameTime(got.HandledAt, want.HandledAt),
		!sameTime(got.ClosedAt, want.ClosedAt):
		return fmt.Sprintf("step times\n got %+v\nwant %+v", *got, *want)
	}
	if withHistory {
		if len(got.History) != len(want.History) {
			return fmt.Sprintf("history has %d entries, want %d", len(got.History), len(want.History))
		}
		for i := range want.History {
			g, w := got.History[i], want.History[i]
			if !g.At.Equal(w.At) || g.By != w.By || g.From != w.From || g.To != w.To || g.Note != w.Note {
				return fmt.Sprintf("history[%d] = %+v, want %+v", i, g, w)
			}
		}
	}
	return ""
}

func insert(t *testing.T, s store.Store, incs []*incidents.Incident) []store.InsertResult {
	t.Helper()
	res, err := s.InsertIncidents(ctx(t), incs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(incs) {
		t.Fatalf("%d results for %d incidents", len(res), len(incs))
	}
	return res
}

func countIncidents(t *testing.T, s store.Store) int {
	t.Helper()
	n := 0
	if err := s.ScanIncidents(ctx(t), func(*incidents.Incident) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func testInsertRoundTrip(t *testing.T, h Harness) {
	s, _ := open(t, h)
	c := ctx(t)
	var in []*incidents.Incident
	for i := 0; i < 12; i++ {
		ext := ""
		if i%2 == 0 {
			ext = fmt.Sprintf("hotline-%d", i)
		}
		in = append(in, fullIncident(ext, i))
	}
	want := make([]*incidents.Incident, len(in))
	for i := range in {
		want[i] = clone(in[i])
	}
	res := insert(t, s, in)
	seen := map[int64]bool{}
	for i, r := range res {
		if !r.Created || r.ID <= 0 || seen[r.ID] {
			t.Fatalf("result %d = %+v", i, r)
		}
		seen[r.ID] = true
		if in[i].ID != r.ID {
			t.Fatalf("incident %d: id %d not written back (result %d)", i, in[i].ID, r.ID)
		}
		want[i].ID = r.ID
	}
	for i := range want {
		got, err := s.GetIncident(c, want[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := diff(got, want[i], true); d != "" {
			t.Errorf("incident %d: %s", i, d)
		}
	}
	var scanned []*incidents.Incident
	if err := s.ScanIncidents(c, func(inc *incidents.Incident) error { scanned = append(scanned, inc); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(scanned) != len(want) {
		t.Fatalf("scan gave %d incidents, want %d", len(scanned), len(want))
	}
	for i := 1; i < len(scanned); i++ {
		if scanned[i].ID <= scanned[i-1].ID {
			t.Fatal("scan is not in id order")
		}
	}
	byID := map[int64]*incidents.Incident{}
	for _, w := range want {
		byID[w.ID] = w
	}
	for _, got := range scanned {
		if d := diff(got, byID[got.ID], false); d != "" {
			t.Errorf("scanned incident %d: %s", got.ID, d)
		}
	}
	if _, err := s.GetIncident(c, 1<<40); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get missing incident: %v, want ErrNotFound", err)
	}
	// Sub-millisecond times are kept to the millisecond.
	odd := fullIncident("", 0)
	odd.ReportedAt = base.Add(1234567 * time.Nanosecond)
	insert(t, s, []*incidents.Incident{odd})
	got, err := s.GetIncident(c, odd.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.ReportedAt.Equal(base.Add(time.Millisecond)) || !odd.ReportedAt.Equal(got.ReportedAt) {
		t.Fatalf("reported_at %s (input now %s), want %s", got.ReportedAt, odd.ReportedAt, base.Add(time.Millisecond))
	}
}

func testInsertIdempotent(t *testing.T, h Harness) {
	s, _ := open(t, h)
	c := ctx(t)
	first := insert(t, s, []*incidents.Incident{fullIncident("ext-1", 0), fullIncident("ext-2", 1), fullIncident("", 2)})
	before := countIncidents(t, s)
	orig, err := s.GetIncident(c, first[0].ID)
	if err != nil {
		t.Fatal(err)
	}

	changed := fullIncident("ext-1", 7) // same external id, other content
	dupInBatch := fullIncident("ext-3", 3)
	again := insert(t, s, []*incidents.Incident{changed, fullIncident("ext-2", 1), dupInBatch, fullIncident("ext-3", 4), fullIncident("", 5)})
	tests := []struct {
		name    string
		i       int
		created bool
		id      int64
	}{
		{name: "stored external id", i: 0, created: false, id: first[0].ID},
		{name: "stored external id, same content", i: 1, created: false, id: first[1].ID},
		{name: "new external id", i: 2, created: true},
		{name: "repeated within the batch", i: 3, created: false, id: again[2].ID},
		{name: "no external id", i: 4, created: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := again[tt.i]
			if r.Created != tt.created || (tt.id != 0 && r.ID != tt.id) || r.ID <= 0 {
				t.Fatalf("result %+v, want created=%v id=%d", r, tt.created, tt.id)
			}
		})
	}
	if n := countIncidents(t, s); n != before+2 {
		t.Fatalf("%d incidents after resubmission, want %d", n, before+2)
	}
	got, err := s.GetIncident(c, first[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(got, orig, true); d != "" {
		t.Fatalf("resubmission changed the stored incident: %s", d)
	}
}

func testInsertAllOrNothing(t *testing.T, h Harness) {
	s, _ := open(t, h)
	c := ctx(t)
	insert(t, s, []*incidents.Incident{fullIncident("keep", 0)})
	tests := []struct {
		name string
		bad  func(*incidents.Incident)
	}{
		{name: "unknown status", bad: func(inc *incidents.Incident) { inc.Status = "lost" }},
		{name: "NaN longitude", bad: func(inc *incidents.Incident) { inc.Lon = math.NaN() }},
		{name: "latitude out of range", bad: func(inc *incidents.Incident) { inc.Lat = 91 }},
		{name: "no category", bad: func(inc *incidents.Incident) { inc.Category = "" }},
	}
	for k, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := countIncidents(t, s)
			ext := fmt.Sprintf("case-%d", k)
			batch := []*incidents.Incident{fullIncident(ext, 1), fullIncident("", 2), fullIncident("", 3)}
			tt.bad(batch[2])
			if _, err := s.InsertIncidents(c, batch); err == nil {
				t.Fatal("bad batch accepted")
			}
			if n := countIncidents(t, s); n != before {
				t.Fatalf("%d incidents after a refused batch, want %d", n, before)
			}
			// Nothing of the refused batch was kept: its external id is new.
			res := insert(t, s, []*incidents.Incident{fullIncident(ext, 1)})
			if !res[0].Created {
				t.Fatal("external id of a refused batch was kept")
			}
		})
	}
}

// queryFixture is 40 incidents on a 0.01° lattice over four days, two
// categories, grids of two communities and three statuses.
func queryFixture(t *testing.T, s store.Store) []*incidents.Incident {
	t.Helper()
	var in []*incidents.Incident
	for i := 0; i < 40; i++ {
		inc := &incidents.Incident{
			Category:   []string{"E0102", "C0101"}[i%2],
			ReportedAt: base.Add(time.Duration(i%4)*24*time.Hour + time.Duration(i)*time.Second),
			Lon:        116.30 + float64(i%8)*0.01, Lat: 39.90 + float64(i/8)*0.01,
			GridCode: []string{"110101001001001", "110101001002001", "110102003004001", ""}[i%4],
			Status:   []incidents.Status{incidents.StatusReported, incidents.StatusReported, incidents.StatusFiled}[i%3],
		}
		if inc.Status == incidents.StatusFiled {
			inc.FiledAt = ptr(inc.ReportedAt.Add(time.Hour))
		}
		in = append(in, inc)
	}
	insert(t, s, in)
	return in
}

func ids(incs []*incidents.Incident) []int64 {
	out := make([]int64, len(incs))
	for i, inc := range incs {
		out[i] = inc.ID
	}
	return out
}

func testQueryFilters(t *testing.T, h Harness) {
	s, _ := open(t, h)
	all := queryFixture(t, s)
	from, to := base.Add(24*time.Hour), base.Add(72*time.Hour)
	box := orb.Bound{Min: orb.Point{116.315, 39.905}, Max: orb.Point{116.345, 39.925}}
	// Edges 1e-6° inside columns of points (left out, though a float4 box
	// would take them in) and one edge on a row of points (taken in).
	edge := orb.Bound{Min: orb.Point{116.31 + 1e-6, all[8].Lat}, Max: orb.Point{116.34 - 1e-6, 39.93 + 1e-6}}
	tests := []struct {
		name  string
		q     store.IncidentQuery
		match func(inc *incidents.Incident) bool
	}{
		{name: "no filter", q: store.IncidentQuery{}, match: func(*incidents.Incident) bool { return true }},
		{name: "bbox", q: store.IncidentQuery{BBox: &box}, match: func(inc *incidents.Incident) bool { return box.Contains(orb.Point{inc.Lon, inc.Lat}) }},
		{name: "bbox edges", q: store.IncidentQuery{BBox: &edge}, match: func(inc *incidents.Incident) bool { return edge.Contains(orb.Point{inc.Lon, inc.Lat}) }},
		{name: "time range half open", q: store.IncidentQuery{From: &from, To: &to}, match: func(inc *incidents.Incident) bool {
			return !inc.ReportedAt.Before(from) && inc.ReportedAt.Before(to)
		}},
		{name: "category", q: store.IncidentQuery{Category: "C0101"}, match: func(inc *incidents.Incident) bool { return inc.Category == "C0101" }},
		{name: "grid prefix community", q: store.IncidentQuery{GridPrefix: "110101001001"}, match: func(inc *incidents.Incident) bool {
			return inc.GridCode == "110101001001001"
		}},
		{name: "grid prefix district", q: store.IncidentQuery{GridPrefix: "110101"}, match: func(inc *incidents.Incident) bool {
			return len(inc.GridCode) > 6 && inc.GridCode[:6] == "110101"
		}},
		{name: "status", q: store.IncidentQuery{Status: incidents.StatusFiled}, match: func(inc *incidents.Incident) bool { return inc.Status == incidents.StatusFiled }},
		{name: "ids", q: store.IncidentQuery{IDs: []int64{all[3].ID, all[17].ID, 1 << 40}}, match: func(inc *incidents.Incident) bool {
			return inc.ID == all[3].ID || inc.ID == all[17].ID
		}},
		{name: "empty ids", q: store.IncidentQuery{IDs: []int64{}}, match: func(*incidents.Incident) bool { return false }},
		{name: "combined", q: store.IncidentQuery{BBox: &box, Category: "E0102", From: &from}, match: func(inc *incidents.Incident) bool {
			return box.Contains(orb.Point{inc.Lon, inc.Lat}) && inc.Category == "E0102" && !inc.ReportedAt.Before(from)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []*incidents.Incident
			for _, inc := range all {
				if tt.match(inc) {
					want = append(want, inc)
				}
			}
			sort.Slice(want, func(i, j int) bool {
				if !want[i].ReportedAt.Equal(want[j].ReportedAt) {
					return want[i].ReportedAt.Before(want[j].ReportedAt)
				}
				return want[i].ID < want[j].ID
			})
			q := tt.q
			q.Limit = 1000
			got, next, err := s.QueryIncidents(ctx(t), q)
			if err != nil {
				t.Fatal(err)
			}
			if next != "" {
				t.Fatalf("cursor %q on the last page", next)
			}
			if !reflect.DeepEqual(ids(got), ids(want)) && !(len(got) == 0 && len(want) == 0) {
				t.Fatalf("got ids %v, want %v", ids(got), ids(want))
			}
			for i := range got {
				if d := diff(got[i], want[i], false); d != "" {
					t.Fatalf("incident %d: %s", want[i].ID, d)
				}
			}
		})
	}
	t.Run("bad cursor", func(t *testing.T) {
		if _, _, err := s.QueryIncidents(ctx(t), store.IncidentQuery{Cursor: "not a cursor"}); err == nil {
			t.Fatal("bad cursor accepted")
		}
	})
}

func testQueryPaging(t *testing.T, h Harness) {
	s, _ := open(t, h)
	// Ties on reported_at: paging must break them by id.
	var in []*incidents.Incident
	for i := 0; i < 57; i++ {
		in = append(in, &incidents.Incident{Category: "E0102", ReportedAt: base.Add(time.Duration(i/5) * time.Minute),
			Lon: 116.4, Lat: 39.9, Status: incidents.StatusReported})
	}
	// Insert in two batches in reverse time order, so id order and time
	// order differ.
	insert(t, s, in[30:])
	insert(t, s, in[:30])
	for _, limit := range []int{1, 7, 10, 57, 100} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			var got []*incidents.Incident
			cursor := ""
			for page := 0; ; page++ {
				if page > 60 {
					t.Fatal("paging does not end")
				}
				items, next, err := s.QueryIncidents(ctx(t), store.IncidentQuery{Limit: limit, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				if len(items) > limit {
					t.Fatalf("page of %d items, limit %d", len(items), limit)
				}
				got = append(got, items...)
				if next == "" {
					break
				}
				cursor = next
			}
			if len(got) != len(in) {
				t.Fatalf("paged through %d incidents, want %d", len(got), len(in))
			}
			seen := map[int64]bool{}
			for i, inc := range got {
				if seen[inc.ID] {
					t.Fatalf("incident %d twice", inc.ID)
				}
				seen[inc.ID] = true
				if i > 0 {
					p := got[i-1]
					if inc.ReportedAt.Before(p.ReportedAt) || (inc.ReportedAt.Equal(p.ReportedAt) && inc.ID < p.ID) {
						t.Fatalf("out of (reported_at, id) order at %d", i)
					}
				}
			}
		})
	}
}

func testUpdateWorkflow(t *testing.T, h Harness) {
	s, _ := open(t, h)
	c := ctx(t)
	inc := fullIncident("wf-1", 0)
	inc.History = nil
	insert(t, s, []*incidents.Incident{inc})
	id := inc.ID
	rep := inc.ReportedAt
	steps := []struct {
		name string
		fn   func(*incidents.Incident) error
	}{
		{name: "file", fn: func(i *incidents.Incident) error {
			return incidents.ChangeStatus(i, incidents.StatusFiled, "center", "立案", rep.Add(time.Hour))
		}},
		{name: "dispatch", fn: func(i *incidents.Incident) error {
			return incidents.ChangeStatus(i, incidents.StatusDispatched, "center", "", rep.Add(2*time.Hour))
		}},
		{name: "handle", fn: func(i *incidents.Incident) error {
			return incidents.ChangeStatus(i, incidents.StatusHandled, "crew 7", "", rep.Add(3*time.Hour))
		}},
		{name: "rework", fn: func(i *incidents.Incident) error {
			return incidents.ChangeStatus(i, incidents.StatusDispatched, "center", "返工", rep.Add(4*time.Hour))
		}},
		{name: "extend", fn: func(i *incidents.Incident) error {
			return incidents.Extend(i, rep.Add(96*time.Hour), "center", "", rep.Add(5*time.Hour))
		}},
	}
	want := clone(inc)
	for _, st := range steps {
		if err := st.fn(want); err != nil {
			t.Fatalf("%s on the expected copy: %v", st.name, err)
		}
		got, err := s.UpdateIncident(c, id, st.fn)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if d := diff(got, want, true); d != "" {
			t.Fatalf("%s returned: %s", st.name, d)
		}
	}
	stored, err := s.GetIncident(c, id)
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(stored, want, true); d != "" {
		t.Fatalf("stored: %s", d)
	}
	if stored.Reworks != 1 || !stored.Extended || len(stored.History) != 5 {
		t.Fatalf("after workflow: reworks %d extended %v history %d", stored.Reworks, stored.Extended, len(stored.History))
	}

	refusals := []struct {
		name string
		fn   func(*incidents.Incident) error
	}{
		{name: "forbidden transition", fn: func(i *incidents.Incident) error {
			return incidents.ChangeStatus(i, incidents.StatusClosed, "x", "", rep.Add(6*time.Hour))
		}},
		{name: "callback error after a change", fn: func(i *incidents.Incident) error {
			i.Description = "changed"
			return errors.New("changed my mind")
		}},
		{name: "reported_at change", fn: func(i *incidents.Incident) error { i.ReportedAt = i.ReportedAt.Add(time.Hour); return nil }},
		{name: "location change", fn: func(i *incidents.Incident) error { i.Lon += 0.001; return nil }},
		{name: "unknown status", fn: func(i *incidents.Incident) error { i.Status = "lost"; return nil }},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.UpdateIncident(c, id, tt.fn); err == nil {
				t.Fatal("refused update succeeded")
			}
			got, err := s.GetIncident(c, id)
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(got, want, true); d != "" {
				t.Fatalf("refused update changed the incident: %s", d)
			}
		})
	}
	t.Run("forbidden transition error", func(t *testing.T) {
		_, err := s.UpdateIncident(c, id, refusals[0].fn)
		if !errors.Is(err, incidents.ErrForbiddenTransition) {
			t.Fatalf("error %v does not wrap ErrForbiddenTransition", err)
		}
	})
	if _, err := s.UpdateIncident(c, 1<<40, func(*incidents.Incident) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update missing incident: %v, want ErrNotFound", err)
	}
}

func testKeys(t *testing.T, h Harness) {
	s, _ := open(t, h)
	c := ctx(t)
	k1 := store.Key{ID: "k1", Name: "dashboard", Hash: []byte{1, 2, 3, 0, 255}, Role: "viewer", CreatedAt: base}
	k2 := store.Key{ID: "k2", Name: "东华门街道", Hash: []byte{9, 9}, Role: "analyst", Scope: "110101001", CreatedAt: base.Add(time.Hour)}
	for _, k := range []store.Key{k1, k2} {
		if err := s.CreateKey(c, k); err != nil {
			t.Fatal(err)
		}
	}
	dupes := []struct {
		name string
		k    store.Key
	}{
		{name: "same id", k: store.Key{ID: "k1", Hash: []byte{7}, Role: "viewer", CreatedAt: base}},
		{name: "same hash", k: store.Key{ID: "k3", Hash: []byte{9, 9}, Role: "viewer", CreatedAt: base}},
	}
	for _, tt := range dupes {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.CreateKey(c, tt.k); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("duplicate key: %v, want ErrConflict", err)
			}
		})
	}
	got, err := s.KeyByHash(c, k2.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "k2" || got.Name != k2.Name || got.Role != "analyst" || got.Scope != "110101001" || !got.CreatedAt.Equal(k2.CreatedAt) || got.RevokedAt != nil {
		t.Fatalf("key = %+v", got)
	}
	if _, err := s.KeyByHash(c, []byte{4, 4}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown hash: %v, want ErrNotFound", err)
	}
	if err := s.RevokeKey(c, "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.KeyByHash(c, k1.Hash); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked key: %v, want ErrNotFound", err)
	}
	if err := s.RevokeKey(c, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke unknown key: %v, want ErrNotFound", err)
	}
	keys, err := s.ListKeys(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != "k1" || keys[0].RevokedAt == nil || keys[1].ID != "k2" || keys[1].RevokedAt != nil {
		t.Fatalf("keys = %+v", keys)
	}
	if !reflect.DeepEqual(keys[0].Hash, k1.Hash) {
		t.Fatalf("hash %v, want %v", keys[0].Hash, k1.Hash)
	}
}

func testConcurrentWriters(t *testing.T, h Harness) {
	s, _ := open(t, h)
	c := ctx(t)
	const (
		writers = 4
		batches = 8
		perB    = 24
	)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		byEx = map[string]map[int64]bool{}
		errs []error
	)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for b := 0; b < batches; b++ {
				var batch []*incidents.Incident
				for i := 0; i < perB; i++ {
					// Half the external ids are shared by all writers: they
					// race to insert the same case.
					ext := fmt.Sprintf("w%d-b%d-i%d", w, b, i)
					if i%2 == 0 {
						ext = fmt.Sprintf("shared-b%d-i%d", b, i)
					}
					batch = append(batch, fullIncident(ext, i))
				}
				res, err := s.InsertIncidents(c, batch)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					for i, r := range res {
						e := batch[i].ExternalID
						if byEx[e] == nil {
							byEx[e] = map[int64]bool{}
						}
						byEx[e][r.ID] = true
					}
				}
				mu.Unlock()
			}
		}(w)
	}
	// A reader runs alongside.
	stop := make(chan struct{})
	var rg sync.WaitGroup
	rg.Add(1)
	go func() {
		defer rg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, _, err := s.QueryIncidents(c, store.IncidentQuery{Limit: 50}); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
		}
	}()
	wg.Wait()
	close(stop)
	rg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	wantUnique := writers*batches*perB/2 + batches*perB/2
	if len(byEx) != wantUnique {
		t.Fatalf("%d distinct external ids seen, want %d", len(byEx), wantUnique)
	}
	allIDs := map[int64]bool{}
	for e, idset := range byEx {
		if len(idset) != 1 {
			t.Fatalf("external id %s got %d ids", e, len(idset))
		}
		for id := range idset {
			if allIDs[id] {
				t.Fatalf("id %d given to two external ids", id)
			}
			allIDs[id] = true
		}
	}
	if n := countIncidents(t, s); n != wantUnique {
		t.Fatalf("%d incidents stored, want %d", n, wantUnique)
	}
}

func testReopen(t *testing.T, h Harness) {
	s, reopen := open(t, h)
	c := ctx(t)
	setID, err := s.CreateGridSet(c, &grids.Set{Name: "persist", Grids: sampleGrids()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PublishGridSet(c, setID, base); err != nil {
		t.Fatal(err)
	}
	draftID, err := s.CreateGridSet(c, &grids.Set{Name: "draft", Grids: sampleGrids()[:2]})
	if err != nil {
		t.Fatal(err)
	}
	var in []*incidents.Incident
	for i := 0; i < 30; i++ {
		in = append(in, fullIncident(fmt.Sprintf("r-%d", i), i))
	}
	insert(t, s, in)
	want := make(map[int64]*incidents.Incident)
	for _, inc := range in {
		want[inc.ID] = clone(inc)
	}
	updated, err := s.UpdateIncident(c, in[0].ID, func(i *incidents.Incident) error {
		return incidents.ChangeStatus(i, incidents.StatusFiled, "center", "", i.ReportedAt.Add(time.Hour))
	})
	if err != nil {
		t.Fatal(err)
	}
	want[in[0].ID] = clone(updated)
	key := store.Key{ID: "kk", Hash: []byte("hash"), Role: "admin", CreatedAt: base}
	if err := s.CreateKey(c, key); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := reopen(t)
	set, err := s2.GetGridSet(c, setID)
	if err != nil {
		t.Fatal(err)
	}
	if set.Status != grids.StatusPublished || !set.EffectiveFrom.Equal(base) {
		t.Fatalf("set after reopen = %+v", set)
	}
	checkGrids(t, set.Grids, sampleGrids())
	draft, err := s2.GetGridSet(c, draftID)
	if err != nil {
		t.Fatal(err)
	}
	checkGrids(t, draft.Grids, sampleGrids()[:2])
	for id, w := range want {
		got, err := s2.GetIncident(c, id)
		if err != nil {
			t.Fatal(err)
		}
		if d := diff(got, w, true); d != "" {
			t.Fatalf("incident %d after reopen: %s", id, d)
		}
	}
	if _, err := s2.KeyByHash(c, key.Hash); err != nil {
		t.Fatal(err)
	}
	// Idempotency holds across restarts, and new ids do not reuse old ones.
	res := insert(t, s2, []*incidents.Incident{fullIncident("r-3", 3), fullIncident("", 99)})
	if res[0].Created || res[0].ID != in[3].ID {
		t.Fatalf("resubmission after reopen = %+v, want id %d not created", res[0], in[3].ID)
	}
	if _, dup := want[res[1].ID]; dup || !res[1].Created {
		t.Fatalf("new incident after reopen = %+v reuses an id", res[1])
	}
}

func waitEvent(t *testing.T, ch <-chan store.Event, match func(store.Event) bool) store.Event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatal("event channel closed")
			}
			if match(e) {
				return e
			}
		case <-timeout:
			t.Fatal("no matching event within 20s")
		}
	}
}

func testEvents(t *testing.T, h Harness) {
	s, reopen := open(t, h)
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	ch := s.Subscribe(c)
	var other store.Store
	var otherCh <-chan store.Event
	if h.SharedEvents {
		other = reopen(t)
		otherCh = other.Subscribe(c)
	}
	// Let subscriptions settle: LISTEN must be in place before the writes.
	time.Sleep(200 * time.Millisecond)

	id, err := s.CreateGridSet(c, &grids.Set{Name: "ev", Grids: sampleGrids()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PublishGridSet(c, id, base); err != nil {
		t.Fatal(err)
	}
	e := waitEvent(t, ch, func(e store.Event) bool { return e.Kind == store.EventGridSetPublished })
	if e.SetID != id || !e.Local {
		t.Fatalf("publish event = %+v, want set %d, local", e, id)
	}
	res := insert(t, s, []*incidents.Incident{fullIncident("ev-1", 0), fullIncident("", 1)})
	e = waitEvent(t, ch, func(e store.Event) bool { return e.Kind == store.EventIncidents })
	if !reflect.DeepEqual(e.IDs, []int64{res[0].ID, res[1].ID}) {
		t.Fatalf("incidents event ids %v, want %v", e.IDs, []int64{res[0].ID, res[1].ID})
	}
	if _, err := s.UpdateIncident(c, res[0].ID, func(i *incidents.Incident) error {
		return incidents.ChangeStatus(i, incidents.StatusFiled, "x", "", i.ReportedAt.Add(time.Hour))
	}); err != nil {
		t.Fatal(err)
	}
	e = waitEvent(t, ch, func(e store.Event) bool { return e.Kind == store.EventIncidentUpdated })
	if !reflect.DeepEqual(e.IDs, []int64{res[0].ID}) {
		t.Fatalf("update event ids %v", e.IDs)
	}
	// A resubmission creates nothing and announces nothing: the next
	// incidents event is the one after it.
	insert(t, s, []*incidents.Incident{fullIncident("ev-1", 0)})
	res2 := insert(t, s, []*incidents.Incident{fullIncident("ev-2", 2)})
	e = waitEvent(t, ch, func(e store.Event) bool { return e.Kind == store.EventIncidents })
	if !reflect.DeepEqual(e.IDs, []int64{res2[0].ID}) {
		t.Fatalf("incidents event after a resubmission = %v, want %v", e.IDs, []int64{res2[0].ID})
	}

	if h.SharedEvents {
		e := waitEvent(t, otherCh, func(e store.Event) bool { return e.Kind == store.EventGridSetPublished })
		if e.SetID != id || e.Local {
			t.Fatalf("replica publish event = %+v, want set %d, not local", e, id)
		}
		e = waitEvent(t, otherCh, func(e store.Event) bool { return e.Kind == store.EventIncidents })
		if !reflect.DeepEqual(e.IDs, []int64{res[0].ID, res[1].ID}) || e.Local {
			t.Fatalf("replica incidents event = %+v", e)
		}
		// And the other way round.
		id2, err := other.CreateGridSet(c, &grids.Set{Name: "ev2", Grids: sampleGrids()})
		if err != nil {
			t.Fatal(err)
		}
		if err := other.PublishGridSet(c, id2, base.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		e = waitEvent(t, ch, func(e store.Event) bool { return e.Kind == store.EventGridSetPublished && e.SetID == id2 })
		if e.Local {
			t.Fatal("event from the replica marked local")
		}
	}

	cancel()
	for range ch { // drained and closed once ctx ends
	}
}

func testLoadAndSync(t *testing.T, h Harness) {
	s, _ := open(t, h)
	c := ctx(t)
	for k, from := range []time.Time{base, base.Add(24 * time.Hour)} {
		id, err := s.CreateGridSet(c, &grids.Set{Name: fmt.Sprint(k), Grids: sampleGrids()})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.PublishGridSet(c, id, from); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateGridSet(c, &grids.Set{Name: "draft", Grids: sampleGrids()}); err != nil {
		t.Fatal(err)
	}
	sets, err := store.PublishedSets(c, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 2 || sets[0].Name != "0" || sets[1].Name != "1" || len(sets[0].Grids) != len(sampleGrids()) {
		t.Fatalf("published sets: %d, want the two published, oldest first, with grids", len(sets))
	}

	var in []*incidents.Incident
	for i := 0; i < 20; i++ {
		in = append(in, fullIncident(fmt.Sprintf("c-%d", i), i))
	}
	insert(t, s, in)
	cols, err := store.LoadColumns(c, s)
	if err != nil {
		t.Fatal(err)
	}
	v := cols.View()
	if v.Len() != len(in) {
		t.Fatalf("loaded %d rows, want %d", v.Len(), len(in))
	}
	for i := 0; i < v.Len(); i++ {
		if v.ID(i) != in[i].ID || v.Status(i) != in[i].Status || v.ReportedAt(i) != in[i].ReportedAt.Unix() {
			t.Fatalf("row %d = %+v, want incident %d", i, v.Row(i), in[i].ID)
		}
	}
	// An update and a new incident reach the columns through their events.
	if _, err := s.UpdateIncident(c, in[0].ID, func(i *incidents.Incident) error {
		return incidents.ChangeStatus(i, incidents.StatusRejected, "x", "", i.ReportedAt.Add(time.Minute))
	}); err != nil {
		t.Fatal(err)
	}
	if err := store.SyncColumns(c, s, cols, store.Event{Kind: store.EventIncidentUpdated, IDs: []int64{in[0].ID}}); err != nil {
		t.Fatal(err)
	}
	res := insert(t, s, []*incidents.Incident{fullIncident("", 50)})
	if err := store.SyncColumns(c, s, cols, store.Event{Kind: store.EventIncidents, IDs: []int64{res[0].ID}}); err != nil {
		t.Fatal(err)
	}
	v = cols.View()
	if v.Len() != len(in)+1 || v.Status(0) != incidents.StatusRejected || v.ID(len(in)) != res[0].ID {
		t.Fatalf("after sync: %d rows, row 0 %s", v.Len(), v.Status(0))
	}
	// A resync rereads everything and adds nothing twice.
	if err := store.SyncColumns(c, s, cols, store.Event{Kind: store.EventResync}); err != nil {
		t.Fatal(err)
	}
	if cols.Len() != len(in)+1 {
		t.Fatalf("after resync: %d rows, want %d", cols.Len(), len(in)+1)
	}
}

func testIngest(t *testing.T, h Harness) {
	cat := incidents.Builtin()
	good := `{"lon":116.40,"lat":39.90,"reported_at":"2024-03-01T08:00:00+08:00","category":"E0102","external_id":"in-1"}
{"lon":116.41,"lat":39.91,"reported_at":"2024-03-02T08:00:00+08:00","category":"市容环境/暴露垃圾","crs":"wgs84"}
{"lon":116.42,"lat":39.92,"reported_at":"2024-03-03T08:00:00+08:00","category":"E0102","external_id":"in-1"}
`
	bad := `{"lon":116.43,"lat":39.93,"reported_at":"2024-03-04T08:00:00+08:00","category":"no such class"}
{"lon":116.44,
`
	t.Run("all or nothing refuses a bad input whole", func(t *testing.T) {
		s, _ := open(t, h)
		st, err := store.Ingest(ctx(t), s, strings.NewReader(good+bad), store.IngestOptions{Catalogue: cat, AllOrNothing: true})
		var inv *store.InvalidInputError
		if !errors.As(err, &inv) || inv.Total != 2 || len(inv.Errors) != 2 {
			t.Fatalf("error %v, want an InvalidInputError with 2 items", err)
		}
		if !strings.Contains(inv.Errors[0].Error(), "line 4: category") || !strings.Contains(inv.Errors[1].Error(), "line 5") {
			t.Fatalf("errors %v do not name line and field", inv.Errors)
		}
		if st.Items != 5 || st.Invalid != 2 || st.Created != 0 || countIncidents(t, s) != 0 {
			t.Fatalf("stats %+v, %d stored; want nothing stored", st, countIncidents(t, s))
		}
	})
	t.Run("import stores the good lines", func(t *testing.T) {
		s, _ := open(t, h)
		var (
			invalid  []error
			batches  int
			locateAt []time.Time
		)
		opt := store.IngestOptions{
			Catalogue: cat, BatchSize: 2, CRS: "gcj02",
			Locate: func(lon, lat float64, at time.Time) string {
				locateAt = append(locateAt, at)
				return "110101001001001"
			},
			OnInvalid: func(err error) { invalid = append(invalid, err) },
			OnBatch:   func([]*incidents.Incident, []store.InsertResult) { batches++ },
		}
		st, err := store.Ingest(ctx(t), s, strings.NewReader(bad+good), opt)
		if err != nil {
			t.Fatal(err)
		}
		if st.Items != 5 || st.Invalid != 2 || st.Created != 2 || st.Existing != 1 || len(invalid) != 2 || batches != 2 {
			t.Fatalf("stats %+v, %d invalid reported, %d batches", st, len(invalid), batches)
		}
		if len(locateAt) != 3 || !locateAt[0].Equal(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("geocoded at %v, want each incident's reported_at", locateAt)
		}
		items, _, err := s.QueryIncidents(ctx(t), store.IncidentQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 2 || items[0].GridCode != "110101001001001" || items[0].Category != "E0102" || items[1].Category != "E0102" {
			t.Fatalf("stored %+v", items)
		}
		// The default crs applied to the line without one, not to the one
		// that said wgs84.
		if items[0].Lon == 116.40 || items[1].Lon != 116.41 {
			t.Fatalf("lon %v and %v: --crs gcj02 applies only where the line names none", items[0].Lon, items[1].Lon)
		}
	})
}
