package simulate

import (
	"github.com/fedb2b/fedb2b/client"
	"github.com/fedb2b/fedb2b/coordinator"
	modeltask "github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy/scalar"
)

// calibrate returns the DP-SGD noise multiplier for cfg: the smallest
// that keeps each tenant's record-level ε after all rounds within
// TargetEpsilon, counting the noised evaluations too when EvalEpsilon is
// set, released with kind's contribution bounds (client.CalibrateNoise).
func calibrate(cfg Config, kind modeltask.Kind) (float64, error) {
	var eval *scalar.Record
	if cfg.EvalEpsilon > 0 {
		rec, err := scalar.VectorRecord(kind.L0, kind.LInf, cfg.EvalEpsilon, cfg.Delta, scalar.Gaussian)
		if err != nil {
			return 0, err
		}
		eval = &rec
	}
	weighted := 0
	if cfg.weighted() {
		weighted = cfg.Rounds
	}
	evals := coordinator.Evaluations(cfg.Rounds, cfg.EvalEvery)
	if !cfg.evaluates() {
		evals = 0
	}
	rel, err := client.Releases(evals, eval, weighted, cfg.WeightEpsilon, cfg.Delta)
	if err != nil {
		return 0, err
	}
	return client.CalibrateNoise(cfg.SampleRate, cfg.LocalSteps, cfg.Rounds, rel, cfg.Delta, cfg.TargetEpsilon)
}

// weighted says whether rounds weight updates by example count: plain
// aggregation, or secure aggregation with MaxWeight and no tenant-level
// DP.
func (c Config) weighted() bool {
	return c.InsecurePlainAggregation || (c.MaxWeight > 0 && c.TenantEpsilon == 0)
}
