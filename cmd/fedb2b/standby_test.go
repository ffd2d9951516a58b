package main

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/coordinator/store/pgstore"
	"github.com/fedb2b/fedb2b/internal/pgtest"
	"github.com/fedb2b/fedb2b/privacy/keys"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// TestLedgerHeadGuard: the leader stores its ledger's head in the
// database after every event; a coordinator taking over with a ledger
// that lacks that entry (its --workdir is not the leader's) or holds
// another entry in its place (a forked or rolled-back ledger) is refused
// before it changes anything.
func TestLedgerHeadGuard(t *testing.T) {
	dsn := pgtest.Database(t)
	pg, err := pgstore.Open(context.Background(), dsn, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if ok, err := pg.TryAcquire(context.Background(), "test", "", time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	ls := &leaderStore{Backend: pg, pg: pg}
	key, err := keys.Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	open := func(name string) *ledger.Ledger {
		l, err := ledger.Open(filepath.Join(dir, name), key)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
	entry := func(round int64) ledger.Entry {
		return ledger.Entry{Party: "acme", Task: "t", Round: round, Tenant: "acme", Unit: ledger.UnitRecord, Mechanism: ledger.MechDPSGD,
			Params: ledger.Params{SamplingRate: 0.01, NoiseMultiplier: 1.1, ClipNorm: 1, Steps: 10}, Delta: 1e-5, EpsilonCap: 8}
	}
	shared, empty, forked := open("shared.jsonl"), open("empty.jsonl"), open("forked.jsonl")
	for _, l := range []*ledger.Ledger{shared, forked} {
		if err := ls.checkLedgerHead(l, "x"); err != nil {
			t.Fatalf("no head stored yet: %v", err)
		}
	}
	if _, err := shared.Append(entry(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := forked.Append(entry(2)); err != nil {
		t.Fatal(err)
	}
	if err := ls.recordLedgerHead(shared); err != nil {
		t.Fatal(err)
	}
	if err := ls.checkLedgerHead(shared, "shared"); err != nil {
		t.Fatalf("the leader's own ledger refused: %v", err)
	}
	if err := ls.checkLedgerHead(empty, "empty"); err == nil || !strings.Contains(err.Error(), "must share --workdir") {
		t.Fatalf("a ledger without the leader's entries: %v", err)
	}
	if err := ls.checkLedgerHead(forked, "forked"); err == nil || !strings.Contains(err.Error(), "differs from the one the previous leader wrote") {
		t.Fatalf("a forked ledger: %v", err)
	}
	// The head only moves forward.
	if _, err := shared.Append(entry(2)); err != nil {
		t.Fatal(err)
	}
	if err := ls.recordLedgerHead(shared); err != nil {
		t.Fatal(err)
	}
	if err := ls.checkLedgerHead(forked, "forked"); err == nil {
		t.Fatal("a ledger one entry behind accepted")
	}
	if h, ok, err := pg.StoredLedgerHead(); err != nil || !ok || h.Seq != 2 {
		t.Fatalf("stored head %+v %v %v", h, ok, err)
	}
}
