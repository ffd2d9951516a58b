package client

import (
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/scalar"
)

// CalibrateNoise finds the smallest z that keeps training and evaluations
// within the target, composing exactly as a tenant's ledger does.
func TestCalibrateNoiseCountsEvaluations(t *testing.T) {
	const q, steps, rounds, delta, target = 0.1, 50, 8, 1e-5, 8.0
	alone, err := CalibrateNoise(q, steps, rounds, nil, delta, target)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := privacy.CalibrateNoiseRDP(q, rounds*steps, delta, target); alone != want {
		t.Fatalf("without evaluations z = %v, RDP calibration gives %v", alone, want)
	}
	rec, err := scalar.VectorRecord(5, 1, 0.5, delta, scalar.Gaussian)
	if err != nil {
		t.Fatal(err)
	}
	spends := func(z float64, evals int) []Spend {
		var s []Spend
		for r := 1; r <= rounds; r++ {
			s = append(s, Spend{Round: r, SampleRate: q, NoiseMultiplier: z, ClipNorm: 1, Steps: steps})
		}
		for r := 1; r <= evals; r++ {
			s = append(s, EvalSpend("t", r, rec))
		}
		return s
	}
	prev := alone
	for _, evals := range []int{2, 8} {
		rel, err := Releases{Evals: evals, EvalL0: 5, EvalLInf: 1, EvalEpsilon: 0.5}.Records(delta)
		if err != nil {
			t.Fatal(err)
		}
		z, err := CalibrateNoise(q, steps, rounds, rel, delta, target)
		if err != nil {
			t.Fatal(err)
		}
		at, _ := Epsilon(spends(z, evals), delta)
		below, _ := Epsilon(spends(z*0.999, evals), delta)
		if !(z > prev && at <= target && below > target) {
			t.Fatalf("%d evaluations: z = %v (previous %v), ε(z) = %v, ε(0.999z) = %v", evals, z, prev, at, below)
		}
		prev = z
	}
	rel, _ := Releases{Evals: 8, EvalL0: 5, EvalLInf: 1, EvalEpsilon: 5}.Records(delta)
	if _, err := CalibrateNoise(q, steps, rounds, rel, delta, target); err == nil {
		t.Fatal("8 evaluations at ε = 5 fit a target of 8?")
	}
	// Noised counts compose like any other release.
	rel, err = Releases{Evals: 8, EvalL0: 5, EvalLInf: 1, EvalEpsilon: 0.5, Weighted: 8, WeightEpsilon: 0.1}.Records(delta)
	if err != nil || len(rel) != 16 || rel[15].Sensitivity != 1 {
		t.Fatalf("releases %+v, %v", rel, err)
	}
	withCounts, err := CalibrateNoise(q, steps, rounds, rel, delta, target)
	if err != nil || !(withCounts > prev) {
		t.Fatalf("with 8 noised counts z = %v (without %v), %v", withCounts, prev, err)
	}
}
