package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/fedb2b/fedb2b/coordinator/store"
	"github.com/jackc/pgx/v5"
)

// PutModel stores blob as model version (see [store.Store.PutModel]).
func (s *Store) PutModel(version int, blob []byte) (string, error) {
	if err := store.CheckBlob(version, blob); err != nil {
		return "", err
	}
	hash := hashOf(blob)
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		return s.putModelTx(ctx, tx, version, hash, blob)
	})
	return hash, err
}

func hashOf(blob []byte) string {
	sum := sha256.Sum256(blob)
	return hex.EncodeToString(sum[:])
}

func (s *Store) putModelTx(ctx context.Context, tx pgx.Tx, version int, hash string, blob []byte) error {
	var stored string
	err := tx.QueryRow(ctx, "SELECT sha256 FROM models WHERE version = $1", version).Scan(&stored)
	exists := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("pgstore: models/%d: %w", version, err)
	}
	var latest *int
	if err := tx.QueryRow(ctx, "SELECT max(version) FROM models").Scan(&latest); err != nil {
		return fmt.Errorf("pgstore: models: %w", err)
	}
	l := -1
	if latest != nil {
		l = *latest
	}
	noop, err := store.CheckNextVersion(version, hash, exists, stored, l, latest != nil)
	if err != nil || noop {
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO models (version, sha256, size, created, blob) VALUES ($1, $2, $3, $4, $5)",
		version, hash, len(blob), s.now().UTC(), blob)
	if err != nil {
		return fmt.Errorf("pgstore: models/%d: %w", version, err)
	}
	return nil
}

// Model returns the bytes of model version, checked against their hash.
func (s *Store) Model(version int) ([]byte, error) {
	var hash string
	var size int64
	var blob []byte
	err := s.read(func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT sha256, size, blob FROM models WHERE version = $1", version).Scan(&hash, &size, &blob)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("store: model version %d: %w", version, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: models/%d: %w", version, err)
	}
	if int64(len(blob)) != size || hashOf(blob) != hash {
		return nil, fmt.Errorf("pgstore: models/%d: %w: content does not match its hash %s (%d bytes, want %d)", version, store.ErrCorrupt, hash, len(blob), size)
	}
	return blob, nil
}

// ModelHash returns the SHA-256 (lowercase hex) of model version.
func (s *Store) ModelHash(version int) (string, error) {
	var hash string
	err := s.read(func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT sha256 FROM models WHERE version = $1", version).Scan(&hash)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("store: model version %d: %w", version, store.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("pgstore: models/%d: %w", version, err)
	}
	return hash, nil
}

// LatestVersion returns the newest model version; ok is false if none is
// stored.
func (s *Store) LatestVersion() (version int, ok bool, err error) {
	var latest *int
	err = s.read(func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT max(version) FROM models").Scan(&latest)
	})
	if err != nil {
		return 0, false, fmt.Errorf("pgstore: models: %w", err)
	}
	if latest == nil {
		return 0, false, nil
	}
	return *latest, true, nil
}
