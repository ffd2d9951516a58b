package coordinator

import (
	"errors"
	"fmt"
	"math"

	"github.com/fedb2b/fedb2b/aggregation"
	"github.com/fedb2b/fedb2b/privacy/ddg"
	"github.com/fedb2b/fedb2b/privacy/scalar"
)

// RecordDP turns on the record-level distributed mode (issue #16, package
// privacy/ddg.Record): FedSGD, one DP-SGD step per round. Each tenant
// Poisson-samples its records at Config.Train.SampleRate, clips each
// example's gradient to Config.Train.ClipNorm, sums them and adds its
// share of distributed discrete Gaussian noise inside secure aggregation,
// calibrated so that the sum of Shares honest tenants carries the noise of
// one pooled DP-SGD step at record-level (Epsilon, Delta) after
// Config.Rounds rounds. The coordinator unmasks only the noised sum (never
// fewer than Shares inputs), divides it by ExpectedBatch per survivor (a
// public constant) and hands minus that mean gradient to Config.Strategy
// (FedAdam for a server-side Adam step: post-processing).
//
// Trust model: unlike local DP-SGD, which holds against everyone, the
// record-level ε holds against the coordinator only while secure
// aggregation holds and at least Shares survivors of every unmasked sum
// added their share honestly and do not collude with it. Tenants opt in
// (client.Policy.DPMode) and record Shares in their ledgers.
type RecordDP struct {
	Epsilon, Delta float64
	// Shares m: the honest tenants the accounting assumes in every sum;
	// rounds with fewer masked inputs stop before unmasking.
	Shares int
	// Dim is the number of leading parameters that train (the rest, for
	// example a frozen bias, stay); 0 means all.
	Dim int
	// SumClip S bounds a tenant's clipped-gradient sum (it sizes the ring;
	// a larger sum is projected, keeping the sensitivity at one record's
	// clip).
	SumClip float64
	// ExpectedBatch is the public expected batch per tenant (q times a
	// public record count): the round's mean gradient is the noised sum
	// divided by ExpectedBatch × survivors.
	ExpectedBatch float64
	// EvalNoise lists the noise multipliers (noise standard deviation over
	// L2 sensitivity, sampling rate 1) of the noised evaluations each
	// tenant releases in the run, one per evaluated round: the noise is
	// planned so that the rounds and these releases together keep
	// (Epsilon, Delta) as a tenant's ledger composes them
	// (ddg.RecordGoal.Extra). With evaluation on (no
	// Config.SkipEvaluation) it must hold one entry per evaluation
	// (Evaluations(Rounds, EvalEvery)) and EvalEpsilon must be positive.
	EvalNoise []float64
}

func (c *RecordDP) check(cfg Config) error {
	sc := cfg.Secure
	switch {
	case sc.TenantDP != nil || sc.AdaptiveClip != nil || sc.MaxWeight > 0:
		return errors.New("coordinator: record-level distributed DP excludes tenant-level DP, adaptive clipping and weighted aggregation")
	case !(c.Epsilon > 0) || !(c.Delta > 0 && c.Delta < 1):
		return fmt.Errorf("coordinator: record-level distributed DP needs ε > 0 and δ in (0, 1), got %v, %v", c.Epsilon, c.Delta)
	case c.Shares < 1 || c.Shares > cfg.MinJoined:
		// More shares than MinClients is allowed: rounds with fewer
		// masked inputs than Shares then stop before unmasking.
		return fmt.Errorf("coordinator: record-level distributed DP: %d honest shares must be in [1, MinJoined = %d]", c.Shares, cfg.MinJoined)
	case c.Dim < 0 || c.Dim > cfg.Task.NumParams:
		return fmt.Errorf("coordinator: record-level distributed DP: dim %d out of [0, %d]", c.Dim, cfg.Task.NumParams)
	case !(c.SumClip >= cfg.Train.ClipNorm) || !(c.ExpectedBatch > 0):
		return fmt.Errorf("coordinator: record-level distributed DP: sum clip %v must be at least the record clip %v, expected batch %v positive", c.SumClip, cfg.Train.ClipNorm, c.ExpectedBatch)
	}
	for _, z := range c.EvalNoise {
		if !(z > 0) || math.IsInf(z, 0) {
			return fmt.Errorf("coordinator: record-level distributed DP: evaluation noise multiplier %v must be positive and finite", z)
		}
	}
	if !cfg.SkipEvaluation {
		if !(cfg.EvalEpsilon > 0) {
			return errors.New("coordinator: record-level distributed DP with federated evaluation needs noised evaluations (EvalEpsilon > 0): exact statistics have ε = ∞")
		}
		if n := Evaluations(cfg.Rounds, cfg.EvalEvery); len(c.EvalNoise) != n {
			return fmt.Errorf("coordinator: record-level distributed DP: the plan reserves %d noised evaluations, the run makes %d (EvalNoise must list each, or set SkipEvaluation)", len(c.EvalNoise), n)
		}
		// Each reservation must cover what the tenants release: a
		// Gaussian at EvalEpsilon.
		for i, z := range c.EvalNoise {
			ok, err := scalar.CoversGaussian(z, cfg.EvalEpsilon, c.Delta)
			if err != nil {
				return fmt.Errorf("coordinator: record-level distributed DP: evaluation noise: %w", err)
			}
			if !ok {
				return fmt.Errorf("coordinator: record-level distributed DP: evaluation %d is reserved at noise multiplier %v, above that of the tenants' Gaussian release at ε = %v (less privacy reserved than spent): the rounds would not leave room for it", i+1, z, cfg.EvalEpsilon)
			}
		}
	}
	return nil
}

