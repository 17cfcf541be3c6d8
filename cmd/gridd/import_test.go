package main

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gridd/gridd/fixtures"
	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/internal/pgtest"
)

// `gridd import incidents` into each store: several batches, parsed ahead
// of the inserts; a second run finds every line stored already; a file with
// one bad line imports nothing and names the line.
func TestImportIncidents(t *testing.T) {
	dir := t.TempDir()
	const n = 25000 // more than two import batches
	if code, _, errs := runGridd(t, "demo-data", "--out", dir, "--grids", "300", "--incidents", "25000", "--days", "60"); code != 0 {
		t.Fatalf("demo-data: %s", errs)
	}
	gridsFile, incFile := filepath.Join(dir, fixtures.GridsFile), filepath.Join(dir, fixtures.IncidentsFile)
	lines := readLines(t, incFile)
	if len(lines) != n {
		t.Fatalf("demo-data wrote %d incidents, want %d", len(lines), n)
	}
	// The same lines with the 20,001st broken.
	badFile := filepath.Join(dir, "bad.ndjson")
	bad := append([]string(nil), lines...)
	bad[20000] = strings.Replace(bad[20000], `"lon":`, `"lon":"east",`, 1)
	if err := os.WriteFile(badFile, []byte(strings.Join(bad, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	stores := map[string][]string{
		"gpkg":    {"--data", filepath.Join(dir, "city.gpkg")},
		"postgis": {"--db", pgtest.NewDB(t)},
	}
	for name, where := range stores {
		t.Run(name, func(t *testing.T) {
			gridd := func(args ...string) (int, string, string) {
				return runGridd(t, append(args, where...)...)
			}
			if code, _, errs := gridd("import", "grids", gridsFile, "--publish", "--from", "2020-01-01T00:00:00Z"); code != 0 {
				t.Fatalf("import grids: %s", errs)
			}
			code, out, errs := gridd("import", "incidents", badFile)
			if code == 0 || !strings.Contains(errs, "line 20001") || strings.Contains(errs, "line 20001: line 20001") || !strings.Contains(errs, "nothing imported") {
				t.Fatalf("bad file: exit %d, stderr %q", code, errs)
			}
			if got := countIncidents(t, where); got != 0 {
				t.Fatalf("bad file stored %d incidents", got)
			}
			if code, out, errs = gridd("import", "incidents", incFile); code != 0 || !strings.HasPrefix(out, "25000 incidents imported, 0 already present") {
				t.Fatalf("import: exit %d, stdout %q, stderr %q", code, out, errs)
			}
			if got := countIncidents(t, where); got != n {
				t.Fatalf("stored %d incidents, want %d", got, n)
			}
			if code, out, errs = gridd("import", "incidents", incFile); code != 0 || !strings.HasPrefix(out, "0 incidents imported, 25000 already present") {
				t.Fatalf("second import: exit %d, stdout %q, stderr %q", code, out, errs)
			}
			if got := countIncidents(t, where); got != n {
				t.Fatalf("after a second import %d incidents, want %d", got, n)
			}
		})
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// countIncidents counts the incidents in the store named by --data or
// --db, and checks that each is geocoded.
func countIncidents(t *testing.T, where []string) int {
	t.Helper()
	data, db := "", ""
	if where[0] == "--data" {
		data = where[1]
	} else {
		db = where[1]
	}
	st, err := openStore(context.Background(), data, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := 0
	err = st.ScanIncidents(context.Background(), func(inc *incidents.Incident) error {
		n++
		if inc.GridCode == "" && n < 100 {
			t.Errorf("incident %s stored without a grid", inc.ExternalID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
