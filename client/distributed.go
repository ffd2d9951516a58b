package client

import (
	"context"
	"fmt"
	"time"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy/ddg"
	"github.com/fedb2b/fedb2b/privacy/ledger"
	"github.com/fedb2b/fedb2b/protocol"
)

// recordDP rebuilds a record-level distributed round's parameters from
// its plan and checks them (dim: the learner's parameter count).
func recordDP(p *api.TrainPlan, dim int) (*ddg.Record, error) {
	d := int(p.GetDdgDim())
	if d < 1 || d > dim {
		return nil, fmt.Errorf("record-level distributed DP: the plan sums %d coordinates, the learner has %d", d, dim)
	}
	r := ddg.Record{Params: ddg.Params{Dim: d, ClipNorm: p.GetUpdateClip(), Gamma: p.GetDdgGamma(), Sigma: p.GetDdgSigma(),
		Beta: p.GetDdgBeta(), Threshold: int(p.GetDdgShares()), Cohort: len(p.GetCohort()), Bits: int(p.GetBits()),
		MaxWrapProb: ddg.DefaultMaxWrapProb}, RecordClip: p.GetClipNorm(), SampleRate: p.GetSampleRate()}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("record-level distributed DP parameters: %w", err)
	}
	return &r, nil
}

// distributedDecline says why the tenant declines record-level
// distributed round p, or "".
func (c *Client) distributedDecline(p *api.TrainPlan, r *ddg.Record) string {
	pol := c.cfg.Policy
	if pol.DPMode != DPModeDistributed {
		return fmt.Sprintf("the plan asks for record-level DP with the noise added inside secure aggregation, which holds against the coordinator only while secure aggregation holds and %d survivors add their share honestly; this tenant trains with local DP-SGD, which holds against everyone (Policy.DPMode, --dp-mode distributed to opt in)", r.Threshold)
	}
	if !p.GetSecure() {
		return "a record-level distributed round without secure aggregation would show the coordinator each un-noised gradient sum"
	}
	if pol.TenantEpsilon > 0 {
		// As for any round without tenant-level noise (tenantLevelDecline).
		return fmt.Sprintf("round %d adds no tenant-level noise (its noise is calibrated to one record), so its tenant-level ε is ∞, above this tenant's tenant-level cap %g", p.GetRound(), pol.TenantEpsilon)
	}
	if need := r.Threshold + pol.AssumeColluders; need > r.Cohort {
		return fmt.Sprintf("the noise needs %d honest shares and this tenant assumes %d colluders: %d survivors needed, the cohort has %d", r.Threshold, pol.AssumeColluders, need, r.Cohort)
	}
	if _, ok := c.learner.(task.GradSummer); !ok {
		return fmt.Sprintf("the learner of task kind %q cannot take FedSGD steps", c.task.Kind)
	}
	if why := c.secureParamsRefused(p); why != "" {
		return why
	}
	return c.colludersDecline(p, r)
}

// colludersDecline says why this tenant declines record-level
// distributed round p when the session's secure aggregation cannot keep
// r.Threshold honest noise shares in every sum a coordinator colluding
// with Policy.AssumeColluders tenants can learn, or "". The secagg
// policy's own check (CheckNoiseShares) assumes ⌈n/3⌉−1 corrupt clients,
// not this tenant's c, and this tenant's unmask refusal does not stop the
// others from rebuilding its self-mask. With c colluders and threshold t:
// c ≥ t rebuilds any secret; otherwise a learnable sum holds at least
// t − c + 1 honest inputs, t − c + 2 when every participant holds a share
// of every other's seeds (full graph) and this tenant refuses sums of
// fewer than Threshold + c inputs (each other honest survivor's
// self-mask then needs t shares from holders other than itself and this
// tenant).
func (c *Client) colludersDecline(p *api.TrainPlan, r *ddg.Record) string {
	params, err := secureParams(p, c.task.ID, 1, c.cfg.CA, time.Now())
	if err != nil {
		return fmt.Sprintf("refusing the secure session before spending: %v", err)
	}
	col, t := c.cfg.Policy.AssumeColluders, params.Threshold()
	if col >= t {
		return fmt.Sprintf("this tenant assumes %d colluders and the session's threshold is t = %d: the colluders could rebuild any tenant's masks alone", col, t)
	}
	h := secagg.MinHonestInSum(t, col)
	if params.FullGraph() {
		h++
	}
	if r.Threshold > h {
		return fmt.Sprintf("the noise is split into %d honest shares, but with threshold t = %d and the %d colluders this tenant assumes a learnable sum may hold only %d honest inputs", r.Threshold, t, col, h)
	}
	return ""
}

