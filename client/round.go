package client

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy/scalar"
	"github.com/fedb2b/fedb2b/protocol"
)

// spendOf is the record-level spend a plan asks for.
func (c *Client) spendOf(p *api.TrainPlan) Spend {
	t := protocol.TrainParamsFromProto(p)
	return Spend{
		Task: c.task.ID, Round: int(p.GetRound()), SampleRate: t.SampleRate,
		NoiseMultiplier: t.NoiseMultiplier, ClipNorm: t.ClipNorm, Steps: t.LocalSteps,
	}
}

// TrainConfigOf is the DP-SGD configuration a client trains with for a
// plan's training parameters t of task spec: the plan's (q, C, z, steps,
// learning rate) and the task's public expected batch
// (task.ExpectedBatch), never one computed from the tenant's data. It
// fails when the task announces no expected batch. The empirical privacy
// audit (privacy/empirical/scenario) trains through it.
func TrainConfigOf(t protocol.TrainParams, spec protocol.TaskSpec) (models.TrainConfig, error) {
	b, err := task.ExpectedBatch(spec)
	if err != nil {
		return models.TrainConfig{}, err
	}
	return models.TrainConfig{
		Steps: t.LocalSteps, SampleRate: t.SampleRate, ClipNorm: t.ClipNorm,
		NoiseMultiplier: t.NoiseMultiplier, LearningRate: t.LearningRate, Private: true,
		ExpectedBatch: b,
	}, nil
}

func (c *Client) trainRound(ctx context.Context, conn api.FederationClient, p *api.TrainPlan, res *Result) error {
	if p.GetRecordDistributed() {
		return c.trainDistributed(ctx, conn, p, res)
	}
	round := int(p.GetRound())
	if h := c.cfg.Hooks.AfterPlan; h != nil {
		if err := h(round); err != nil {
			return err
		}
	}
	spend := c.spendOf(p)
	wt, why := c.weightRelease(p)
	prior := c.cfg.Spends.Spends()
	if wt.spend != nil {
		prior = append(prior, *wt.spend)
	}
	// The cohort is counted from the list the plan gives (the one the
	// secure-aggregation session is built from), not from the number the
	// coordinator declares.
	cohort := int(p.GetCohortSize())
	if p.GetSecure() {
		cohort = len(p.GetCohort())
		if reason := c.secureParamsRefused(p); reason != "" {
			why = reason
		}
	} else if !c.cfg.AllowInsecurePlainAggregation {
		why = "the plan turns secure aggregation off, so the coordinator would see this tenant's update and example count; this tenant requires secure aggregation (AllowInsecurePlainAggregation, --insecure-allow-plain-aggregation)"
	}
	dec, err := c.cfg.Policy.Decide(c.task.ID, spend, cohort, prior)
	if err != nil {
		return err
	}
	tc, tcErr := TrainConfigOf(protocol.TrainParamsFromProto(p), c.task)
	if why == "" && tcErr != nil {
		why = tcErr.Error()
	}
	if why == "" {
		if why, err = c.tenantLevelDecline(p); err != nil {
			return fmt.Errorf("client: round %d: %w", round, err)
		}
	}
	if why != "" {
		dec = Decision{Reason: why}
	}
	if !dec.Accept {
		return c.declineRound(ctx, conn, p, dec.Reason, res)
	}
	global, err := c.loadGlobal(ctx, conn, p)
	if err != nil {
		return err
	}
	// Write-ahead: the spend is durable before anything trained on the
	// data can leave this process.
	intent, err := c.cfg.Spends.Record(spend, c.cfg.Policy.Budget)
	if err != nil {
		return fmt.Errorf("client: round %d: not releasing: %w", round, err)
	}
	switch {
	case wt.spend != nil:
		if wt.intent, err = c.cfg.Spends.Record(*wt.spend, c.cfg.Policy.Budget); err != nil {
			return fmt.Errorf("client: round %d: not releasing: %w", round, err)
		}
	case wt.weighted:
		// The exact example count leaves with this round (allowed by the
		// policy): ε = ∞ on record before it does, after the round's
		// DP-SGD spend (which the cap still had to admit).
		if wt.intent, err = c.cfg.Spends.Record(ExactSpend(c.task.ID, round), c.cfg.Policy.Budget); err != nil {
			return fmt.Errorf("client: round %d: not releasing: %w", round, err)
		}
	}
	stats, err := c.learner.Train(tc, c.rng)
	if err != nil {
		return fmt.Errorf("client: round %d: training: %w", round, err)
	}
	local := c.learner.Params()
	if p.GetSecure() {
		delta := make([]float64, len(local))
		for i := range local {
			delta[i] = local[i] - global[i]
		}
		if err := c.startSecure(ctx, conn, p, delta, intent, wt, res); err != nil {
			return err
		}
		res.Rounds = append(res.Rounds, round)
		c.log.Info("advertised keys for secure aggregation", "round", round, "eps", dec.EpsAfter, "clipped_fraction", stats.ClippedFraction)
		return nil
	}
	w, err := wt.value(c.learner.TrainSize(), 0)
	if err != nil {
		return fmt.Errorf("client: round %d: %w", round, err)
	}
	values := make([]float64, len(local)+1)
	for i := range local {
		values[i] = w * (local[i] - global[i])
	}
	values[len(local)] = w
	if h := c.cfg.Hooks.BeforeSend; h != nil {
		if err := h(round); err != nil {
			return err
		}
	}
	upd := &api.Update{Values: values}
	err = c.send(ctx, conn, &api.SubmitRequest{Tenant: c.cfg.Tenant, Round: p.GetRound(),
		Payload: &api.SubmitRequest_Update{Update: upd}})
	if err != nil {
		return fmt.Errorf("client: send update of round %d: %w", round, err)
	}
	if err := c.releaseAll(protocol.UpdateHash(values), intent, wt.intent); err != nil {
		return err
	}
	res.Rounds = append(res.Rounds, round)
	c.log.Info("sent update", "round", round, "eps", dec.EpsAfter, "clipped_fraction", stats.ClippedFraction)
	if h := c.cfg.Hooks.AfterUpdate; h != nil {
		return h(round)
	}
	return nil
}

