package gpkg

import (
	"context"
	"errors"
	"testing"

	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/store/storetest"
)

// ScanIncidents reads ranges of ids in parallel and hands them on in id
// order: many ranges, empty ones among them, and a stop asked by fn.
func TestScanIncidentsRanges(t *testing.T) {
	ctx := context.Background()
	s := openFile(t, "scan.gpkg")
	n := 3*scanRange + 123
	if err := storetest.Fill(ctx, s, n); err != nil {
		t.Fatal(err)
	}
	// Ten rows far past the others: the ranges between them are empty.
	if _, err := s.w.Exec(`INSERT INTO incidents (fid, geom, category, reported_at, status, grid_code)
SELECT fid + 20 * ?, geom, category, reported_at, status, grid_code FROM incidents WHERE fid <= 10`, scanRange); err != nil {
		t.Fatal(err)
	}
	var got []*incidents.Incident
	if err := s.ScanIncidents(ctx, func(inc *incidents.Incident) error {
		got = append(got, inc)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != n+10 {
		t.Fatalf("scanned %d incidents, want %d", len(got), n+10)
	}
	for i := 1; i < len(got); i++ {
		if got[i].ID <= got[i-1].ID {
			t.Fatalf("id %d after %d", got[i].ID, got[i-1].ID)
		}
	}
	for _, i := range []int{0, scanRange - 1, scanRange, 2*scanRange + 7, n - 1, n + 9} {
		want, err := s.GetIncident(ctx, got[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		want.History = nil
		g := *got[i]
		if g.ID != want.ID || g.Lon != want.Lon || g.Lat != want.Lat || !g.ReportedAt.Equal(want.ReportedAt) ||
			g.Category != want.Category || g.GridCode != want.GridCode || g.Status != want.Status {
			t.Errorf("scanned %+v, stored %+v", g, *want)
		}
	}

	stop := errors.New("enough")
	calls := 0
	err := s.ScanIncidents(ctx, func(*incidents.Incident) error {
		calls++
		if calls == scanRange+5 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != scanRange+5 {
		t.Fatalf("after %d calls: %v, want fn's error", calls, err)
	}
}
