package coordinator

import (
	"crypto/ed25519"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/fedb2b/fedb2b/aggregation"
	"github.com/fedb2b/fedb2b/privacy/adaptive"
	"github.com/fedb2b/fedb2b/privacy/ddg"
	"github.com/fedb2b/fedb2b/protocol"
)

type stage int

const (
	stWaiting stage = iota // waiting for enough tenants
	stTrain
	stEval
	stDone
)

func (s stage) String() string {
	return [...]string{"waiting", "train", "evaluate", "done"}[s]
}

type tenant struct {
	name     string
	lastSeen time.Time
	ready    bool // has polled: its data is prepared
	told     bool // was answered ActFinished
	identity ed25519.PublicKey
	cert     []byte // DER client certificate binding identity (nil without TLS)
	epsCap   float64
	epsSpent float64
	delta    float64
	// since lists the rounds aggregated with this tenant since it joined,
	// for the coordinator's own estimate of its spend.
	since []protocol.TrainParams
}

type answer int

const (
	pending answer = iota
	declined
	submitted
)

// round is the state of the current round.
type round struct {
	number   int
	stage    stage
	deadline time.Time
	cohort   []string
	answers  map[string]answer
	reasons  map[string]string
	sum      []float64 // running Σ w·Δ: O(d) whatever the cohort size
	weight   float64
	// evaluation of the version this round produced
	evalSet   map[string]answer
	stats     []int64
	sec       *secureRound // nil on the plain path
	artifacts map[string][32]byte
}

// Federation is the coordinator's pure state machine. It is not safe for
// concurrent use; Service serialises calls.
type Federation struct {
	cfg      Config
	tenants  map[string]*tenant
	versions [][]float64 // versions[v] = global parameters of version v
	cur      *round
	finished bool
	reason   string
	failed   int // consecutive abandoned rounds
	done     int // rounds that aggregated
	events   []Event
	rr       int // round-robin offset for cohort choice
	next     int // number of the next round
	epsCache map[epsKey]float64
	clipper  *adaptive.Clipper // adaptive clipping of tenant-level DP rounds
	// notices holds, per tenant, the abort notice of a secure round it
	// was still part of; the next Poll delivers it.
	notices map[string]Action
	// recordPlans caches the record-level distributed mode's parameters
	// per cohort size.
	recordPlans map[int]ddg.Record
	// avg is the published iterate average (Config.AverageDecay), nil
	// when the last version is published.
	avg *aggregation.IterateAverage
}

// New returns a federation whose version 0 is initial (copied).
func New(cfg Config, initial []float64) (*Federation, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if len(initial) != cfg.Task.NumParams {
		return nil, fmt.Errorf("coordinator: initial model has %d parameters, task has %d", len(initial), cfg.Task.NumParams)
	}
	var clipper *adaptive.Clipper
	if sc := cfg.Secure; sc != nil && sc.TenantDP != nil && sc.AdaptiveClip != nil {
		ac := *sc.AdaptiveClip
		ac.InitialClip = sc.ClipNorm
		c, err := adaptive.New(ac)
		if err != nil {
			return nil, fmt.Errorf("coordinator: %w", err)
		}
		clipper = c
	}
	f := &Federation{
		clipper:  clipper,
		cfg:      cfg,
		tenants:  map[string]*tenant{},
		versions: [][]float64{slices.Clone(initial)},
		notices:  map[string]Action{},
		next:     1,
	}
	if cfg.AverageDecay > 0 {
		f.avg = &aggregation.IterateAverage{Decay: cfg.AverageDecay}
	}
	if err := f.warmRecord(); err != nil {
		return nil, err
	}
	return f, nil
}

