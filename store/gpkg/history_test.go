package gpkg

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/store/storetest"
)

// A batch mixing incidents whose history is only their first entry (copied
// from their rows in one statement) with incidents of longer histories and
// of other authors gives back every history as it went in.
func TestInsertKeepsEveryHistory(t *testing.T) {
	ctx := context.Background()
	s := openFile(t, "h.gpkg")
	incs := storetest.Incidents(500, 0)
	for i, inc := range incs {
		inc.Source = []incidents.Source{incidents.SourceHotline, incidents.SourcePatrol, incidents.SourceApp}[i%3]
		switch {
		case i%7 == 3: // a past case: several steps
			at := inc.ReportedAt
			inc.History = []incidents.Transition{
				{At: at, By: incidents.ImportedBy, To: incidents.StatusReported, Note: "reported via " + string(inc.Source)},
				{At: at.Add(time.Hour), By: incidents.ImportedBy, From: incidents.StatusReported, To: incidents.StatusFiled},
			}
			inc.Status = incidents.StatusFiled
		case i%11 == 5: // another author
			inc.StartHistory(fmt.Sprintf("desk-%d", i))
		case i%13 == 7: // a note of its own
			inc.History = []incidents.Transition{{At: inc.ReportedAt, By: "ingest", To: inc.Status, Note: "called twice"}}
		default:
			inc.StartHistory("ingest")
		}
	}
	want := make([][]incidents.Transition, len(incs))
	for i, inc := range incs {
		want[i] = append([]incidents.Transition(nil), inc.History...)
	}
	res, err := s.InsertIncidents(ctx, incs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		got, err := s.GetIncident(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.History) != len(want[i]) {
			t.Fatalf("incident %d: %d history entries, want %d", i, len(got.History), len(want[i]))
		}
		for k := range want[i] {
			g, w := got.History[k], want[i][k]
			if !g.At.Equal(w.At) || g.By != w.By || g.From != w.From || g.To != w.To || g.Note != w.Note {
				t.Fatalf("incident %d entry %d: got %+v, want %+v", i, k, g, w)
			}
		}
	}
	// The copied entries are stored as the bound ones are: same text.
	var odd int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM incident_history h JOIN incidents i ON i.fid = h.incident_id
		WHERE h.from_status IS NULL AND h.at != i.reported_at`).Scan(&odd); err != nil {
		t.Fatal(err)
	}
	if odd != 0 {
		t.Fatalf("%d first entries stored with another time text than their incident's", odd)
	}
}

// A bulk batch writes without checking foreign keys, and the writer
// connection checks them again afterwards: a history row naming no
// incident is refused, and so is deleting an incident that has history.
func TestForeignKeysAfterBulkInsert(t *testing.T) {
	ctx := context.Background()
	s := openFile(t, "fk.gpkg")
	incs := storetest.Incidents(2*bulkIndexThreshold, 0)
	for _, inc := range incs {
		inc.StartHistory("ingest")
	}
	res, err := s.InsertIncidents(ctx, incs)
	if err != nil {
		t.Fatal(err)
	}
	var on int
	if err := s.w.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil || on != 1 {
		t.Fatalf("foreign_keys = %d after a bulk insert (%v), want 1", on, err)
	}
	var orphans int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM pragma_foreign_key_check('incident_history')").Scan(&orphans); err != nil || orphans != 0 {
		t.Fatalf("foreign_key_check: %d orphans (%v)", orphans, err)
	}
	last := res[len(res)-1].ID
	if _, err := s.w.ExecContext(ctx, `INSERT INTO incident_history (incident_id, at, to_status) VALUES (?, '2024-01-01T00:00:00Z', 'reported')`, last+1000); err == nil {
		t.Fatal("history of a missing incident stored")
	}
	if _, err := s.w.ExecContext(ctx, "DELETE FROM incidents WHERE fid = ?", res[0].ID); err == nil {
		t.Fatal("incident with history deleted")
	}
	// And a batch whose first try fails on a stored external id, and which
	// then runs again with look-ups, leaves them checked too.
	ext := storetest.Incidents(2*bulkIndexThreshold, 0)
	for i, inc := range ext {
		inc.ExternalID = fmt.Sprintf("ext-%d", i)
	}
	if _, err := s.InsertIncidents(ctx, ext); err != nil {
		t.Fatal(err)
	}
	again, err := s.InsertIncidents(ctx, ext)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again {
		if r.Created {
			t.Fatalf("item %d stored twice", i)
		}
	}
	if err := s.w.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil || on != 1 {
		t.Fatalf("foreign_keys = %d after a batch run again with look-ups (%v), want 1", on, err)
	}
}
