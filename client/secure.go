package client

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"slices"
	"time"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/adaptive"
	"github.com/fedb2b/fedb2b/privacy/ddg"
	"github.com/fedb2b/fedb2b/privacy/ledger"
	"github.com/fedb2b/fedb2b/protocol"
)

// secSession is the client's part of one round's secure aggregation.
type secSession struct {
	round  int
	intent uint64 // the spend-log intent this session releases
	tenant uint64 // the tenant-level intent (0 without tenant-level DP)
	weight uint64 // the example count's intent, noised or exact (0 if none)
	c      *secagg.Client
	input  []uint32 // the quantised update, masked at StageMaskedInput
	// shares is the number of noise shares the tenant-level accounting
	// relies on (ddg.Params.Threshold; 0 without tenant-level DP): the
	// client helps unmask only a sum of at least that many inputs.
	shares int
}

// secureParams rebuilds the session parameters from a plan of task; every
// party derives the same session ID from them. The task ID is the
// session's context: the spend ledger refuses a second session of one
// (task, round), so this client never signs in two sessions with one ID
// (a coordinator that repeats round number and graph seed across tasks
// cannot replay survivor-set signatures). With a pinned CA the identity
// keys come from the cohort's CA-signed certificates (see cohortIdentities).
func secureParams(p *api.TrainPlan, task string, dim int, ca *x509.Certificate, now time.Time) (*secagg.Params, error) {
	keys, err := cohortIdentities(p, ca, now)
	if err != nil {
		return nil, err
	}
	parts := make([]secagg.Participant, len(keys))
	for i, id := range p.GetCohort() {
		parts[i] = secagg.Participant{ID: id, IdentityKey: keys[i]}
	}
	var seed [32]byte
	if len(p.GetSessionSeed()) != len(seed) {
		return nil, fmt.Errorf("session seed has %d bytes, want %d", len(p.GetSessionSeed()), len(seed))
	}
	copy(seed[:], p.GetSessionSeed())
	if p.GetBits() != secagg.Bits {
		return nil, fmt.Errorf("plan asks for %d-bit aggregation, this client does %d", p.GetBits(), secagg.Bits)
	}
	return secagg.NewParams(secagg.Config{Round: uint64(p.GetRound()), Participants: parts, Threshold: int(p.GetThreshold()),
		Neighbours: int(p.GetNeighbours()), Dim: dim, GraphSeed: seed, MaxCorrupt: int(p.GetMaxCorrupt()), Context: []byte(task)})
}