// NewResumed returns a federation that continues from rs (see Durable):
// its newest version is rs.Version with rs.Params, rs.RoundsDone rounds
// count as done, and the next round is numbered rs.NextRound.
func NewResumed(cfg Config, rs ResumeState) (*Federation, error) {
	f, err := New(cfg, rs.Params)
	if err != nil {
		return nil, err
	}
	if rs.Version < 0 || rs.RoundsDone < 0 || rs.NextRound < 1 {
		return nil, fmt.Errorf("coordinator: invalid resume state (version %d, %d rounds done, next round %d)", rs.Version, rs.RoundsDone, rs.NextRound)
	}
	f.versions = make([][]float64, rs.Version+1) // older versions stay in the store
	f.versions[rs.Version] = slices.Clone(rs.Params)
	f.done, f.next = rs.RoundsDone, rs.NextRound
	if f.avg != nil && rs.Version > 0 {
		// The average is not stored (nor are FedAdam's moments): it
		// restarts from the version resumed.
		if err := f.avg.Add(rs.Params); err != nil {
			return nil, fmt.Errorf("coordinator: %w", err)
		}
	}
	return f, nil
}

// Task returns the task specification.
func (f *Federation) Task() protocol.TaskSpec { return f.cfg.Task }

// Latest returns the newest global version number.
func (f *Federation) Latest() int { return len(f.versions) - 1 }

// keptVersions is how many of the newest versions stay in memory: the
// latest and the one before it (a straggler of the round that produced the
// latest may still download it). Older ones live only in the driver's
// store, so memory is O(d) whatever the number of rounds.
const keptVersions = 2

// forgetOld drops versions older than the kept ones.
func (f *Federation) forgetOld() {
	if n := len(f.versions) - keptVersions - 1; n >= 0 {
		f.versions[n] = nil
	}
}

// Model returns the parameters of version v (shared; do not modify).
func (f *Federation) Model(v int) ([]float64, bool) {
	if v < 0 || v >= len(f.versions) || f.versions[v] == nil {
		return nil, false
	}
	return f.versions[v], true
}

// Published returns the model the federation publishes (shared; do not
// modify): the iterate average of the versions the rounds produced with
// Config.AverageDecay, else (or before any round) the latest version.
func (f *Federation) Published() []float64 {
	if f.avg != nil && f.avg.Count() > 0 {
		return f.avg.Average()
	}
	return f.versions[f.Latest()]
}

// Finished reports whether the federation has ended, and why.
func (f *Federation) Finished() (bool, string) { return f.finished, f.reason }

// Events returns and clears the events recorded since the last call.
func (f *Federation) Events() []Event {
	ev := f.events
	f.events = nil
	return ev
}

// JoinInfo is what a tenant announces when it joins.
type JoinInfo struct {
	EncoderID string
	EpsCap    float64
	EpsSpent  float64
	Delta     float64
	// IdentityKey is the tenant's long-term ed25519 key (secure rounds).
	IdentityKey ed25519.PublicKey
	// Certificate is the tenant's verified DER client certificate (nil
	// without TLS), checked by the caller to bind IdentityKey; plans relay
	// it to peers.
	Certificate []byte
}

// Join registers (or re-registers, after a restart) a tenant.
func (f *Federation) Join(name string, info JoinInfo, now time.Time) error {
	if err := checkTenantName(name); err != nil {
		return err
	}
	if info.EncoderID != f.cfg.Task.EncoderID {
		return fmt.Errorf("%w: tenant %q has %q, task %q needs %q", ErrEncoderMismatch, name, info.EncoderID, f.cfg.Task.ID, f.cfg.Task.EncoderID)
	}
	t := f.tenants[name]
	if t == nil {
		t = &tenant{name: name}
		f.tenants[name] = t
	}
	if f.cfg.Secure != nil && len(info.IdentityKey) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: tenant %q sent a %d-byte identity key, secure aggregation needs an ed25519 key", ErrBadTenant, name, len(info.IdentityKey))
	}
	if t.epsSpent != info.EpsSpent || len(t.since) == 0 {
		t.since = nil // a (re)join announces the spend so far
	}
	t.lastSeen, t.epsCap, t.epsSpent, t.delta = now, info.EpsCap, info.EpsSpent, info.Delta
	t.identity = slices.Clone(info.IdentityKey)
	t.cert = slices.Clone(info.Certificate)
	f.advance(now)
	return nil
}

