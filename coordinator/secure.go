package coordinator

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/fedb2b/fedb2b/aggregation"
	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/privacy/adaptive"
	"github.com/fedb2b/fedb2b/privacy/ddg"
	"github.com/fedb2b/fedb2b/privacy/ledger"
	"github.com/fedb2b/fedb2b/protocol"
)

// SecureConfig turns on secure aggregation (SecAgg+, package
// aggregation/secagg): the coordinator then sees only masked vectors and
// learns only the sum of the surviving clients' clipped, quantised updates.
type SecureConfig struct {
	// Threshold t of the Shamir sharing; 0 takes max(⌊k/2⌋+1, c+1), the
	// smallest value the protocol and the corruption bound allow (most
	// dropout tolerance).
	Threshold int
	// MaxCorrupt c: cohort members that may collude with a malicious
	// coordinator which the session withstands (its consistency quorum is
	// ⌊(n+c)/2⌋+1 signatures). 0 takes ⌈n/3⌉−1, what a tenant's default
	// policy (secagg.Policy) requires; negative means 0 (tenants with the
	// default policy then refuse the round).
	MaxCorrupt int
	// Neighbours k of each client; 0 gives the full graph (plain SecAgg).
	Neighbours int
	// ClipNorm S bounds each client's update (L2) before quantisation.
	ClipNorm float64
	// Scale is the quantisation scale; 0 chooses the largest power of two
	// for which the cohort's sum cannot wrap in 32 bits, with 4× headroom.
	Scale float64
	// Rand draws each round's public graph seed; nil means crypto/rand.
	Rand io.Reader
	// MaxWeight > 0 makes FedAvg weighted inside secure aggregation: each
	// client adds w·clip(Δ, ClipNorm) and w, its example count capped at
	// MaxWeight, so only Σ w·Δ and Σ w are revealed. Ignored with TenantDP
	// (tenant-level sensitivity needs every tenant to count once).
	MaxWeight float64
	// MinTotalWeight is a public floor on the round's Σ w (weighted
	// rounds): a smaller total, which would amplify the weighted mean, is
	// refused (0: Σ w must be positive).
	MinTotalWeight float64
	// AdaptiveClip, with TenantDP, makes the clip norm follow a target
	// quantile of the update norms (Andrew et al. 2021): ClipNorm is the
	// start, and the clipped-or-not bits travel as one extra coordinate
	// under the same distributed noise (package privacy/adaptive).
	AdaptiveClip *adaptive.Config
	// TenantDP, if set, adds tenant-level DP: each client adds its share of
	// distributed discrete Gaussian noise (package privacy/ddg) so that the
	// sum of any MinClients survivors carries noise calibrated for
	// tenant-level (Epsilon, Delta) after all Rounds.
	TenantDP *TenantDP
	// RecordDP, if set, runs the record-level distributed mode (FedSGD
	// with the DP-SGD noise added inside secure aggregation; see RecordDP).
	RecordDP *RecordDP
}

// TenantDP is a tenant-level privacy target.
type TenantDP struct {
	Epsilon, Delta float64
}

// SecurePlan is the secure-aggregation part of a Plan.
type SecurePlan struct {
	Threshold, Neighbours int
	MaxCorrupt            int
	ClipNorm, Scale       float64
	Seed                  [32]byte
	Keys                  []ed25519.PublicKey // Keys[i] belongs to Plan.Cohort[i]
	// Certs[i] is the DER client certificate of Plan.Cohort[i] (nil
	// without TLS): peers that pin the CA take Keys[i] from it.
	Certs [][]byte
	// DDG holds the distributed discrete Gaussian parameters of a round
	// with tenant-level DP (nil otherwise); its Dim is the update's.
	DDG *ddg.Params
	// TenantDelta is the δ of the tenant-level guarantee.
	TenantDelta float64
	// MaxWeight > 0: weighted FedAvg (see SecureConfig.MaxWeight).
	MaxWeight float64
	// BitWeight > 0: adaptive clipping; ClipNorm is the round's clip C and
	// the DDG parameters are for the joint vector [clip(Δ, C), w·(b − ½)].
	BitWeight float64
	// Record holds the record-level distributed mode's parameters (nil
	// otherwise); its Dim is the number of parameters that train.
	Record *ddg.Record
}

