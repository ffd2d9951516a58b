package coordinator

import (
	"fmt"
	"time"

	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// received records that tenant name's release of kind (a ledger.Kind*)
// with SHA-256 hash arrived in the current round, for the coordinator's
// ledger: every release is recorded when it arrives, whether or not the
// round later aggregates.
func (f *Federation) received(name, kind string, hash [32]byte, now time.Time) {
	r := f.cur
	ev := Event{Kind: EvReceived, Round: r.number, Version: f.Latest(), Time: now, Tenant: name, Received: kind,
		Artifacts: map[string][32]byte{name: hash}}
	switch kind {
	case ledger.KindUpdate:
		ev.NoisedCount = f.cfg.Train.WeightEpsilon > 0
	case ledger.KindEvalStats:
		ev.EvalEpsilon = f.cfg.EvalEpsilon // what the plan asked for
	case ledger.KindMaskedInput:
		if s := r.sec; s != nil {
			ev.TenantDP, ev.TenantDelta, ev.UpdateClip = s.plan.DDG, s.plan.TenantDelta, s.plan.ClipNorm
			ev.RecordDP = s.plan.Record
			ev.NoisedCount = s.plan.DDG == nil && s.plan.MaxWeight > 0 && f.cfg.Train.WeightEpsilon > 0
		}
	}
	f.events = append(f.events, ev)
}

// NoteLedgerHead records the ledger head tenant name sent with an accepted
// submission for round number (checked for form only; the auditor checks
// it against the tenant's ledger).
func (f *Federation) NoteLedgerHead(name string, number int, h LedgerHead, now time.Time) error {
	if err := ledger.CheckHead(h.Seq, h.Hash, h.Signature); err != nil {
		return fmt.Errorf("%w: tenant %q: %w", ErrBadUpdate, name, err)
	}
	f.events = append(f.events, Event{Kind: EvReceived, Round: number, Version: f.Latest(), Time: now, Tenant: name,
		Received: ledger.KindLedgerHead, Head: &h})
	return nil
}
