package ddg

import (
	"math"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

// TestRecordEpsilonIndependentRecompute recomputes a record-level ε by
// other routes (red-team item 2: off-by-one in steps, wrong δ, order grid,
// amplification on the wrong unit):
//   - composing one-round spends one by one in privacy.RDPAccountant (what
//     a tenant's ledger does) gives RecordEpsilon's value for T rounds;
//   - at q = 1 with τ ≈ 0 the bound is the continuous Gaussian's at
//     z = √m·(σ/γ)/Δ: privacy.RDPEpsilon's value, up to the integer-order
//     rounding of RDPAt (never below it);
//   - at q < 1 it is never below the exact sampled Gaussian's of that z
//     (the general Poisson bound is an upper bound), nor far above it.
func TestRecordEpsilonIndependentRecompute(t *testing.T) {
	const T, delta = 200, 1e-5
	r, err := PlanRecord(RecordGoal{Epsilon: 4, Delta: delta, Rounds: T, SampleRate: 0.05, RecordClip: 1, SumClip: 50,
		Dim: 1000, Shares: 3, Cohort: 4})
	if err != nil {
		t.Fatal(err)
	}
	got, err := RecordEpsilon(r, T, delta)
	if err != nil {
		t.Fatal(err)
	}
	acc := privacy.NewRDPAccountant(nil)
	for range T {
		if err := acc.ComposeRDP(r.RDPAt, 1); err != nil {
			t.Fatal(err)
		}
	}
	one, _, err := acc.Epsilon(delta)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(one-got) > 1e-9*got {
		t.Errorf("T one-round spends composed: ε %v, RecordEpsilon %v", one, got)
	}
	if r.Tau() > 1e-12 {
		t.Fatalf("τ = %v: the comparison with the continuous Gaussian needs τ ≈ 0", r.Tau())
	}
	z := math.Sqrt(float64(r.Threshold)) * r.IntSigma() / r.Sensitivity()
	full := r
	full.SampleRate = 1
	for _, rounds := range []int{1, 10} {
		e1, _ := RecordEpsilon(full, rounds, delta)
		ref, err := privacy.RDPEpsilon(1, z, rounds, delta)
		if err != nil {
			t.Fatal(err)
		}
		if e1 < ref*(1-1e-9) || e1 > ref*1.05 {
			t.Errorf("q = 1, %d rounds: ε %v, continuous Gaussian at z = %.4f: %v", rounds, e1, z, ref)
		}
	}
	ref, err := privacy.RDPEpsilon(r.SampleRate, z, T, delta)
	if err != nil {
		t.Fatal(err)
	}
	if got < ref || got > 1.6*ref {
		t.Errorf("q = %v: ε %v, sampled Gaussian at z = %.4f: %v", r.SampleRate, got, z, ref)
	}
	t.Logf("ε %.4f (target 4), sampled Gaussian of the same z=%.4f: %.4f (%.3f×)", got, z, ref, got/ref)
}
