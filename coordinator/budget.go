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
	acc := privacy.NewRDPAccountant(nil)
	for _, p := range append(t.since, f.cfg.Train) {
		if err := acc.Compose(p.SampleRate, p.NoiseMultiplier, p.LocalSteps); err != nil {
			return fmt.Sprintf("cannot account the round: %v", err)
		}
	}
	eps, _, err := acc.Epsilon(t.delta)
	if err != nil {
		return fmt.Sprintf("cannot account the round: %v", err)
	}
	if need := max(t.epsSpent, eps); need > t.epsCap*(1+1e-9) {
		return fmt.Sprintf("announced cap ε=%g at δ=%g; another round would bring it to at least %.4g", t.epsCap, t.delta, need)
	}
	return ""
}
