package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrLedgerBehind is returned by [Store.PutLedgerHead] for a head older
// than the stored one.
var ErrLedgerBehind = errors.New("ledger head is behind the stored one")

// LedgerHead is the coordinator's ledger head as stored.
type LedgerHead struct {
	Seq       uint64
	Hash      string
	Signature []byte
}

// PutLedgerHead records the coordinator's ledger head (a write: it needs
// the lease). The head may only move forward: an older seq fails with
// [ErrLedgerBehind], the same seq with another hash too (the ledger was
// forked).
func (s *Store) PutLedgerHead(h LedgerHead) error {
	if h.Seq == 0 || len(h.Hash) != 64 {
		return fmt.Errorf("pgstore: ledger head %d %q: bad sequence number or hash", h.Seq, h.Hash)
	}
	return s.write(func(ctx context.Context, tx pgx.Tx) error {
		var seq int64
		var hash string
		err := tx.QueryRow(ctx, "SELECT seq, hash FROM ledger_head WHERE id = 1").Scan(&seq, &hash)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return fmt.Errorf("pgstore: ledger head: %w", err)
		case uint64(seq) > h.Seq || uint64(seq) == h.Seq && hash != h.Hash:
			return fmt.Errorf("pgstore: %w: stored entry %d (%s), given entry %d (%s)", ErrLedgerBehind, seq, short(hash), h.Seq, short(h.Hash))
		}
		_, err = tx.Exec(ctx, `INSERT INTO ledger_head (id, seq, hash, signature) VALUES (1, $1, $2, $3)
			ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, signature = EXCLUDED.signature`,
			int64(h.Seq), h.Hash, h.Signature)
		return err
	})
}

// StoredLedgerHead returns the recorded ledger head; ok is false if none.
func (s *Store) StoredLedgerHead() (h LedgerHead, ok bool, err error) {
	var seq int64
	err = s.read(func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, "SELECT seq, hash, signature FROM ledger_head WHERE id = 1").Scan(&seq, &h.Hash, &h.Signature)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return LedgerHead{}, false, nil
	}
	if err != nil {
		return LedgerHead{}, false, fmt.Errorf("pgstore: ledger head: %w", err)
	}
	h.Seq = uint64(seq)
	return h, true, nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
