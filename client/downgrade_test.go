package client

import (
	"slices"
	"testing"

	"github.com/fedb2b/fedb2b/coordinator"
)

// TestDowngradeToPlainAggregationRefused: a coordinator that sends a plan
// with secure aggregation off (issue #14, the downgrade attack) gets
// nothing from a tenant with the default configuration: the tenant
// declines the round before training, spends nothing and sends no update
// or example count, and the round is abandoned. Before #14 the tenant
// sent its plain update. With the explicit opt-in the same plan is
// served (control).
func TestDowngradeToPlainAggregationRefused(t *testing.T) {
	pol := Policy{Budget: Budget{Epsilon: 8, Delta: 1e-5}}
	e, spends, res := plainRun(t, 0, 0.1, pol, false)
	if e.Kind != coordinator.EvRoundAbandoned {
		t.Fatalf("event %v: the coordinator aggregated a round the tenant should have refused", e.Kind)
	}
	if !slices.Contains(res.Declined, 1) || len(res.Rounds) != 0 {
		t.Fatalf("declined %v, took part in %v: want round 1 declined", res.Declined, res.Rounds)
	}
	if len(spends) != 0 {
		t.Fatalf("spends %+v: a declined plain round must spend nothing", spends)
	}
	e, spends, res = plainRun(t, 0, 0.1, pol, true)
	if e.Kind != coordinator.EvEvaluated || len(res.Rounds) != 1 || len(spends) == 0 {
		t.Fatalf("opt-in control: event %v, rounds %v, spends %d", e.Kind, res.Rounds, len(spends))
	}
}
