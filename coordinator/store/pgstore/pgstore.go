package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fedb2b/fedb2b/coordinator/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrNotLeader is returned by every write while this store does not hold
// the leader lease (never acquired, expired, or taken over by another
// coordinator: fenced).
var ErrNotLeader = errors.New("not the leader: the coordinator lease is not held")

// ErrSchemaTooNew is returned by [Open] on a database migrated by a newer
// binary.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary")

// migrationLock is the advisory lock key that serialises migrations.
const migrationLock = 0x66656462 // "fedb"

// Options configures [Open].
type Options struct {
	// Timeout bounds each operation (30 s if zero).
	Timeout time.Duration
	// Now stamps records (time.Now if nil).
	Now func() time.Time
	// HoldLimit, if positive, is how long a transaction of this store may
	// wait for its next statement (its process paused by SIGSTOP, a long
	// GC pause or a frozen VM) before the server ends the session and
	// frees its locks (PostgreSQL's idle_in_transaction_session_timeout,
	// whole milliseconds). A leader's write holds the lease row's lock, so
	// without it a leader frozen inside a write would keep every standby
	// from taking over until it woke; the coordinator sets the lease TTL.
	HoldLimit time.Duration
}

// Store is the PostgreSQL backend. Safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	timeout time.Duration
	now     func() time.Time
	epoch   atomic.Int64 // the lease epoch this store holds, 0 for none
}

var _ store.Backend = (*Store)(nil)

// IsDSN reports whether spec names a PostgreSQL database (postgres:// or
// postgresql:// URL).
func IsDSN(spec string) bool {
	return strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://")
}

// Open connects to the database of dsn and brings its schema up to date.
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgstore: bad DSN (%s)", redact(err))
	}
	if o.HoldLimit > 0 {
		cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt(max(o.HoldLimit.Milliseconds(), 1), 10)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	s := &Store{pool: pool, timeout: o.Timeout, now: o.Now}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// redact drops a parse error's detail, which can quote the DSN (and its
// password).
func redact(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "://"); i >= 0 {
		return "cannot parse the postgres:// URL"
	}
	return msg
}

// Close releases the lease (so a standby takes over at once) and closes
// the connections.
func (s *Store) Close() error {
	s.Release()
	s.pool.Close()
	return nil
}

// migrations lists the embedded migrations by number.
func migrations() (map[int]string, []int, error) {
	ents, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, nil, err
	}
	out := map[int]string{}
	var nums []int
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 1 || out[n] != "" {
			return nil, nil, fmt.Errorf("pgstore: bad migration file name %q", e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, nil, err
		}
		out[n] = string(b)
		nums = append(nums, n)
	}
	slices.Sort(nums)
	for i, n := range nums {
		if n != i+1 {
			return nil, nil, fmt.Errorf("pgstore: migrations are not numbered 1, 2, 3...: %v", nums)
		}
	}
	return out, nums, nil
}

// SchemaVersion is the newest schema version this binary knows.
func SchemaVersion() int {
	_, nums, err := migrations()
	if err != nil || len(nums) == 0 {
		return 0
	}
	return nums[len(nums)-1]
}

// migrate applies the missing migrations, each in one transaction under
// an advisory lock.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	files, nums, err := migrations()
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock)); err != nil {
			return fmt.Errorf("pgstore: migrate: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT clock_timestamp())`); err != nil {
			return fmt.Errorf("pgstore: migrate: %w", err)
		}
		var cur int
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&cur); err != nil {
			return fmt.Errorf("pgstore: migrate: %w", err)
		}
		if latest := nums[len(nums)-1]; cur > latest {
			return fmt.Errorf("pgstore: %w: version %d, this binary knows up to %d", ErrSchemaTooNew, cur, latest)
		}
		for _, n := range nums {
			if n <= cur {
				continue
			}
			if _, err := tx.Exec(ctx, files[n]); err != nil {
				return fmt.Errorf("pgstore: migration %d: %w", n, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_version (version) VALUES ($1)", n); err != nil {
				return fmt.Errorf("pgstore: migration %d: %w", n, err)
			}
		}
		return nil
	})
}

// read runs fn in a read-only transaction.
func (s *Store) read(fn func(ctx context.Context, tx pgx.Tx) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		return fn(ctx, tx)
	})
}

// write runs fn in a transaction that commits only while this store holds
// the lease: it locks the lease row first (serialising writers and
// waiting out a takeover in progress) and checks epoch and expiry.
func (s *Store) write(fn func(ctx context.Context, tx pgx.Tx) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		mine := s.epoch.Load()
		var epoch int64
		var valid bool
		err := tx.QueryRow(ctx, "SELECT epoch, expires > clock_timestamp() FROM lease WHERE id = 1 FOR UPDATE").Scan(&epoch, &valid)
		if err != nil {
			return fmt.Errorf("pgstore: lease: %w", err)
		}
		if mine == 0 || epoch != mine || !valid {
			return fmt.Errorf("pgstore: %w (this store's epoch %d, the database's %d, unexpired %v)", ErrNotLeader, mine, epoch, valid)
		}
		return fn(ctx, tx)
	})
}
