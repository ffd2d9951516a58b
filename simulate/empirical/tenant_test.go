package empirical

import (
	"context"
	"testing"
	"time"
)

// TestEmpiricalAuditTenantAndComposition runs the tenant-level audit (one
// tenant's update replaced by zero, the decoded secure-aggregation sum)
// and the composition over rounds, tenant-level (64 rounds, two tenants) and
// record-level (4 rounds of DP-SGD and of noised evaluation statistics):
// every lower bound must stay below its claim. The tenant-level sum over
// 64 rounds must also refute the claim of one round, which a claim that
// forgot composition would make: the audit has the power to see what it
// checks. FEDB2B_AUDIT_TRIALS sets the trials per world.
func TestEmpiricalAuditTenantAndComposition(t *testing.T) {
	n := trials(t, 400)
	ctx := context.Background()
	ts, err := TenantScenarios(ctx, TenantOptions{Rounds: 64})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := CompositionScenarios(ctx, Options{Kinds: []string{"classify"}}, 4, false)
	if err != nil {
		t.Fatal(err)
	}
	oneRound := ts[0].Claimed
	for i, s := range append(ts, cs...) {
		t0 := time.Now()
		r, err := Run(s, n, 0.05, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-36s claimed ε %6.3f  lower bound %6.3f (max %.2f)  FP %d/%d FN %d/%d  (%v)", r.Scenario, r.Claimed, r.Epsilon, r.MaxEpsilon, r.FP, r.N0, r.FN, r.N1, time.Since(t0).Round(time.Millisecond))
		if r.Violated() {
			t.Errorf("%s: lower bound %.3f exceeds the claimed ε %.3f", s.Name, r.Epsilon, r.Claimed)
		}
		if i == 1 && !(r.Epsilon > oneRound) {
			t.Errorf("%s: lower bound %.3f does not refute the one-round claim %.3f: the audit does not see composition", s.Name, r.Epsilon, oneRound)
		}
	}
}
