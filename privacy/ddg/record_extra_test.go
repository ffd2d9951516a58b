package ddg

import (
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

// composeLikeLedger composes rounds rounds of r and one Gaussian release
// at sampling rate 1 per evalZ in privacy.RDPAccountant, as a tenant's
// ledger composes its distributed rounds and noised evaluations.
func composeLikeLedger(t *testing.T, r Record, rounds int, evalZ []float64) float64 {
	t.Helper()
	acc := privacy.NewRDPAccountant(nil)
	for _, z := range evalZ {
		if err := acc.Compose(1, z, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := acc.ComposeRDP(r.RDPAt, rounds); err != nil {
		t.Fatal(err)
	}
	eps, _, err := acc.Epsilon(1e-5)
	if err != nil {
		t.Fatal(err)
	}
	return eps
}

// A plan that reserves room for noised evaluations (RecordGoal.Extra) must
// keep the rounds and the evaluations together within the target, as a
// tenant's accountant composes them; the plan without the reservation
// would overspend once the evaluation is released (so the reservation is
// not a no-op), and the reservation costs noise.
func TestPlanRecordReservesOtherReleases(t *testing.T) {
	evalZ := []float64{7.04} // one histogram release at ε = 0.5, δ = 1e-5 (scalar.VectorRecord(1, 1, …): σ 7.035)
	goal := RecordGoal{Epsilon: 8, Delta: 1e-5, Rounds: 1000, SampleRate: 0.1, RecordClip: 0.1, SumClip: 40,
		Dim: 8192*150 + 150, Shares: 4, Cohort: 5} // clinc150's linear head
	plain, err := PlanRecord(goal)
	if err != nil {
		t.Fatal(err)
	}
	goal.Extra = GaussianRDP(evalZ...)
	reserved, err := PlanRecord(goal)
	if err != nil {
		t.Fatal(err)
	}
	withEval := composeLikeLedger(t, reserved, goal.Rounds, evalZ)
	if withEval > 8 || withEval < 8*0.99 {
		t.Errorf("reserved plan with its evaluation: ε %.5f, want within 1 %% below 8", withEval)
	}
	if over := composeLikeLedger(t, plain, goal.Rounds, evalZ); over <= 8 {
		t.Errorf("the plan without the reservation stays within 8 (%.5f) after the evaluation: the test cannot tell", over)
	}
	if reserved.NoiseMultiplier() <= plain.NoiseMultiplier() {
		t.Errorf("reservation did not raise the noise: z %.4f vs %.4f", reserved.NoiseMultiplier(), plain.NoiseMultiplier())
	}
	t.Logf("z on the sum %.4f without the evaluation, %.4f with it reserved", plain.NoiseMultiplier(), reserved.NoiseMultiplier())
	// Releases that alone exceed the target are refused, not planned.
	goal.Extra = GaussianRDP(0.3)
	if _, err := PlanRecord(goal); err == nil {
		t.Error("a plan whose other releases alone exceed the target was accepted")
	}
}
