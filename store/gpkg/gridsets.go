package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridd/gridd/grids"
	"github.com/gridd/gridd/store"
)

// CreateGridSet implements store.Store.
func (s *Store) CreateGridSet(ctx context.Context, set *grids.Set) (int64, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("create grid set: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "INSERT INTO grid_sets (name, status, created_at) VALUES (?, ?, ?)",
		set.Name, string(grids.StatusDraft), fmtTime(time.Now()))
	if err != nil {
		return 0, fmt.Errorf("create grid set: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("create grid set: %w", err)
	}
	if err := insertGrids(ctx, tx, id, set.Grids); err != nil {
		return 0, fmt.Errorf("create grid set: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("create grid set: %w", err)
	}
	return id, nil
}

func insertGrids(ctx context.Context, tx *sql.Tx, setID int64, gs []*grids.Grid) error {
	if len(gs) == 0 {
		return touchContents(ctx, tx, "grids", nil)
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO grids (geom, set_id, code, name, level, parent, department, attrs)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	var ext orb.Bound
	for i, g := range gs {
		geom, err := encodeGeometry(g.Geometry)
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
		if _, err := st.ExecContext(ctx, geom, setID, g.Code, g.Name, g.Level.String(), nullString(g.Parent), nullString(g.Department), attrs); err != nil {
			return fmt.Errorf("grid %s: %w", g.Code, err)
		}
		if !isEmpty(g.Geometry) {
			if i == 0 {
				ext = g.Geometry.Bound()
			} else {
				ext = ext.Union(g.Geometry.Bound())
			}
		}
	}
	return touchContents(ctx, tx, "grids", &[4]float64{ext.Min[0], ext.Max[0], ext.Min[1], ext.Max[1]})
}

const setColumns = "id, name, status, CAST(created_at AS TEXT), CAST(effective_from AS TEXT), CAST(effective_to AS TEXT)"

func scanSet(sc interface{ Scan(...any) error }) (*grids.Set, error) {
	var (
		set             grids.Set
		status, created string
		effFrom, effTo  sql.NullString
	)
	if err := sc.Scan(&set.ID, &set.Name, &status, &created, &effFrom, &effTo); err != nil {
		return nil, err
	}
	set.Status = grids.Status(status)
	var err error
	if set.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if set.EffectiveFrom, err = parseNullTime(effFrom); err != nil {
		return nil, err
	}
	if set.EffectiveTo, err = parseNullTime(effTo); err != nil {
		return nil, err
	}
	return &set, nil
}

// ListGridSets implements store.Store.
func (s *Store) ListGridSets(ctx context.Context) ([]*grids.Set, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+setColumns+" FROM grid_sets ORDER BY id DESC")
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
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("get grid set %d: %w", id, err)
	}
	defer tx.Rollback()
	set, err := scanSet(tx.QueryRowContext(ctx, "SELECT "+setColumns+" FROM grid_sets WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get grid set %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get grid set %d: %w", id, err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT geom, code, name, level, parent, department, attrs FROM grids WHERE set_id = ? ORDER BY code", id)
	if err != nil {
		return nil, fmt.Errorf("get grid set %d: %w", id, err)
	}
	defer rows.Close()
	// Rows are read in order; their geometry blobs are decoded afterwards
	// on every core, the larger half of the work for a big set.
	var blobs [][]byte
	for rows.Next() {
		var (
			geom                      []byte
			g                         grids.Grid
			name, parent, dept, attrs sql.NullString
			level                     string
		)
		if err := rows.Scan(&geom, &g.Code, &name, &level, &parent, &dept, &attrs); err != nil {
			return nil, fmt.Errorf("get grid set %d: %w", id, err)
		}
		g.Name, g.Parent, g.Department = name.String, parent.String, dept.String
		g.Level, _ = grids.ParseLevel(level) // an unknown level stays LevelUnknown
		if attrs.Valid && attrs.String != "" {
			if err := json.Unmarshal([]byte(attrs.String), &g.Attrs); err != nil {
				return nil, fmt.Errorf("get grid set %d: grid %s: attributes: %w", id, g.Code, err)
			}
		}
		set.Grids = append(set.Grids, &g)
		blobs = append(blobs, geom)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("get grid set %d: %w", id, err)
	}
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(blobs); i += workers {
				if blobs[i] == nil {
					continue
				}
				g := set.Grids[i]
				geometry, err := decodeGeometry(blobs[i])
				if err == nil {
					g.Geometry, err = asMultiPolygon(geometry)
				}
				if err != nil && errs[w] == nil {
					errs[w] = fmt.Errorf("get grid set %d: grid %s: %w", id, g.Code, err)
				}
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return set, nil
}

// asMultiPolygon accepts the polygons another tool may have written into
// the layer.
func asMultiPolygon(g orb.Geometry) (orb.MultiPolygon, error) {
	switch t := g.(type) {
	case orb.MultiPolygon:
		return t, nil
	case orb.Polygon:
		return orb.MultiPolygon{t}, nil
	}
	return nil, fmt.Errorf("geometry is a %s, want a multipolygon", g.GeoJSONType())
}

// ReplaceGrids implements store.Store.
func (s *Store) ReplaceGrids(ctx context.Context, id int64, gs []*grids.Grid) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("replace grids of set %d: %w", id, err)
	}
	defer tx.Rollback()
	var status string
	err = tx.QueryRowContext(ctx, "SELECT status FROM grid_sets WHERE id = ?", id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("replace grids of set %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("replace grids of set %d: %w", id, err)
	}
	if status != string(grids.StatusDraft) {
		return fmt.Errorf("replace grids of set %d: %w", id, store.ErrImmutable)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM grids WHERE set_id = ?", id); err != nil {
		return fmt.Errorf("replace grids of set %d: %w", id, err)
	}
	if err := insertGrids(ctx, tx, id, gs); err != nil {
		return fmt.Errorf("replace grids of set %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("replace grids of set %d: %w", id, err)
	}
	return nil
}

// PublishGridSet implements store.Store.
func (s *Store) PublishGridSet(ctx context.Context, id int64, from time.Time) error {
	from = store.NormalizeTime(from)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("publish grid set %d: %w", id, err)
	}
	defer tx.Rollback()
	var status string
	err = tx.QueryRowContext(ctx, "SELECT status FROM grid_sets WHERE id = ?", id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("publish grid set %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("publish grid set %d: %w", id, err)
	}
	if status != string(grids.StatusDraft) {
		return fmt.Errorf("publish grid set %d: already published: %w", id, store.ErrConflict)
	}
	var (
		prevID   int64
		prevFrom string
	)
	err = tx.QueryRowContext(ctx, `SELECT id, effective_from FROM grid_sets
WHERE status = 'published' ORDER BY effective_from DESC, id DESC LIMIT 1`).Scan(&prevID, &prevFrom)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("publish grid set %d: %w", id, err)
	default:
		pf, err := parseTime(prevFrom)
		if err != nil {
			return fmt.Errorf("publish grid set %d: %w", id, err)
		}
		if !from.After(pf) {
			return fmt.Errorf("publish grid set %d: effective_from %s is not after %s, when set %d took effect: %w",
				id, from.Format(time.RFC3339), pf.Format(time.RFC3339), prevID, store.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE grid_sets SET effective_to = ? WHERE id = ?", fmtTime(from), prevID); err != nil {
			return fmt.Errorf("publish grid set %d: %w", id, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE grid_sets SET status = 'published', effective_from = ?, effective_to = NULL WHERE id = ?", fmtTime(from), id); err != nil {
		return fmt.Errorf("publish grid set %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("publish grid set %d: %w", id, err)
	}
	s.publish(store.Event{Kind: store.EventGridSetPublished, SetID: id})
	return nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