// secureRound is the secure-aggregation state of one round.
type secureRound struct {
	plan    SecurePlan
	params  *secagg.Params
	server  *secagg.Server
	quant   secagg.Quantizer
	codec   *ddg.Codec      // tenant-level DP rounds
	expect  map[string]bool // whose message of the current stage is awaited
	sent    map[string]bool // who sent a valid one
	dropped map[string]string
	// left lists who said, in the current stage, that it left the round
	// (StageLeave) instead of answering.
	left []string
	// advertised lists who advertised keys: in a tenant-level round each
	// recorded its tenant-level spend before that, so an abandoned round
	// still counts for them.
	advertised []string
}

func (s *secureRound) stage() secagg.Stage { return s.server.Stage() }

// autoScale picks the largest power-of-two scale that keeps 4× headroom.
func autoScale(clip float64, cohort int) float64 {
	limit := float64(uint64(1)<<(secagg.Bits-1)) / float64(cohort) / 4
	scale := 1.0
	for (scale*2)*clip+2 < limit {
		scale *= 2
	}
	return scale
}

// startSecure sets up the secure-aggregation session of round r.
func (f *Federation) startSecure(r *round) error {
	sc := f.cfg.Secure
	n := len(r.cohort)
	k := sc.Neighbours
	if k == 0 || k >= n-1 {
		k = n - 1
	}
	c := sc.MaxCorrupt
	if c == 0 {
		c = secagg.Policy{}.Corrupt(n)
	}
	c = max(c, 0)
	t := sc.Threshold
	if t == 0 {
		t = max(k/2+1, c+1)
	}
	if t <= c || t > k {
		return fmt.Errorf("coordinator: secure aggregation with %d neighbours cannot have a threshold t with %d < t ≤ %d (threshold %d): raise Neighbours or lower MaxCorrupt", k, c, k, t)
	}
	plan := SecurePlan{Threshold: t, Neighbours: k, MaxCorrupt: c, ClipNorm: sc.ClipNorm, Scale: sc.Scale}
	if f.clipper != nil {
		plan.ClipNorm = f.clipper.Clip()
	}
	if plan.Scale == 0 {
		plan.Scale = autoScale(sc.ClipNorm, n)
	}
	src := sc.Rand
	if src == nil {
		src = rand.Reader
	}
	if _, err := io.ReadFull(src, plan.Seed[:]); err != nil {
		return fmt.Errorf("coordinator: graph seed: %w", err)
	}
	parts := make([]secagg.Participant, n)
	for i, name := range r.cohort {
		key := f.tenants[name].identity
		plan.Keys = append(plan.Keys, key)
		plan.Certs = append(plan.Certs, f.tenants[name].cert)
		parts[i] = secagg.Participant{ID: name, IdentityKey: key}
	}
	q := secagg.Quantizer{ClipNorm: plan.ClipNorm, Scale: plan.Scale}
	dim := f.cfg.Task.NumParams
	var codec *ddg.Codec
	if sc.RecordDP != nil {
		rec, err := f.recordPlan(n)
		if err != nil {
			return err
		}
		if codec, err = ddg.NewCodec(rec.Params); err != nil {
			return err
		}
		plan.Record, plan.ClipNorm, plan.Scale = &rec, rec.ClipNorm, 0
		dim = rec.PaddedDim()
	} else if dp := sc.TenantDP; dp != nil {
		clip := plan.ClipNorm
		if f.clipper != nil {
			// The bit weight equals the clip: the bit sum then sees noise
			// σ_tot/C, the same multiplier as the updates, at the cost of
			// a joint norm √(C² + C²/4) ≈ 1.12·C.
			plan.BitWeight = plan.ClipNorm
			clip = adaptive.JointClipNorm(plan.ClipNorm, plan.BitWeight)
			dim++
		}
		// The noise is split into at most t − c + 1 shares: a sum the
		// coordinator can learn holds at least that many honest
		// contributions (secagg.Policy.CheckNoiseShares).
		p, err := ddg.Plan(ddg.Goal{Epsilon: dp.Epsilon, Delta: dp.Delta, Rounds: f.cfg.Rounds, Dim: dim,
			ClipNorm: clip, Threshold: min(f.cfg.MinClients, secagg.MinHonestInSum(t, c)), Cohort: n, Bits: secagg.Bits})
		if err != nil {
			return fmt.Errorf("tenant-level DP plan: %w", err)
		}
		if codec, err = ddg.NewCodec(p); err != nil {
			return err
		}
		plan.DDG, plan.TenantDelta, plan.Scale = &p, dp.Delta, 0
		dim = p.PaddedDim()
	} else {
		if sc.MaxWeight > 0 {
			plan.MaxWeight = sc.MaxWeight
			q.ClipNorm = protocol.WeightedClip(sc.ClipNorm, sc.MaxWeight)
			dim++ // the weight is the last coordinate
			if sc.Scale == 0 {
				plan.Scale = autoScale(q.ClipNorm, n)
				q.Scale = plan.Scale
			}
		}
		if err := q.CheckRange(n); err != nil {
			return err
		}
	}
	params, err := secagg.NewParams(secagg.Config{Round: uint64(r.number), Participants: parts, Threshold: t,
		Neighbours: k, Dim: dim, GraphSeed: plan.Seed, MaxCorrupt: c, Context: []byte(f.cfg.Task.ID)})
	if err != nil {
		return err
	}
	server, err := secagg.NewServer(params)
	if err != nil {
		return err
	}
	r.sec = &secureRound{plan: plan, params: params, server: server, quant: q, codec: codec,
		expect: map[string]bool{}, sent: map[string]bool{}, dropped: map[string]string{}}
	for _, name := range r.cohort {
		r.sec.expect[name] = true
	}
	return nil
}

