package simulate

import (
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/audit"
	"github.com/fedb2b/fedb2b/privacy/keys"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// TestRewrittenTenantLedgerFails runs a federation with every party's
// ledger on disk (noised evaluation statistics and noised example counts,
// secure aggregation), then plays a tenant that rewrites its own ledger
// with its own key to hide spends: it removes the intent and released
// entries of one evaluation, or of one noised count, re-chains and
// re-signs the rest (each such ledger verifies on its own, with a lower
// ε), or truncates its ledger. The auditor's verification with the
// coordinator's ledger must fail, naming the missing release.
func TestRewrittenTenantLedgerFails(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	dir := t.TempDir()
	cfg := Config{
		Tenants: 4, Rounds: 2, MinClients: 3, SynthRecords: 1200, Seed: 11,
		LocalSteps: 20, SampleRate: 0.05, TargetEpsilon: 8, RoundTimeout: 10 * time.Second,
		EvalEpsilon: 0.5, WeightEpsilon: 0.05, MaxWeight: 10000,
		Workdir: dir, Rand: privacy.SeededReader(13),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	honest := verifyReport(t, rep)
	var received int
	for _, r := range honest.Received {
		received += r.Kinds[ledger.KindEvalStats] + r.Kinds[ledger.KindCount]
		if r.Party != "coordinator" || r.LastHead == 0 {
			t.Errorf("receipt %+v: want the coordinator's, with a ledger head", r)
		}
	}
	for _, b := range honest.Budgets {
		if b.Party != b.Tenant {
			t.Errorf("the audit lists %s's entries as a budget of %s", b.Party, b.Tenant)
		}
	}
	if received == 0 {
		t.Fatal("the coordinator's ledger records no evaluation statistics or counts")
	}
	const victim = "tenant-2"
	path := filepath.Join(dir, victim, "ledger.jsonl")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := keys.LoadOrCreate(filepath.Join(dir, victim, "signing.key.age"), filepath.Join(dir, victim, "age-identity.txt"))
	if err != nil {
		t.Fatal(err)
	}
	entries, _, err := ledger.Decode(orig)
	if err != nil {
		t.Fatal(err)
	}
	// The last scalar-gaussian intent released with CountsHash is an
	// evaluation; one released with the update's hash is a count.
	evalSeq, countSeq := lastScalar(entries, true), lastScalar(entries, false)
	if evalSeq == 0 || countSeq == 0 {
		t.Fatalf("%s's ledger has no evaluation (%d) or count (%d) release", victim, evalSeq, countSeq)
	}
	cases := []struct {
		name string
		drop func(e ledger.Entry) bool
		want []string
	}{
		{"evaluation removed", func(e ledger.Entry) bool { return e.Seq == evalSeq || e.Ref == evalSeq },
			[]string{"coordinator", "noised evaluation statistics", "tenant " + victim, "missing"}},
		{"count removed", func(e ledger.Entry) bool { return e.Seq == countSeq || e.Ref == countSeq },
			[]string{"coordinator", "noised example count", "tenant " + victim, "missing"}},
		{"truncated", func(e ledger.Entry) bool { return e.Seq >= evalSeq },
			[]string{"coordinator", "tenant " + victim}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := epsOf(t, honest, victim)
			rewriteLedger(t, path, signer, entries, c.drop)
			defer os.WriteFile(path, orig, 0o644)
			// Alone, the rewritten ledger verifies, at a lower ε.
			alone := audit.Verify(audit.Load(path), audit.Trust(signer.Public().(ed25519.PublicKey)))
			if !alone.OK {
				t.Fatalf("the rewritten ledger does not verify on its own: %+v", alone.Failures)
			}
			if after := epsOf(t, alone, victim); !(after < before) {
				t.Fatalf("rewriting did not lower ε (%v → %v)", before, after)
			}
			res := verifyAll(t, rep)
			first, failed := res.First()
			if !failed {
				t.Fatalf("verification passed on %s's rewritten ledger (ε %v → %v)", victim, before, epsOf(t, alone, victim))
			}
			var all []string
			for _, f := range res.Failures {
				all = append(all, f.String())
			}
			text := strings.Join(all, "\n")
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("failures do not say %q:\n%s", w, text)
				}
			}
			t.Logf("first failure: %s", first)
		})
	}
}

// lastScalar returns the seq of the last scalar-gaussian intent whose
// release differs from (eval) or equals (count) the hash of a DP-SGD
// release of the same round.
func lastScalar(entries []ledger.Entry, eval bool) uint64 {
	rel := map[uint64]string{}
	updates := map[string]bool{}
	for _, e := range entries {
		if e.Status == ledger.StatusReleased {
			rel[e.Ref] = e.ArtifactHash
		}
	}
	for _, e := range entries {
		if e.Status == ledger.StatusIntent && e.Mechanism == ledger.MechDPSGD && rel[e.Seq] != "" {
			updates[rel[e.Seq]] = true
		}
	}
	var out uint64
	for _, e := range entries {
		h := rel[e.Seq]
		if e.Status == ledger.StatusIntent && e.Mechanism == ledger.MechScalarGaussian && h != "" && updates[h] != eval {
			out = e.Seq
		}
	}
	return out
}

// rewriteLedger writes at path the entries drop keeps, re-chained and
// re-signed by signer, as a tenant rewriting its own history would.
func rewriteLedger(t *testing.T, path string, signer ed25519.PrivateKey, entries []ledger.Entry, drop func(ledger.Entry) bool) {
	t.Helper()
	tmp := path + ".new"
	os.Remove(tmp)
	l, err := ledger.Open(tmp, signer)
	if err != nil {
		t.Fatal(err)
	}
	seqs := map[uint64]uint64{}
	for _, e := range entries {
		if drop(e) {
			continue
		}
		old := e.Seq
		var w ledger.Entry
		switch e.Status {
		case ledger.StatusIntent:
			e.Seq, e.EpsilonCumulative, e.PrevHash, e.Writer, e.Signature, e.Status = 0, 0, "", "", "", ""
			w, err = l.Append(e)
		case ledger.StatusReleased:
			w, err = l.Release(seqs[e.Ref], e.ArtifactHash)
		}
		if err != nil {
			t.Fatal(err)
		}
		seqs[old] = w.Seq
	}
	l.Close()
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// verifyAll runs the auditor's verification over rep's ledgers.
func verifyAll(t *testing.T, rep *Report) audit.Result {
	t.Helper()
	var paths []string
	var pubs []audit.TrustedKey
	for _, p := range rep.Ledgers {
		paths = append(paths, p.Ledger)
		pub, err := keys.ReadPublic(p.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, audit.TrustedKey{Party: p.Party, Key: pub})
	}
	return audit.Verify(audit.Load(paths...), pubs)
}

func epsOf(t *testing.T, r audit.Result, tenant string) float64 {
	t.Helper()
	for _, b := range r.Budgets {
		if b.Party == tenant && b.Tenant == tenant && b.Unit == ledger.UnitRecord {
			return float64(b.Epsilon)
		}
	}
	t.Fatalf("no record-level budget of %s", tenant)
	return 0
}
