package gpkg

import (
	"context"
	"database/sql/driver"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/store"
)

func TestAppendTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	zones := []*time.Location{time.UTC, time.FixedZone("CST", 8*3600), time.FixedZone("west", -(9*3600 + 30*60))}
	times := []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999000000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 6, 1, 0, 0, 0, 1, time.UTC),
		time.Date(2000, 1, 1, 0, 0, 0, 0, time.FixedZone("east", 14*3600)), // 1999 in UTC
	}
	for i := 0; i < 10000; i++ {
		sec := rng.Int64N(400*365*86400) - 100*365*86400 // 1870…2270
		times = append(times, time.Unix(sec, rng.Int64N(1e9)).In(zones[i%len(zones)]))
	}
	var a arena
	for _, tm := range times {
		want := fmtTime(tm)
		if got := string(appendTime([]byte("x"), tm)[1:]); got != want {
			t.Fatalf("appendTime(%v) = %s, want %s", tm, got, want)
		}
		if got := a.time(tm); got != want {
			t.Fatalf("arena time(%v) = %s, want %s", tm, got, want)
		}
	}
}

func TestArenaValuesStay(t *testing.T) {
	var a arena
	type kept struct {
		s   string
		p   []byte
		t   time.Time
		lon float64
	}
	var all []kept
	for i := 0; i < 3000; i++ { // several arena buffers
		tm := time.Unix(int64(i)*7919, 0)
		all = append(all, kept{a.time(tm), a.point(float64(i), -float64(i)), tm, float64(i)})
	}
	for i, k := range all {
		if k.s != fmtTime(k.t) || string(k.p) != string(encodePoint(k.lon, -k.lon)) {
			t.Fatalf("value %d changed: %q %x", i, k.s, k.p)
		}
		if cap(k.p) != len(k.p) {
			t.Fatalf("point %d can grow into the arena: cap %d", i, cap(k.p))
		}
	}
}