// securePoll answers a cohort member's Poll during a secure round.
func (f *Federation) securePoll(r *round, name string) (Action, bool) {
	s := r.sec
	if !s.expect[name] || s.sent[name] || r.answers[name] == declined {
		return Action{}, false
	}
	st := s.stage()
	if st == secagg.StageAdvertise {
		return Action{Kind: ActTrain, Plan: f.plan(r)}, true
	}
	idx, _ := s.params.Index(name)
	var msgs [][]byte
	var err error
	switch st {
	case secagg.StageShareKeys:
		var ads []*secagg.AdvertiseMsg
		if ads, err = s.server.AdvertsFor(idx); err == nil {
			msgs, err = marshalAll(ads)
		}
	case secagg.StageCheckShares:
		var sh []*secagg.EncryptedShare
		if sh, err = s.server.SharesFor(idx); err == nil {
			msgs, err = marshalAll(sh)
		}
	case secagg.StageMaskedInput:
		var req *secagg.MaskRequest
		if req, err = s.server.MaskRequestFor(idx); err == nil {
			msgs, err = marshalAll([]*secagg.MaskRequest{req})
		}
	case secagg.StageConsistency:
		var req *secagg.ConsistencyRequest
		if req, err = s.server.ConsistencyRequest(); err == nil {
			msgs, err = marshalAll([]*secagg.ConsistencyRequest{req})
		}
	case secagg.StageUnmask:
		var req *secagg.UnmaskRequest
		if req, err = s.server.UnmaskRequest(); err == nil {
			msgs, err = marshalAll([]*secagg.UnmaskRequest{req})
		}
	default:
		return Action{}, false
	}
	if err != nil {
		// The stage cannot serve this client (for example it sent no
		// shares); it will be counted as dropped at the deadline.
		return Action{}, false
	}
	return Action{Kind: ActSecAgg, Round: r.number, Stage: st.String(), Messages: msgs}, true
}

