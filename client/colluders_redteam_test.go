package client

import (
	"crypto/ed25519"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/protocol"
)

// gradLearner is a zeroLearner that can take FedSGD steps.
type gradLearner struct{ zeroLearner }

func (l *gradLearner) ClippedGradSum(float64, float64, *mrand.Rand) ([]float64, models.GradSumStats, error) {
	return make([]float64, len(l.p)), models.GradSumStats{}, nil
}

// colludersPlan is a record-level distributed plan for n tenants with
// SecAgg threshold t, k neighbours (0: all) and m honest noise shares.
func colludersPlan(n, t, k, m int) *api.TrainPlan {
	p := &api.TrainPlan{Round: 1, Secure: true, Bits: secagg.Bits, Threshold: int32(t), Neighbours: int32(k),
		MaxCorrupt: int32(n / 3), SessionSeed: make([]byte, 32), DdgGamma: 1, DdgShares: int32(m)}
	for i := range n {
		pub, _, _ := ed25519.GenerateKey(nil)
		p.Cohort = append(p.Cohort, fmt.Sprintf("tenant-%d", i+1))
		p.CohortKeys = append(p.CohortKeys, pub)
	}
	return p
}

// TestRedteamDistributedColludersBeyondThreshold attacks a tenant's
// --assume-colluders c: the record-level ε it records assumes m honest
// noise shares in every sum the coordinator and c colluders can learn,
// but the tenant only checked m + c ≤ cohort and the secagg policy's own
// m ≤ t − c' + 1 with c' = ⌈n/3⌉−1, not its c.
//
//   - n = 5, t = 3, m = 2, c = 3: three colluders hold t shares of every
//     secret, so with the coordinator they unmask this tenant's input
//     alone (one share of the noise, half the variance its ε assumes).
//     Before the fix the tenant took part.
//   - n = 9, k = 6 neighbours (SecAgg+), t = 4, m = 3, c = 3: a
//     learnable sum may hold t − c + 1 = 2 honest inputs (its refusal to
//     unmask does not help when it is not a neighbour of the other honest
//     survivors). Before the fix the tenant took part.
//   - n = 5 full graph, t = 3, m = 3, c = 2 (the README's example): the
//     tenant's own refusal leaves t − c + 2 = 3 honest inputs: accepted.
func TestRedteamDistributedColludersBeyondThreshold(t *testing.T) {
	_, r0 := distributedSpend(t, 0)
	for _, tc := range []struct {
		n, t, k, m, c int
		decline       bool
	}{
		{5, 3, 0, 2, 3, true},
		{9, 4, 6, 3, 3, true},
		{5, 3, 0, 3, 2, false},
	} {
		c := &Client{cfg: Config{Policy: Policy{DPMode: DPModeDistributed, AssumeColluders: tc.c}},
			task: protocol.TaskSpec{ID: "t"}, learner: &gradLearner{zeroLearner{p: make([]float64, 8)}}}
		p := colludersPlan(tc.n, tc.t, tc.k, tc.m)
		r := r0
		r.Threshold, r.Cohort = tc.m, tc.n
		if why := c.secureParamsRefused(p); why != "" {
			t.Fatalf("%+v: the secagg policy already refuses (%s): the case does not attack the colluders check", tc, why)
		}
		why := c.distributedDecline(p, &r)
		if tc.decline && why == "" {
			t.Errorf("n=%d t=%d k=%d: tenant assuming %d colluders accepted %d honest shares", tc.n, tc.t, tc.k, tc.c, tc.m)
		}
		if !tc.decline && why != "" {
			t.Errorf("%+v: declined: %s", tc, why)
		}
		if why != "" && !strings.Contains(why, "colluders") {
			t.Errorf("%+v: reason %q does not name the colluders", tc, why)
		}
	}
}
