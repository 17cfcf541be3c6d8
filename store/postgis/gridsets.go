package postgis

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/store"
)

// CreateGridSet implements store.Store.
func (s *Store) CreateGridSet(ctx context.Context, set *grids.Set) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "INSERT INTO grid_sets (name, status) VALUES ($1, 'draft') RETURNING id", set.Name).Scan(&id); err != nil {
			return err
		}
		return insertGrids(ctx, tx, id, set.Grids)
	})
	if err != nil {
		return 0, fmt.Errorf("create grid set: %w", err)
	}
	return id, nil
}

// insertGrids copies the grids into a staging table and converts the WKB
// there, which is the fastest way in for a city of tens of thousands.
func insertGrids(ctx context.Context, tx pgx.Tx, setID int64, gs []*grids.Grid) error {
	if len(gs) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS grid_staging (
  code text, name text, level text, parent text, department text, attrs jsonb, wkb bytea) ON COMMIT DELETE ROWS`); err != nil {
		return err
	}
	rows := make([][]any, len(gs))
	for i, g := range gs {
		geom, err := wkb.Marshal(g.Geometry, binary.LittleEndian)
		if err != nil {
			return fmt.Errorf("grid %s: %w", g.Code, err)
		}
		var attrs any
		if len(g.Attrs) > 0 {
			b, err := json.Marshal(g.Attrs)
			if err != nil {
				return fmt.Errorf("grid %s: attributes: %w", g.Code, err)
			}
			attrs = string(b)
		}
		rows[i] = []any{g.Code, nullable(g.Name), g.Level.String(), nullable(g.Parent), nullable(g.Department), attrs, geom}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"grid_staging"},
		[]string{"code", "name", "level", "parent", "department", "attrs", "wkb"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO grids (set_id, code, name, level, parent, department, attrs, geom)
SELECT $1, code, name, level, parent, department, attrs, ST_Multi(ST_GeomFromWKB(wkb, 4326)) FROM grid_staging`, setID)
	return err
}

const setColumns = "id, name, status, created_at, effective_from, effective_to"

func scanSet(row pgx.Row) (*grids.Set, error) {
	var (
		set    grids.Set
		status string
	)
	if err := row.Scan(&set.ID, &set.Name, &status, &set.CreatedAt, &set.EffectiveFrom, &set.EffectiveTo); err != nil {
		return nil, err
	}
	set.Status = grids.Status(status)
	set.CreatedAt = set.CreatedAt.UTC()
	set.EffectiveFrom, set.EffectiveTo = utcPtr(set.EffectiveFrom), utcPtr(set.EffectiveTo)
	return &set, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// ListGridSets implements store.Store.
func (s *Store) ListGridSets(ctx context.Context) ([]*grids.Set, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+setColumns+" FROM grid_sets ORDER BY id DESC")
	if err != nil {
		return nil, fmt.Errorf("list grid sets: %w", err)
	}
	defer rows.Close()
	var out []*grids.Set
	for rows.Next() {
		set, err := scanSet(rows)
		if err != nil {
			return nil, fmt.Errorf("list grid sets: %w", err)
		}
		out = append(out, set)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list grid sets: %w", err)
	}
	return out, nil
}

// GetGridSet implements store.Store.
func (s *Store) GetGridSet(ctx context.Context, id int64) (*grids.Set, error) {
	var set *grids.Set
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		set, err = scanSet(tx.QueryRow(ctx, "SELECT "+setColumns+" FROM grid_sets WHERE id = $1", id))
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT code, name, level, parent, department, attrs, ST_AsBinary(geom)
FROM grids WHERE set_id = $1 ORDER BY code COLLATE "C"`, id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				g                  grids.Grid
				name, parent, dept *string
				level              string
				attrs, geom        []byte
			)
			if err := rows.Scan(&g.Code, &name, &level, &parent, &dept, &attrs, &geom); err != nil {
				return err
			}
			g.Name, g.Parent, g.Department = deref(name), deref(parent), deref(dept)
			g.Level, _ = grids.ParseLevel(level) // an unknown level stays LevelUnknown
			if geom != nil {
				geometry, err := wkb.Unmarshal(geom)
				if err != nil {
					return fmt.Errorf("grid %s: %w", g.Code, err)
				}
				mp, ok := geometry.(orb.MultiPolygon)
				if !ok {
					return fmt.Errorf("grid %s: geometry is a %s", g.Code, geometry.GeoJSONType())
				}
				g.Geometry = mp
			}
			if len(attrs) > 0 {
				if err := json.Unmarshal(attrs, &g.Attrs); err != nil {
					return fmt.Errorf("grid %s: attributes: %w", g.Code, err)
				}
			}
			set.Grids = append(set.Grids, &g)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("get grid set %d: %w", id, err)
	}
	return set, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ReplaceGrids implements store.Store.
func (s *Store) ReplaceGrids(ctx context.Context, id int64, gs []*grids.Grid) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, "SELECT status FROM grid_sets WHERE id = $1 FOR UPDATE", id).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if status != string(grids.StatusDraft) {
			return store.ErrImmutable
		}
		if _, err := tx.Exec(ctx, "DELETE FROM grids WHERE set_id = $1", id); err != nil {
			return err
		}
		return insertGrids(ctx, tx, id, gs)
	})
	if err != nil {
		return fmt.Errorf("replace grids of set %d: %w", id, err)
	}
	return nil
}

// PublishGridSet implements store.Store.
func (s *Store) PublishGridSet(ctx context.Context, id int64, from time.Time) error {
	from = store.NormalizeTime(from)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Publishes queue behind each other, so two replicas cannot both
		// end the same set.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockPublish); err != nil {
			return err
		}
		var status string
		err := tx.QueryRow(ctx, "SELECT status FROM grid_sets WHERE id = $1 FOR UPDATE", id).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if status != string(grids.StatusDraft) {
			return fmt.Errorf("already published: %w", store.ErrConflict)
		}
		var (
			prevID   int64
			prevFrom time.Time
		)
		err = tx.QueryRow(ctx, `SELECT id, effective_from FROM grid_sets WHERE status = 'published'
ORDER BY effective_from DESC, id DESC LIMIT 1`).Scan(&prevID, &prevFrom)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		default:
			if !from.After(prevFrom) {
				return fmt.Errorf("effective_from %s is not after %s, when set %d took effect: %w",
					from.Format(time.RFC3339), prevFrom.UTC().Format(time.RFC3339), prevID, store.ErrConflict)
			}
			if _, err := tx.Exec(ctx, "UPDATE grid_sets SET effective_to = $1 WHERE id = $2", from, prevID); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE grid_sets SET status = 'published', effective_from = $1, effective_to = NULL WHERE id = $2", from, id); err != nil {
			return err
		}
		return s.notify(ctx, tx, store.Event{Kind: store.EventGridSetPublished, SetID: id})
	})
	if err != nil {
		return fmt.Errorf("publish grid set %d: %w", id, err)
	}
	return nil
}
