package client

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/fedb2b/fedb2b/privacy/ledger"

	"github.com/fedb2b/fedb2b/privacy"
)

// Spend kinds.
const (
	// SpendDPSGD (the zero value) is a round of local DP-SGD.
	SpendDPSGD = ""
	// SpendEval is a federated evaluation's Gaussian-noised statistics:
	// sampling rate 1, one step, ClipNorm their L2 sensitivity.
	SpendEval = "eval"
	// SpendExact is an exact release (evaluation statistics or an example
	// count without noise), made only when Policy.RequireNoisedCounts is
	// off: ε = ∞ (ledger.MechExact). Only Task, Round and Steps (1) are
	// set.
	SpendExact = "exact"
	// SpendDistributed is a round of the record-level distributed mode
	// (ledger.MechDDGRecord): one DP-SGD step whose noise is added inside
	// secure aggregation; Distributed holds its parameters.
	SpendDistributed = "distributed"
)

// ExactSpend is the spend of one exact release in round of taskID.
func ExactSpend(taskID string, round int) Spend {
	return Spend{Kind: SpendExact, Task: taskID, Round: round, Steps: 1}
}

// Spend is one record-level release of the tenant: a round of DP-SGD, or
// a noised evaluation (Kind SpendEval), both composed as Gaussian
// mechanisms in the accountant, or an exact release (Kind SpendExact),
// after which ε is +Inf.
type Spend struct {
	Kind            string  `json:"kind,omitempty"`
	Task            string  `json:"task"`
	Round           int     `json:"round"`
	SampleRate      float64 `json:"q"`
	NoiseMultiplier float64 `json:"noise_multiplier"`
	ClipNorm        float64 `json:"clip_norm"`
	Steps           int     `json:"steps"`
	// Distributed: the mechanism's parameters (Kind SpendDistributed;
	// NoiseMultiplier is then the z guaranteed on the sum, for policy
	// checks only).
	Distributed *ledger.Params `json:"distributed,omitempty"`
}

// SpendLog is where a client records what it spends, durably, before it
// releases anything (write-ahead). LedgerSpendLog, backed by the signed
// privacy ledger, is the production implementation.
type SpendLog interface {
	// Spends returns every recorded spend, oldest first; an intent whose
	// release was never confirmed counts.
	Spends() []Spend
	// Record durably writes the intent to release s and returns its ID.
	Record(s Spend, b Budget) (uint64, error)
	// Released records that the artefact with SHA-256 hash of intent id
	// was released.
	Released(id uint64, hash [32]byte) error
	// RecordTenantLevel durably writes the intent of a tenant-level
	// release (distributed discrete Gaussian, ledger.MechDDG) of round.
	RecordTenantLevel(task string, round int, p ledger.Params, delta, cap float64) (uint64, error)
}

// Budget is a tenant's record-level privacy cap.
type Budget struct {
	Epsilon float64
	Delta   float64
}

// Epsilon returns the ε (at delta) of spends composed, computed by the RDP
// accountant from the recorded parameters: +Inf when one is exact.
func Epsilon(spends []Spend, delta float64) (float64, error) {
	acc, err := compose(spends)
	if err != nil {
		return 0, err
	}
	return epsilonOf(acc, delta)
}