func checkTenantName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("%w: %q must have 1 to 64 characters", ErrBadTenant, name)
	}
	for i, r := range name {
		ok := r == '-' || r == '_' || r == '.' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
		if !ok {
			return fmt.Errorf("%w: %q has %q at byte %d (allowed: letters, digits, '-', '_', '.')", ErrBadTenant, name, r, i)
		}
	}
	return nil
}

// Touch records that tenant name is alive (it downloads a model, say)
// without asking for an action: unlike Poll it neither advances the
// federation nor hands out a pending notice.
func (f *Federation) Touch(name string, now time.Time) error {
	t := f.tenants[name]
	if t == nil {
		return fmt.Errorf("%w: %q has not joined", ErrUnknownTenant, name)
	}
	t.lastSeen = now
	return nil
}

// Poll tells tenant name what to do now.
func (f *Federation) Poll(name string, now time.Time) (Action, error) {
	t := f.tenants[name]
	if t == nil {
		return Action{}, fmt.Errorf("%w: %q has not joined", ErrUnknownTenant, name)
	}
	t.lastSeen, t.ready = now, true
	f.advance(now)
	if f.finished {
		t.told = true
		return Action{Kind: ActFinished, Version: f.Latest(), Reason: f.reason}, nil
	}
	if a, ok := f.notices[name]; ok {
		delete(f.notices, name)
		return a, nil
	}
	wait := Action{Kind: ActWait, Retry: f.cfg.Retry}
	r := f.cur
	if r == nil {
		return wait, nil
	}
	switch r.stage {
	case stTrain:
		if r.sec != nil {
			if a, ok := f.securePoll(r, name); ok {
				return a, nil
			}
			return wait, nil
		}
		if a, ok := r.answers[name]; ok && a == pending {
			return Action{Kind: ActTrain, Plan: f.plan(r)}, nil
		}
	case stEval:
		if a, ok := r.evalSet[name]; ok && a == pending {
			return Action{Kind: ActEval, Round: r.number, Version: f.Latest(), EvalEps: f.cfg.EvalEpsilon}, nil
		}
	}
	return wait, nil
}

// Untold counts, once the federation has finished, the tenants seen within
// the last active duration that have not yet been told so (their next poll
// would be): a coordinator that stops before they poll again leaves them
// retrying a closed port. Tenants silent for longer (dropped, stopped)
// are not counted.
func (f *Federation) Untold(now time.Time, active time.Duration) int {
	n := 0
	for _, t := range f.tenants {
		if !t.told && now.Sub(t.lastSeen) <= active {
			n++
		}
	}
	return n
}

// plan is round r's training instruction.
func (f *Federation) plan(r *round) *Plan {
	p := &Plan{
		Round:      r.number,
		Version:    f.Latest(),
		Params:     f.cfg.Train,
		Deadline:   r.deadline,
		MinClients: f.cfg.MinClients,
		Cohort:     slices.Clone(r.cohort),
	}
	if r.sec != nil {
		sp := r.sec.plan
		p.Secure = &sp
		recordTrain(p)
	}
	return p
}

// Tick moves the federation on at time now: deadlines pass, rounds start.
func (f *Federation) Tick(now time.Time) { f.advance(now) }