func marshalAll[T encoding.BinaryMarshaler](ms []T) ([][]byte, error) {
	out := make([][]byte, len(ms))
	for i, m := range ms {
		b, err := m.MarshalBinary()
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// StageLeave is the secure-aggregation "stage" a cohort member sends,
// with no messages, when it leaves the round instead of answering the
// current stage (too few neighbours advertised, it refused the relayed
// shares or a request, or it lost its session): the stage then stops
// waiting for it, as if it had dropped, instead of idling until the
// deadline. Before it advertises keys a tenant declines instead.
const StageLeave = "leave"

// SubmitSecAgg takes a client's message for the current secure stage.
func (f *Federation) SubmitSecAgg(name string, number int, stage string, msgs [][]byte, now time.Time) error {
	return f.submitSecAgg(name, number, stage, msgs, nil, now)
}

// submitSecAgg is SubmitSecAgg with the SHA-256 of a masked input
// (msgs[0]) computed by the caller, or nil to compute it here.
func (f *Federation) submitSecAgg(name string, number int, stage string, msgs [][]byte, digest *[32]byte, now time.Time) error {
	if _, err := f.checkRound(name, number, stTrain, now); err != nil && !isDup(err) {
		return err
	}
	s := f.cur.sec
	if s == nil {
		return fmt.Errorf("%w: round %d does not use secure aggregation", ErrWrongStage, number)
	}
	if f.cur.answers[name] == declined {
		return fmt.Errorf("%w: tenant %q declined round %d", ErrDuplicate, name, number)
	}
	st := s.stage()
	if stage == StageLeave {
		return f.leaveSecure(name, number, now)
	}
	if stage != st.String() {
		if prev, err := secagg.ParseStage(stage); err == nil && prev < st && s.expect[name] {
			// Awaited in a later stage, so its message of that stage
			// arrived: a retry after a lost reply.
			return fmt.Errorf("%w: tenant %q, round %d, stage %s (the round is in stage %s)", ErrDuplicate, name, number, stage, st)
		}
		return fmt.Errorf("%w: tenant %q sent a %s message, round %d is in secure stage %s", ErrWrongStage, name, stage, number, st)
	}
	if !s.expect[name] {
		return fmt.Errorf("%w: tenant %q is not expected in stage %s of round %d", ErrNotInvited, name, st, number)
	}
	if s.sent[name] {
		return fmt.Errorf("%w: tenant %q, round %d, stage %s", ErrDuplicate, name, number, st)
	}
	idx, _ := s.params.Index(name)
	if err := deliver(s.server, st, idx, msgs); err != nil {
		return fmt.Errorf("%w: tenant %q, round %d, stage %s: %w", ErrBadUpdate, name, number, st, err)
	}
	s.sent[name] = true
	if st == secagg.StageMaskedInput {
		if digest == nil {
			d := sha256.Sum256(msgs[0])
			digest = &d
		}
		f.cur.artifacts[name] = *digest
		f.received(name, ledger.KindMaskedInput, f.cur.artifacts[name], now)
	}
	if st == secagg.StageAdvertise {
		f.cur.answers[name] = submitted
	}
	f.advance(now)
	return nil
}

func isDup(err error) bool { return errors.Is(err, ErrDuplicate) }

// leaveSecure takes name's StageLeave in round number: it is no longer
// awaited in this round and counts as dropped in the current stage (its
// secrets are reconstructed, or it is excluded, exactly as for a silent
// drop-out). Leaving twice, or after the stage stopped awaiting it, is
// not an error: the tenant may not know whether its first notice arrived.
func (f *Federation) leaveSecure(name string, number int, now time.Time) error {
	s := f.cur.sec
	st := s.stage()
	if st == secagg.StageAdvertise && !s.sent[name] {
		return fmt.Errorf("%w: tenant %q leaves round %d before advertising keys: decline it instead", ErrWrongStage, name, number)
	}
	if !s.expect[name] || s.sent[name] {
		return nil // not awaited any more, or its answer stands
	}
	delete(s.expect, name)
	s.dropped[name] = st.String()
	s.left = append(s.left, name)
	f.advance(now)
	return nil
}

// deliver decodes msgs for stage st and hands them to the server.
func deliver(srv *secagg.Server, st secagg.Stage, from uint32, msgs [][]byte) error {
	one := func() ([]byte, error) {
		if len(msgs) != 1 {
			return nil, fmt.Errorf("%w: stage %s takes one message, got %d", secagg.ErrMalformed, st, len(msgs))
		}
		return msgs[0], nil
	}
	switch st {
	case secagg.StageAdvertise:
		b, err := one()
		if err != nil {
			return err
		}
		var m secagg.AdvertiseMsg
		if err := m.UnmarshalBinary(b); err != nil {
			return err
		}
		return srv.OnAdvertise(from, &m)
	case secagg.StageShareKeys:
		shares := make([]*secagg.EncryptedShare, len(msgs))
		for i, b := range msgs {
			shares[i] = new(secagg.EncryptedShare)
			if err := shares[i].UnmarshalBinary(b); err != nil {
				return err
			}
		}
		return srv.OnShares(from, shares)
	case secagg.StageCheckShares:
		b, err := one()
		if err != nil {
			return err
		}
		var m secagg.ShareReceipt
		if err := m.UnmarshalBinary(b); err != nil {
			return err
		}
		return srv.OnReceipt(from, &m)
	case secagg.StageConsistency:
		b, err := one()
		if err != nil {
			return err
		}
		var m secagg.ConsistencyResponse
		if err := m.UnmarshalBinary(b); err != nil {
			return err
		}
		return srv.OnConsistency(from, &m)
	case secagg.StageMaskedInput:
		b, err := one()
		if err != nil {
			return err
		}
		return srv.OnMaskedInputWire(from, b) // decoded straight into the sum
	case secagg.StageUnmask:
		b, err := one()
		if err != nil {
			return err
		}
		var m secagg.UnmaskResponse
		if err := m.UnmarshalBinary(b); err != nil {
			return err
		}
		return srv.OnUnmask(from, &m)
	}
	return fmt.Errorf("%w: no messages are taken in stage %s", secagg.ErrWrongStage, st)
}

// advanceSecure closes the current secure stage when every expected client
// answered or the deadline passed. It returns false while waiting.
func (f *Federation) advanceSecure(now time.Time) bool {
	r := f.cur
	s := r.sec
	all := true
	for name := range s.expect {
		if !s.sent[name] && r.answers[name] != declined {
			all = false
			break
		}
	}
	if !all && now.Before(r.deadline) {
		return false
	}
	st := s.stage()
	next := map[string]bool{}
	var silent []string // expected in st, no message by the deadline
	for _, name := range r.cohort {
		if !s.expect[name] {
			continue
		}
		if s.sent[name] {
			next[name] = true
		} else if r.answers[name] != declined {
			s.dropped[name] = st.String()
			silent = append(silent, name)
		}
	}
	if st == secagg.StageAdvertise {
		s.advertised = slices.Sorted(maps.Keys(next))
	}
	if st == secagg.StageMaskedInput && s.plan.DDG != nil && len(next) < s.plan.DDG.Threshold {
		// The tenant-level noise is calibrated to DDG.Threshold shares:
		// unmasking fewer inputs would release an under-noised sum, so
		// the round stops before unmasking (issue #13 finding 4).
		f.abandon(now, fmt.Sprintf("secure aggregation stopped before unmasking: %d masked inputs, the tenant-level noise needs %d", len(next), s.plan.DDG.Threshold))
		return true
	}
	if st == secagg.StageMaskedInput && s.plan.Record != nil && len(next) < s.plan.Record.Threshold {
		// The record-level noise is calibrated to Record.Threshold honest
		// shares: fewer masked inputs carry less noise than every
		// tenant's ε assumes. Nothing is unmasked.
		f.abandon(now, fmt.Sprintf("secure aggregation stopped before unmasking: %d masked inputs, the record-level distributed noise needs %d honest shares", len(next), s.plan.Record.Threshold))
		return true
	}
	if err := s.server.CloseStage(st); err != nil {
		f.abandon(now, fmt.Sprintf("secure aggregation stopped in stage %s: %v (of the %d awaited, %d sent nothing and %d left)", st, err, len(silent)+len(next), len(silent), len(s.left)))
		return true
	}
	if s.server.Stage() == secagg.StageDone {
		f.finishSecure(now)
		return true
	}
	// Clients the server excluded when closing the stage (after the share
	// check: no receipt, or too few partners left after complaints) are
	// not waited for.
	drops := s.server.Dropouts()
	var excluded []string
	for name := range next {
		idx, _ := s.params.Index(name)
		if d, out := drops[idx]; out && d <= st {
			delete(next, name)
			s.dropped[name] = d.String()
			excluded = append(excluded, name)
		}
	}
	left := s.left
	s.expect, s.sent, s.left = next, map[string]bool{}, nil
	r.deadline = now.Add(f.cfg.RoundTimeout)
	slices.Sort(excluded)
	slices.Sort(left)
	f.events = append(f.events, Event{Kind: EvStage, Round: r.number, Version: f.Latest(), Time: now, Stage: s.server.Stage().String(),
		Participants: slices.Sorted(maps.Keys(next)), Dropped: silent, Excluded: excluded, Left: left, Closed: st.String(), ByDeadline: !all})
	return true
}

// finishSecure decodes the unmasked sum and aggregates it.
func (f *Federation) finishSecure(now time.Time) {
	r := f.cur
	s := r.sec
	sum, survivors, err := s.server.Result()
	if err != nil {
		f.abandon(now, fmt.Sprintf("secure aggregation result: %v", err))
		return
	}
	dec := make([]float64, len(sum))
	if s.plan.Record != nil {
		dec = dec[:s.plan.Record.Dim]
		if err := s.codec.Decode(dec, sum, protocol.RotationSeed(s.plan.Seed)); err != nil {
			f.abandon(now, fmt.Sprintf("record-level distributed DP decode: %v", err))
			return
		}
		parts := make([]string, len(survivors))
		for i, idx := range survivors {
			parts[i] = s.params.Participant(idx).ID
		}
		slices.Sort(parts)
		f.aggregate(now, parts, f.recordAggregate(dec, len(parts)))
		return
	}
	if s.codec != nil {
		dec = dec[:s.plan.DDG.Dim]
	}
	if s.codec != nil {
		if err := s.codec.Decode(dec, sum, protocol.RotationSeed(s.plan.Seed)); err != nil {
			f.abandon(now, fmt.Sprintf("tenant-level DP decode: %v", err))
			return
		}
	} else {
		s.quant.Decode(dec, sum)
		if err := checkSecureSum(s.plan, s.quant, f.cfg.Secure.MinTotalWeight, dec, len(survivors)); err != nil {
			f.abandon(now, fmt.Sprintf("secure aggregation sum refused: %v", err))
			return
		}
	}
	if w := s.plan.BitWeight; w > 0 {
		updates, bitSum, err := adaptive.DecodeBitSum(dec, w)
		if err == nil {
			_, err = f.clipper.Update(bitSum, len(survivors))
		}
		if err != nil {
			f.abandon(now, fmt.Sprintf("adaptive clipping: %v", err))
			return
		}
		dec = updates
	}
	parts := make([]string, len(survivors))
	for i, idx := range survivors {
		parts[i] = s.params.Participant(idx).ID
	}
	slices.Sort(parts)
	// Unweighted unless the plan asked for weights: then the last
	// coordinate is Σ w (only the sum of the capped example counts is
	// revealed).
	agg := aggregation.Aggregate{WeightedSum: dec, TotalWeight: float64(len(parts)), Clients: len(parts)}
	if s.plan.MaxWeight > 0 {
		d := f.cfg.Task.NumParams
		agg.WeightedSum, agg.TotalWeight = dec[:d], dec[d]
	}
	f.aggregate(now, parts, agg)
}

// checkSecureSum refuses a decoded (noise-free) sum that m honest clipped
// inputs cannot produce (secagg.SumBounds): secure aggregation hides each
// input, so a client that skipped clipping or claimed a huge weight shows
// only here. Rounds with tenant-level noise are not checked (the noise has
// no hard bound).
func checkSecureSum(plan SecurePlan, q secagg.Quantizer, minWeight float64, dec []float64, m int) error {
	b := secagg.SumBounds{Clients: m, ClipNorm: q.ClipNorm, Step: 1 / q.Scale, WeightIndex: -1}
	if plan.MaxWeight > 0 {
		// Every honest weight is at least min(1, cap) (a positive example
		// count, capped), so a smaller total is never honest; the floor
		// also keeps the rounding slack of the mean check below small.
		minWeight = max(minWeight, min(1, plan.MaxWeight))
		b.WeightIndex, b.MaxWeight, b.MinTotalWeight = len(dec)-1, plan.MaxWeight, minWeight
		// The mean of positively weighted clipped updates is no longer
		// than the clip: a hostile weight that shrinks Σ w is refused.
		b.UpdateClip = plan.ClipNorm
	}
	return b.Check(dec)
}