func (c *Client) evaluate(ctx context.Context, conn api.FederationClient, e *api.EvalPlan) error {
	round := int(e.GetRound())
	res := &api.EvalResult{ModelVersion: e.GetModelVersion()}
	var intent uint64
	eps := e.GetEvalEpsilon()
	switch {
	case math.IsNaN(eps) || eps < 0 || math.IsInf(eps, 0):
		res.Declined = fmt.Sprintf("evaluation ε %v is not a valid ε", eps)
	case eps == 0 && c.cfg.Policy.RequireNoisedCounts:
		res.Declined = "this tenant releases only noised evaluation statistics"
	default:
		params, err := c.download(ctx, conn, e.GetModelVersion())
		if err != nil {
			return err
		}
		if err := c.learner.SetParams(params); err != nil {
			return err
		}
		stats, err := c.learner.EvalStats()
		if err != nil {
			return fmt.Errorf("client: evaluation of round %d: %w", round, err)
		}
		if len(stats) != c.task.EvalLen {
			return fmt.Errorf("client: evaluation of round %d: the learner gave %d statistics, task %q has %d", round, len(stats), c.task.ID, c.task.EvalLen)
		}
		if eps > 0 {
			var reason string
			if intent, reason, err = c.noiseEval(round, eps, stats); err != nil {
				return err
			}
			res.Declined = reason
		} else if intent, err = c.cfg.Spends.Record(ExactSpend(c.task.ID, round), c.cfg.Policy.Budget); err != nil {
			// Allowed by the policy: ε = ∞, on record before release.
			return fmt.Errorf("client: evaluation of round %d: not releasing: %w", round, err)
		}
		if res.Declined == "" {
			res.Stats = stats
		}
	}
	if res.Declined != "" {
		c.log.Info("declining evaluation", "round", round, "reason", res.Declined)
	}
	err := c.send(ctx, conn, &api.SubmitRequest{Tenant: c.cfg.Tenant, Round: e.GetRound(),
		Payload: &api.SubmitRequest_Eval{Eval: res}})
	if err != nil {
		return fmt.Errorf("client: send evaluation of round %d: %w", round, err)
	}
	if intent != 0 {
		return c.cfg.Spends.Released(intent, protocol.CountsHash(res.Stats))
	}
	return nil
}

