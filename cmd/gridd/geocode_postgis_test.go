package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/gridd/gridd/fixtures"
	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/internal/pgtest"
)

// loadPostGISGrids copies the leaf grids into table grids(code, geom).
func loadPostGISGrids(ctx context.Context, t testing.TB, conn *pgx.Conn, gs []*grids.Grid) {
	t.Helper()
	if _, err := conn.Exec(ctx, `CREATE TABLE grids (code text PRIMARY KEY, geom geometry(MultiPolygon, 4326) NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	var rows [][]any
	for _, g := range gs {
		if g.Level != grids.LevelGrid {
			continue
		}
		b, err := wkb.Marshal(g.Geometry)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, []any{g.Code, b})
	}
	if _, err := conn.Exec(ctx, `CREATE TEMP TABLE grids_wkb (code text, w bytea)`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"grids_wkb"}, []string{"code", "w"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO grids SELECT code, ST_SetSRID(ST_GeomFromWKB(w), 4326) FROM grids_wkb;
		CREATE INDEX ON grids USING gist (geom); ANALYZE grids`); err != nil {
		t.Fatal(err)
	}
}

// loadPostGISPoints copies points into table pts(id, geom).
func loadPostGISPoints(ctx context.Context, t testing.TB, conn *pgx.Conn, pts []orb.Point) {
	t.Helper()
	if _, err := conn.Exec(ctx, `CREATE TABLE pts (id int PRIMARY KEY, lon float8, lat float8, geom geometry(Point, 4326))`); err != nil {
		t.Fatal(err)
	}
	rows := make([][]any, len(pts))
	for i, p := range pts {
		rows[i] = []any{i, p[0], p[1]}
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"pts"}, []string{"id", "lon", "lat"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	// A GiST index on the points too, so that the planner may also loop over
	// the grids and prepare each polygon once for all its points.
	if _, err := conn.Exec(ctx, `UPDATE pts SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4326);
		CREATE INDEX ON pts USING gist (geom); ANALYZE pts`); err != nil {
		t.Fatal(err)
	}
}

func cityBound(gs []*grids.Grid) orb.Bound {
	b := gs[0].Bound()
	for _, g := range gs {
		b = b.Union(g.Bound())
	}
	return b
}

// randomPoints draws points over the city's box and a margin, so that some
// fall outside the jurisdiction.
func randomPoints(b orb.Bound, n int, seed uint64) []orb.Point {
	rng := rand.New(rand.NewPCG(seed, 11))
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	pts := make([]orb.Point, n)
	for i := range pts {
		pts[i] = orb.Point{b.Min[0] - 0.05*w + rng.Float64()*1.1*w, b.Min[1] - 0.05*h + rng.Float64()*1.1*h}
	}
	return pts
}

// The geocode command agrees with PostGIS ST_Covers on a generated city:
// where PostGIS finds one covering grid we must answer it, where none we
// must answer unassigned, and where several (a shared boundary) we must
// answer one of them.
func TestGeocodeMatchesPostGIS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	gs, err := fixtures.GenerateCity(fixtures.CityOptions{Grids: 5000, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "grids.geojson")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := grids.WriteGeoJSON(f, gs); err != nil {
		t.Fatal(err)
	}
	f.Close()

	pts := randomPoints(cityBound(gs), 80000, 1)
	// Vertices of grids too: each lies on boundaries shared by 2–3 grids.
	for i, g := range gs {
		if g.Level == grids.LevelGrid && i%5 == 0 {
			r := g.Geometry[0][0]
			pts = append(pts, r[0], r[len(r)/2])
		}
	}

	url := pgtest.NewDB(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	loadPostGISGrids(ctx, t, conn, gs)
	loadPostGISPoints(ctx, t, conn, pts)
	covers := make([][]string, len(pts))
	rows, err := conn.Query(ctx, `SELECT p.id, g.code FROM pts p JOIN grids g ON ST_Covers(g.geom, p.geom)`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			t.Fatal(err)
		}
		covers[id] = append(covers[id], code)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	var in bytes.Buffer
	in.WriteString("id,lon,lat\n")
	for i, p := range pts {
		fmt.Fprintf(&in, "%d,%s,%s\n", i, fmtFloat(p[0]), fmtFloat(p[1]))
	}
	var out, errOut bytes.Buffer
	if code := run(ctx, &env{stdin: &in, stdout: &out, stderr: &errOut}, []string{"geocode", "--grids", file}); code != 0 {
		t.Fatalf("geocode exited %d: %s", code, errOut.String())
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(pts) {
		t.Fatalf("%d output rows for %d points", len(recs), len(pts))
	}
	var inside, outside, shared, diffs int
	for i, rec := range recs {
		if rec[0] != fmt.Sprint(i) {
			t.Fatalf("row %d has id %s: output not in input order", i, rec[0])
		}
		got, status := rec[1], rec[2]
		want := covers[i]
		ok := false
		switch len(want) {
		case 0:
			outside++
			ok = got == "" && status == "unassigned"
		case 1:
			inside++
			ok = got == want[0] && status == "inside"
		default:
			shared++
			ok = status == "inside" && strings.Contains(","+strings.Join(want, ",")+",", ","+got+",")
		}
		if !ok {
			diffs++
			if diffs <= 10 {
				t.Errorf("point %d %v: gridd %q %s, PostGIS ST_Covers %v", i, pts[i], got, status, want)
			}
		}
	}
	t.Logf("%d points: %d in one grid, %d on shared boundaries, %d outside; %d differences", len(pts), inside, shared, outside, diffs)
	if diffs > 0 {
		t.Fatalf("%d differences from PostGIS", diffs)
	}
	if inside < 40000 || shared < 1000 || outside == 0 {
		t.Fatalf("the sample does not exercise every case: inside %d, shared %d, outside %d", inside, shared, outside)
	}
}
