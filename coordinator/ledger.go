package coordinator

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/fedb2b/fedb2b/privacy/ledger"
	"github.com/fedb2b/fedb2b/protocol"
)

// LedgerParty is the party name of the coordinator's ledger entries.
const LedgerParty = "coordinator"

// LedgerRecorder keeps the coordinator's ledger of what it received: one
// signed, chained "received" entry (ledger.StatusReceived) per release a
// tenant sends — a plain update or a masked input (with the record-level
// DP-SGD parameters the plan asked for), its tenant-level DDG share, a
// noised example count inside it, noised or exact evaluation statistics —
// with the artefact's hash, written when it arrives (so releases of rounds
// later abandoned are on record too), and each new signed ledger head a
// tenant sends with a submission. None of it is a budget: an auditor holds
// each tenant's own ledger to it (package privacy/audit).
type LedgerRecorder struct {
	Ledger *ledger.Ledger
	Task   string
	Train  protocol.TrainParams
	// heads is the newest head recorded per tenant (loaded from the
	// ledger on first use), so an unchanged head is not recorded again.
	heads map[string]uint64
}

// Record writes the entries of e (only EvReceived events have any).
func (r *LedgerRecorder) Record(_ *Federation, e Event) error {
	if e.Kind != EvReceived {
		return nil
	}
	base := ledger.Entry{Party: LedgerParty, Task: r.Task, Round: int64(e.Round), Tenant: e.Tenant, Unit: ledger.UnitRecord}
	var entries []ledger.Entry
	if e.Received == ledger.KindLedgerHead {
		if e.Head == nil || r.seenHead(e.Tenant, e.Head.Seq) {
			return nil
		}
		h := base
		h.Kind, h.Ref, h.ArtifactHash, h.HeadSignature = ledger.KindLedgerHead, e.Head.Seq, e.Head.Hash, base64.StdEncoding.EncodeToString(e.Head.Signature)
		entries = append(entries, h)
	} else {
		hash, ok := e.Artifacts[e.Tenant]
		if !ok {
			return fmt.Errorf("coordinator: ledger: received %s from %s without its hash", e.Received, e.Tenant)
		}
		base.ArtifactHash = hex.EncodeToString(hash[:])
		x := base
		x.Kind = e.Received
		if e.Received == ledger.KindUpdate || e.Received == ledger.KindMaskedInput {
			x.Mechanism = ledger.MechDPSGD
			x.Params = ledger.Params{SamplingRate: r.Train.SampleRate, NoiseMultiplier: r.Train.NoiseMultiplier,
				ClipNorm: r.Train.ClipNorm, Steps: r.Train.LocalSteps}
			if d := e.RecordDP; d != nil {
				x.Mechanism, x.Params = ledger.MechDDGRecord, ledger.RecordParams(*d)
			}
		}
		if e.Received == ledger.KindEvalStats && e.EvalEpsilon > 0 {
			// The auditor holds the tenant's intent to charging at least
			// a release at this ε (package audit).
			x.Mechanism, x.Params = ledger.MechScalarGaussian, ledger.Params{EvalEpsilon: e.EvalEpsilon}
		}
		entries = append(entries, x)
		if d := e.TenantDP; d != nil {
			t := base
			t.Kind, t.Unit, t.Mechanism = e.Received, ledger.UnitTenant, ledger.MechDDG
			t.Params = ledger.Params{Steps: 1, Dim: d.Dim, ClipNorm: d.ClipNorm, Gamma: d.Gamma, ShareSigma: d.Sigma,
				Beta: d.Beta, Shares: d.Threshold, CohortSize: d.Cohort, Bits: d.Bits}
			entries = append(entries, t)
		}
		if e.NoisedCount {
			c := base
			c.Kind = ledger.KindCount
			entries = append(entries, c)
		}
	}
	for _, x := range entries {
		if _, err := r.Ledger.Receive(x); err != nil {
			return fmt.Errorf("coordinator: ledger: %s from %s, round %d: %w", x.Kind, e.Tenant, e.Round, err)
		}
	}
	return nil
}

// seenHead reports whether a head at seq or later was recorded for tenant,
// and otherwise notes seq.
func (r *LedgerRecorder) seenHead(tenant string, seq uint64) bool {
	if r.heads == nil {
		r.heads = map[string]uint64{}
		for _, e := range r.Ledger.Entries() {
			if e.Status == ledger.StatusReceived && e.Kind == ledger.KindLedgerHead {
				r.heads[e.Tenant] = max(r.heads[e.Tenant], e.Ref)
			}
		}
	}
	if seq <= r.heads[tenant] {
		return true
	}
	r.heads[tenant] = seq
	return false
}
