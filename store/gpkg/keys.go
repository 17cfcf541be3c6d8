package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/gridd/gridd/store"
)

// CreateKey implements store.Store.
func (s *Store) CreateKey(ctx context.Context, k store.Key) error {
	if k.ID == "" || len(k.Hash) == 0 || k.Role == "" {
		return fmt.Errorf("create key: id, hash and role are required")
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now()
	}
	_, err := s.w.ExecContext(ctx, "INSERT INTO api_keys (key_id, name, hash, role, scope, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
		k.ID, nullString(k.Name), k.Hash, k.Role, nullString(k.Scope), fmtTime(k.CreatedAt), fmtTimePtr(k.RevokedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("create key %s: %w", k.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create key %s: %w", k.ID, err)
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

const keyColumns = "key_id, name, hash, role, scope, CAST(created_at AS TEXT), CAST(revoked_at AS TEXT)"

func scanKey(sc scanner) (store.Key, error) {
	var (
		k                    store.Key
		name, scope, revoked sql.NullString
		created              string
	)
	if err := sc.Scan(&k.ID, &name, &k.Hash, &k.Role, &scope, &created, &revoked); err != nil {
		return store.Key{}, err
	}
	k.Name, k.Scope = name.String, scope.String
	var err error
	if k.CreatedAt, err = parseTime(created); err != nil {
		return store.Key{}, err
	}
	if k.RevokedAt, err = parseNullTime(revoked); err != nil {
		return store.Key{}, err
	}
	return k, nil
}

// KeyByHash implements store.Store.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (store.Key, error) {
	k, err := scanKey(s.r.QueryRowContext(ctx, "SELECT "+keyColumns+" FROM api_keys WHERE hash = ? AND revoked_at IS NULL", hash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Key{}, fmt.Errorf("key by hash: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Key{}, fmt.Errorf("key by hash: %w", err)
	}
	return k, nil
}

// ListKeys implements store.Store.
func (s *Store) ListKeys(ctx context.Context) ([]store.Key, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+keyColumns+" FROM api_keys ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	var out []store.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return out, nil
}

// RevokeKey implements store.Store.
func (s *Store) RevokeKey(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE key_id = ?", fmtTime(time.Now()), id)
	if err != nil {
		return fmt.Errorf("revoke key %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("revoke key %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("revoke key %s: %w", id, store.ErrNotFound)
	}
	return nil
}
