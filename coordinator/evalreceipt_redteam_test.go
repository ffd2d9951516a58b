package coordinator

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/audit"
	"github.com/fedb2b/fedb2b/privacy/keys"
	"github.com/fedb2b/fedb2b/privacy/ledger"
	"github.com/fedb2b/fedb2b/privacy/scalar"
)

// evalAudit audits a coordinator's ledger holding the receipt of tenant
// acme's noised evaluation of round 1000 at eval ε evalEps (recorded by
// LedgerRecorder as the federation records it on arrival) against acme's
// own ledger, where that release is recorded at noise multiplier
// claimedZ — or left out (omit: acme's ledger then holds one unrelated
// release only).
func evalAudit(t *testing.T, evalEps, claimedZ float64, omit bool) audit.Result {
	t.Helper()
	const delta = 1e-5
	dir := t.TempDir()
	var paths []string
	var trusted []audit.TrustedKey
	ls := map[string]*ledger.Ledger{}
	for i, party := range []string{LedgerParty, "acme"} {
		k, err := keys.Generate(privacy.SeededReader(uint64(i + 1)))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, party+".jsonl")
		l, err := ledger.Open(p, k)
		if err != nil {
			t.Fatal(err)
		}
		ls[party] = l
		paths = append(paths, p)
		trusted = append(trusted, audit.TrustedKey{Party: party, Key: k.Public().(ed25519.PublicKey)})
	}
	stats := sha256.Sum256([]byte("noised histograms of acme, round 1000"))
	// The tenant's intent and release, as client.LedgerSpendLog writes an
	// evaluation spend (NoiseMultiplier σ/Δ, ClipNorm Δ = 1).
	e := ledger.Entry{Party: "acme", Task: "intent", Round: 1000, Tenant: "acme", Unit: ledger.UnitRecord,
		Mechanism: ledger.MechScalarGaussian, Params: ledger.Params{NoiseMultiplier: claimedZ, ClipNorm: 1, Steps: 1},
		Delta: delta, EpsilonCap: 8}
	if omit {
		e.Task, e.Round = "other", 1
	}
	in, err := ls["acme"].Append(e)
	if err != nil {
		t.Fatal(err)
	}
	if !omit {
		if _, err := ls["acme"].Release(in.Seq, hex.EncodeToString(stats[:])); err != nil {
			t.Fatal(err)
		}
	}
	r := &LedgerRecorder{Ledger: ls[LedgerParty], Task: "intent"}
	if err := r.Record(nil, Event{Kind: EvReceived, Round: 1000, Tenant: "acme", Received: ledger.KindEvalStats,
		Artifacts: map[string][32]byte{"acme": stats}, EvalEpsilon: evalEps}); err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		l.Close()
	}
	return audit.Verify(audit.Load(paths...), trusted)
}

// evalZ is the noise multiplier of a tenant's evaluation release at eps
// (δ = 1e-5): the Google DP library's σ over the sensitivity 1.
func evalZ(t *testing.T, eps float64) float64 {
	t.Helper()
	rec, err := scalar.VectorRecord(1, 1, eps, 1e-5, scalar.Gaussian)
	if err != nil {
		t.Fatal(err)
	}
	return rec.NoiseStd / rec.Sensitivity
}

// TestRedteamAuditEvalReleaseOmitted: a tenant ledger that leaves out a
// noised evaluation the coordinator received (and so its ε) fails the
// audit, naming the evaluation; the honest ledger passes. Holds.
func TestRedteamAuditEvalReleaseOmitted(t *testing.T) {
	if res := evalAudit(t, 0.5, evalZ(t, 0.5), false); !res.OK {
		f, _ := res.First()
		t.Fatalf("honest ledger failed the audit: %+v", f)
	}
	res := evalAudit(t, 0.5, evalZ(t, 0.5), true)
	f, _ := res.First()
	if res.OK || !strings.Contains(f.Reason, "round 1000") {
		t.Errorf("a tenant ledger without its evaluation release: audit OK %v, first failure %+v", res.OK, f)
	}
}

// TestRedteamAuditEvalReleaseUndercharged attacks `fedb2b audit verify` with a
// tenant ledger that under-charges its noised evaluation: the federation
// asked for the score histograms at eval ε = 0.5 (σ = 7.03 at δ = 1e-5,
// the Google DP library's calibration the client uses), the tenant
// released statistics the coordinator received and recorded, and the
// tenant's own ledger records that release as a Gaussian of σ = 10^6
// (ε ≈ 0): its cumulative ε then leaves out the evaluation that the
// distributed mode says is "charged to each tenant's ledger within the
// same ε". The audit must fail it, as it fails a masked input whose
// ledger intent differs from the plan's DDG parameters. It did not: the
// coordinator's eval-stats receipt carried no mechanism parameters, so
// audit.matchRelease accepted any scalar-gaussian intent with the hash.
// The receipt now records the plan's eval ε (ledger.Params.EvalEpsilon)
// and the audit requires the tenant's intent to charge at least a
// Gaussian at that ε and the tenant's δ.
func TestRedteamAuditEvalReleaseUndercharged(t *testing.T) {
	for _, z := range []float64{1e6, 2 * evalZ(t, 0.5)} {
		res := evalAudit(t, 0.5, z, false)
		f, _ := res.First()
		if res.OK || !strings.Contains(f.Reason, "round 1000") {
			t.Errorf("a tenant ledger that records its ε = 0.5 evaluation as a Gaussian of noise multiplier %v passes the audit (first failure %+v)", z, f)
		}
	}
	// Charging more than the release (a smaller noise multiplier) is
	// no under-charge.
	if res := evalAudit(t, 0.5, evalZ(t, 0.5)/2, false); !res.OK {
		f, _ := res.First()
		t.Errorf("a ledger charging more than its evaluation failed: %+v", f)
	}
}
