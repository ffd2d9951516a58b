package ledger

import (
	"errors"
	"fmt"

	"github.com/fedb2b/fedb2b/privacy/ddg"
)

// MechDDG is the distributed discrete Gaussian of tenant-level DP inside
// secure aggregation (Kairouz, Liu, Steinke 2021; package privacy/ddg).
// One entry is Steps rounds with the recorded parameters; ε is composed
// from the mechanism's RDP curve (ddg.Params.RDP), so it needs an
// accountant with the [RDPComposer] capability.
const MechDDG = "distributed-discrete-gaussian"

// RDPComposer is the capability to compose a mechanism given by its RDP
// curve.
type RDPComposer interface {
	ComposeRDP(curve func(alpha float64) float64, times int) error
}

// DDGParams converts recorded parameters to the mechanism's.
func DDGParams(p Params) ddg.Params {
	return ddg.Params{Dim: p.Dim, ClipNorm: p.ClipNorm, Gamma: p.Gamma, Sigma: p.ShareSigma, Beta: p.Beta,
		Threshold: p.Shares, Cohort: p.CohortSize, Bits: p.Bits}
}

func validateDDG(p Params) error {
	if p.SamplingRate != 0 || p.NoiseMultiplier != 0 {
		return errors.New("sampling_rate and noise_multiplier are not parameters of this mechanism")
	}
	if p.Steps < 1 {
		return fmt.Errorf("steps %d is not at least 1", p.Steps)
	}
	// Validate re-checks the wrap-around bound with the default
	// probability, as the round's plan did.
	return DDGParams(p).Validate()
}

func composeDDG(acc Accountant, p Params) error {
	c, ok := acc.(RDPComposer)
	if !ok {
		return fmt.Errorf("the accountant cannot compose %s (it needs RDP curves)", MechDDG)
	}
	return c.ComposeRDP(DDGParams(p).RDP, p.Steps)
}

// ComposeRDP implements RDPComposer.
func (r rdpAccountant) ComposeRDP(curve func(alpha float64) float64, times int) error {
	return r.a.ComposeRDP(curve, times)
}