// noiseEval privatises stats in place for release at (eps, the tenant's
// δ): it records the spend (write-ahead), then adds Gaussian noise from the
// Google DP library calibrated to the task kind's contribution bounds.
// Counts are not clamped, so the coordinator's sums stay unbiased. If the
// budget cannot afford it, it returns the reason to decline instead.
func (c *Client) noiseEval(round int, eps float64, stats []int64) (intent uint64, declined string, err error) {
	b := c.cfg.Policy.Budget
	rec, err := scalar.VectorRecord(c.kind.L0, c.kind.LInf, eps, b.Delta, scalar.Gaussian)
	if err != nil {
		return 0, "", fmt.Errorf("client: evaluation noise: %w", err)
	}
	sp := EvalSpend(c.task.ID, round, rec)
	spends := c.cfg.Spends.Spends()
	ex := exactOnRecord(spends)
	if len(ex) > 0 && c.cfg.Policy.RequireNoisedCounts {
		return 0, fmt.Sprintf("record-level ε is ∞ since the exact release of task %q round %d, and this tenant no longer allows exact releases: a noised evaluation does not fit its cap %g", ex[0].Task, ex[0].Round, b.Epsilon), nil
	}
	after, err := Epsilon(append(noisedOnly(spends), sp), b.Delta) // the cap bounds the noised releases
	if err != nil {
		return 0, "", err
	}
	if after > b.Epsilon {
		return 0, fmt.Sprintf("a noised evaluation at ε=%g would bring record-level ε to %.4g, above the cap %g", eps, after, b.Epsilon), nil
	}
	if intent, err = c.cfg.Spends.Record(sp, b); err != nil {
		return 0, "", fmt.Errorf("client: evaluation of round %d: not releasing: %w", round, err)
	}
	if err := NoiseStats(c.kind, stats, eps, b.Delta); err != nil {
		return 0, "", err
	}
	return intent, "", nil
}

// EvalSpend is the spend of releasing evaluation statistics under rec: a
// Gaussian mechanism of L2 sensitivity rec.Sensitivity and noise std
// rec.NoiseStd, so noise multiplier NoiseStd/Sensitivity.
func EvalSpend(taskID string, round int, rec scalar.Record) Spend {
	return Spend{Kind: SpendEval, Task: taskID, Round: round, SampleRate: 1,
		NoiseMultiplier: rec.NoiseStd / rec.Sensitivity, ClipNorm: rec.Sensitivity, Steps: 1}
}

// weightRelease is how a round's example count leaves the tenant.
type weightRelease struct {
	weighted bool
	rec      *scalar.Record // nil: the exact count
	spend    *Spend
	intent   uint64
}

// weightRelease says how plan p's round releases this tenant's example
// count — FedAvg weights are the count (capped), inside secure aggregation
// or in a plain update; tenant-level DP rounds are unweighted — or why the
// tenant declines the round.
func (c *Client) weightRelease(p *api.TrainPlan) (weightRelease, string) {
	wt := weightRelease{weighted: !p.GetSecure() || (p.GetDdgGamma() == 0 && p.GetMaxWeight() > 0)}
	if !wt.weighted {
		return wt, ""
	}
	eps := p.GetWeightEpsilon()
	switch {
	case math.IsNaN(eps) || eps < 0 || math.IsInf(eps, 0):
		return wt, fmt.Sprintf("weight ε %v is not a valid ε", eps)
	case eps == 0 && c.cfg.Policy.RequireNoisedCounts:
		return wt, "the plan asks for the exact example count, which this tenant releases only noised"
	case eps == 0:
		return wt, ""
	}
	rec, err := scalar.VectorRecord(1, 1, eps, c.cfg.Policy.Budget.Delta, scalar.Gaussian)
	if err != nil {
		return wt, fmt.Sprintf("weight noise: %v", err)
	}
	sp := EvalSpend(c.task.ID, int(p.GetRound()), rec)
	wt.rec, wt.spend = &rec, &sp
	return wt, ""
}

// value returns the weight to send for n training records: n capped at
// maxWeight (> 0), noised by the Google DP library's Gaussian when the
// plan asks for it (one record moves n by one), then clamped to
// [1, maxWeight] (post-processing).
func (wt weightRelease) value(n int, maxWeight float64) (float64, error) {
	if wt.rec == nil {
		return ReleaseWeight(n, maxWeight, 0, 0)
	}
	return ReleaseWeight(n, maxWeight, wt.rec.Epsilon, wt.rec.Delta)
}