// startSecure quantises delta and advertises this client's keys.
func (c *Client) startSecure(ctx context.Context, conn api.FederationClient, p *api.TrainPlan, delta []float64, intent uint64, wt weightRelease, res *Result) error {
	round := int(p.GetRound())
	if c.cfg.Identity == nil {
		return fmt.Errorf("client: round %d uses secure aggregation, but this tenant has no identity key", round)
	}
	dp, err := tenantDP(p, len(delta))
	if err != nil {
		return fmt.Errorf("client: round %d: %w", round, err)
	}
	dim := len(delta)
	weighted := dp == nil && p.GetMaxWeight() > 0
	if dp != nil {
		dim = dp.PaddedDim()
	} else if weighted {
		dim++ // the weight travels as the last coordinate
	}
	params, err := secureParams(p, c.task.ID, dim, c.cfg.CA, time.Now())
	if err != nil {
		return fmt.Errorf("client: round %d: %w", round, err)
	}
	input := make([]uint32, dim)
	var clipped bool
	var tenantIntent uint64
	if dp != nil {
		capEps := c.cfg.Policy.TenantEpsilon
		if capEps == 0 {
			capEps = math.MaxFloat64
		}
		tenantIntent, err = c.cfg.Spends.RecordTenantLevel(c.task.ID, round, tenantParams(dp), p.GetTenantDelta(), capEps)
		if err != nil {
			return fmt.Errorf("client: round %d: not releasing: %w", round, err)
		}
		codec, err := ddg.NewCodec(*dp)
		if err != nil {
			return fmt.Errorf("client: round %d: %w", round, err)
		}
		vec := delta
		if w := p.GetBitWeight(); w > 0 {
			// Clip to the round's C, then append w·(b − ½) for the
			// coordinator's adaptive clip update (privacy/adaptive).
			cl := p.GetUpdateClip()
			clippedDelta := slices.Clone(delta)
			norm := cl // at most C: the bit says "not clipped"
			if f := privacy.ClipL2(clippedDelta, cl); f < 1 {
				clipped, norm = true, cl/f
			}
			vec = adaptive.AppendBit(clippedDelta, norm, cl, w)
		}
		st, err := EncodeTenantLevel(input, codec, vec, p.GetSessionSeed(), c.rng)
		if err != nil {
			return fmt.Errorf("client: round %d: %w", round, err)
		}
		clipped = clipped || st.Clipped
	} else {
		q := secagg.Quantizer{ClipNorm: p.GetUpdateClip(), Scale: p.GetQuantScale()}
		vec := delta
		if weighted {
			w, err := wt.value(c.learner.TrainSize(), p.GetMaxWeight())
			if err != nil {
				return fmt.Errorf("client: round %d: %w", round, err)
			}
			vec, clipped = protocol.WeightedVector(delta, int(w), p.GetUpdateClip(), p.GetMaxWeight())
			q.ClipNorm = protocol.WeightedClip(p.GetUpdateClip(), p.GetMaxWeight())
		}
		if err := q.CheckRange(params.N()); err != nil {
			return fmt.Errorf("client: round %d: refusing parameters that could wrap: %w", round, err)
		}
		st, err := q.Quantize(input, vec, c.rng)
		if err != nil {
			return fmt.Errorf("client: round %d: %w", round, err)
		}
		clipped = clipped || st.Clipped
	}
	if clipped {
		res.Clipped = append(res.Clipped, round)
		c.log.Info("update clipped for secure aggregation", "round", round, "bound", p.GetUpdateClip())
	}
	sess := secSession{round: round, intent: intent, tenant: tenantIntent, weight: wt.intent, input: input}
	if dp != nil {
		sess.shares = dp.Threshold
	}
	return c.advertise(ctx, conn, params, sess)
}

// advertise starts the secure session sess (its c is set here) with
// params and sends this client's keys.
func (c *Client) advertise(ctx context.Context, conn api.FederationClient, params *secagg.Params, sess secSession) error {
	sc, err := secagg.NewClient(secagg.ClientConfig{Params: params, ID: c.cfg.Tenant, Identity: c.cfg.Identity, Rand: c.cfg.Rand})
	if err != nil {
		return fmt.Errorf("client: round %d: %w", sess.round, err)
	}
	sess.c = sc
	c.sec = &sess
	adv, err := sc.Advertise()
	if err != nil {
		return err
	}
	return c.sendSecure(ctx, conn, sess.round, secagg.StageAdvertise, adv)
}

