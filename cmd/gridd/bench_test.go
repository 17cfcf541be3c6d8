package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gridd/gridd/fixtures"
	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/internal/pgtest"
	"github.com/gridd/gridd/store/storetest"
)

// BenchmarkPostGISGeocode50k joins random points to the 50,000-grid demo
// city with ST_Covers in PostGIS on this machine, the same way the README
// compares gridd with it: a GiST index on the grids, a parallel plan
// allowed on both cores. Each iteration counts the join of every point.
func BenchmarkPostGISGeocode50k(b *testing.B) {
	ctx := context.Background()
	gs, err := fixtures.GenerateCity(fixtures.CityOptions{Grids: 50000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	const n = 200000
	pts := randomPoints(cityBound(gs), n, 1)
	conn, err := pgx.Connect(ctx, pgtest.NewDB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	loadPostGISGrids(ctx, b, conn, gs)
	loadPostGISPoints(ctx, b, conn, pts)
	if _, err := conn.Exec(ctx, `SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0`); err != nil {
		b.Fatal(err)
	}
	leaves := 0
	for _, g := range gs {
		if g.Level == grids.LevelGrid {
			leaves++
		}
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		var matched int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pts p JOIN grids g ON ST_Covers(g.geom, p.geom)`).Scan(&matched); err != nil {
			b.Fatal(err)
		}
		if matched < n/2 {
			b.Fatalf("only %d of %d points matched", matched, n)
		}
	}
	b.ReportMetric(float64(b.N)*n/time.Since(start).Seconds(), "points/s")
	b.ReportMetric(float64(leaves), "grids")
}

// BenchmarkImportIncidents runs `gridd import incidents` on 100,000
// incidents into a fresh GeoPackage holding a 2,000-grid city: the whole
// command, its checking pass and opening the store included. "reports" are
// new reports as the hotline and the apps send them (one history entry
// each); "past-cases" are the demo's closed cases with their whole
// workflow history (about five entries each).
func BenchmarkImportIncidents(b *testing.B) {
	dir := b.TempDir()
	const n = 100000
	gridd := func(args ...string) string {
		var out, errs bytes.Buffer
		if code := run(context.Background(), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errs}, args); code != 0 {
			b.Fatalf("gridd %v: %s", args, errs.String())
		}
		return out.String()
	}
	gridd("demo-data", "--out", dir, "--grids", "2000", "--incidents", strconv.Itoa(n))
	reports := filepath.Join(dir, "reports.ndjson")
	if err := os.WriteFile(reports, storetest.NDJSON(n), 0o644); err != nil {
		b.Fatal(err)
	}
	runs := 0
	for _, c := range []struct{ name, file string }{
		{"reports", reports},
		{"past-cases", filepath.Join(dir, fixtures.IncidentsFile)},
	} {
		b.Run(c.name, func(b *testing.B) {
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				runs++
				db := filepath.Join(dir, fmt.Sprintf("city%d.gpkg", runs))
				gridd("import", "grids", filepath.Join(dir, fixtures.GridsFile), "--publish", "--from", "2020-01-01T00:00:00Z", "--data", db)
				b.StartTimer()
				start := time.Now()
				out := gridd("import", "incidents", c.file, "--data", db)
				elapsed += time.Since(start)
				if !strings.HasPrefix(out, strconv.Itoa(n)+" incidents imported") {
					b.Fatalf("import: %q", out)
				}
			}
			b.ReportMetric(float64(b.N)*n/elapsed.Seconds(), "incidents/s")
		})
	}
}
