package api

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/gridd/gridd/store"
	"github.com/gridd/gridd/store/gpkg"
	"github.com/gridd/gridd/store/storetest"
)

// BenchmarkIncidentList is one page of GET /api/v1/incidents over a
// GeoPackage store of one million incidents: the columns find the page's
// rows in one pass, the store reads those incidents by id.
func BenchmarkIncidentList(b *testing.B) {
	const n = 1_000_000
	ctx := context.Background()
	st, err := gpkg.Open(filepath.Join(b.TempDir(), "list.gpkg"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := storetest.Fill(ctx, st, n); err != nil {
		b.Fatal(err)
	}
	be, err := OpenBackend(ctx, st, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	// storetest.Incidents: one report a second from 2024-01-01 UTC.
	mid := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(n / 2 * time.Second)
	first, next, err := be.listIncidents(ctx, store.IncidentQuery{From: &mid, Limit: 100})
	if err != nil || len(first) != 100 || next == "" {
		b.Fatalf("middle page: %d incidents, next %q, %v", len(first), next, err)
	}
	for _, tc := range []struct {
		name string
		q    store.IncidentQuery
	}{
		{"first-page", store.IncidentQuery{Limit: 100}},
		{"middle-page", store.IncidentQuery{Limit: 100, Cursor: next}},
		{"community-since", store.IncidentQuery{Limit: 100, GridPrefix: "110101001007", From: &mid}},
		{"max-page", store.IncidentQuery{Limit: store.MaxLimit, From: &mid}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				page, _, err := be.listIncidents(ctx, tc.q)
				if err != nil || len(page) == 0 {
					b.Fatalf("%d incidents, %v", len(page), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
		})
	}
}