// secureStep answers one stage of the current session.
func (c *Client) secureStep(ctx context.Context, conn api.FederationClient, step *api.SecAggStep) error {
	round := int(step.GetRound())
	s := c.sec
	if step.GetStage() == "abort" {
		if s != nil && s.round == round && len(step.GetMessages()) == 1 {
			var n secagg.AbortNotice
			if err := n.UnmarshalBinary(step.GetMessages()[0]); err == nil {
				_ = s.c.OnAbort(&n)
			}
			c.log.Warn("secure aggregation aborted", "round", round, "reason", s.c.Err())
		}
		c.leaveSecure(round)
		return nil
	}
	if (s == nil || s.round != round) && round == c.secLeft && c.secLeft != 0 {
		// A stage of the round this client left (too few peers, excluded,
		// refused a request): its leave notice did not arrive, or the
		// coordinator predates it and serves the stage to every cohort
		// member until the deadline. Not an error; poll again shortly.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(leftRoundPause):
		}
		return nil
	}
	if s == nil || s.round != round {
		// No session for this round (a step of it was refused or lost,
		// or a confused coordinator): nothing can be released for it.
		// Ending the client here would turn one lost message into a
		// tenant gone for good; leave the round and carry on.
		c.log.Warn("left a secure round this client has no session for", "round", round, "stage", step.GetStage())
		return c.quitSecure(ctx, conn, round)
	}
	st, err := secagg.ParseStage(step.GetStage())
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	msgs := step.GetMessages()
	var out []binaryMessage
	switch st {
	case secagg.StageShareKeys:
		ads := make([]*secagg.AdvertiseMsg, len(msgs))
		for i, b := range msgs {
			ads[i] = new(secagg.AdvertiseMsg)
			if err := ads[i].UnmarshalBinary(b); err != nil {
				return fmt.Errorf("client: round %d: advert %d: %w", round, i, err)
			}
		}
		shares, err := s.c.ShareKeys(ads)
		if errors.Is(err, secagg.ErrBelowThreshold) {
			// Too few neighbours advertised keys (they declined, dropped,
			// or a hostile tenant stayed silent): nothing was released and
			// the round is lost for this tenant, not the federation.
			c.log.Warn("left out of secure aggregation", "round", round, "err", err)
			return c.quitSecure(ctx, conn, round)
		}
		if err != nil {
			return fmt.Errorf("client: round %d: %w", round, err)
		}
		for _, sh := range shares {
			out = append(out, sh)
		}
	case secagg.StageCheckShares:
		shares := make([]*secagg.EncryptedShare, len(msgs))
		for i, b := range msgs {
			shares[i] = new(secagg.EncryptedShare)
			if err := shares[i].UnmarshalBinary(b); err != nil {
				return fmt.Errorf("client: round %d: share %d: %w", round, i, err)
			}
		}
		r, err := s.c.CheckShares(shares)
		if err != nil {
			// Only the relay can cause this (a share forged, altered,
			// misaddressed or replayed: the coordinator checks senders'
			// signatures): refuse the round, keep serving.
			c.log.Warn("refused the relayed shares", "round", round, "err", err)
			return c.quitSecure(ctx, conn, round)
		}
		if n := len(r.Complaints); n > 0 {
			c.log.Warn("filed complaints about neighbours' shares", "round", round, "complaints", n)
		}
		out = append(out, r)
	case secagg.StageMaskedInput:
		if len(msgs) != 1 {
			return fmt.Errorf("client: round %d: masked-input stage carries %d messages, want 1", round, len(msgs))
		}
		var req secagg.MaskRequest
		if err := req.UnmarshalBinary(msgs[0]); err != nil {
			return fmt.Errorf("client: round %d: %w", round, err)
		}
		// Masked and encoded in one pass (no intermediate vector).
		b, err := s.c.AppendMaskedInput(nil, &req, s.input)
		if errors.Is(err, secagg.ErrBlamed) || errors.Is(err, secagg.ErrBelowThreshold) {
			// Out of this round (a neighbour complained about our
			// share, or too few usable peers): nothing was released.
			c.log.Warn("left out of secure aggregation", "round", round, "err", err)
			return c.quitSecure(ctx, conn, round)
		}
		if err != nil {
			return fmt.Errorf("client: round %d: %w", round, err)
		}
		clear(s.input)
		h := sha256.Sum256(b)
		if err := c.sendSecure(ctx, conn, round, st, encoded(b)); err != nil {
			return err
		}
		// The masked input is the release of this round's spend.
		return c.releaseAll(h, s.tenant, s.weight, s.intent)
	case secagg.StageConsistency:
		if len(msgs) != 1 {
			return fmt.Errorf("client: round %d: consistency stage carries %d messages, want 1", round, len(msgs))
		}
		var req secagg.ConsistencyRequest
		if err := req.UnmarshalBinary(msgs[0]); err != nil {
			return fmt.Errorf("client: round %d: %w", round, err)
		}
		resp, err := s.c.SignSurvivors(&req)
		if err != nil {
			c.log.Warn("refused to sign the survivor set", "round", round, "err", err)
			return c.quitSecure(ctx, conn, round)
		}
		out = append(out, resp)
	case secagg.StageUnmask:
		if len(msgs) != 1 {
			return fmt.Errorf("client: round %d: unmask stage carries %d messages, want 1", round, len(msgs))
		}
		var req secagg.UnmaskRequest
		if err := req.UnmarshalBinary(msgs[0]); err != nil {
			return fmt.Errorf("client: round %d: %w", round, err)
		}
		if n := len(req.Survivors); s.shares > 0 && n < s.shares {
			// The noise (tenant-level, or record-level in the
			// distributed mode) is calibrated to s.shares noise
			// shares; a sum of fewer carries less noise than the
			// accounting assumes (issue #13 finding 4). Not unmasked.
			c.log.Warn("refused unmask request: fewer survivors than the noise shares the ε assumes", "round", round, "survivors", n, "shares", s.shares)
			// Left, not just forgotten: later polls of this round must
			// not end this client.
			return c.quitSecure(ctx, conn, round)
		}
		resp, err := s.c.Unmask(&req)
		if err != nil {
			// Refusing is the point: a request that could unmask an
			// individual input gets no answer.
			c.log.Warn("refused unmask request", "round", round, "err", err)
			return c.quitSecure(ctx, conn, round)
		}
		out = append(out, resp)
		c.leaveSecure(round)
	default:
		return fmt.Errorf("client: coordinator sent unexpected secure stage %s", st)
	}
	return c.sendSecure(ctx, conn, round, st, out...)
}

