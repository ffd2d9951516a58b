package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	. "github.com/fedb2b/fedb2b/coordinator/store"
	"github.com/fedb2b/fedb2b/coordinator/store/pgstore"
	"github.com/fedb2b/fedb2b/internal/pgtest"
)

// The tests of this file run against every backend: bbolt (a temporary
// directory) and PostgreSQL (a new database of the server pgtest finds;
// skipped without one, failed under CI=true).

// backends maps a backend name to a factory: it prepares fresh, empty
// storage for t and returns a function that opens it (again after a
// Close, as a restarted coordinator does), closed when t ends.
var backends = []struct {
	name string
	new  func(t *testing.T) func() Backend
}{
	{"bbolt", func(t *testing.T) func() Backend {
		dir := t.TempDir()
		return func() Backend {
			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	}},
	{"postgres", func(t *testing.T) func() Backend {
		dsn := pgtest.Database(t)
		return func() Backend { return OpenPG(t, dsn) }
	}},
}

// OpenPG opens the PostgreSQL store of dsn and takes the leader lease (a
// coordinator alone on its database takes it at once).
func OpenPG(t *testing.T, dsn string) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), dsn, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if ok, err := s.TryAcquire(context.Background(), t.Name(), "", time.Minute); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	return s
}

func eachBackend(t *testing.T, f func(t *testing.T, open func() Backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b.new(t)) })
	}
}

func rec(round, attempt int, stage, session string) RoundRecord {
	return RoundRecord{Task: "t", Round: round, Attempt: attempt, Stage: stage, Session: session, Cohort: []string{"a", "b", "c"}}
}