// extra is the RDP curve of the reserved evaluations (nil: none).
func (c *RecordDP) extra() func(alpha float64) float64 {
	if len(c.EvalNoise) == 0 {
		return nil
	}
	return ddg.GaussianRDP(c.EvalNoise...)
}

// recordPlan returns the mode's parameters for a cohort of n (planned once
// per cohort size).
func (f *Federation) recordPlan(n int) (ddg.Record, error) {
	if r, ok := f.recordPlans[n]; ok {
		return r, nil
	}
	c := f.cfg.Secure.RecordDP
	dim := c.Dim
	if dim == 0 {
		dim = f.cfg.Task.NumParams
	}
	r, err := ddg.PlanRecord(ddg.RecordGoal{Epsilon: c.Epsilon, Delta: c.Delta, Rounds: f.cfg.Rounds,
		SampleRate: f.cfg.Train.SampleRate, RecordClip: f.cfg.Train.ClipNorm, SumClip: c.SumClip,
		Dim: dim, Shares: c.Shares, Cohort: n, Bits: 32, Extra: c.extra()})
	if err != nil {
		return r, fmt.Errorf("record-level distributed DP plan: %w", err)
	}
	if f.recordPlans == nil {
		f.recordPlans = map[int]ddg.Record{}
	}
	f.recordPlans[n] = r
	return r, nil
}

// warmRecord plans the record-level distributed mode for MinJoined
// tenants and builds its codec once, so the noise sampler's table (seconds
// to build for σ/γ near ddg.MaxTableSigma; cached by package ddg) is ready
// before the first round's deadline runs.
func (f *Federation) warmRecord() error {
	if f.cfg.Secure == nil || f.cfg.Secure.RecordDP == nil {
		return nil
	}
	r, err := f.recordPlan(f.cfg.MinJoined)
	if err != nil {
		return fmt.Errorf("coordinator: %w", err)
	}
	_, err = ddg.NewCodec(r.Params)
	return err
}

// RecordPlan returns the record-level distributed mode's parameters of
// the largest cohort planned (nil if none). Like every Federation method
// it needs the caller's lock (coordinator.Service holds it), or a
// finished federation.
func (f *Federation) RecordPlan() *ddg.Record {
	best := -1
	for n := range f.recordPlans {
		best = max(best, n)
	}
	if r, ok := f.recordPlans[best]; ok {
		return &r
	}
	return nil
}

// recordNoise returns, in the record-level distributed mode (ok), the
// largest noise multiplier the planned sums are guaranteed (planning for
// MinJoined tenants if no round started yet): the coordinator's budget
// estimate, a lower bound, uses it.
func (f *Federation) recordNoise() (z float64, ok bool, err error) {
	if f.cfg.Secure == nil || f.cfg.Secure.RecordDP == nil {
		return 0, false, nil
	}
	if len(f.recordPlans) == 0 {
		if _, err := f.recordPlan(f.cfg.MinJoined); err != nil {
			return 0, false, err
		}
	}
	for _, r := range f.recordPlans {
		z = max(z, r.NoiseMultiplier())
	}
	return z, true, nil
}

// recordAggregate turns the decoded noised gradient sum dec (the first
// Record.Dim parameters) of survivors tenants into the aggregate the
// strategy applies: minus the mean gradient over the public expected
// batch, zero on the parameters that do not train.
func (f *Federation) recordAggregate(dec []float64, survivors int) aggregation.Aggregate {
	sum := make([]float64, f.cfg.Task.NumParams)
	for i, v := range dec {
		sum[i] = -v
	}
	b := f.cfg.Secure.RecordDP.ExpectedBatch * float64(survivors)
	return aggregation.Aggregate{WeightedSum: sum, TotalWeight: b, Clients: survivors}
}

// recordTrain sets plan's training parameters for a record-level round:
// one step, the noise multiplier the sum is guaranteed.
func recordTrain(p *Plan) {
	if s := p.Secure; s != nil && s.Record != nil {
		p.Params.LocalSteps = 1
		p.Params.NoiseMultiplier = s.Record.NoiseMultiplier()
	}
}
