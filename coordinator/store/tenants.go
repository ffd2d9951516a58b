package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// PutTenant inserts or replaces the record of t.Name.
func (s *Store) PutTenant(t TenantRecord) error {
	if err := CheckTenant(t); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTenants).Put([]byte(t.Name), encode(t))
	})
}

// Tenants returns every tenant record, ordered by name.
func (s *Store) Tenants() ([]TenantRecord, error) {
	return list(s, bucketTenants, DecodeTenant)
}

// PutTask inserts or replaces the record of t.ID.
func (s *Store) PutTask(t TaskRecord) error {
	if err := CheckTask(t); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTasks).Put([]byte(t.ID), encode(t))
	})
}

// Tasks returns every task record, ordered by id.
func (s *Store) Tasks() ([]TaskRecord, error) {
	return list(s, bucketTasks, DecodeTask)
}

func list[T any](s *Store, bucket []byte, dec func([]byte) (T, error)) ([]T, error) {
	var out []T
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			r, err := dec(v)
			if err != nil {
				return fmt.Errorf("store: %w: %s/%q: %w", ErrCorrupt, bucket, k, err)
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}