// live lists the ready tenants seen within one round timeout, sorted.
func (f *Federation) live(now time.Time) []string {
	var out []string
	for name, t := range f.tenants {
		if t.ready && now.Sub(t.lastSeen) <= f.cfg.RoundTimeout {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// advance applies every transition that time or answers allow.
func (f *Federation) advance(now time.Time) {
	for !f.finished {
		r := f.cur
		switch {
		case r == nil || r.stage == stDone:
			if !f.startRound(now) {
				return
			}
		case r.stage == stTrain && r.sec != nil:
			if !f.advanceSecure(now) {
				return
			}
		case r.stage == stTrain:
			if !f.allAnswered(r.answers) && now.Before(r.deadline) {
				return
			}
			f.closeTrain(now)
		case r.stage == stEval:
			if !f.allAnswered(r.evalSet) && now.Before(r.deadline) {
				return
			}
			f.closeEval(now)
		default:
			return
		}
	}
}

func (f *Federation) allAnswered(m map[string]answer) bool {
	for _, a := range m {
		if a == pending {
			return false
		}
	}
	return true
}

func (f *Federation) startRound(now time.Time) bool {
	if f.done >= f.cfg.Rounds {
		f.finish(now, fmt.Sprintf("completed %d rounds", f.done))
		return false
	}
	live := f.live(now)
	if (f.cur == nil && len(live) < f.cfg.MinJoined) || len(live) < f.cfg.MinClients {
		return false
	}
	skipped := map[string]string{}
	live = slices.DeleteFunc(live, func(name string) bool {
		if reason := f.budgetShort(name); reason != "" {
			skipped[name] = reason
			return true
		}
		return false
	})
	if len(live) < f.cfg.MinClients {
		if len(skipped) > 0 && len(live)+len(skipped) >= f.cfg.MinClients {
			f.finish(now, fmt.Sprintf("only %d tenants have budget left for another round, need %d", len(live), f.cfg.MinClients))
		}
		return false
	}
	cohort := live
	if n := f.cfg.CohortSize; n > 0 && n < len(live) {
		cohort = make([]string, 0, n)
		for i := 0; i < n; i++ {
			cohort = append(cohort, live[(f.rr+i)%len(live)])
		}
		f.rr = (f.rr + n) % len(live)
		slices.Sort(cohort)
	}
	number := f.next
	f.next++
	r := &round{
		number:    number,
		stage:     stTrain,
		deadline:  now.Add(f.cfg.RoundTimeout),
		cohort:    cohort,
		answers:   map[string]answer{},
		reasons:   map[string]string{},
		sum:       make([]float64, f.cfg.Task.NumParams),
		artifacts: map[string][32]byte{},
	}
	for _, c := range cohort {
		r.answers[c] = pending
	}
	f.cur = r
	f.events = append(f.events, Event{Kind: EvRoundStarted, Round: number, Version: f.Latest(), Time: now, Cohort: slices.Clone(cohort), Declined: skipped})
	if f.cfg.Secure != nil {
		if err := f.startSecure(r); err != nil {
			f.abandon(now, fmt.Sprintf("cannot set up secure aggregation: %v", err))
		}
	}
	return true
}

func (f *Federation) closeTrain(now time.Time) {
	r := f.cur
	var parts []string
	for _, name := range r.cohort {
		if r.answers[name] == submitted {
			parts = append(parts, name)
		}
	}
	if len(parts) < f.cfg.MinClients {
		f.abandon(now, fmt.Sprintf("%d of %d invited tenants sent an update, need %d", len(parts), len(r.cohort), f.cfg.MinClients))
		return
	}
	f.aggregate(now, parts, aggregation.Aggregate{WeightedSum: r.sum, TotalWeight: r.weight, Clients: len(parts)})
}

// roundEvent describes the current round's training outcome.
func (f *Federation) roundEvent(now time.Time, parts []string) Event {
	r := f.cur
	ev := Event{Round: r.number, Time: now, Cohort: slices.Clone(r.cohort), Participants: parts, Declined: maps.Clone(r.reasons)}
	for _, name := range r.cohort {
		if r.answers[name] == pending || (r.sec != nil && r.sec.dropped[name] != "") {
			ev.Dropped = append(ev.Dropped, name)
		}
	}
	if r.sec != nil {
		ev.DroppedAt = maps.Clone(r.sec.dropped)
		for _, b := range r.sec.server.Blamed() {
			ev.Blamed = append(ev.Blamed, fmt.Sprintf("%s: %s", r.sec.params.Participant(b.Accused).ID, b.Reason))
		}
	}
	return ev
}

// abandon ends the current round without a new version. Clients still in a
// secure session are told why at their next Poll.
func (f *Federation) abandon(now time.Time, reason string) {
	r := f.cur
	ev := f.roundEvent(now, nil)
	f.failed++
	ev.Kind, ev.Version, ev.Reason = EvRoundAbandoned, f.Latest(), reason
	if r.sec != nil && r.sec.plan.DDG != nil && len(r.sec.advertised) > 0 {
		ev.TenantDP, ev.TenantDelta, ev.TenantCharged = r.sec.plan.DDG, r.sec.plan.TenantDelta, r.sec.advertised
	}
	f.events = append(f.events, ev)
	if r.sec != nil {
		notice := r.sec.server.Abort(reason)
		b, err := notice.MarshalBinary()
		if err == nil {
			for _, name := range r.cohort {
				if r.sec.dropped[name] == "" && r.answers[name] != declined {
					f.notices[name] = Action{Kind: ActSecAgg, Round: r.number, Stage: "abort", Messages: [][]byte{b}, Reason: reason}
				}
			}
		}
	}
	r.stage, r.sum, r.sec = stDone, nil, nil
	if f.failed >= f.cfg.MaxFailedRounds {
		f.finish(now, fmt.Sprintf("%d consecutive rounds abandoned; last: %s", f.failed, reason))
	}
}

// aggregate applies the strategy to the round's aggregate and starts the
// evaluation of the new version.
func (f *Federation) aggregate(now time.Time, parts []string, agg aggregation.Aggregate) {
	r := f.cur
	if len(parts) < f.cfg.MinClients {
		f.abandon(now, fmt.Sprintf("%d tenants are in the sum, need %d", len(parts), f.cfg.MinClients))
		return
	}
	next, err := f.cfg.Strategy.AggregateFit(r.number, f.versions[f.Latest()], agg, nil)
	if err == nil && f.avg != nil {
		err = f.avg.Add(next) // checks the length before changing anything
	}
	if err != nil {
		f.abandon(now, err.Error())
		return
	}
	ev := f.roundEvent(now, parts)
	if r.sec != nil && r.sec.plan.DDG != nil {
		ev.TenantDP, ev.TenantDelta = r.sec.plan.DDG, r.sec.plan.TenantDelta
	}
	if r.sec != nil {
		ev.UpdateClip = r.sec.plan.ClipNorm
	}
	ev.Artifacts = map[string][32]byte{}
	for _, name := range parts {
		if h, ok := r.artifacts[name]; ok {
			ev.Artifacts[name] = h
		}
	}
	for _, name := range parts {
		if t := f.tenants[name]; t != nil {
			t.since = append(t.since, f.cfg.Train)
		}
	}
	r.sum, r.sec = nil, nil
	f.failed = 0
	f.done++
	f.versions = append(f.versions, next)
	f.forgetOld()
	ev.Kind, ev.Version = EvRoundAggregated, f.Latest()
	if e := f.cfg.EvalEvery; f.cfg.SkipEvaluation || (e > 1 && f.done%e != 0 && f.done < f.cfg.Rounds) {
		ev.EvalSkipped = true
		f.events = append(f.events, ev)
		r.stage = stDone
		return
	}
	f.events = append(f.events, ev)
	// Evaluate the new version on every live tenant's held-out split.
	r.stage = stEval
	r.deadline = now.Add(f.cfg.RoundTimeout)
	r.evalSet = map[string]answer{}
	for _, name := range f.live(now) {
		r.evalSet[name] = pending
	}
	r.stats = make([]int64, f.cfg.Task.EvalLen)
	f.events = append(f.events, Event{Kind: EvStage, Round: r.number, Version: f.Latest(), Time: now, Stage: stEval.String()})
}

func (f *Federation) closeEval(now time.Time) {
	r := f.cur
	var evals, declines []string
	for name, a := range r.evalSet {
		switch a {
		case submitted:
			evals = append(evals, name)
		case declined:
			declines = append(declines, name)
		}
	}
	slices.Sort(evals)
	slices.Sort(declines)
	f.events = append(f.events, Event{Kind: EvEvaluated, Round: r.number, Version: f.Latest(), Time: now,
		Stats: r.stats, Evaluators: evals, EvalDecline: declines, EvalEpsilon: f.cfg.EvalEpsilon})
	r.stage = stDone
}

func (f *Federation) finish(now time.Time, reason string) {
	f.finished, f.reason = true, reason
	f.events = append(f.events, Event{Kind: EvFinished, Version: f.Latest(), Time: now, Reason: reason})
}
