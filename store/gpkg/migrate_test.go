package gpkg

import (
	"path/filepath"
	"testing"
)

// A file of schema version 1 has the index on (reported_at, fid) that
// version 2 drops; opening it brings it to the current version.
func TestMigrateDropsTimeIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.gpkg")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`CREATE INDEX incidents_reported ON incidents(reported_at, fid);
UPDATE gridd_meta SET value = '1' WHERE key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var indexes int
	if err := s.r.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'incidents_reported'").Scan(&indexes); err != nil {
		t.Fatal(err)
	}
	if indexes != 0 {
		t.Error("the time index is still there")
	}
	var version int
	if err := s.r.QueryRow("SELECT CAST(value AS INTEGER) FROM gridd_meta WHERE key = 'schema_version'").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != len(migrations()) {
		t.Errorf("schema version %d, want %d", version, len(migrations()))
	}
}