func TestBackendModels(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func() Backend) {
		s := open()
		if _, ok, _ := s.LatestVersion(); ok {
			t.Fatal("empty store has a version")
		}
		h0, err := s.PutModel(0, []byte("v0"))
		if err != nil {
			t.Fatal(err)
		}
		if h0 != "0270da4daac514f30bece5788a87ad7b800f59476d0d7e6f70d4b61fbc4f5e9e" {
			t.Fatalf("hash %q", h0)
		}
		// Same bytes again: no-op. Other bytes: conflict. Gap: conflict.
		if h, err := s.PutModel(0, []byte("v0")); err != nil || h != h0 {
			t.Fatalf("idempotent put: %v", err)
		}
		if _, err := s.PutModel(0, []byte("other")); !errors.Is(err, ErrVersionConflict) {
			t.Fatalf("conflicting put: %v", err)
		}
		if _, err := s.PutModel(2, []byte("v2")); !errors.Is(err, ErrVersionConflict) {
			t.Fatalf("gap: %v", err)
		}
		if _, err := s.PutModel(-1, []byte("v2")); err == nil {
			t.Fatal("negative version accepted")
		}
		if _, err := s.PutModel(1, []byte("v1")); err != nil {
			t.Fatal(err)
		}
		if v, ok, _ := s.LatestVersion(); !ok || v != 1 {
			t.Fatalf("latest %d %v", v, ok)
		}
		b, err := s.Model(1)
		if err != nil || string(b) != "v1" {
			t.Fatalf("Model(1) = %q, %v", b, err)
		}
		for _, v := range []int{7, -1} {
			if _, err := s.Model(v); !errors.Is(err, ErrNotFound) {
				t.Fatalf("missing version %d: %v", v, err)
			}
			if _, err := s.ModelHash(v); !errors.Is(err, ErrNotFound) {
				t.Fatalf("hash of missing version %d: %v", v, err)
			}
		}
		if err := s.Verify(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBackendRoundLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func() Backend) {
		s := open()
		if _, err := s.PutModel(0, []byte("m0")); err != nil {
			t.Fatal(err)
		}
		r := rec(1, 0, "train", "aa01")
		if err := s.RecordRound(r); err != nil {
			t.Fatal(err)
		}
		r.Stage = "unmask"
		if err := s.RecordRound(r); err != nil {
			t.Fatal(err)
		}
		// A second attempt while the first runs, or with a reused session, or a
		// finished outcome through RecordRound, is refused.
		if err := s.RecordRound(rec(1, 1, "train", "aa02")); !errors.Is(err, ErrRoundRunning) {
			t.Fatalf("attempt while running: %v", err)
		}
		if err := s.MarkAborted(1, 0, "coordinator restarted"); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkAborted(1, 0, "again"); err != nil {
			t.Fatalf("aborting an aborted attempt again: %v", err)
		}
		if err := s.MarkAborted(1, 5, "never ran"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("aborting an unknown attempt: %v", err)
		}
		if err := s.RecordRound(r); !errors.Is(err, ErrRoundClosed) {
			t.Fatalf("write to aborted attempt: %v", err)
		}
		if err := s.RecordRound(rec(1, 1, "train", "aa01")); !errors.Is(err, ErrSessionReused) {
			t.Fatalf("reused session: %v", err)
		}
		if used, _ := s.SessionUsed("aa01"); !used {
			t.Fatal("session of the aborted attempt not recorded")
		}
		if used, _ := s.SessionUsed("aa09"); used {
			t.Fatal("a session never recorded is reported used")
		}
		r2 := rec(1, 1, "train", "aa02")
		if err := s.RecordRound(r2); err != nil {
			t.Fatal(err)
		}
		changed := r2
		changed.Session = "aa05"
		if err := s.RecordRound(changed); err == nil {
			t.Fatal("session changed within an attempt accepted")
		}
		if err := s.RecordRound(rec(1, 0, "train", "aa03")); !errors.Is(err, ErrRoundClosed) {
			t.Fatalf("stale attempt: %v", err)
		}
		bad := r2
		bad.Outcome = Finished
		if err := s.RecordRound(bad); err == nil {
			t.Fatal("RecordRound accepted a finished outcome")
		}
		r2.ModelVersion = 0
		h, err := s.FinishRound(r2, []byte("m1"))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ModelHash(1); got != h {
			t.Fatalf("model 1 hash %s, FinishRound said %s", got, h)
		}
		// Applying the round again, in any form, is impossible.
		if _, err := s.FinishRound(r2, []byte("m1")); !errors.Is(err, ErrRoundClosed) {
			t.Fatalf("second finish: %v", err)
		}
		if _, err := s.FinishRound(rec(1, 2, "train", "aa04"), []byte("m1b")); !errors.Is(err, ErrRoundClosed) {
			t.Fatalf("finish by a new attempt: %v", err)
		}
		if err := s.MarkAborted(1, 1, "late"); !errors.Is(err, ErrRoundClosed) {
			t.Fatalf("abort finished: %v", err)
		}
		// A finish whose model version does not follow the latest is
		// refused as a whole: the round stays open, no version appears.
		r3 := rec(2, 0, "train", "aa06")
		if err := s.RecordRound(r3); err != nil {
			t.Fatal(err)
		}
		r3.ModelVersion = 5
		if _, err := s.FinishRound(r3, []byte("m6")); !errors.Is(err, ErrVersionConflict) {
			t.Fatalf("finish onto a missing version: %v", err)
		}
		if v, _, _ := s.LatestVersion(); v != 1 {
			t.Fatalf("latest %d after refused re-applications", v)
		}
		rounds, err := s.Rounds()
		if err != nil {
			t.Fatal(err)
		}
		if len(rounds) != 3 || rounds[0].Outcome != Aborted || rounds[0].Reason != "coordinator restarted" || rounds[1].Outcome != Finished ||
			rounds[1].ModelVersion != 1 || rounds[2].Outcome != Running || rounds[2].Stage != "train" {
			t.Fatalf("rounds: %+v", rounds)
		}
		if err := s.Verify(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBackendAbortInterrupted(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func() Backend) {
		s := open()
		if err := s.RecordRound(rec(3, 0, "share-keys", "bb")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FinishRound(rec(2, 0, "done", "cc"), nil); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s = open()
		got, err := s.AbortInterrupted("restart")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Round != 3 || got[0].Stage != "share-keys" || got[0].Outcome != Running {
			t.Fatalf("interrupted: %+v", got)
		}
		if again, _ := s.AbortInterrupted("restart"); len(again) != 0 {
			t.Fatalf("second AbortInterrupted: %+v", again)
		}
		if err := s.RecordRound(rec(3, 1, "train", "bb")); !errors.Is(err, ErrSessionReused) {
			t.Fatalf("re-run with the interrupted session: %v", err)
		}
		if err := s.RecordRound(rec(3, 1, "train", "bd")); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBackendTenantsAndTasks(t *testing.T) {
	eachBackend(t, func(t *testing.T, open func() Backend) {
		s := open()
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		for _, n := range []string{"globex", "acme", "Zeta"} {
			if err := s.PutTenant(TenantRecord{Name: n, EncoderID: "hash-256", Joined: now, EpsilonCap: 8, Delta: 1e-6}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.PutTenant(TenantRecord{Name: "acme", EpsilonSpent: 1.5, EpsilonCap: 8}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutTask(TaskRecord{ID: "intent", Spec: []byte{1, 2, 3}, Created: now}); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []TenantRecord{{}, {Name: "x", EpsilonCap: -1}} {
			if err := s.PutTenant(bad); err == nil {
				t.Fatalf("accepted tenant %+v", bad)
			}
		}
		s.Close()
		s = open()
		ts, err := s.Tenants()
		if err != nil {
			t.Fatal(err)
		}
		// Ordered bytewise, as bbolt orders keys ("Zeta" < "acme").
		if len(ts) != 3 || ts[0].Name != "Zeta" || ts[1].Name != "acme" || ts[1].EpsilonSpent != 1.5 || ts[2].Name != "globex" || !ts[2].Joined.Equal(now) {
			t.Fatalf("tenants: %+v", ts)
		}
		tasks, err := s.Tasks()
		if err != nil || len(tasks) != 1 || !bytes.Equal(tasks[0].Spec, []byte{1, 2, 3}) {
			t.Fatalf("tasks: %+v %v", tasks, err)
		}
	})
}
