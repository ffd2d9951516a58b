package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestModels(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
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
	if _, err := os.Stat(filepath.Join(dir, "blobs", h0)); err != nil {
		t.Fatalf("blob not named by its hash: %v", err)
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
	if _, err := s.Model(7); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing version: %v", err)
	}
	// A blob altered on disk is detected on read.
	h1, _ := s.ModelHash(1)
	if err := os.WriteFile(filepath.Join(dir, "blobs", h1), []byte("v9"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Model(1); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("tampered blob: %v", err)
	}
	if err := s.Verify(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Verify on tampered blob: %v", err)
	}
}

func TestSecondOpenerRefused(t *testing.T) {
	dir := t.TempDir()
	open(t, dir)
	_, err := OpenWith(dir, Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
}

func TestSweepOnOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := s.PutModel(0, []byte("kept"))
	s.Close()
	orphan := filepath.Join(dir, "blobs", string(bytes.Repeat([]byte("ab"), 32)))
	tmp := filepath.Join(dir, "blobs", tmpPrefix+"123")
	for _, p := range []string{orphan, tmp} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s = open(t, dir)
	if s.Swept() != 2 {
		t.Fatalf("swept %d files, want 2", s.Swept())
	}
	for _, p := range []string{orphan, tmp} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s survived: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "blobs", h)); err != nil {
		t.Fatalf("referenced blob removed: %v", err)
	}
}

func rec(round, attempt int, stage, session string) RoundRecord {
	return RoundRecord{Task: "t", Round: round, Attempt: attempt, Stage: stage, Session: session, Cohort: []string{"a", "b", "c"}}
}

func TestRoundLifecycle(t *testing.T) {
	s := open(t, t.TempDir())
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
	if err := s.RecordRound(r); !errors.Is(err, ErrRoundClosed) {
		t.Fatalf("write to aborted attempt: %v", err)
	}
	if err := s.RecordRound(rec(1, 1, "train", "aa01")); !errors.Is(err, ErrSessionReused) {
		t.Fatalf("reused session: %v", err)
	}
	if used, _ := s.SessionUsed("aa01"); !used {
		t.Fatal("session of the aborted attempt not recorded")
	}
	r2 := rec(1, 1, "train", "aa02")
	if err := s.RecordRound(r2); err != nil {
		t.Fatal(err)
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
	if v, _, _ := s.LatestVersion(); v != 1 {
		t.Fatalf("latest %d after refused re-applications", v)
	}
	rounds, err := s.Rounds()
	if err != nil {
		t.Fatal(err)
	}
	if len(rounds) != 2 || rounds[0].Outcome != Aborted || rounds[0].Reason != "coordinator restarted" || rounds[1].Outcome != Finished || rounds[1].ModelVersion != 1 {
		t.Fatalf("rounds: %+v", rounds)
	}
	if err := s.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestAbortInterrupted(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordRound(rec(3, 0, "share-keys", "bb")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishRound(rec(2, 0, "done", "cc"), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir)
	got, err := s.AbortInterrupted("restart")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Round != 3 || got[0].Stage != "share-keys" {
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
}

func TestTenantsAndTasks(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, n := range []string{"globex", "acme"} {
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
	s = open(t, dir)
	ts, err := s.Tenants()
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].Name != "acme" || ts[0].EpsilonSpent != 1.5 || ts[1].Name != "globex" || !ts[1].Joined.Equal(now) {
		t.Fatalf("tenants: %+v", ts)
	}
	tasks, err := s.Tasks()
	if err != nil || len(tasks) != 1 || !bytes.Equal(tasks[0].Spec, []byte{1, 2, 3}) {
		t.Fatalf("tasks: %+v %v", tasks, err)
	}
}
