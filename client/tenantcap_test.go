package client

import (
	"errors"
	"testing"

	"github.com/fedb2b/fedb2b/privacy/ddg"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// TestTenantLevelCap: the memory spend log keeps tenant-level releases and
// says beforehand when one more would exceed the tenant's cap (the client
// then declines the round, --tenant-epsilon-cap), and refuses to record it.
func TestTenantLevelCap(t *testing.T) {
	p, err := ddg.Plan(ddg.Goal{Epsilon: 4, Delta: 1e-5, Rounds: 2, Dim: 50, ClipNorm: 1, Threshold: 3, Cohort: 4})
	if err != nil {
		t.Fatal(err)
	}
	rec := ledger.Params{Steps: 1, Dim: p.Dim, ClipNorm: p.ClipNorm, Gamma: p.Gamma, ShareSigma: p.Sigma, Beta: p.Beta,
		Shares: p.Threshold, CohortSize: p.Cohort, Bits: p.Bits}
	log := &MemSpendLog{}
	const capEps = 4.5 // two planned rounds fit (ε ≈ 4 on the ledger's grid), a third does not
	for round := 1; round <= 2; round++ {
		if _, ok, err := log.CheckTenantLevel(rec, 1e-5, capEps); !ok || err != nil {
			t.Fatalf("round %d: refused (%v)", round, err)
		}
		if _, err := log.RecordTenantLevel("t", round, rec, 1e-5, capEps); err != nil {
			t.Fatal(err)
		}
	}
	eps, ok, err := log.CheckTenantLevel(rec, 1e-5, capEps)
	if ok || err != nil || !(eps > capEps) {
		t.Fatalf("third round: ε %v, ok %v, %v; want it above the cap", eps, ok, err)
	}
	if _, err := log.RecordTenantLevel("t", 3, rec, 1e-5, capEps); !errors.Is(err, ledger.ErrBudgetExceeded) {
		t.Fatalf("third round recorded: %v", err)
	}
}
