package coordinator

import (
	"fmt"

	"github.com/fedb2b/fedb2b/privacy"
)

// TenantBudget is what a tenant announced of its record-level budget.
type TenantBudget struct {
	Cap, SpentAtJoin, Delta float64
}

// Budget returns what tenant name announced when it joined.
func (f *Federation) Budget(name string) (TenantBudget, bool) {
	t := f.tenants[name]
	if t == nil {
		return TenantBudget{}, false
	}
	return TenantBudget{Cap: t.epsCap, SpentAtJoin: t.epsSpent, Delta: t.delta}, true
}

// budgetShort says why tenant name cannot afford another round, or "".
// The coordinator's estimate is a lower bound on what the tenant would
// have spent after the round: the larger of the spend it announced at
// joining and the RDP composition of the rounds aggregated with it since
// plus the next one. A tenant above its cap even by that bound will surely
// decline, so it is not invited; the tenant's own ledger stays the
// authority for everyone else.
func (f *Federation) budgetShort(name string) string {
	t := f.tenants[name]
	if t == nil || !(t.epsCap > 0) || !(t.delta > 0 && t.delta < 1) {
		return ""
	}
	eps, err := f.roundsEpsilon(len(t.since)+1, t.delta)
	if err != nil {
		return fmt.Sprintf("cannot account the round: %v", err)
	}
	if need := max(t.epsSpent, eps); need > t.epsCap*(1+1e-9) {
		return fmt.Sprintf("announced cap ε=%g at δ=%g; another round would bring it to at least %.4g", t.epsCap, t.delta, need)
	}
	return ""
}

// epsKey identifies a cached ε: rounds of the federation's (fixed) DP-SGD
// parameters at δ.
type epsKey struct {
	rounds int
	delta  float64
}

// roundsEpsilon is the RDP ε of rounds rounds of the configured DP-SGD at
// delta, cached: every round has the same parameters, so it depends on the
// count alone.
func (f *Federation) roundsEpsilon(rounds int, delta float64) (float64, error) {
	k := epsKey{rounds, delta}
	if e, ok := f.epsCache[k]; ok {
		return e, nil
	}
	p := f.cfg.Train
	if z, ok, err := f.recordNoise(); err != nil {
		return 0, err
	} else if ok {
		// Record-level distributed mode: one step per round; the pooled
		// sampled Gaussian of the noise the sum is guaranteed is a lower
		// bound on the tenants' ε (ddg.Record's bound is above it).
		p.NoiseMultiplier, p.LocalSteps = z, 1
	}
	e, err := privacy.RDPEpsilon(p.SampleRate, p.NoiseMultiplier, rounds*p.LocalSteps, delta)
	if err != nil {
		return 0, err
	}
	if f.epsCache == nil {
		f.epsCache = map[epsKey]float64{}
	}
	f.epsCache[k] = e
	return e, nil
}

// ChargedEpsilon is the coordinator's lower bound on the record-level ε
// tenant name has spent in this federation: the larger of what it
// announced at joining and the RDP composition of the DP-SGD rounds
// aggregated with it since (evaluations and counts not included). The
// tenant's own ledger is the authority; dashboards show this labelled as
// the coordinator's view.
func (f *Federation) ChargedEpsilon(name string) (float64, error) {
	t := f.tenants[name]
	if t == nil {
		return 0, fmt.Errorf("%w: %q", ErrUnknownTenant, name)
	}
	if !(t.delta > 0 && t.delta < 1) || len(t.since) == 0 {
		return t.epsSpent, nil
	}
	eps, err := f.roundsEpsilon(len(t.since), t.delta)
	if err != nil {
		return 0, err
	}
	return max(t.epsSpent, eps), nil
}
