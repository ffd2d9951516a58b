package simulate

import (
	"github.com/fedb2b/fedb2b/client"
	"github.com/fedb2b/fedb2b/coordinator"
	modeltask "github.com/fedb2b/fedb2b/models/task"
)

// calibrate returns the DP-SGD noise multiplier for cfg: the smallest
// that keeps each tenant's record-level ε after all rounds within
// TargetEpsilon, counting the noised evaluations too when EvalEpsilon is
// set, released with kind's contribution bounds (client.CalibrateNoise).
func calibrate(cfg Config, kind modeltask.Kind) (float64, error) {
	r := client.Releases{EvalL0: kind.L0, EvalLInf: kind.LInf, EvalEpsilon: cfg.EvalEpsilon, WeightEpsilon: cfg.WeightEpsilon}
	if cfg.evaluates() {
		r.Evals = coordinator.Evaluations(cfg.Rounds, cfg.EvalEvery)
	}
	if cfg.weighted() {
		r.Weighted = cfg.Rounds
	}
	rel, err := r.Records(cfg.Delta)
	if err != nil {
		return 0, err
	}
	return client.CalibrateNoise(cfg.SampleRate, cfg.LocalSteps, cfg.Rounds, rel, cfg.Delta, cfg.TargetEpsilon)
}

// weighted says whether rounds weight updates by example count: plain
// aggregation, or secure aggregation with MaxWeight and no tenant-level
// DP.
func (c Config) weighted() bool {
	return c.InsecurePlainAggregation || (c.MaxWeight > 0 && c.TenantEpsilon == 0 && !c.distributed())
}
