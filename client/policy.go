package client

import (
	"fmt"
	"math"
	"slices"
)

// Policy is what a tenant accepts. Zero fields accept anything.
type Policy struct {
	// Budget caps the tenant's record-level privacy spend.
	Budget Budget
	// MinNoise is the smallest noise multiplier the tenant accepts.
	MinNoise float64
	// MinCohort is the smallest cohort the tenant trains in.
	MinCohort int
	// Tasks lists the task IDs the tenant takes part in; empty allows all.
	Tasks []string
	// RequireNoisedCounts makes the tenant decline every evaluation whose
	// plan asks for exact statistics (eval ε = 0) and every weighted round
	// whose plan asks for its exact example count (weight ε = 0). Noised
	// ones are released at the plan's ε with the Google DP library's
	// Gaussian mechanism and recorded and accounted like any other spend.
	// Without it, an exact release is made on the tenant's waiver: it is
	// written to the spend log (ledger.MechExact) before it leaves, and
	// its ε is ∞ in every unit from then on, after a restart too. While
	// the waiver stands (RequireNoisedCounts off) the caps bound the
	// noised releases alone; a tenant that requires noised counts again
	// (the command's default) declines every round once an exact release
	// is on record, since no finite cap holds ∞.
	RequireNoisedCounts bool
	// TenantEpsilon caps the tenant-level ε (distributed discrete
	// Gaussian) its ledger accepts; 0 means no cap. With a cap, rounds
	// without tenant-level noise (tenant-level ε = ∞) are declined.
	TenantEpsilon float64
	// DPMode is the record-level trust model the tenant accepts:
	// DPModeLocal ("" too, the default: local DP-SGD, which holds
	// against everyone) or DPModeDistributed (record-level DP with the
	// noise added inside secure aggregation, FedSGD: it holds against
	// the coordinator only while secure aggregation holds and the
	// plan's honest shares hold). A tenant in local mode declines
	// distributed rounds; one in distributed mode still takes local
	// DP-SGD rounds (their guarantee is the stronger one).
	DPMode string
	// AssumeColluders c (distributed mode): survivors of a sum that may
	// collude with the coordinator (they know their own noise). The
	// tenant helps unmask only a sum of at least the plan's honest
	// shares + c inputs.
	AssumeColluders int
}

// Record-level DP modes of Policy.DPMode.
const (
	DPModeLocal       = "local"
	DPModeDistributed = "distributed"
)

// Decision is the outcome of checking a plan.
type Decision struct {
	Accept   bool
	Reason   string  // why not, when !Accept
	EpsNow   float64 // spent so far
	EpsAfter float64 // spent if the round is accepted
}

// Decide checks a round's spend against the policy and the spends so far.
// It never returns Accept with EpsAfter above the cap.
func (p Policy) Decide(task string, next Spend, cohort int, spends []Spend) (Decision, error) {
	if len(p.Tasks) > 0 && !slices.Contains(p.Tasks, task) {
		return Decision{Reason: fmt.Sprintf("task %q is not in this tenant's allowed tasks", task)}, nil
	}
	if next.NoiseMultiplier < p.MinNoise {
		return Decision{Reason: fmt.Sprintf("noise multiplier %g is below this tenant's minimum %g", next.NoiseMultiplier, p.MinNoise)}, nil
	}
	if cohort < p.MinCohort {
		return Decision{Reason: fmt.Sprintf("cohort of %d is below this tenant's minimum %d", cohort, p.MinCohort)}, nil
	}
	for _, s := range spends {
		if (s.Kind == SpendDPSGD || s.Kind == SpendDistributed) && s.Task == task && s.Round == next.Round {
			return Decision{Reason: fmt.Sprintf("a spend for round %d of task %q is already on record (a restart after a crash?): not releasing twice", next.Round, task)}, nil
		}
	}
	if next.NoiseMultiplier <= 0 {
		return Decision{Reason: "the plan adds no noise (noise multiplier 0): record-level DP would be infinite"}, nil
	}
	exact := exactOnRecord(spends)
	if len(exact) > 0 && p.RequireNoisedCounts {
		return Decision{EpsNow: math.Inf(1), EpsAfter: math.Inf(1),
			Reason: fmt.Sprintf("record-level ε is ∞ since the exact release of task %q round %d, and this tenant no longer allows exact releases: no round fits its cap %g", exact[0].Task, exact[0].Round, p.Budget.Epsilon)}, nil
	}
	// Compose the record once, read ε, then add the plan. After an exact
	// release the tenant still allows, the cap bounds the noised releases
	// (its waiver); ε itself is ∞.
	acc, err := compose(noisedOnly(spends))
	if err != nil {
		return Decision{}, err
	}
	now, err := epsilonOf(acc, p.Budget.Delta)
	if err != nil {
		return Decision{}, err
	}
	if err := composeSpend(acc, next); err != nil {
		return Decision{}, fmt.Errorf("client: plan of round %d: %w", next.Round, err)
	}
	after, err := epsilonOf(acc, p.Budget.Delta)
	if err != nil {
		return Decision{}, err
	}
	d := Decision{EpsNow: now, EpsAfter: after}
	if p.Budget.Epsilon > 0 && !(after <= p.Budget.Epsilon) || math.IsNaN(after) {
		d.Reason = fmt.Sprintf("round %d would raise record-level ε from %.4g to %.4g (δ=%g), above this tenant's cap %g", next.Round, now, after, p.Budget.Delta, p.Budget.Epsilon)
		if len(exact) > 0 {
			d.Reason = fmt.Sprintf("round %d would raise the record-level ε of this tenant's noised releases from %.4g to %.4g (δ=%g), above its cap %g (ε itself is ∞ since an exact release)", next.Round, now, after, p.Budget.Delta, p.Budget.Epsilon)
		}
		return d, nil
	}
	if len(exact) > 0 {
		d.EpsNow, d.EpsAfter = math.Inf(1), math.Inf(1)
	}
	d.Accept = true
	return d, nil
}

// CheckCap reports an error when a single round with these parameters
// already exceeds the cap, so a misconfiguration is caught before joining.
func CheckCap(b Budget, next Spend) error {
	eps, err := Epsilon([]Spend{next}, b.Delta)
	if err != nil {
		return err
	}
	if b.Epsilon > 0 && eps > b.Epsilon {
		return fmt.Errorf("client: one round (q=%g, z=%g, %d steps) costs ε=%.4g at δ=%g, above the cap %g: raise the noise multiplier, lower q or the steps, or raise the cap",
			next.SampleRate, next.NoiseMultiplier, next.Steps, eps, b.Delta, b.Epsilon)
	}
	return nil
}
