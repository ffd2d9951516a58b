package audit

import (
	"crypto/ed25519"
	"path/filepath"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/keys"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// TestRedteamDeltaRaisedMidway (found while checking the δ handling of
// #17 item 3's evaluation charge; fixed: the ledger's replay refuses a
// change of δ within (tenant, unit)): a tenant ledger whose entries for one (tenant,
// unit) change δ part-way. Two releases at δ = 1e-5 reach ε 7.08; a third
// recorded at δ = 0.5 (a tenant restarted with a looser --delta, or one
// that wants its figure to look small) brings the recorded cumulative ε
// down to 1.73, under a cap that ε 7.08 + the third release would break
// at 1e-5, and the audit passes and reports ε 1.73 as the tenant's spend.
// Composition is only meaningful at one δ: the ledger should refuse, or
// the audit fail, a δ that changes within (tenant, unit) — or report
// every ε at the largest δ recorded.
func TestRedteamDeltaRaisedMidway(t *testing.T) {
	k, err := keys.Generate(privacy.SeededReader(1))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "acme.jsonl")
	l, err := ledger.Open(p, k)
	if err != nil {
		t.Fatal(err)
	}
	var appendErr error
	for r, d := range []float64{1e-5, 1e-5, 0.5} {
		if _, appendErr = l.Append(ledger.Entry{Party: "acme", Task: "t", Round: int64(r + 1), Tenant: "acme", Unit: ledger.UnitRecord,
			Mechanism: ledger.MechDPSGD, Params: ledger.Params{SamplingRate: 1, NoiseMultiplier: 1, ClipNorm: 1, Steps: 1},
			Delta: d, EpsilonCap: 8}); appendErr != nil {
			break
		}
	}
	l.Close()
	if appendErr != nil {
		t.Logf("the ledger refused the change of δ: %v", appendErr)
		return
	}
	res := Verify(Load(p), []TrustedKey{{Party: "acme", Key: k.Public().(ed25519.PublicKey)}})
	if res.OK {
		for _, b := range res.Budgets {
			t.Errorf("δ raised from 1e-5 to 0.5 within one ledger: the audit passes and reports ε %.3f at δ %g as the tenant's spend (7.08 at 1e-5 before the third release)", float64(b.Epsilon), b.Delta)
		}
	}
}
