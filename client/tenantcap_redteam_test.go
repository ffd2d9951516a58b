package client

import (
	mrand "math/rand/v2"
	"testing"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/models"
)

// zeroLearner is a learner of n parameters that never trains.
type zeroLearner struct{ p []float64 }

func (l *zeroLearner) NumParams() int              { return len(l.p) }
func (l *zeroLearner) Params() []float64           { return append([]float64(nil), l.p...) }
func (l *zeroLearner) SetParams(p []float64) error { copy(l.p, p); return nil }
func (l *zeroLearner) TrainSize() int              { return 10 }
func (l *zeroLearner) EvalStats() ([]int64, error) { return nil, nil }
func (l *zeroLearner) Train(models.TrainConfig, *mrand.Rand) (models.TrainStats, error) {
	return models.TrainStats{}, nil
}

// TestRedteamTenantCapDowngrade: a tenant with a tenant-level ε cap
// (--tenant-epsilon-cap) is sent a secure-aggregation plan without the
// distributed discrete Gaussian (DdgGamma 0): the sum that is unmasked
// then carries no tenant-level noise, so the round's tenant-level ε is ∞,
// above any cap. Before the fix the tenant took part (no DDG parameters:
// nothing to check) and its tenant-level ledger stayed within the cap.
func TestRedteamTenantCapDowngrade(t *testing.T) {
	c := &Client{cfg: Config{Spends: &MemSpendLog{}, Policy: Policy{Budget: Budget{Epsilon: 8, Delta: 1e-5}, TenantEpsilon: 2}},
		learner: &zeroLearner{p: make([]float64, 8)}}
	plan := &api.TrainPlan{Round: 1, Secure: true, TenantDelta: 1e-5}
	why, err := c.tenantLevelDecline(plan)
	if err != nil {
		t.Fatal(err)
	}
	if why == "" {
		t.Fatal("a secure plan without tenant-level noise was accepted by a tenant with a tenant-level ε cap: its tenant-level ε is ∞")
	}
	t.Logf("declined: %s", why)
	// Control: without a cap the same plan is not the tenant-level
	// check's business.
	c.cfg.Policy.TenantEpsilon = 0
	if why, err := c.tenantLevelDecline(plan); why != "" || err != nil {
		t.Fatalf("no cap: declined %q, %v", why, err)
	}
}
