package client

import (
	"context"
	"fmt"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/privacy/scalar"
)

// spendOf is the record-level spend a plan asks for.
func (c *Client) spendOf(p *api.TrainPlan) Spend {
	return Spend{
		Task: c.task.ID, Round: int(p.GetRound()), SampleRate: p.GetSampleRate(),
		NoiseMultiplier: p.GetNoiseMultiplier(), ClipNorm: p.GetClipNorm(), Steps: int(p.GetLocalSteps()),
	}
}

func (c *Client) trainRound(ctx context.Context, conn api.FederationClient, p *api.TrainPlan, res *Result) error {
	round := int(p.GetRound())
	if h := c.cfg.Hooks.AfterPlan; h != nil {
		if err := h(round); err != nil {
			return err
		}
	}
	spend := c.spendOf(p)
	dec, err := c.cfg.Policy.Decide(c.task.ID, spend, int(p.GetCohortSize()), c.cfg.Spends.Spends())
	if err != nil {
		return err
	}
	if !dec.Accept {
		c.log.Info("declining round", "round", round, "reason", dec.Reason)
		res.Declined = append(res.Declined, round)
		_, err := conn.Submit(ctx, &api.SubmitRequest{Tenant: c.cfg.Tenant, Round: p.GetRound(),
			Payload: &api.SubmitRequest_Decline{Decline: &api.Decline{Reason: dec.Reason}}})
		if err != nil {
			return fmt.Errorf("client: decline round %d: %w", round, err)
		}
		return nil
	}
	global, err := c.download(ctx, conn, p.GetModelVersion())
	if err != nil {
		return err
	}
	if err := c.clf.SetParams(global); err != nil {
		return fmt.Errorf("client: round %d: %w", round, err)
	}
	// Write-ahead: the spend is durable before anything trained on the
	// data can leave this process.
	intent, err := c.cfg.Spends.Record(spend, c.cfg.Policy.Budget)
	if err != nil {
		return fmt.Errorf("client: round %d: not releasing: %w", round, err)
	}
	stats, err := c.clf.Train(c.trainF, c.trainY, models.TrainConfig{
		Steps: spend.Steps, SampleRate: spend.SampleRate, ClipNorm: spend.ClipNorm,
		NoiseMultiplier: spend.NoiseMultiplier, LearningRate: p.GetLearningRate(), Private: true,
	}, c.rng)
	if err != nil {
		return fmt.Errorf("client: round %d: training: %w", round, err)
	}
	local := c.clf.Params()
	if p.GetSecure() {
		delta := make([]float64, len(local))
		for i := range local {
			delta[i] = local[i] - global[i]
		}
		if err := c.startSecure(ctx, conn, p, delta, intent, res); err != nil {
			return err
		}
		res.Rounds = append(res.Rounds, round)
		c.log.Info("advertised keys for secure aggregation", "round", round, "eps", dec.EpsAfter, "clipped_fraction", stats.ClippedFraction)
		return nil
	}
	w := float64(len(c.trainF))
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
	err = submit(ctx, conn, &api.SubmitRequest{Tenant: c.cfg.Tenant, Round: p.GetRound(),
		Payload: &api.SubmitRequest_Update{Update: upd}})
	if err != nil {
		return fmt.Errorf("client: send update of round %d: %w", round, err)
	}
	if err := c.cfg.Spends.Released(intent, coordinator.UpdateHash(values)); err != nil {
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
	params, err := c.download(ctx, conn, e.GetModelVersion())
	if err != nil {
		return err
	}
	if err := c.clf.SetParams(params); err != nil {
		return err
	}
	k := len(c.task.Labels)
	conf := make([]int64, k*k)
	if len(c.testF) > 0 {
		m, err := c.clf.Evaluate(c.testF, c.testY)
		if err != nil {
			return err
		}
		conf = m.Counts
	}
	var intent uint64
	noised := false
	if eps := c.cfg.Policy.EvalEpsilon; eps > 0 {
		var err error
		if intent, noised, err = c.noiseEval(int(e.GetRound()), conf); err != nil {
			return err
		}
	}
	_, err = conn.Submit(ctx, &api.SubmitRequest{Tenant: c.cfg.Tenant, Round: e.GetRound(),
		Payload: &api.SubmitRequest_Eval{Eval: &api.EvalResult{ModelVersion: e.GetModelVersion(), Confusion: conf}}})
	if err != nil {
		return fmt.Errorf("client: send evaluation of round %d: %w", e.GetRound(), err)
	}
	if noised {
		return c.cfg.Spends.Released(intent, coordinator.CountsHash(conf))
	}
	return nil
}

// noiseEval privatises conf in place for release: it records the spend
// (write-ahead) and adds Gaussian noise from the Google DP library to every
// count (L2 sensitivity 1: one record moves one count by one). Counts are
// not clamped at zero, so the coordinator's sums stay unbiased. If the budget cannot afford it, conf is zeroed
// (the tenant contributes nothing to the sum) and noised is false.
func (c *Client) noiseEval(round int, conf []int64) (intent uint64, noised bool, err error) {
	b := c.cfg.Policy.Budget
	_, rec, err := scalar.Release(0, 1, c.cfg.Policy.EvalEpsilon, b.Delta, scalar.Gaussian)
	if err != nil {
		return 0, false, fmt.Errorf("client: evaluation noise: %w", err)
	}
	sp := Spend{Kind: SpendEval, Task: c.task.ID, Round: round, SampleRate: 1, NoiseMultiplier: rec.NoiseStd, ClipNorm: 1, Steps: 1}
	spends := c.cfg.Spends.Spends()
	after, err := Epsilon(append(spends, sp), b.Delta)
	if err != nil {
		return 0, false, err
	}
	if after > b.Epsilon {
		c.log.Warn("budget too small for a noised evaluation; reporting nothing", "round", round, "eps_after", after)
		clear(conf)
		return 0, false, nil
	}
	if intent, err = c.cfg.Spends.Record(sp, b); err != nil {
		return 0, false, fmt.Errorf("client: evaluation of round %d: not releasing: %w", round, err)
	}
	for i, v := range conf {
		n, _, err := scalar.ReleaseInt(v, 1, c.cfg.Policy.EvalEpsilon, b.Delta, scalar.Gaussian)
		if err != nil {
			return 0, false, fmt.Errorf("client: evaluation noise: %w", err)
		}
		conf[i] = n
	}
	return intent, true, nil
}