// ReleaseWeight is the weight a client sends for n training records: n
// capped at maxWeight (> 0), noised at (eps, delta) by the Google DP
// library's Gaussian (one record moves n by one) unless eps is 0 (the
// exact count), then clamped to [1, maxWeight] (post-processing). The
// empirical audit (simulate/empirical) releases through it.
func ReleaseWeight(n int, maxWeight, eps, delta float64) (float64, error) {
	w := int64(n)
	if maxWeight > 0 {
		w = min(w, int64(maxWeight))
	}
	if eps > 0 {
		noised, _, err := scalar.ReleaseInt(w, 1, eps, delta, scalar.Gaussian)
		if err != nil {
			return 0, fmt.Errorf("weight noise: %w", err)
		}
		w = max(noised, 1)
		if maxWeight > 0 {
			w = min(w, int64(maxWeight))
		}
	}
	return float64(w), nil
}

// NoiseStats noises evaluation statistics of kind k in place for release
// at (eps, delta), as the client does before an evaluation leaves it:
// the Google DP library's Gaussian calibrated to the kind's contribution
// bounds (L0, LInf); counts are not clamped. eps 0 leaves them exact. The
// empirical audit (simulate/empirical) releases through it.
func NoiseStats(k task.Kind, stats []int64, eps, delta float64) error {
	if eps == 0 {
		return nil
	}
	if _, err := scalar.ReleaseInts(stats, k.L0, k.LInf, eps, delta, scalar.Gaussian); err != nil {
		return fmt.Errorf("client: evaluation noise: %w", err)
	}
	return nil
}

// releaseAll marks every non-zero intent released with the artefact hash.
func (c *Client) releaseAll(hash [32]byte, intents ...uint64) error {
	for _, id := range intents {
		if id == 0 {
			continue
		}
		if err := c.cfg.Spends.Released(id, hash); err != nil {
			return err
		}
	}
	return nil
}

// secureParamsRefused checks a secure plan's session parameters against
// the tenant's secagg.Policy before anything is spent or trained: the
// cohort counted from the plan's list, the threshold and corruption
// quorum, and the number of noise shares. It returns why the round is
// refused, or "".
func (c *Client) secureParamsRefused(p *api.TrainPlan) string {
	params, err := secureParams(p, c.task.ID, 1, c.cfg.CA, time.Now())
	if err != nil {
		// Substituted or unverifiable identity keys: declined before
		// anything is spent or trained (the red team found the spend
		// recorded and the process ended when this waited for
		// startSecure).
		return fmt.Sprintf("refusing the secure session before spending: %v", err)
	}
	if err := c.cfg.SecAgg.Check(params); err != nil {
		return fmt.Sprintf("unsafe secure-aggregation parameters: %v", err)
	}
	if p.GetDdgGamma() != 0 {
		if err := c.cfg.SecAgg.CheckNoiseShares(int(p.GetDdgShares()), params); err != nil {
			return fmt.Sprintf("unsafe tenant-level noise split: %v", err)
		}
	}
	return ""
}

// declineRound tells the coordinator the tenant declines plan p's round.
func (c *Client) declineRound(ctx context.Context, conn api.FederationClient, p *api.TrainPlan, reason string, res *Result) error {
	round := int(p.GetRound())
	c.log.Info("declining round", "round", round, "reason", reason)
	res.Declined = append(res.Declined, round)
	err := c.send(ctx, conn, &api.SubmitRequest{Tenant: c.cfg.Tenant, Round: p.GetRound(),
		Payload: &api.SubmitRequest_Decline{Decline: &api.Decline{Reason: reason}}})
	if err != nil {
		return fmt.Errorf("client: decline round %d: %w", round, err)
	}
	return nil
}

// loadGlobal downloads plan p's model version into the learner and
// returns it.
func (c *Client) loadGlobal(ctx context.Context, conn api.FederationClient, p *api.TrainPlan) ([]float64, error) {
	global, err := c.download(ctx, conn, p.GetModelVersion())
	if err != nil {
		return nil, err
	}
	if err := c.learner.SetParams(global); err != nil {
		return nil, fmt.Errorf("client: round %d: %w", p.GetRound(), err)
	}
	return global, nil
}