// leftRoundPause is how long a client that left a secure round waits
// before polling again when the coordinator still serves that round's
// stage to it.
const leftRoundPause = 50 * time.Millisecond

// leaveSecure ends this client's part in the secure round: nothing more
// is released for it, and its remaining stages are ignored.
func (c *Client) leaveSecure(round int) {
	c.sec = nil
	c.secLeft = round
}

// quitSecure leaves the secure round (leaveSecure) instead of answering
// its current stage, and tells the coordinator (coordinator.StageLeave),
// so that the stage does not wait for this client until its deadline.
// The notice is best effort: if it is lost or refused, the coordinator
// counts this client as dropped at the deadline, as before.
func (c *Client) quitSecure(ctx context.Context, conn api.FederationClient, round int) error {
	c.leaveSecure(round)
	step := &api.SecAggStep{Round: int64(round), Stage: stageLeave}
	err := c.send(ctx, conn, &api.SubmitRequest{Tenant: c.cfg.Tenant, Round: int64(round), Payload: &api.SubmitRequest_Secagg{Secagg: step}})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.log.Info("the coordinator did not take the leave notice", "round", round, "err", err)
	}
	return nil
}

// stageLeave is coordinator.StageLeave (the client does not import the
// coordinator).
const stageLeave = "leave"

type binaryMessage interface{ MarshalBinary() ([]byte, error) }

// encoded is a message already in its wire encoding.
type encoded []byte

func (e encoded) MarshalBinary() ([]byte, error) { return e, nil }

func (c *Client) sendSecure(ctx context.Context, conn api.FederationClient, round int, st secagg.Stage, ms ...binaryMessage) error {
	if h := c.cfg.Hooks.BeforeStage; h != nil {
		if err := h(round, st.String()); err != nil {
			return err
		}
	}
	step := &api.SecAggStep{Round: int64(round), Stage: st.String()}
	for _, m := range ms {
		b, err := m.MarshalBinary()
		if err != nil {
			return err
		}
		step.Messages = append(step.Messages, b)
	}
	if h := c.cfg.Hooks.TamperSecure; h != nil {
		step.Messages = h(round, st.String(), step.Messages)
	}
	err := c.send(ctx, conn, &api.SubmitRequest{Tenant: c.cfg.Tenant, Round: int64(round), Payload: &api.SubmitRequest_Secagg{Secagg: step}})
	if err != nil {
		return fmt.Errorf("client: send %s of round %d: %w", st, round, err)
	}
	return nil
}

// EncodeTenantLevel writes into dst (len codec.Params().PaddedDim()) the
// words a client sends into secure aggregation in a tenant-level round:
// vec clipped, rotated with the round's session seed, rounded and noised
// with this client's share of the distributed discrete Gaussian. The
// empirical audit (simulate/empirical) releases through it.
func EncodeTenantLevel(dst []uint32, codec *ddg.Codec, vec []float64, sessionSeed []byte, rng *mrand.Rand) (ddg.EncodeStats, error) {
	var seed [32]byte
	copy(seed[:], sessionSeed)
	return codec.Encode(dst, vec, protocol.RotationSeed(seed), rng)
}