func TestSharedColumns(t *testing.T) {
	blob := []byte{1, 2}
	tests := []struct {
		name string
		vals []driver.Value // rows of three
		want []bool
	}{
		{name: "one row", vals: []driver.Value{"a", nil, int64(1)}, want: []bool{true, true, true}},
		{name: "equal rows", vals: []driver.Value{"a", nil, int64(1), "a", nil, int64(1)}, want: []bool{true, true, true}},
		{name: "text differs", vals: []driver.Value{"a", nil, int64(1), "b", nil, int64(1)}, want: []bool{false, true, true}},
		{name: "NULL then text", vals: []driver.Value{"a", nil, int64(1), "a", "x", int64(1)}, want: []bool{true, false, true}},
		{name: "number differs in the last row", vals: []driver.Value{"a", nil, int64(1), "a", nil, int64(1), "a", nil, int64(2)}, want: []bool{true, true, false}},
		{name: "same text, other type", vals: []driver.Value{"1", nil, int64(1), int64(1), nil, "1"}, want: []bool{false, true, false}},
		{name: "blobs never", vals: []driver.Value{blob, nil, int64(1), blob, nil, int64(1)}, want: []bool{false, true, true}},
		{name: "blob below text", vals: []driver.Value{"a", nil, int64(1), blob, nil, int64(1)}, want: []bool{false, true, true}},
		{name: "no rows", vals: nil, want: []bool{false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sharedColumns(tt.vals, 3); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBulkInsertSQL(t *testing.T) {
	b, err := newBulkInsert(fakePreparer{}, "t", []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	want := "INSERT OR ROLLBACK INTO t (a, b, c) VALUES (?,?,?),(?,?2,?),(?,?2,?)"
	if got := b.sql(3, []bool{false, true, false}); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

type fakePreparer struct{}

func (fakePreparer) PrepareContext(context.Context, string) (driver.Stmt, error) {
	return nil, fmt.Errorf("not a database")
}

// variedIncident sets the columns so that, over a batch, some hold one
// value in every row, some differ, and some are NULL in all rows but a few,
// which is what decides the shared parameters of a bulk insert.
func variedIncident(rng *rand.Rand, ext string, i int) *incidents.Incident {
	rep := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(1e6)) * time.Second).Add(time.Duration(i%1000) * time.Millisecond)
	inc := &incidents.Incident{
		ExternalID: ext, Category: []string{"E0102", "E0101", "C0101"}[i%3], Source: incidents.SourceApp,
		Description: fmt.Sprintf("报告 %d", i), ReportedAt: rep,
		Lon: 116.2 + rng.Float64()*0.3, Lat: 39.8 + rng.Float64()*0.3, Status: incidents.StatusReported,
	}
	if i%4 != 0 {
		d := rep.Add(72 * time.Hour)
		inc.Deadline = &d
		inc.GridCode = fmt.Sprintf("110101001%06d", i%37)
	}
	if i%97 == 5 {
		// A past case: step times, history, counters, all in few rows.
		f, d, h, c := rep.Add(time.Hour), rep.Add(2*time.Hour), rep.Add(3*time.Hour), rep.Add(4*time.Hour)
		inc.Status, inc.FiledAt, inc.DispatchedAt, inc.HandledAt, inc.ClosedAt = incidents.StatusClosed, &f, &d, &h, &c
		inc.Reworks, inc.Extended = 2, true
		inc.History = []incidents.Transition{
			{At: f, By: "import", From: incidents.StatusReported, To: incidents.StatusFiled},
			{At: c, By: "import", From: incidents.StatusHandled, To: incidents.StatusClosed, Note: fmt.Sprintf("结案 %d", i)},
		}
	}
	if i%13 == 0 {
		inc.Description = ""
	}
	return inc
}

func sameIncident(got, want *incidents.Incident) string {
	eqTime := func(a, b *time.Time) bool {
		if a == nil || b == nil {
			return a == nil && b == nil
		}
		return a.Equal(*b)
	}
	switch {
	case got.ID != want.ID, got.ExternalID != want.ExternalID, got.Category != want.Category, got.Source != want.Source,
		got.Description != want.Description, got.GridCode != want.GridCode, got.Status != want.Status,
		got.Reworks != want.Reworks, got.Extended != want.Extended, got.Lon != want.Lon, got.Lat != want.Lat,
		!got.ReportedAt.Equal(want.ReportedAt), !eqTime(got.Deadline, want.Deadline), !eqTime(got.FiledAt, want.FiledAt),
		!eqTime(got.DispatchedAt, want.DispatchedAt), !eqTime(got.HandledAt, want.HandledAt), !eqTime(got.ClosedAt, want.ClosedAt),
		len(got.History) != len(want.History):
		return fmt.Sprintf("\n got %+v\nwant %+v", *got, *want)
	}
	for i, w := range want.History {
		g := got.History[i]
		if !g.At.Equal(w.At) || g.By != w.By || g.From != w.From || g.To != w.To || g.Note != w.Note {
			return fmt.Sprintf("history[%d] %+v, want %+v", i, g, w)
		}
	}
	return ""
}

// TestBulkInsertRoundTrip writes batches that span several multi-row
// statements, with columns shared and not, then a batch that repeats
// stored external ids, and reads every incident back.
func TestBulkInsertRoundTrip(t *testing.T) {
	s := openFile(t, "bulk.gpkg")
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 5))
	want := map[int64]*incidents.Incident{}
	check := func(t *testing.T) {
		t.Helper()
		for id, w := range want {
			got, err := s.GetIncident(ctx, id)
			if err != nil {
				t.Fatalf("incident %d: %v", id, err)
			}
			if d := sameIncident(got, w); d != "" {
				t.Fatalf("incident %d: %s", id, d)
			}
		}
		var n int
		if err := s.w.QueryRow("SELECT count(*) FROM incidents").Scan(&n); err != nil || n != len(want) {
			t.Fatalf("%d incidents stored (%v), want %d", n, err, len(want))
		}
		checkRtree(t, s, rng)
	}
	keep := func(t *testing.T, batch []*incidents.Incident, res []store.InsertResult) {
		t.Helper()
		for i, r := range res {
			if r.Created {
				c := *batch[i]
				want[r.ID] = &c
			}
		}
	}

	first := make([]*incidents.Incident, 2*rowsPerInsert+77)
	for i := range first {
		first[i] = variedIncident(rng, fmt.Sprintf("a-%d", i), i)
	}
	first[10].ExternalID = "" // none: always new
	res, err := s.InsertIncidents(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !r.Created || r.ID != first[i].ID || (i > 0 && r.ID != res[i-1].ID+1) {
			t.Fatalf("result %d: %+v (incident id %d), want new consecutive ids", i, r, first[i].ID)
		}
	}
	keep(t, first, res)
	check(t)

	// Stored ids, new ones, repeats within the batch and ones without an
	// external id, in a batch large enough to be written in bulk.
	const (
		isNew = iota
		isStored
		isRepeat
	)
	second := make([]*incidents.Incident, 300)
	kind := make([]int, len(second))
	for i := range second {
		ext := fmt.Sprintf("b-%d", i)
		switch {
		case i%3 == 0:
			ext, kind[i] = fmt.Sprintf("a-%d", i), isStored
		case i%10 == 7 && kind[i-5] == isNew && second[i-5].ExternalID != "":
			ext, kind[i] = second[i-5].ExternalID, isRepeat
		case i%29 == 1:
			ext = ""
		}
		second[i] = variedIncident(rng, ext, 1000+i)
	}
	res, err = s.InsertIncidents(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	repeats := 0
	for i, r := range res {
		switch kind[i] {
		case isStored:
			if r.Created || r.ID != first[i].ID {
				t.Fatalf("stored %s: %+v, want id %d", second[i].ExternalID, r, first[i].ID)
			}
		case isRepeat:
			repeats++
			if r.Created || r.ID != res[i-5].ID {
				t.Fatalf("repeated %s: %+v, want id %d", second[i].ExternalID, r, res[i-5].ID)
			}
		default:
			if !r.Created {
				t.Fatalf("new %q: %+v", second[i].ExternalID, r)
			}
		}
	}
	if repeats == 0 {
		t.Fatal("no repeats in the batch")
	}
	keep(t, second, res)
	check(t)

	// Chunks that share different columns: the first shares the source
	// and the NULL grid, the second only the grid, the third only the
	// source, under another value.
	third := make([]*incidents.Incident, 3*rowsPerInsert+10)
	for i := range third {
		inc := variedIncident(rng, fmt.Sprintf("c-%d", i), 2000+i)
		switch chunk := i / rowsPerInsert; {
		case chunk == 0:
			inc.Source, inc.GridCode = incidents.SourceHotline, ""
		case chunk == 1:
			inc.Source, inc.GridCode = []incidents.Source{incidents.SourcePatrol, ""}[i%2], ""
		case chunk == 2:
			inc.Source = incidents.SourceVideo
		}
		// History rows enough for several statements of their own.
		inc.History = append(inc.History, incidents.Transition{At: inc.ReportedAt, By: "api", To: incidents.StatusReported,
			Note: "reported via " + string(inc.Source)})
		third[i] = inc
	}
	res, err = s.InsertIncidents(ctx, third)
	if err != nil {
		t.Fatal(err)
	}
	keep(t, third, res)
	check(t)

	// A stored id after two full statements of new rows.
	fourth := make([]*incidents.Incident, 2*rowsPerInsert+60)
	for i := range fourth {
		fourth[i] = variedIncident(rng, fmt.Sprintf("d-%d", i), 3000+i)
	}
	fourth[2*rowsPerInsert+7].ExternalID = third[5].ExternalID
	res, err = s.InsertIncidents(ctx, fourth)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if i == 2*rowsPerInsert+7 {
			if r.Created || r.ID != third[5].ID {
				t.Fatalf("stored %s: %+v, want id %d", fourth[i].ExternalID, r, third[5].ID)
			}
		} else if !r.Created {
			t.Fatalf("new %s: %+v", fourth[i].ExternalID, r)
		}
	}
	keep(t, fourth, res)
	check(t)
}
