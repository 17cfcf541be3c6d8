package gpkg

import (
	"context"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"testing"

	"modernc.org/sqlite"

	"github.com/gridd/gridd/store/storetest"
)

// TestPageSize checks that new files get newFilePageSize while a file made
// with another page size keeps it and takes bulk inserts, R-tree included.
func TestPageSize(t *testing.T) {
	tests := []struct {
		name     string
		existing int // page size of a file made before Open; 0 for none
		want     int
	}{
		{name: "new file", want: newFilePageSize},
		{name: "existing 4 KiB file", existing: 4096, want: 4096},
		{name: "existing 64 KiB file", existing: 65536, want: 65536},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.gpkg")
			if tt.existing != 0 {
				c, err := (&sqlite.Driver{}).Open(path)
				if err != nil {
					t.Fatal(err)
				}
				q := fmt.Sprintf("PRAGMA page_size = %d; PRAGMA journal_mode = WAL", tt.existing)
				if _, err := c.(driver.ExecerContext).ExecContext(context.Background(), q, nil); err != nil {
					t.Fatal(err)
				}
				c.Close()
			}
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var got int
			if err := s.w.QueryRow("PRAGMA page_size").Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("page size %d, want %d", got, tt.want)
			}
			if err := storetest.Fill(context.Background(), s, 3000); err != nil {
				t.Fatal(err)
			}
			var check string
			if err := s.w.QueryRow("SELECT rtreecheck('rtree_incidents_geom')").Scan(&check); err != nil || check != "ok" {
				t.Fatalf("rtreecheck: %s %v", check, err)
			}
			if err := s.w.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
				t.Fatalf("integrity_check: %s %v", check, err)
			}
		})
	}
}
