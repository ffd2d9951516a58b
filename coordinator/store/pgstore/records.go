package pgstore

import (
	"context"
	"fmt"

	"github.com/fedb2b/fedb2b/coordinator/store"
	"github.com/jackc/pgx/v5"
)

// PutTenant inserts or replaces the record of t.Name.
func (s *Store) PutTenant(t store.TenantRecord) error {
	if err := store.CheckTenant(t); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return s.write(func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO tenants (name, rec) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET rec = EXCLUDED.rec",
			t.Name, string(store.EncodeTenant(t)))
		return err
	})
}

// Tenants returns every tenant record, ordered by name (bytewise, as
// bbolt orders keys).
func (s *Store) Tenants() ([]store.TenantRecord, error) {
	return list(s, `SELECT name, rec FROM tenants ORDER BY name COLLATE "C"`, "tenants", store.DecodeTenant)
}

// PutTask inserts or replaces the record of t.ID.
func (s *Store) PutTask(t store.TaskRecord) error {
	if err := store.CheckTask(t); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return s.write(func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO tasks (id, rec) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET rec = EXCLUDED.rec",
			t.ID, string(store.EncodeTask(t)))
		return err
	})
}

// Tasks returns every task record, ordered by id.
func (s *Store) Tasks() ([]store.TaskRecord, error) {
	return list(s, `SELECT id, rec FROM tasks ORDER BY id COLLATE "C"`, "tasks", store.DecodeTask)
}

func list[T any](s *Store, query, table string, dec func([]byte) (T, error)) ([]T, error) {
	var out []T
	err := s.read(func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, query)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var key string
			var b []byte
			if err := rows.Scan(&key, &b); err != nil {
				return err
			}
			r, err := dec(b)
			if err != nil {
				return fmt.Errorf("store: %w: %s/%q: %w", store.ErrCorrupt, table, key, err)
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, err
}
