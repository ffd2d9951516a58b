package client

import (
	"errors"
	"fmt"
	"slices"

	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/scalar"
)

// CalibrateNoise returns the smallest DP-SGD noise multiplier z for which
// rounds rounds of steps steps at sampling rate q, together with the
// Gaussian releases of the run (noised evaluations, noised example counts;
// Releases.Records builds the list), keep record-level ε at delta within target.
// Both compose exactly as a tenant's ledger composes them (Epsilon), so a
// plan calibrated here is one a tenant with that cap accepts to the end.
func CalibrateNoise(q float64, steps, rounds int, releases []scalar.Record, delta, target float64) (float64, error) {
	if len(releases) == 0 {
		return privacy.CalibrateNoiseRDP(q, rounds*steps, delta, target)
	}
	fixed := make([]Spend, len(releases))
	for i, r := range releases {
		fixed[i] = EvalSpend("", i+1, r)
	}
	eps := func(z float64) (float64, error) {
		spends := slices.Clone(fixed)
		for r := 1; r <= rounds; r++ {
			spends = append(spends, Spend{Round: r, SampleRate: q, NoiseMultiplier: z, ClipNorm: 1, Steps: steps})
		}
		return Epsilon(spends, delta)
	}
	z, err := privacy.CalibrateSigma(eps, target)
	if errors.Is(err, privacy.ErrTargetUnreachable) {
		return 0, fmt.Errorf("client: the %d noised evaluations and counts alone take ε above the target %g: lower their ε, evaluate less often or raise the target: %w", len(releases), target, err)
	}
	return z, err
}

// Releases describes a run's Gaussian releases besides DP-SGD: Evals
// noised evaluations of a task kind whose statistics one record changes in
// at most EvalL0 entries by at most EvalLInf, at EvalEpsilon each, and
// Weighted noised example counts (sensitivity 1) at WeightEpsilon each. A
// zero ε means that release is not noised (and not counted).
type Releases struct {
	Evals            int
	EvalL0, EvalLInf int64
	EvalEpsilon      float64
	Weighted         int
	WeightEpsilon    float64
}

// Records lists the releases' ledger records at delta, for CalibrateNoise.
func (r Releases) Records(delta float64) ([]scalar.Record, error) {
	var out []scalar.Record
	add := func(n int, l0, lInf int64, eps float64, what string) error {
		if eps <= 0 || n <= 0 {
			return nil
		}
		rec, err := scalar.VectorRecord(l0, lInf, eps, delta, scalar.Gaussian)
		if err != nil {
			return fmt.Errorf("client: %s noise: %w", what, err)
		}
		for range n {
			out = append(out, rec)
		}
		return nil
	}
	if err := add(r.Evals, r.EvalL0, r.EvalLInf, r.EvalEpsilon, "evaluation"); err != nil {
		return nil, err
	}
	if err := add(r.Weighted, 1, 1, r.WeightEpsilon, "weight"); err != nil {
		return nil, err
	}
	return out, nil
}
