// Package postgis is the production store: PostgreSQL with PostGIS, through
// pgx. Geometries are geometry(…, 4326) with GiST indexes; incidents are
// partitioned by month; schema migrations (embedded, numbered) are applied
// at start under an advisory lock, so replicas starting together are safe;
// batches arrive by COPY; commits announce themselves with NOTIFY, which
// every gridd on the database LISTENs to.
package postgis

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gridd/gridd/store"
	"github.com/gridd/gridd/store/internal/hub"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Advisory lock keys, one per purpose.
const (
	lockMigrate    = 727_001
	lockPartitions = 727_002
	lockPublish    = 727_003
)

// Store is a PostGIS-backed store.Store.
type Store struct {
	pool     *pgxpool.Pool
	hub      *hub.Hub
	instance string // tags this Store's NOTIFYs, so its own events read Local
	channel  string

	parts sync.Map // "2024-03" → struct{}: monthly partitions known to exist

	stop      context.CancelFunc
	listening sync.WaitGroup
	closeOnce sync.Once
}

var _ store.Store = (*Store)(nil)

// Open connects to url, applies pending migrations and starts listening for
// other replicas' changes.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgis: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgis: %w", err)
	}
	var tag [8]byte
	if _, err := rand.Read(tag[:]); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgis: %w", err)
	}
	s := &Store{pool: pool, hub: hub.New(), instance: hex.EncodeToString(tag[:])}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgis: %w", err)
	}
	var schema string
	if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgis: %w", err)
	}
	s.channel = channelPrefix + schema
	lctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	ready := make(chan error, 1)
	s.listening.Add(1)
	go s.listen(lctx, cfg.ConnConfig.Copy(), ready)
	select {
	case err := <-ready:
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("open postgis: listen: %w", err)
		}
	case <-ctx.Done():
		s.Close()
		return nil, fmt.Errorf("open postgis: %w", ctx.Err())
	}
	return s, nil
}

// Close stops listening and closes the pool. It is safe to call twice.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.stop != nil {
			s.stop()
		}
		s.listening.Wait()
		s.hub.Close()
		s.pool.Close()
	})
	return nil
}

// Pool is the connection pool, for callers that run their own SQL (the
// geocoding benchmark against ST_Covers, for one).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Subscribe implements store.Store.
func (s *Store) Subscribe(ctx context.Context) <-chan store.Event { return s.hub.Subscribe(ctx) }

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s: name must start with its number", e.Name())
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("two migrations numbered %d", out[i].version)
		}
	}
	return out, nil
}

// migrate applies the migrations not yet recorded in schema_migrations,
// each in its own transaction, holding a session advisory lock so that
// replicas starting at once apply each migration exactly once.
func (s *Store) migrate(ctx context.Context) error {
	all, err := migrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockMigrate); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", lockMigrate)

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("migrate: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range all {
		if applied[m.version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// nullable maps the empty string to NULL.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
