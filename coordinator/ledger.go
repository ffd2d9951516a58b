package coordinator

import (
	"encoding/hex"
	"fmt"
	"math"

	"github.com/fedb2b/fedb2b/privacy/ledger"
	"github.com/fedb2b/fedb2b/protocol"
)

// LedgerParty is the party name of the coordinator's ledger entries.
const LedgerParty = "coordinator"

// LedgerRecorder keeps the coordinator's privacy ledger: for every
// aggregated round, one entry per tenant whose update is in the sum, with
// the parameters the round asked for. An auditor cross-checks it against
// each tenant's own ledger (package privacy/audit).
type LedgerRecorder struct {
	Ledger *ledger.Ledger
	Task   string
	Train  protocol.TrainParams
}

// Record writes the entries of e (only EvRoundAggregated events have any):
// an intent per tenant in the sum, released with the SHA-256 of what that
// tenant sent (its masked input, or its plain update), which the tenant's
// ledger records as its artefact.
func (r *LedgerRecorder) Record(f *Federation, e Event) error {
	if e.Kind != EvRoundAggregated {
		return nil
	}
	for _, name := range e.Participants {
		b, ok := f.Budget(name)
		if !ok {
			return fmt.Errorf("coordinator: ledger: no budget known for %q", name)
		}
		in, err := r.Ledger.Append(ledger.Entry{
			Party: LedgerParty, Task: r.Task, Round: int64(e.Round), Tenant: name, Unit: ledger.UnitRecord,
			Mechanism: ledger.MechDPSGD,
			Params: ledger.Params{SamplingRate: r.Train.SampleRate, NoiseMultiplier: r.Train.NoiseMultiplier,
				ClipNorm: r.Train.ClipNorm, Steps: r.Train.LocalSteps},
			Delta: b.Delta, EpsilonCap: b.Cap,
		})
		if err != nil {
			return fmt.Errorf("coordinator: ledger entry for %s, round %d: %w", name, e.Round, err)
		}
		seqs := []uint64{in.Seq}
		if d := e.TenantDP; d != nil {
			tin, err := r.Ledger.Append(ledger.Entry{
				Party: LedgerParty, Task: r.Task, Round: int64(e.Round), Tenant: name, Unit: ledger.UnitTenant,
				Mechanism: ledger.MechDDG,
				Params: ledger.Params{Steps: 1, Dim: d.Dim, ClipNorm: d.ClipNorm, Gamma: d.Gamma, ShareSigma: d.Sigma,
					Beta: d.Beta, Shares: d.Threshold, CohortSize: d.Cohort, Bits: d.Bits},
				Delta: e.TenantDelta, EpsilonCap: math.MaxFloat64,
			})
			if err != nil {
				return fmt.Errorf("coordinator: tenant-level ledger entry for %s, round %d: %w", name, e.Round, err)
			}
			seqs = append(seqs, tin.Seq)
		}
		hash, ok := e.Artifacts[name]
		if !ok {
			continue
		}
		for _, seq := range seqs {
			if _, err := r.Ledger.Release(seq, hex.EncodeToString(hash[:])); err != nil {
				return fmt.Errorf("coordinator: ledger release for %s, round %d: %w", name, e.Round, err)
			}
		}
	}
	return nil
}
