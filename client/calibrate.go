package client

import (
	"fmt"

	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/scalar"
)

// CalibrateNoise returns the smallest DP-SGD noise multiplier z for which
// rounds rounds of steps steps at sampling rate q, and evals noised
// evaluations released under eval (nil: none), keep record-level ε at
// delta within target. Both compose exactly as a
// tenant's ledger composes them (Epsilon), so a plan calibrated here is
// one a tenant with that cap accepts to the end.
func CalibrateNoise(q float64, steps, rounds, evals int, eval *scalar.Record, delta, target float64) (float64, error) {
	if eval == nil || evals == 0 {
		return privacy.CalibrateNoiseRDP(q, rounds*steps, delta, target)
	}
	eps := func(z float64) (float64, error) {
		spends := make([]Spend, 0, rounds+evals)
		for r := 1; r <= rounds; r++ {
			spends = append(spends, Spend{Round: r, SampleRate: q, NoiseMultiplier: z, ClipNorm: 1, Steps: steps})
		}
		for r := 1; r <= evals; r++ {
			spends = append(spends, EvalSpend("", r, *eval))
		}
		return Epsilon(spends, delta)
	}
	lo, hi := 0.1, 1000.0
	if e, err := eps(hi); err != nil {
		return 0, err
	} else if e > target {
		return 0, fmt.Errorf("client: the %d noised evaluations at ε=%g alone take ε to %.3g, above the target %g: lower the evaluation ε, evaluate less often or raise the target", evals, eval.Epsilon, e, target)
	}
	for i := 0; i < 60 && hi-lo > 1e-6*hi; i++ {
		mid := (lo + hi) / 2
		e, err := eps(mid)
		if err != nil {
			return 0, err
		}
		if e > target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, nil
}