// trainDistributed runs this tenant's part of a record-level distributed
// round: the spend is recorded (write-ahead) under ledger.MechDDGRecord
// with the honest shares assumed, then the clipped gradient sum of a
// Poisson sample is encoded with this tenant's noise share and enters
// secure aggregation. The client helps unmask only sums of at least the
// honest shares plus Policy.AssumeColluders inputs.
func (c *Client) trainDistributed(ctx context.Context, conn api.FederationClient, p *api.TrainPlan, res *Result) error {
	round := int(p.GetRound())
	if h := c.cfg.Hooks.AfterPlan; h != nil {
		if err := h(round); err != nil {
			return err
		}
	}
	r, err := recordDP(p, c.learner.NumParams())
	var why string
	if err != nil {
		why = err.Error()
	} else {
		why = c.distributedDecline(p, r)
	}
	var spend Spend
	dec := Decision{Reason: why}
	if why == "" {
		lp := ledger.RecordParams(*r)
		spend = Spend{Kind: SpendDistributed, Task: c.task.ID, Round: round, SampleRate: r.SampleRate,
			NoiseMultiplier: r.NoiseMultiplier(), ClipNorm: r.RecordClip, Steps: 1, Distributed: &lp}
		if dec, err = c.cfg.Policy.Decide(c.task.ID, spend, r.Cohort, c.cfg.Spends.Spends()); err != nil {
			return err
		}
	}
	if !dec.Accept {
		return c.declineRound(ctx, conn, p, dec.Reason, res)
	}
	if _, err := c.loadGlobal(ctx, conn, p); err != nil {
		return err
	}
	intent, err := c.cfg.Spends.Record(spend, c.cfg.Policy.Budget)
	if err != nil {
		return fmt.Errorf("client: round %d: not releasing: %w", round, err)
	}
	g, st, err := c.learner.(task.GradSummer).ClippedGradSum(r.SampleRate, r.RecordClip, c.rng)
	if err != nil {
		return fmt.Errorf("client: round %d: gradient: %w", round, err)
	}
	codec, err := ddg.NewCodec(r.Params)
	if err != nil {
		return fmt.Errorf("client: round %d: %w", round, err)
	}
	params, err := secureParams(p, c.task.ID, r.PaddedDim(), c.cfg.CA, time.Now())
	if err != nil {
		return fmt.Errorf("client: round %d: %w", round, err)
	}
	input := make([]uint32, r.PaddedDim())
	var seed [32]byte
	copy(seed[:], p.GetSessionSeed())
	est, err := codec.Encode(input, g[:r.Dim], protocol.RotationSeed(seed), c.rng)
	clear(g)
	if err != nil {
		return fmt.Errorf("client: round %d: %w", round, err)
	}
	if est.Clipped {
		// Not silent: the sum was projected onto the plan's sum clip
		// (the sensitivity stays one record's clip).
		res.Clipped = append(res.Clipped, round)
		c.log.Info("gradient sum clipped for secure aggregation", "round", round, "bound", r.ClipNorm)
	}
	sess := secSession{round: round, intent: intent, input: input, shares: r.Threshold + c.cfg.Policy.AssumeColluders}
	if err := c.advertise(ctx, conn, params, sess); err != nil {
		return err
	}
	res.Rounds = append(res.Rounds, round)
	c.log.Info("advertised keys for secure aggregation (record-level distributed DP)", "round", round, "eps", dec.EpsAfter,
		"honest_shares", r.Threshold, "clipped_examples", st.Clipped > 0)
	return nil
}
