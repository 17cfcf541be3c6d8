package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/gridd/gridd/fixtures"
	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/internal/pgtest"
)

func postJSON(t *testing.T, url, contentType string, body []byte, v any) {
	t.Helper()
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %s: %s", url, resp.Status, raw)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatal(err)
		}
	}
}

// publish creates a draft from gs through c and publishes it from `from`.
func (c *child) publish(t *testing.T, gs []*grids.Grid, from time.Time) int64 {
	t.Helper()
	var buf bytes.Buffer
	if err := grids.WriteGeoJSON(&buf, gs); err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID int64 `json:"id"`
	}
	postJSON(t, c.base+"/api/v1/gridsets?name=replica-test", "application/geo+json", buf.Bytes(), &created)
	body, _ := json.Marshal(map[string]any{"effective_from": from.Format(time.RFC3339Nano)})
	postJSON(t, fmt.Sprintf("%s/api/v1/gridsets/%d/publish", c.base, created.ID), "application/json", body, nil)
	return created.ID
}

// geocode asks c for the grid of a point now; "" when none or no set.
func (c *child) geocode(t *testing.T, lon, lat float64) string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/api/v1/geocode?lon=%v&lat=%v", c.base, lon, lat))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Grid *struct {
			Code string `json:"code"`
		} `json:"grid"`
	}
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Grid == nil {
		return ""
	}
	return out.Grid.Code
}

// Two gridd processes share one PostGIS database: a grid set published
// through one is used by the other's geocoding within 5 s, without restart,
// and incidents stored through one are in the other's list.
func TestReplicasFollowPublish(t *testing.T) {
	db := pgtest.NewDB(t)
	a := startServe(t, "--db", db)
	b := startServe(t, "--db", db)

	first, err := fixtures.GenerateCity(fixtures.CityOptions{Grids: 60, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	second, err := fixtures.GenerateCity(fixtures.CityOptions{Grids: 60, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	ix1, _ := grids.NewIndex(&grids.Set{Grids: first}, grids.IndexOptions{})
	ix2, _ := grids.NewIndex(&grids.Set{Grids: second}, grids.IndexOptions{})
	// A point the two sets give to different grids.
	rng := rand.New(rand.NewPCG(5, 6))
	var lon, lat float64
	for i := 0; ; i++ {
		lon, lat = fixtures.DefaultCenterLon+(rng.Float64()-0.5)*0.01, fixtures.DefaultCenterLat+(rng.Float64()-0.5)*0.01
		c1, c2 := ix1.LocateCode(lon, lat), ix2.LocateCode(lon, lat)
		if c1 != "" && c2 != "" && c1 != c2 {
			break
		}
		if i > 10000 {
			t.Fatal("no point where the two sets differ")
		}
	}
	want1, want2 := ix1.LocateCode(lon, lat), ix2.LocateCode(lon, lat)

	waitFor := func(c *child, want string) time.Duration {
		start := time.Now()
		for time.Since(start) < 5*time.Second {
			if c.geocode(t, lon, lat) == want {
				return time.Since(start)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("replica %s still answers %q 5 s after the publish, want %q", c.base, c.geocode(t, lon, lat), want)
		return 0
	}

	a.publish(t, first, time.Now().Add(-24*time.Hour))
	d := waitFor(b, want1)
	t.Logf("first set reached the other replica in %v", d)

	b.publish(t, second, time.Now().Add(200*time.Millisecond))
	d = waitFor(a, want2)
	t.Logf("second set, published through the other replica, reached the first in %v", d)
	if got := b.geocode(t, lon, lat); got != want2 {
		t.Fatalf("the publishing replica answers %q, want %q", got, want2)
	}

	// Lists page over each replica's in-memory columns: incidents stored
	// through one replica are in the other's list within 5 s.
	for _, tc := range []struct {
		name     string
		from, to *child
	}{{"to-b", a, b}, {"to-a", b, a}} {
		postJSON(t, tc.from.base+"/api/v1/incidents", "application/x-ndjson",
			[]byte(ndjsonBatch(tc.name, 120, lon, lat, time.Now().Add(-time.Minute))), nil)
		start := time.Now()
		for missing := 120; missing > 0; {
			ids := tc.to.externalIDs(t)
			missing = 0
			for i := 0; i < 120; i++ {
				if !ids[fmt.Sprintf("%s-%d", tc.name, i)] {
					missing++
				}
			}
			if missing > 0 {
				if time.Since(start) > 5*time.Second {
					t.Fatalf("%d of 120 incidents stored through %s are not in %s's list after 5 s", missing, tc.from.base, tc.to.base)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		t.Logf("incidents stored through %s were in %s's list after %v", tc.from.base, tc.to.base, time.Since(start))
	}
}