// tenantParams is the ledger record of one round of dp.
func tenantParams(dp *ddg.Params) ledger.Params {
	return ledger.Params{Steps: 1, Dim: dp.Dim, ClipNorm: dp.ClipNorm, Gamma: dp.Gamma, ShareSigma: dp.Sigma,
		Beta: dp.Beta, Shares: dp.Threshold, CohortSize: dp.Cohort, Bits: dp.Bits}
}

// TenantLevelChecker is implemented by spend logs that can say, before
// anything is trained or recorded, whether a tenant-level release fits
// the tenant's cap; a client then declines a round that would not.
type TenantLevelChecker interface {
	CheckTenantLevel(p ledger.Params, delta, cap float64) (eps float64, ok bool, err error)
}

// tenantLevelDecline returns why the tenant declines plan p's tenant-level
// release (its cap, Policy.TenantEpsilon, would be exceeded, or the round
// adds no tenant-level noise at all: ε = ∞), or "".
func (c *Client) tenantLevelDecline(p *api.TrainPlan) (string, error) {
	var dp *ddg.Params
	if p.GetSecure() {
		var err error
		if dp, err = tenantDP(p, c.learner.NumParams()); err != nil {
			return "", err
		}
	}
	capEps := c.cfg.Policy.TenantEpsilon
	if ex := exactOnRecord(c.cfg.Spends.Spends()); len(ex) > 0 && c.cfg.Policy.RequireNoisedCounts {
		return fmt.Sprintf("tenant-level ε is ∞ since the exact release of task %q round %d, and this tenant no longer allows exact releases", ex[0].Task, ex[0].Round), nil
	}
	if capEps == 0 {
		return "", nil
	}
	// With a cap, a round without tenant-level noise (a plain round, or
	// a secure one whose plan omits the distributed discrete Gaussian)
	// has tenant-level ε = ∞: declined, or a coordinator could bypass
	// the cap by leaving the noise out.
	if !p.GetSecure() {
		return fmt.Sprintf("round %d is not securely aggregated, so its tenant-level ε is ∞, above this tenant's tenant-level cap %g", p.GetRound(), capEps), nil
	}
	if dp == nil {
		return fmt.Sprintf("round %d adds no tenant-level noise (no distributed discrete Gaussian), so its tenant-level ε is ∞, above this tenant's tenant-level cap %g", p.GetRound(), capEps), nil
	}
	chk, ok := c.cfg.Spends.(TenantLevelChecker)
	if !ok {
		return "", fmt.Errorf("a tenant-level cap of %g needs a spend log that checks tenant-level releases (%T does not)", capEps, c.cfg.Spends)
	}
	eps, fits, err := chk.CheckTenantLevel(tenantParams(dp), p.GetTenantDelta(), capEps)
	if err != nil {
		return "", err
	}
	if !fits {
		return fmt.Sprintf("round %d would raise tenant-level ε to %.4g, above this tenant's cap %g", p.GetRound(), eps, capEps), nil
	}
	return "", nil
}

// tenantDP rebuilds a round's distributed discrete Gaussian parameters
// from its plan (nil when the round has no tenant-level DP) and checks them.
func tenantDP(p *api.TrainPlan, dim int) (*ddg.Params, error) {
	if p.GetDdgGamma() == 0 || p.GetRecordDistributed() {
		return nil, nil
	}
	clip := p.GetUpdateClip()
	if w := p.GetBitWeight(); w > 0 {
		// Adaptive clipping: the clipped-or-not bit is one more coordinate.
		dim++
		clip = adaptive.JointClipNorm(clip, w)
	}
	dp := ddg.Params{Dim: dim, ClipNorm: clip, Gamma: p.GetDdgGamma(), Sigma: p.GetDdgSigma(), Beta: p.GetDdgBeta(),
		Threshold: int(p.GetDdgShares()), Cohort: len(p.GetCohort()), Bits: int(p.GetBits()), MaxWrapProb: ddg.DefaultMaxWrapProb}
	if err := dp.Validate(); err != nil {
		return nil, fmt.Errorf("tenant-level DP parameters: %w", err)
	}
	return &dp, nil
}
