package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// LeaseInfo is the lease row as the database holds it.
type LeaseInfo struct {
	Epoch   int64
	Holder  string
	Address string
	Expires time.Time
	// Valid is whether it had not expired when read (database clock).
	Valid bool
}

// TryAcquire takes the leader lease for ttl if it is free (never taken,
// expired or released), raising the epoch, and reports whether it did.
// holder names this process in the row (for operators), address is where
// clients reach it (the standbys' redirect). A store that held an earlier
// epoch gets a new one: what it wrote before stays, but its old epoch is
// fenced.
func (s *Store) TryAcquire(ctx context.Context, holder, address string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("pgstore: lease ttl %v must be positive", ttl)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var epoch int64
	err := s.pool.QueryRow(ctx, `UPDATE lease SET epoch = epoch + 1, holder = $1, address = $2,
		expires = clock_timestamp() + make_interval(secs => $3)
		WHERE id = 1 AND expires <= clock_timestamp() RETURNING epoch`, holder, address, ttl.Seconds()).Scan(&epoch)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("pgstore: acquire lease: %w", err)
	}
	s.epoch.Store(epoch)
	return true, nil
}

// Renew extends the held lease to ttl from now. It fails with
// [ErrNotLeader] if the lease expired or another coordinator holds it
// (the store then stops writing for good: acquire again for a new epoch),
// and with another error if the database could not be asked (the lease
// may still be held; the caller decides how long to keep trying).
func (s *Store) Renew(ctx context.Context, ttl time.Duration) error {
	mine := s.epoch.Load()
	if mine == 0 {
		return fmt.Errorf("pgstore: renew: %w", ErrNotLeader)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `UPDATE lease SET expires = clock_timestamp() + make_interval(secs => $2)
		WHERE id = 1 AND epoch = $1 AND expires > clock_timestamp()`, mine, ttl.Seconds())
	if err != nil {
		return fmt.Errorf("pgstore: renew lease: %w", err)
	}
	if tag.RowsAffected() != 1 {
		s.epoch.CompareAndSwap(mine, 0)
		return fmt.Errorf("pgstore: renew lease of epoch %d: %w", mine, ErrNotLeader)
	}
	return nil
}

// Release gives the lease up (if still held), so a standby can take over
// at once instead of waiting for the expiry.
func (s *Store) Release() {
	mine := s.epoch.Swap(0)
	if mine == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.pool.Exec(ctx, "UPDATE lease SET expires = 'epoch' WHERE id = 1 AND epoch = $1", mine) // best effort: it expires anyway
}

// Epoch is the lease epoch this store holds (0: none).
func (s *Store) Epoch() int64 { return s.epoch.Load() }

// Lease reads the lease row.
func (s *Store) Lease(ctx context.Context) (LeaseInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var l LeaseInfo
	err := s.pool.QueryRow(ctx, "SELECT epoch, holder, address, expires, expires > clock_timestamp() FROM lease WHERE id = 1").
		Scan(&l.Epoch, &l.Holder, &l.Address, &l.Expires, &l.Valid)
	if err != nil {
		return l, fmt.Errorf("pgstore: lease: %w", err)
	}
	return l, nil
}
