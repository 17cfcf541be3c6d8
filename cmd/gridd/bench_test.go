package main

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gridd/gridd/fixtures"
	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/internal/pgtest"
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
