package simulate

import (
	"fmt"

	"github.com/fedb2b/fedb2b/client"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/scalar"
)

// calibrate returns the DP-SGD noise multiplier for cfg: the smallest
// that keeps each tenant's record-level ε after all rounds within
// TargetEpsilon, counting the noised evaluations too when EvalEpsilon is
// set (both compose as Gaussian mechanisms in the RDP accountant, exactly
// as the client's ledger composes them).
func calibrate(cfg Config) (float64, error) {
	steps := cfg.Rounds * cfg.LocalSteps
	if cfg.EvalEpsilon <= 0 {
		return privacy.CalibrateNoiseRDP(cfg.SampleRate, steps, cfg.Delta, cfg.TargetEpsilon)
	}
	_, rec, err := scalar.Release(0, 1, cfg.EvalEpsilon, cfg.Delta, scalar.Gaussian)
	if err != nil {
		return 0, err
	}
	eps := func(z float64) (float64, error) {
		spends := make([]client.Spend, 0, 2*cfg.Rounds)
		for r := 1; r <= cfg.Rounds; r++ {
			spends = append(spends,
				client.Spend{Round: r, SampleRate: cfg.SampleRate, NoiseMultiplier: z, ClipNorm: cfg.ClipNorm, Steps: cfg.LocalSteps},
				client.Spend{Kind: client.SpendEval, Round: r, SampleRate: 1, NoiseMultiplier: rec.NoiseStd, ClipNorm: 1, Steps: 1})
		}
		return client.Epsilon(spends, cfg.Delta)
	}
	lo, hi := 0.1, 1000.0
	if e, err := eps(hi); err != nil || e > cfg.TargetEpsilon {
		return 0, fmt.Errorf("the %d noised evaluations at ε=%g alone exceed the target: lower --eval-epsilon or raise --epsilon", cfg.Rounds, cfg.EvalEpsilon)
	}
	for i := 0; i < 60 && hi-lo > 1e-6*hi; i++ {
		mid := (lo + hi) / 2
		e, err := eps(mid)
		if err != nil {
			return 0, err
		}
		if e > cfg.TargetEpsilon {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, nil
}
