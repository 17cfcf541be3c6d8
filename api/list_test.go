package api

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/internal/pgtest"
	"github.com/gridd/gridd/store"
	"github.com/gridd/gridd/store/gpkg"
	"github.com/gridd/gridd/store/postgis"
)

// The incident list pages over the in-memory columns; each store's own
// QueryIncidents, with its SQL filters and (reported_at, id) order, is the
// reference it must match page by page: millisecond times, ties on
// reported_at, every filter, and pages cut in the same places.
func TestListMatchesStoreQuery(t *testing.T) {
	t.Run("gpkg", func(t *testing.T) {
		st, err := gpkg.Open(filepath.Join(t.TempDir(), "list.gpkg"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		checkListMatchesStore(t, st)
	})
	t.Run("postgis", func(t *testing.T) {
		st, err := postgis.Open(context.Background(), pgtest.NewDB(t))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		checkListMatchesStore(t, st)
	})
}

func checkListMatchesStore(t *testing.T, st store.Store) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cats := []string{"E0102", "E0101", "C0101"}
	codes := []string{"110101001001001", "110101001001002", "110101001002001", "110101002001001", "110102001001001", ""}
	var in []*incidents.Incident
	for i := 0; i < 3000; i++ {
		at := t0.Add(time.Duration(rng.Int64N(int64(20*24*time.Hour/time.Millisecond))) * time.Millisecond)
		if i > 0 && rng.IntN(8) == 0 {
			at = in[rng.IntN(len(in))].ReportedAt // a tie
		}
		in = append(in, &incidents.Incident{
			Category: cats[rng.IntN(len(cats))], Source: incidents.SourceHotline, ReportedAt: at,
			Lon: 116.3 + float64(rng.IntN(100000))*1e-6, Lat: 39.9 + float64(rng.IntN(100000))*1e-6,
			GridCode: codes[rng.IntN(len(codes))], Status: incidents.Statuses()[rng.IntN(len(incidents.Statuses()))],
		})
	}
	// Several batches, out of time order, so that ids and times disagree.
	for start := 0; start < len(in); start += 700 {
		if _, err := st.InsertIncidents(ctx, in[start:min(len(in), start+700)]); err != nil {
			t.Fatal(err)
		}
	}
	b, err := OpenBackend(ctx, st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if b.Columns.Len() != len(in) {
		t.Fatalf("columns hold %d incidents, want %d", b.Columns.Len(), len(in))
	}

	instant := func() *time.Time {
		at := t0.Add(time.Duration(rng.Int64N(int64(21*24*time.Hour/time.Millisecond))) * time.Millisecond)
		if rng.IntN(3) == 0 {
			at = in[rng.IntN(len(in))].ReportedAt // on an incident's own millisecond
		}
		return &at
	}
	nonEmpty := 0
	for k := 0; k < 60; k++ {
		var q store.IncidentQuery
		if rng.IntN(3) == 0 {
			// Box edges half a step off the points' 1e-6° lattice.
			x0, y0 := 116.3+(float64(rng.IntN(60000))+0.5)*1e-6, 39.9+(float64(rng.IntN(60000))+0.5)*1e-6
			q.BBox = &orb.Bound{Min: orb.Point{x0, y0}, Max: orb.Point{x0 + 0.04, y0 + 0.04}}
		}
		if rng.IntN(2) == 0 {
			q.From = instant()
		}
		if rng.IntN(2) == 0 {
			q.To = instant()
			if q.From != nil && !q.To.After(*q.From) {
				q.From, q.To = q.To, q.From
			}
		}
		if rng.IntN(3) == 0 {
			q.Category = cats[rng.IntN(len(cats))]
		}
		if rng.IntN(3) == 0 {
			q.GridPrefix = []string{"110101", "110101001", "110101001001", "110101001001002"}[rng.IntN(4)]
		}
		if rng.IntN(3) == 0 {
			q.Status = incidents.Statuses()[rng.IntN(len(incidents.Statuses()))]
		}
		q.Limit = []int{2, 7, 100, 1000}[rng.IntN(4)]
		if q.Limit == 2 && q.From == nil && q.To == nil {
			q.Limit = 50 // keeps the number of pages small
		}
		name := fmt.Sprintf("query %d %+v", k, q)
		want := pagesOf(t, name, q, st.QueryIncidents)
		got := pagesOf(t, name, q, b.listIncidents)
		if len(want) > 0 && len(want[0]) > 0 {
			nonEmpty++
		}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("%s: the list gives pages\n%v\nthe store\n%v", name, got, want)
		}
	}
	if nonEmpty < 30 {
		t.Errorf("only %d of the queries matched anything", nonEmpty)
	}
}

// pagesOf follows q's cursors to the end and gives the ids of every page.
func pagesOf(t *testing.T, name string, q store.IncidentQuery,
	query func(context.Context, store.IncidentQuery) ([]*incidents.Incident, string, error)) [][]int64 {
	t.Helper()
	var pages [][]int64
	for {
		page, next, err := query(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ids := make([]int64, len(page))
		for i, inc := range page {
			ids[i] = inc.ID
		}
		pages = append(pages, ids)
		if next == "" {
			return pages
		}
		if len(pages) > 3100 {
			t.Fatalf("%s: paging does not end", name)
		}
		q.Cursor = next
	}
}
