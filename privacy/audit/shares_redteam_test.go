package audit

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/ddg"
	"github.com/fedb2b/fedb2b/privacy/keys"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// TestRedteamAuditNotesRoundsBelowTheAssumedShares attacks claim 3 of the
// distributed mode's audit: a coordinator that unmasks a round's sum of
// 2 masked inputs while every entry assumes 3 honest shares leaves
// ledgers whose recomputed ε (at 3 shares) understates the spend, and
// before this check they verified without a word. The ledgers cannot say
// whether the round was unmasked, so the auditor must at least name it;
// round 2, with all three inputs, must not be named.
func TestRedteamAuditNotesRoundsBelowTheAssumedShares(t *testing.T) {
	r, err := ddg.PlanRecord(ddg.RecordGoal{Epsilon: 4, Delta: 1e-5, Rounds: 10, SampleRate: 0.1, RecordClip: 1, SumClip: 10,
		Dim: 100, Shares: 3, Cohort: 3})
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.Generate(privacy.SeededReader(7))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "coordinator.ledger")
	l, err := ledger.Open(path, k, ledger.WithClock(clock()))
	if err != nil {
		t.Fatal(err)
	}
	for round, ts := range map[int][]string{1: {"acme", "globex"}, 2: {"acme", "globex", "initech"}} {
		for _, tenant := range ts {
			_, err := l.Receive(ledger.Entry{Party: "coordinator", Task: "t", Round: int64(round), Tenant: tenant, Unit: ledger.UnitRecord,
				Kind: ledger.KindMaskedInput, Mechanism: ledger.MechDDGRecord, Params: ledger.RecordParams(r),
				ArtifactHash: hash(fmt.Sprintf("masked %s %d", tenant, round))})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	l.Close()
	res := Verify(Load(path), nil)
	if f, bad := res.First(); bad {
		t.Fatalf("verify failed: %+v", f)
	}
	var named []string
	for _, n := range res.Notes {
		if strings.Contains(n, "honest noise shares") {
			named = append(named, n)
		}
	}
	if len(named) != 1 || !strings.Contains(named[0], "round 1:") || !strings.Contains(named[0], "2 masked inputs") {
		t.Fatalf("notes on the shares %q, want one naming round 1's 2 masked inputs", named)
	}
}
