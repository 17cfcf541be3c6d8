package postgis

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gridd/gridd/internal/pgtest"
	"github.com/gridd/gridd/store"
	"github.com/gridd/gridd/store/storetest"
)

func openURL(t testing.TB, u string) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// schemas hands out fresh schemas of one test database: a new database
// with PostGIS costs seconds, a schema milliseconds. Each store sees only
// its schema (search_path) and the PostGIS functions in public.
type schemas struct {
	db string
	n  int
}

func newSchemas(t testing.TB) *schemas { return &schemas{db: pgtest.NewDB(t)} }

func (sc *schemas) next(t testing.TB) string {
	t.Helper()
	sc.n++
	name := fmt.Sprintf("gridd_%d", sc.n)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, sc.db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(sc.db)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name+",public")
	u.RawQuery = q.Encode()
	return u.String()
}

// TestPostGIS runs everything against one test database, a schema each.
func TestPostGIS(t *testing.T) {
	sc := newSchemas(t)
	tests := []struct {
		name string
		fn   func(t *testing.T, sc *schemas)
	}{
		{name: "Contract", fn: func(t *testing.T, sc *schemas) {
			storetest.Run(t, storetest.Harness{
				Open: func(t *testing.T) (store.Store, func(t *testing.T) store.Store) {
					u := sc.next(t)
					return openURL(t, u), func(t *testing.T) store.Store { return openURL(t, u) }
				},
				SharedEvents: true,
			})
		}},
		{name: "MigrationsOnceUnderConcurrentStarts", fn: testMigrationsOnceUnderConcurrentStarts},
		{name: "SchemaShape", fn: testSchemaShape},
		{name: "MonthlyPartitions", fn: testMonthlyPartitions},
		{name: "ListenerReconnects", fn: testListenerReconnects},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, sc) })
	}
}