// compose returns the RDP accountant of spends. RDP adds up over
// mechanisms, so spends with the same sampling rate and noise multiplier
// are composed once with their steps summed: a tenant's rounds mostly
// repeat one mechanism, and the subsampled-Gaussian RDP, the costly part,
// is then computed once per distinct mechanism instead of once per round
// (issue #19: accounting dominated the 200-tenant load test).
func compose(spends []Spend) (*privacy.RDPAccountant, error) {
	type mech struct{ q, z float64 }
	steps := map[mech]int{}
	first := map[mech]int{} // round of the first spend, for errors
	var order []mech
	exact := 0
	dist := map[ledger.Params]int{}
	var distOrder []ledger.Params
	for _, s := range spends {
		if s.Kind == SpendExact {
			exact += max(s.Steps, 1)
			continue
		}
		if s.Kind == SpendDistributed {
			if s.Distributed == nil {
				return nil, fmt.Errorf("client: distributed spend of round %d has no parameters", s.Round)
			}
			p := *s.Distributed
			p.Steps = 0
			if _, ok := dist[p]; !ok {
				distOrder = append(distOrder, p)
			}
			dist[p] += s.Distributed.Steps
			continue
		}
		m := mech{s.SampleRate, s.NoiseMultiplier}
		if _, ok := steps[m]; !ok {
			order = append(order, m)
			first[m] = s.Round
		}
		steps[m] += s.Steps
	}
	acc := privacy.NewRDPAccountant(nil)
	for _, m := range order {
		if err := acc.Compose(m.q, m.z, steps[m]); err != nil {
			return nil, fmt.Errorf("client: spend of round %d: %w", first[m], err)
		}
	}
	for _, p := range distOrder {
		if err := composeDistributed(acc, p, dist[p]); err != nil {
			return nil, err
		}
	}
	if exact > 0 {
		// An exact count separates neighbours with certainty: infinite
		// Rényi divergence at every order, so ε = +Inf at every δ < 1.
		if err := acc.ComposeRDP(func(float64) float64 { return math.Inf(1) }, exact); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

// noisedOnly returns spends without the exact ones: what a cap bounds
// after an exact release the tenant allowed.
func noisedOnly(spends []Spend) []Spend {
	out := make([]Spend, 0, len(spends))
	for _, s := range spends {
		if s.Kind != SpendExact {
			out = append(out, s)
		}
	}
	return out
}

// exactOnRecord returns the exact spends among spends.
func exactOnRecord(spends []Spend) []Spend {
	var out []Spend
	for _, s := range spends {
		if s.Kind == SpendExact {
			out = append(out, s)
		}
	}
	return out
}

// composeDistributed adds steps rounds of the record-level distributed
// mode with parameters p to acc.
func composeDistributed(acc *privacy.RDPAccountant, p ledger.Params, steps int) error {
	r := ledger.DDGRecord(p)
	if err := r.Validate(); err != nil {
		return fmt.Errorf("client: distributed spend: %w", err)
	}
	return acc.ComposeRDP(r.RDPAt, steps)
}

// composeSpend adds s to acc.
func composeSpend(acc *privacy.RDPAccountant, s Spend) error {
	if s.Kind == SpendDistributed {
		if s.Distributed == nil {
			return fmt.Errorf("client: distributed spend of round %d has no parameters", s.Round)
		}
		return composeDistributed(acc, *s.Distributed, s.Distributed.Steps)
	}
	return acc.Compose(s.SampleRate, s.NoiseMultiplier, s.Steps)
}

// epsilonOf is acc's ε at delta, 0 when nothing was composed.
func epsilonOf(acc *privacy.RDPAccountant, delta float64) (float64, error) {
	if acc.Steps() == 0 {
		return 0, nil
	}
	eps, _, err := acc.Epsilon(delta)
	return eps, err
}

// MemSpendLog is an in-memory SpendLog for tests and throw-away
// simulations: nothing survives the process.
type MemSpendLog struct {
	mu     sync.Mutex
	spends []Spend
	tenant []ledger.Params // tenant-level releases
}

// Spends implements SpendLog.
func (l *MemSpendLog) Spends() []Spend {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Spend(nil), l.spends...)
}

// Record implements SpendLog.
func (l *MemSpendLog) Record(s Spend, _ Budget) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.spends = append(l.spends, s)
	return uint64(len(l.spends)), nil
}

// Released implements SpendLog.
func (l *MemSpendLog) Released(uint64, [32]byte) error { return nil }

// RecordTenantLevel implements SpendLog: it keeps p and refuses it when
// the tenant-level ε at delta would exceed cap.
func (l *MemSpendLog) RecordTenantLevel(_ string, _ int, p ledger.Params, delta, cap float64) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	eps, ok, err := l.checkTenantLevel(p, delta, cap)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("%w: unit tenant: ε would reach %.6g, cap %.6g", ledger.ErrBudgetExceeded, eps, cap)
	}
	l.tenant = append(l.tenant, p)
	return 0, nil
}

// CheckTenantLevel implements TenantLevelChecker: like the ledger, it
// returns ε = ∞ after an exact release and says whether the noised
// releases alone fit cap.
func (l *MemSpendLog) CheckTenantLevel(p ledger.Params, delta, cap float64) (float64, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.checkTenantLevel(p, delta, cap)
}

func (l *MemSpendLog) checkTenantLevel(p ledger.Params, delta, cap float64) (float64, bool, error) {
	acc := privacy.NewRDPAccountant(nil)
	for _, q := range append(slices.Clone(l.tenant), p) {
		if err := acc.ComposeRDP(ledger.DDGParams(q).RDP, q.Steps); err != nil {
			return 0, false, err
		}
	}
	noised, _, err := acc.Epsilon(delta)
	eps := noised
	if len(exactOnRecord(l.spends)) > 0 {
		eps = math.Inf(1) // as the ledger: ∞ in every unit after an exact release
	}
	return eps, err == nil && noised <= cap, err
}
