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
	if p.SamplingRate != 0 || p.NoiseMultiplier != 0 || p.SumClip != 0 {
		return errors.New("sampling_rate, noise_multiplier and sum_clip are not parameters of this mechanism")
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

// MechDDGRecord is the record-level distributed mode (issue #16): one
// DP-SGD step per round whose Gaussian noise is added inside secure
// aggregation as distributed discrete Gaussian shares (ddg.Record).
// Params: SamplingRate q, ClipNorm the per-record clip C, SumClip the
// tenant's sum clip S, Dim, Gamma, ShareSigma, Beta, CohortSize, Bits as
// for MechDDG, Steps rounds, and Shares the number of honest tenants the
// entry's ε assumes: it holds against the coordinator only while secure
// aggregation holds and at least Shares survivors of every unmasked sum
// added their noise share and do not collude with it. The mechanism name
// is the mode; local DP-SGD (MechDPSGD) holds against everyone.
const MechDDGRecord = "distributed-discrete-gaussian-record"

// DDGRecord converts recorded parameters to the mechanism's.
func DDGRecord(p Params) ddg.Record {
	return ddg.Record{Params: ddg.Params{Dim: p.Dim, ClipNorm: p.SumClip, Gamma: p.Gamma, Sigma: p.ShareSigma, Beta: p.Beta,
		Threshold: p.Shares, Cohort: p.CohortSize, Bits: p.Bits}, RecordClip: p.ClipNorm, SampleRate: p.SamplingRate}
}

// RecordParams is the ledger record of one round of r.
func RecordParams(r ddg.Record) Params {
	return Params{SamplingRate: r.SampleRate, ClipNorm: r.RecordClip, SumClip: r.ClipNorm, Steps: 1, Dim: r.Dim, Gamma: r.Gamma,
		ShareSigma: r.Sigma, Beta: r.Beta, Shares: r.Threshold, CohortSize: r.Cohort, Bits: r.Bits}
}

func validateDDGRecord(p Params) error {
	if p.NoiseMultiplier != 0 {
		return errors.New("noise_multiplier is not a parameter of this mechanism (the noise is share_sigma per share)")
	}
	if p.Steps < 1 {
		return fmt.Errorf("steps %d is not at least 1", p.Steps)
	}
	return DDGRecord(p).Validate()
}

func composeDDGRecord(acc Accountant, p Params) error {
	c, ok := acc.(RDPComposer)
	if !ok {
		return fmt.Errorf("the accountant cannot compose %s (it needs RDP curves)", MechDDGRecord)
	}
	return c.ComposeRDP(DDGRecord(p).RDPAt, p.Steps)
}
