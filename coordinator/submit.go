package coordinator

import (
	"fmt"
	"math"
	"time"

	"github.com/fedb2b/fedb2b/privacy/ledger"
	"github.com/fedb2b/fedb2b/protocol"
)

// checkRound validates that a message for round number and stage st from
// tenant name fits the current state, and returns the answer map it updates.
func (f *Federation) checkRound(name string, number int, st stage, now time.Time) (map[string]answer, error) {
	if f.finished {
		return nil, ErrFinished
	}
	t := f.tenants[name]
	if t == nil {
		return nil, fmt.Errorf("%w: %q has not joined", ErrUnknownTenant, name)
	}
	t.lastSeen = now
	f.advance(now)
	r := f.cur
	if r == nil || r.number != number {
		cur := 0
		if r != nil {
			cur = r.number
		}
		return nil, fmt.Errorf("%w: tenant %q sent round %d, current round is %d", ErrWrongRound, name, number, cur)
	}
	if r.stage != st {
		return nil, fmt.Errorf("%w: tenant %q sent a %s message, round %d is in stage %s", ErrWrongStage, name, st, number, r.stage)
	}
	set := r.answers
	if st == stEval {
		set = r.evalSet
	}
	a, ok := set[name]
	if !ok {
		return nil, fmt.Errorf("%w: tenant %q, round %d", ErrNotInvited, name, number)
	}
	if a != pending {
		return nil, fmt.Errorf("%w: tenant %q, round %d, stage %s", ErrDuplicate, name, number, st)
	}
	return set, nil
}

// Decline records that an invited tenant will not take part in round number.
func (f *Federation) Decline(name string, number int, reason string, now time.Time) error {
	set, err := f.checkRound(name, number, stTrain, now)
	if err != nil {
		return err
	}
	if len(reason) > 500 {
		reason = reason[:500] + "…"
	}
	if sec := f.cur.sec; sec != nil && (sec.stage().String() != "advertise" || sec.sent[name]) {
		return fmt.Errorf("%w: tenant %q can decline round %d only before it advertises keys", ErrWrongStage, name, number)
	}
	set[name] = declined
	f.cur.reasons[name] = reason
	f.advance(now)
	return nil
}

// CheckUpdate validates a plain update vector: NumParams values of w·Δ
// followed by the weight w > 0, all finite. It is pure, so the gRPC layer
// can call it before touching any state.
func CheckUpdate(values []float64, numParams int) error {
	if len(values) != numParams+1 {
		return fmt.Errorf("%w: %d values, want %d parameters plus the weight", ErrBadUpdate, len(values), numParams+1)
	}
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: value %d is %v", ErrBadUpdate, i, v)
		}
	}
	if w := values[numParams]; !(w > 0) {
		return fmt.Errorf("%w: weight %v must be positive", ErrBadUpdate, w)
	}
	return nil
}

// SubmitUpdate adds a plain update to the running sum of round number.
func (f *Federation) SubmitUpdate(name string, number int, values []float64, now time.Time) error {
	if err := CheckUpdate(values, f.cfg.Task.NumParams); err != nil {
		return fmt.Errorf("tenant %q, round %d: %w", name, number, err)
	}
	set, err := f.checkRound(name, number, stTrain, now)
	if err != nil {
		return err
	}
	r := f.cur
	if r.sec != nil {
		return fmt.Errorf("%w: round %d uses secure aggregation; a plain update from %q is refused", ErrWrongStage, number, name)
	}
	d := f.cfg.Task.NumParams
	for i, v := range values[:d] {
		r.sum[i] += v
	}
	r.weight += values[d]
	r.artifacts[name] = protocol.UpdateHash(values)
	f.received(name, ledger.KindUpdate, r.artifacts[name], now)
	set[name] = submitted
	f.advance(now)
	return nil
}

// SubmitEval adds a tenant's evaluation statistics for the round's new
// version. A non-empty declined reason (with no statistics) records that
// the tenant reports nothing this round.
func (f *Federation) SubmitEval(name string, number, version int, stats []int64, declinedWhy string, now time.Time) error {
	if declinedWhy != "" && len(stats) > 0 {
		return fmt.Errorf("%w: tenant %q both declined the evaluation and sent statistics", ErrBadUpdate, name)
	}
	if n := f.cfg.Task.EvalLen; declinedWhy == "" && len(stats) != n {
		return fmt.Errorf("%w: tenant %q sent %d evaluation statistics, the task has %d", ErrBadUpdate, name, len(stats), n)
	}
	bound, err := protocol.EvalBound(f.cfg.Task)
	if err != nil {
		return err
	}
	for i, c := range stats {
		// Counts may be negative: tenants noise them for DP, and
		// clamping would bias the sum.
		if c < -bound || c > bound {
			return fmt.Errorf("%w: tenant %q, evaluation statistic %d = %d is out of the task's range ±%d", ErrBadUpdate, name, i, c, bound)
		}
	}
	set, err := f.checkRound(name, number, stEval, now)
	if err != nil {
		return err
	}
	if version != f.Latest() {
		return fmt.Errorf("%w: tenant %q evaluated version %d, round %d evaluates version %d", ErrWrongRound, name, version, number, f.Latest())
	}
	if declinedWhy != "" {
		set[name] = declined
		f.advance(now)
		return nil
	}
	for i, c := range stats {
		f.cur.stats[i] += c
	}
	kind := ledger.KindEvalStats
	if f.cfg.EvalEpsilon == 0 {
		kind = ledger.KindExactEval
	}
	f.received(name, kind, protocol.CountsHash(stats), now)
	set[name] = submitted
	f.advance(now)
	return nil
}
