package client

import (
	"math"
	"slices"
	"testing"

	"github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy/ddg"
	"github.com/fedb2b/fedb2b/privacy/ledger"
	"github.com/fedb2b/fedb2b/privacy/scalar"
)

// distributedRun returns a tenant whose spend log holds the rounds of the
// clinc150-sized record-level distributed plan (1,000 one-step rounds, q
// 0.1, C 0.1, 4 honest shares, ε = 8 at δ = 1e-5), planned with room for
// reserved evaluations at ε = 0.5 each, and whose cap is the plan's ε.
func distributedRun(t *testing.T, reserved int) *Client {
	t.Helper()
	const delta = 1e-5
	g := ddg.RecordGoal{Epsilon: 8, Delta: delta, Rounds: 1000, SampleRate: 0.1, RecordClip: 0.1, SumClip: 40,
		Dim: 8192 * 150, Shares: 4, Cohort: 5}
	if reserved > 0 {
		rec, err := scalar.VectorRecord(1, 1, 0.5, delta, scalar.Gaussian)
		if err != nil {
			t.Fatal(err)
		}
		zs := make([]float64, reserved)
		for i := range zs {
			zs[i] = rec.NoiseStd / rec.Sensitivity
		}
		g.Extra = ddg.GaussianRDP(zs...)
	}
	r, err := ddg.PlanRecord(g)
	if err != nil {
		t.Fatal(err)
	}
	log := &MemSpendLog{}
	for round := 1; round <= g.Rounds; round++ {
		lp := ledger.RecordParams(r)
		if _, err := log.Record(Spend{Kind: SpendDistributed, Task: "intent", Round: round, SampleRate: r.SampleRate,
			NoiseMultiplier: r.NoiseMultiplier(), ClipNorm: r.RecordClip, Steps: 1, Distributed: &lp}, Budget{}); err != nil {
			t.Fatal(err)
		}
	}
	var c Client
	c.cfg.Policy.Budget = Budget{Epsilon: g.Epsilon, Delta: delta}
	c.cfg.Spends = log
	c.kind, _ = task.Lookup(task.KindIntent)
	c.task.ID = "intent"
	return &c
}

// TestRedteamLyingCoordinatorEvalBeyondReservation: what a coordinator
// that lies about the evaluation reservation gets from an honest tenant
// whose cap is the run's ε. The tenant's cap, not the coordinator's plan,
// is what bounds the release:
//   - rounds planned without the reservation (the coordinator skipped
//     RecordDP.EvalNoise and spent the whole budget on training): the
//     evaluation is declined, nothing is released;
//   - rounds planned with room for one evaluation: the first evaluation
//     is released (charged, noised), a second one — the same round
//     replayed, or one more round evaluated — is declined.
func TestRedteamLyingCoordinatorEvalBeyondReservation(t *testing.T) {
	if testing.Short() {
		t.Skip("composes 1,000 distributed rounds")
	}
	stats := func() []int64 { s := make([]int64, 320); s[5], s[300] = 40, 12; return s }
	c := distributedRun(t, 0)
	s := stats()
	if _, why, err := c.noiseEval(1000, 0.5, s); err != nil || why == "" {
		t.Errorf("unreserved plan: the evaluation was not declined (reason %q, err %v): the tenant would exceed its cap", why, err)
	}
	c = distributedRun(t, 1)
	s = stats()
	if _, why, err := c.noiseEval(1000, 0.5, s); err != nil || why != "" {
		t.Fatalf("reserved plan: the reserved evaluation was refused (reason %q, err %v)", why, err)
	}
	if slices.Equal(s, stats()) {
		t.Error("the released statistics were not noised")
	}
	eps, err := Epsilon(c.cfg.Spends.Spends(), 1e-5)
	if err != nil || eps > 8 {
		t.Errorf("after the reserved evaluation ε %v (err %v), cap 8", eps, err)
	}
	for _, round := range []int{1000, 1001} {
		if _, why, err := c.noiseEval(round, 0.5, stats()); err != nil || why == "" {
			t.Errorf("an evaluation beyond the reservation (round %d) was released (reason %q, err %v)", round, why, err)
		}
	}
	t.Logf("after the rounds and the reserved evaluation: ε %.5f", eps)
}

// TestRedteamEvalNoiseIsEachTenantsOwn: the evaluation's guarantee must
// not lean on other tenants' noise (unlike the rounds' distributed
// noise): every tenant's released histograms carry, on their own, the
// full Gaussian of its eval ε. 64,000 entries released at ε = 0.5 (δ =
// 1e-5) by one tenant: their noise has mean ≈ 0 and standard deviation ≈
// the σ its ledger records (7.03), within 2 % (the estimate's relative
// error is about 0.3 %).
func TestRedteamEvalNoiseIsEachTenantsOwn(t *testing.T) {
	k, err := task.Lookup(task.KindIntent)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := scalar.VectorRecord(k.L0, k.LInf, 0.5, 1e-5, scalar.Gaussian)
	if err != nil {
		t.Fatal(err)
	}
	s := make([]int64, 64000)
	if err := NoiseStats(k, s, 0.5, 1e-5); err != nil {
		t.Fatal(err)
	}
	var sum, sq float64
	for _, v := range s {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	n := float64(len(s))
	mean := sum / n
	sd := math.Sqrt(sq/n - mean*mean)
	if math.Abs(mean) > 0.2 || math.Abs(sd/rec.NoiseStd-1) > 0.02 {
		t.Errorf("one tenant's evaluation noise: mean %.3f, sd %.3f, the ledger's σ %.3f", mean, sd, rec.NoiseStd)
	}
	t.Logf("one tenant's evaluation noise at ε 0.5: mean %.3f, sd %.3f (σ %.3f)", mean, sd, rec.NoiseStd)
}
