package postgis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
	_, err := s.pool.Exec(ctx, "INSERT INTO api_keys (id, name, hash, role, scope, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
		k.ID, nullable(k.Name), k.Hash, k.Role, nullable(k.Scope), store.NormalizeTime(k.CreatedAt), k.RevokedAt)
	if isUniqueViolation(err) {
		return fmt.Errorf("create key %s: %w", k.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create key %s: %w", k.ID, err)
	}
	return nil
}

const keyColumns = "id, name, hash, role, scope, created_at, revoked_at"

func scanKey(row pgx.Row) (store.Key, error) {
	var (
		k           store.Key
		name, scope *string
	)
	if err := row.Scan(&k.ID, &name, &k.Hash, &k.Role, &scope, &k.CreatedAt, &k.RevokedAt); err != nil {
		return store.Key{}, err
	}
	k.Name, k.Scope = deref(name), deref(scope)
	k.CreatedAt, k.RevokedAt = k.CreatedAt.UTC(), utcPtr(k.RevokedAt)
	return k, nil
}

// KeyByHash implements store.Store.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (store.Key, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, "SELECT "+keyColumns+" FROM api_keys WHERE hash = $1 AND revoked_at IS NULL", hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Key{}, fmt.Errorf("key by hash: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Key{}, fmt.Errorf("key by hash: %w", err)
	}
	return k, nil
}

// ListKeys implements store.Store.
func (s *Store) ListKeys(ctx context.Context) ([]store.Key, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+keyColumns+" FROM api_keys ORDER BY created_at, id")
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
	tag, err := s.pool.Exec(ctx, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1", id, store.NormalizeTime(time.Now()))
	if err != nil {
		return fmt.Errorf("revoke key %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoke key %s: %w", id, store.ErrNotFound)
	}
	return nil
}
