package audit

import (
	"os"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// TestLedgerHeads records acme's signed ledger head in the coordinator's
// ledger and checks: the intact ledgers verify; acme's ledger truncated
// before the head, or rewritten at it, fails naming acme's ledger; a head
// the coordinator signed itself (framing acme) fails naming the
// coordinator's entry.
func TestLedgerHeads(t *testing.T) {
	f := buildFederation(t, 2)
	acme, err := ledger.Open(f.paths["acme"], f.keys["acme"], ledger.WithClock(clock()))
	if err != nil {
		t.Fatal(err)
	}
	head, ok, err := acme.Head()
	acme.Close()
	if err != nil || !ok || head.Seq != 4 {
		t.Fatalf("head %+v %v %v", head, ok, err)
	}
	record := func(sig []byte) {
		t.Helper()
		c, err := ledger.Open(f.paths["coordinator"], f.keys["coordinator"], ledger.WithClock(clock()))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Receive(ledger.Entry{Party: "coordinator", Task: "intent-cls", Round: 2, Tenant: "acme", Unit: ledger.UnitRecord,
			Kind: ledger.KindLedgerHead, Ref: head.Seq, ArtifactHash: head.Hash, HeadSignature: b64(sig)}); err != nil {
			t.Fatal(err)
		}
	}
	coordOrig, _ := os.ReadFile(f.paths["coordinator"])
	record(head.Signature)
	if res := Verify(f.files(), f.trusted()); !res.OK {
		t.Fatalf("intact ledgers with a head: %+v", res.Failures)
	}
	acmeOrig, _ := os.ReadFile(f.paths["acme"])
	lines := strings.SplitAfter(string(acmeOrig), "\n")
	// Truncated: the last two entries (the round-2 intent and release) gone.
	os.WriteFile(f.paths["acme"], []byte(strings.Join(lines[:2], "")), 0o644)
	res := Verify(f.files(), f.trusted())
	if first, failed := res.First(); !failed || first.File != f.paths["acme"] || !strings.Contains(first.Reason, "entries 3 to 4 were removed") {
		t.Errorf("truncated: first failure %+v", first)
	}
	// Rewritten: acme re-signs round 2 with fewer steps (a lower ε).
	os.WriteFile(f.paths["acme"], []byte(strings.Join(lines[:2], "")), 0o644)
	l, err := ledger.Open(f.paths["acme"], f.keys["acme"], ledger.WithClock(clock()))
	if err != nil {
		t.Fatal(err)
	}
	p := tenantParams["acme"]
	p.Steps = 10
	art := hash("masked update acme 2")
	in, err := l.Append(ledger.Entry{Party: "acme", Task: "intent-cls", Round: 2, Tenant: "acme", Unit: ledger.UnitRecord,
		Mechanism: ledger.MechDPSGD, Params: p, Delta: 1e-5, EpsilonCap: 4, ArtifactHash: art})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Release(in.Seq, art); err != nil {
		t.Fatal(err)
	}
	l.Close()
	res = Verify(f.files(), f.trusted())
	if first, failed := res.First(); !failed || first.File != f.paths["acme"] || first.Seq != 4 || !strings.Contains(first.Reason, "rewritten") {
		t.Errorf("rewritten: first failure %+v", first)
	}
	// A head acme never signed, recorded by the coordinator.
	os.WriteFile(f.paths["acme"], acmeOrig, 0o644)
	os.WriteFile(f.paths["coordinator"], coordOrig, 0o644)
	forged := append([]byte(nil), head.Signature...)
	forged[0] ^= 1
	record(forged)
	res = Verify(f.files(), f.trusted())
	if first, failed := res.First(); !failed || first.File != f.paths["coordinator"] || !strings.Contains(first.Reason, "did not sign") {
		t.Errorf("forged head: first failure %+v", first)
	}
}
