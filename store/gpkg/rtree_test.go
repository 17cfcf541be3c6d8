package gpkg

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gridd/gridd/incidents"
)

// checkRtree holds the incidents R-tree to SQLite's own checker and to a
// brute-force answer for some boxes.
func checkRtree(t *testing.T, s *Store, rng *rand.Rand) {
	t.Helper()
	var res string
	if err := s.w.QueryRow("SELECT rtreecheck('rtree_incidents_geom')").Scan(&res); err != nil {
		t.Fatal(err)
	}
	if res != "ok" {
		t.Fatalf("rtreecheck: %s", res)
	}
	var nRtree, nRows int
	if err := s.w.QueryRow("SELECT (SELECT count(*) FROM rtree_incidents_geom), (SELECT count(*) FROM incidents)").Scan(&nRtree, &nRows); err != nil {
		t.Fatal(err)
	}
	if nRtree != nRows {
		t.Fatalf("r-tree holds %d rows, the table %d", nRtree, nRows)
	}
	// The points, read once; the R-tree must return every point in a box
	// (its float32 boxes are rounded outward, so it may add a few more).
	type pt struct {
		id       int64
		lon, lat float64
	}
	var pts []pt
	if err := s.ScanIncidents(context.Background(), func(inc *incidents.Incident) error {
		pts = append(pts, pt{inc.ID, inc.Lon, inc.Lat})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for q := 0; q < 10; q++ {
		x, y := 116.2+rng.Float64()*0.3, 39.8+rng.Float64()*0.3
		w, h := rng.Float64()*0.05, rng.Float64()*0.05
		rows, err := s.w.Query("SELECT id FROM rtree_incidents_geom WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?", x+w, x, y+h, y)
		if err != nil {
			t.Fatal(err)
		}
		found := map[int64]bool{}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			found[id] = true
		}
		rows.Close()
		const slack = 1e-5 // beyond float32 rounding at these coordinates
		for _, p := range pts {
			in := p.lon >= x && p.lon <= x+w && p.lat >= y && p.lat <= y+h
			near := p.lon >= x-slack && p.lon <= x+w+slack && p.lat >= y-slack && p.lat <= y+h+slack
			if in && !found[p.id] {
				t.Fatalf("box %v,%v +%v,%v: r-tree misses incident %d", x, y, w, h, p.id)
			}
			if found[p.id] && !near {
				t.Fatalf("box %v,%v +%v,%v: r-tree returns incident %d far outside", x, y, w, h, p.id)
			}
		}
	}
}

func TestRtreeBatches(t *testing.T) {
	s := openFile(t, "rtree.gpkg")
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	tests := []struct {
		name      string
		size      int
		clustered bool
	}{
		{name: "one row through the trigger", size: 1},
		{name: "small batch through the trigger", size: 20},
		{name: "first bulk batch onto a leaf root", size: 70},
		{name: "bulk batch", size: 3000},
		{name: "clustered bulk batch", size: 5000, clustered: true},
		{name: "rows through the trigger into a bulk tree", size: 40},
		{name: "threshold batch", size: bulkIndexThreshold},
		{name: "large bulk batch", size: 8000},
	}
	total := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			batch := make([]*incidents.Incident, tt.size)
			for i := range batch {
				lon, lat := 116.2+rng.Float64()*0.3, 39.8+rng.Float64()*0.3
				if tt.clustered {
					lon, lat = 116.35+rng.NormFloat64()*0.002, 39.95+rng.NormFloat64()*0.002
				}
				batch[i] = &incidents.Incident{Category: "E0102", ReportedAt: time.Date(2024, 3, 1, 0, 0, i, 0, time.UTC),
					Lon: lon, Lat: lat, Status: incidents.StatusReported}
			}
			if _, err := s.InsertIncidents(ctx, batch); err != nil {
				t.Fatal(err)
			}
			total += tt.size
			checkRtree(t, s, rng)
		})
	}
	// SQLite's own code deletes from the tree the store built.
	if _, err := s.w.Exec("DELETE FROM incidents WHERE fid % 3 = 0"); err != nil {
		t.Fatal(err)
	}
	checkRtree(t, s, rng)
	var integrity string
	if err := s.w.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %s %v", integrity, err)
	}
	// And the store adds to what SQLite rebalanced.
	more := make([]*incidents.Incident, 2000)
	for i := range more {
		more[i] = &incidents.Incident{Category: "E0102", ReportedAt: time.Date(2024, 3, 2, 0, 0, i, 0, time.UTC),
			Lon: 116.2 + rng.Float64()*0.3, Lat: 39.8 + rng.Float64()*0.3, Status: incidents.StatusReported}
	}
	if _, err := s.InsertIncidents(ctx, more); err != nil {
		t.Fatal(err)
	}
	checkRtree(t, s, rng)
}

// latestByKey gives each key once, in order, with its last value, whether
// the keys are close enough for a table or spread for a map.
func TestLatestByKey(t *testing.T) {
	tests := []struct {
		name    string
		entries []mapEntry
		keys    []int64
		vals    []int64
	}{
		{name: "none"},
		{name: "consecutive", entries: []mapEntry{{12, 3}, {10, 2}, {11, 2}},
			keys: []int64{10, 11, 12}, vals: []int64{2, 2, 3}},
		{name: "later wins", entries: []mapEntry{{5, 2}, {6, 2}, {5, 9}, {8, 4}},
			keys: []int64{5, 6, 8}, vals: []int64{9, 2, 4}},
		{name: "spread", entries: []mapEntry{{1 << 40, 7}, {3, 2}, {1 << 40, 8}, {-1, 5}},
			keys: []int64{-1, 3, 1 << 40}, vals: []int64{5, 2, 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, vals := latestByKey(tt.entries)
			if !slices.Equal(keys, tt.keys) || !slices.Equal(vals, tt.vals) {
				t.Fatalf("got %v %v, want %v %v", keys, vals, tt.keys, tt.vals)
			}
		})
	}
}
