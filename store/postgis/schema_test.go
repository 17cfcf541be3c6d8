package postgis

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridd/gridd/incidents"
	"github.com/gridd/gridd/store"
)

func testMigrationsOnceUnderConcurrentStarts(t *testing.T, sc *schemas) {
	u := sc.next(t)
	const replicas = 3
	stores := make([]*Store, replicas)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			stores[i] = openURL(t, u)
		}(i)
	}
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			defer s.Close()
		}
	}
	if t.Failed() {
		return
	}
	all, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n, distinct int
	if err := stores[0].pool.QueryRow(context.Background(), "SELECT count(*), count(DISTINCT version) FROM schema_migrations").Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != len(all) || distinct != len(all) {
		t.Fatalf("schema_migrations has %d rows (%d versions), want %d", n, distinct, len(all))
	}
}

func testSchemaShape(t *testing.T, sc *schemas) {
	s := openURL(t, sc.next(t))
	defer s.Close()
	ctx := context.Background()
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{name: "grids geometry column", query: "SELECT type || ',' || srid FROM geometry_columns WHERE f_table_schema = current_schema() AND f_table_name = 'grids'", want: "MULTIPOLYGON,4326"},
		{name: "incidents geometry column", query: "SELECT type || ',' || srid FROM geometry_columns WHERE f_table_schema = current_schema() AND f_table_name = 'incidents'", want: "POINT,4326"},
		{name: "grids GiST index", query: "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'grids_geom'", want: "USING gist (geom)"},
		{name: "incidents GiST index", query: "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'incidents_geom'", want: "USING gist (geom)"},
		{name: "incidents partitioned by range", query: "SELECT pg_get_partkeydef('incidents'::regclass)", want: "RANGE (reported_at)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			if err := s.pool.QueryRow(ctx, tt.query).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(got, tt.want) {
				t.Fatalf("got %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func testMonthlyPartitions(t *testing.T, sc *schemas) {
	s := openURL(t, sc.next(t))
	defer s.Close()
	ctx := context.Background()
	var batch []*incidents.Incident
	for _, ts := range []string{"2024-01-31T23:59:59.999Z", "2024-02-01T00:00:00Z", "2024-02-15T08:00:00+08:00", "2023-12-31T16:00:00-08:00"} {
		at, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, &incidents.Incident{Category: "E0102", ReportedAt: at, Lon: 116.4, Lat: 39.9, Status: incidents.StatusReported})
	}
	if _, err := s.InsertIncidents(ctx, batch); err != nil {
		t.Fatal(err)
	}
	rows, err := s.pool.Query(ctx, `SELECT c.relname, (SELECT count(*) FROM incidents i WHERE i.tableoid = c.oid)
FROM pg_inherits JOIN pg_class c ON c.oid = inhrelid WHERE inhparent = 'incidents'::regclass`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		got[name] = n
	}
	rows.Close()
	// 2023-12-31T16:00-08:00 is 2024-01-01 UTC: months are UTC months.
	want := map[string]int{"incidents_default": 0, "incidents_y2024m01": 2, "incidents_y2024m02": 2}
	var names []string
	for k := range got {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(got) != len(want) {
		t.Fatalf("partitions %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("partitions %v, want %v", got, want)
		}
	}
	got2, err := s.GetIncident(ctx, batch[3].ID)
	if err != nil || !got2.ReportedAt.Equal(batch[3].ReportedAt) {
		t.Fatalf("get across partitions: %v %v", got2, err)
	}
}

// TestListenerReconnects kills the LISTEN session: subscribers are told to
// resync and events flow again afterwards.
func testListenerReconnects(t *testing.T, sc *schemas) {
	s := openURL(t, sc.next(t))
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ch := s.Subscribe(ctx)
	var killed int
	if err := s.pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE application_name = $1 AND datname = current_database()`, listenerApp).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d listener sessions, want 1", killed)
	}
	wait := func(kind string) store.Event {
		for {
			select {
			case e := <-ch:
				if e.Kind == kind {
					return e
				}
			case <-ctx.Done():
				t.Fatalf("no %s event", kind)
			}
		}
	}
	wait(store.EventResync)
	res, err := s.InsertIncidents(ctx, []*incidents.Incident{{Category: "E0102", ReportedAt: time.Now(), Lon: 116.4, Lat: 39.9, Status: incidents.StatusReported}})
	if err != nil {
		t.Fatal(err)
	}
	if e := wait(store.EventIncidents); len(e.IDs) != 1 || e.IDs[0] != res[0].ID {
		t.Fatalf("event after reconnect = %+v", e)
	}
}

func TestPayloadSplitting(t *testing.T) {
	s := &Store{instance: "abc"}
	var ids []int64
	for i := int64(0); i < 5000; i++ {
		ids = append(ids, i*2) // no two consecutive: worst case for ranges
	}
	ps, err := s.payloads(store.Event{Kind: store.EventIncidents, IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) < 2 {
		t.Fatalf("%d payloads for 5000 scattered ids", len(ps))
	}
	var back []int64
	for _, p := range ps {
		if len(p) > 8000 {
			t.Fatalf("payload of %d bytes exceeds PostgreSQL's limit", len(p))
		}
		e, err := s.decode(p)
		if err != nil {
			t.Fatal(err)
		}
		if !e.Local {
			t.Fatal("own payload not local")
		}
		back = append(back, e.IDs...)
	}
	if len(back) != len(ids) {
		t.Fatalf("%d ids back, want %d", len(back), len(ids))
	}
	for i := range ids {
		if back[i] != ids[i] {
			t.Fatalf("id %d = %d, want %d", i, back[i], ids[i])
		}
	}
}
