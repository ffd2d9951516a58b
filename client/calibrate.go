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
// Releases builds the list), keep record-level ε at delta within target.
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

// Releases lists a run's Gaussian releases besides DP-SGD: evals noised
// evaluations released under eval (nil: none) and weighted noised example
// counts at weightEps (0: none), each count a sensitivity-1 release at
// delta.
func Releases(evals int, eval *scalar.Record, weighted int, weightEps, delta float64) ([]scalar.Record, error) {
	var out []scalar.Record
	if eval != nil {
		for range evals {
			out = append(out, *eval)
		}
	}
	if weightEps > 0 && weighted > 0 {
		rec, err := scalar.VectorRecord(1, 1, weightEps, delta, scalar.Gaussian)
		if err != nil {
			return nil, fmt.Errorf("client: weight noise: %w", err)
		}
		for range weighted {
			out = append(out, rec)
		}
	}
	return out, nil
}
