package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/coordinator/store"
	"github.com/fedb2b/fedb2b/internal/pgtest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	if dsn := os.Getenv(crashEnv); dsn != "" {
		if err := crashChild(dsn); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(pgtest.Main(m))
}

func openT(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sql runs a statement directly, as an operator (or an attacker with
// database access) would.
func sql(t *testing.T, dsn, q string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, q, args...); err != nil {
		t.Fatal(err)
	}
}

func rec(round int, session string) store.RoundRecord {
	return store.RoundRecord{Task: "t", Round: round, Stage: "train", Session: session, Cohort: []string{"a", "b", "c"}}
}

// TestFencing attacks split brain: a leader paused past its lease (it
// never learns it lost it) tries to write after a standby took over.
func TestFencing(t *testing.T) {
	dsn := pgtest.Database(t)
	ctx := context.Background()
	a, b := openT(t, dsn), openT(t, dsn)
	if _, err := b.PutModel(0, []byte("m0")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("write without ever holding the lease: %v", err)
	}
	if ok, err := a.TryAcquire(ctx, "a", "127.0.0.1:1", time.Minute); !ok || err != nil {
		t.Fatalf("first acquire: %v %v", ok, err)
	}
	if ok, err := b.TryAcquire(ctx, "b", "127.0.0.1:2", time.Minute); ok || err != nil {
		t.Fatalf("second acquire of a held lease: %v %v", ok, err)
	}
	if _, err := b.PutModel(0, []byte("m0")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("standby write: %v", err)
	}
	if _, err := a.PutModel(0, []byte("m0")); err != nil {
		t.Fatal(err)
	}
	if err := a.RecordRound(rec(1, "aa")); err != nil {
		t.Fatal(err)
	}
	l, err := b.Lease(ctx)
	if err != nil || l.Holder != "a" || l.Address != "127.0.0.1:1" || !l.Valid || l.Epoch != a.Epoch() {
		t.Fatalf("lease as a standby sees it: %+v %v", l, err)
	}
	// a is paused: its lease runs out (made to, here, by moving the
	// expiry to the past) and b takes over.
	sql(t, dsn, "UPDATE lease SET expires = clock_timestamp() - interval '1 second'")
	if _, err := a.PutModel(1, []byte("m1")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("write after the lease expired, before any takeover: %v", err)
	}
	if ok, err := b.TryAcquire(ctx, "b", "127.0.0.1:2", time.Minute); !ok || err != nil {
		t.Fatalf("takeover: %v %v", ok, err)
	}
	if b.Epoch() <= a.Epoch() {
		t.Fatalf("takeover epoch %d not after %d", b.Epoch(), a.Epoch())
	}
	// a wakes up and goes on as if it were leader: every write fails.
	if err := a.RecordRound(rec(2, "ab")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("paused leader's RecordRound: %v", err)
	}
	if _, err := a.FinishRound(rec(1, "aa"), []byte("m1")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("paused leader's FinishRound: %v", err)
	}
	if err := a.MarkAborted(1, 0, "x"); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("paused leader's MarkAborted: %v", err)
	}
	if err := a.PutTenant(store.TenantRecord{Name: "x"}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("paused leader's PutTenant: %v", err)
	}
	if err := a.Renew(ctx, time.Minute); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("paused leader's renewal: %v", err)
	}
	// Its old release must not free the new leader's lease either.
	a.Release()
	if ok, _ := a.TryAcquire(ctx, "a", "", time.Minute); ok {
		t.Fatal("the old leader re-acquired a lease the new one holds")
	}
	// The new leader resumes as a restart does.
	got, err := b.AbortInterrupted("leader changed")
	if err != nil || len(got) != 1 || got[0].Round != 1 {
		t.Fatalf("takeover's AbortInterrupted: %+v %v", got, err)
	}
	if err := b.RecordRound(store.RoundRecord{Task: "t", Round: 2, Stage: "train", Session: "aa"}); !errors.Is(err, store.ErrSessionReused) {
		t.Fatalf("new leader reusing the old leader's session: %v", err)
	}
	if err := b.Renew(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	// A graceful handover: b releases, a takes over at once.
	b.Release()
	if ok, err := a.TryAcquire(ctx, "a", "", time.Minute); !ok || err != nil {
		t.Fatalf("acquire after release: %v %v", ok, err)
	}
	if _, err := a.PutModel(1, []byte("m1")); err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(); err != nil {
		t.Fatal(err)
	}
}

// TestOneLeader races several stores for a free lease: exactly one wins.
func TestOneLeader(t *testing.T) {
	dsn := pgtest.Database(t)
	var stores []*Store
	for range 6 {
		stores = append(stores, openT(t, dsn))
	}
	var wg sync.WaitGroup
	won := make([]bool, len(stores))
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.TryAcquire(context.Background(), "s", "", time.Minute)
			if err != nil {
				t.Error(err)
			}
			won[i] = ok
		}()
	}
	wg.Wait()
	n := 0
	for _, w := range won {
		if w {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d leaders, want 1 (%v)", n, won)
	}
}

