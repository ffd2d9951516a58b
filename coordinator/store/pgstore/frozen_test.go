package pgstore

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

// TestTakeoverFromLeaderFrozenInsideWrite attacks failover with a leader
// frozen (SIGSTOP, a GC pause) in the middle of a write transaction, which
// holds the lease row's lock: the standby must still take over once the
// lease expired, without waiting for the frozen leader to wake, and the
// leader's write must then fail rather than commit. Without HoldLimit the
// standby's acquire blocks on the row lock until the leader wakes (here
// 8 s) and the leader's write commits.
func TestTakeoverFromLeaderFrozenInsideWrite(t *testing.T) {
	dsn := pgtest.Database(t)
	ctx := context.Background()
	a, err := Open(ctx, dsn, Options{Timeout: 20 * time.Second, HoldLimit: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	b := openT(t, dsn)
	if ok, err := a.TryAcquire(ctx, "a", "127.0.0.1:1", time.Second); !ok || err != nil {
		t.Fatalf("acquire: %v %v", ok, err)
	}
	const frozen = 8 * time.Second
	inside := make(chan struct{})
	var woke atomic.Bool
	done := make(chan error, 1)
	go func() {
		done <- a.write(func(ctx context.Context, tx pgx.Tx) error {
			close(inside)
			time.Sleep(frozen) // frozen between two statements, the row locked
			woke.Store(true)
			_, err := tx.Exec(ctx, "SELECT 1")
			return err
		})
	}()
	<-inside
	start := time.Now()
	var took bool
	for !took && time.Since(start) < frozen {
		if took, err = b.TryAcquire(ctx, "b", "127.0.0.1:2", time.Minute); err != nil {
			t.Fatalf("standby's acquire: %v", err)
		}
		if !took {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !took || woke.Load() {
		t.Fatalf("the standby took the lease: %v, after %v; the frozen leader had woken: %v", took, time.Since(start), woke.Load())
	}
	t.Logf("standby took over %v after the leader froze inside its write", time.Since(start).Round(10*time.Millisecond))
	if err := <-done; err == nil {
		t.Fatal("the frozen leader's write committed after the takeover")
	} else {
		t.Logf("the frozen leader's write, on waking: %v", err)
	}
}