func TestRenewAfterExpiry(t *testing.T) {
	dsn := pgtest.Database(t)
	a := openT(t, dsn)
	ctx := context.Background()
	if ok, err := a.TryAcquire(ctx, "a", "", 200*time.Millisecond); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := a.Renew(ctx, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	// Expired, even with nobody else around: renewing is refused and the
	// store stops writing until it acquires a new epoch.
	if err := a.Renew(ctx, time.Minute); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("renewal of an expired lease: %v", err)
	}
	if _, err := a.PutModel(0, []byte("m0")); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("write after expiry: %v", err)
	}
	old := a.Epoch()
	if ok, err := a.TryAcquire(ctx, "a", "", time.Minute); !ok || err != nil || a.Epoch() == old {
		t.Fatalf("re-acquire: %v %v, epoch %d", ok, err, a.Epoch())
	}
}

func TestMigrations(t *testing.T) {
	dsn := pgtest.Database(t)
	openT(t, dsn).Close()
	openT(t, dsn) // re-open: nothing to apply
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n, v int
	if err := conn.QueryRow(ctx, "SELECT count(*), max(version) FROM schema_version").Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	if n != SchemaVersion() || v != SchemaVersion() || v < 1 {
		t.Fatalf("schema_version has %d rows, max %d; the binary knows %d", n, v, SchemaVersion())
	}
	// A database migrated by a newer binary is refused, not used.
	sql(t, dsn, "INSERT INTO schema_version (version) VALUES ($1)", SchemaVersion()+1)
	if _, err := Open(ctx, dsn, Options{}); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("open of a newer schema: %v", err)
	}
}

// TestTamperedModel changes a stored model's bytes behind the store's
// back: the read and Verify report corruption instead of serving them.
func TestTamperedModel(t *testing.T) {
	dsn := pgtest.Database(t)
	s := openT(t, dsn)
	if ok, err := s.TryAcquire(context.Background(), "a", "", time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, err := s.PutModel(0, []byte("v0")); err != nil {
		t.Fatal(err)
	}
	sql(t, dsn, "UPDATE models SET blob = $1 WHERE version = 0", []byte("v9"))
	if _, err := s.Model(0); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("tampered blob: %v", err)
	}
	if err := s.Verify(); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("Verify on a tampered blob: %v", err)
	}
	sql(t, dsn, "UPDATE rounds SET rec = 'x'")
	sql(t, dsn, `INSERT INTO rounds VALUES (1, 0, 0, '{"v":1,"rec":{"round":1,"stage":""}}')`)
	if _, err := s.Rounds(); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("malformed round record: %v", err)
	}
}

func TestBadDSN(t *testing.T) {
	_, err := Open(context.Background(), "postgres://user:s3cret@[::1", Options{})
	if err == nil {
		t.Fatal("bad DSN accepted")
	}
	if s := err.Error(); len(s) == 0 || containsSecret(s) {
		t.Fatalf("error leaks the password: %q", s)
	}
}

func containsSecret(s string) bool {
	for i := 0; i+6 <= len(s); i++ {
		if s[i:i+6] == "s3cret" {
			return true
		}
	}
	return false
}

func TestLedgerHead(t *testing.T) {
	dsn := pgtest.Database(t)
	s := openT(t, dsn)
	h := func(seq uint64, c byte) LedgerHead {
		return LedgerHead{Seq: seq, Hash: string(bytes.Repeat([]byte{c}, 64)), Signature: []byte{c}}
	}
	if err := s.PutLedgerHead(h(1, 'a')); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("head written without the lease: %v", err)
	}
	if ok, err := s.TryAcquire(context.Background(), "a", "", time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if _, ok, err := s.StoredLedgerHead(); ok || err != nil {
		t.Fatalf("empty store has a head: %v", err)
	}
	for _, g := range []LedgerHead{h(1, 'a'), h(1, 'a'), h(3, 'b')} {
		if err := s.PutLedgerHead(g); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutLedgerHead(h(2, 'c')); !errors.Is(err, ErrLedgerBehind) {
		t.Fatalf("head moved back: %v", err)
	}
	if err := s.PutLedgerHead(h(3, 'd')); !errors.Is(err, ErrLedgerBehind) {
		t.Fatalf("forked head: %v", err)
	}
	got, ok, err := s.StoredLedgerHead()
	if err != nil || !ok || got.Seq != 3 || got.Hash != h(3, 'b').Hash || !bytes.Equal(got.Signature, []byte{'b'}) {
		t.Fatalf("stored head %+v %v %v", got, ok, err)
	}
}

// TestMigrationUpgrade opens a database left at schema version 1 (as an
// older binary leaves it, with data): Open applies version 2 and keeps
// the data.
func TestMigrationUpgrade(t *testing.T) {
	dsn := pgtest.Database(t)
	files, _, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	sql(t, dsn, "CREATE TABLE schema_version (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT clock_timestamp())")
	sql(t, dsn, files[1])
	sql(t, dsn, "INSERT INTO schema_version (version) VALUES (1)")
	sql(t, dsn, `INSERT INTO tenants VALUES ('acme', '{"v":1,"rec":{"name":"acme","joined":"2026-01-02T03:04:05Z","epsilon_cap":8,"epsilon_spent":0,"delta":0}}')`)
	s := openT(t, dsn)
	ts, err := s.Tenants()
	if err != nil || len(ts) != 1 || ts[0].Name != "acme" {
		t.Fatalf("tenants after the upgrade: %+v %v", ts, err)
	}
	if _, _, err := s.StoredLedgerHead(); err != nil {
		t.Fatalf("migration 2 not applied: %v", err)
	}
}
