package ddg

import (
	"fmt"
	"math"
)

// DefaultIntSigma is the integer noise σ/γ Plan aims for when the ring has
// room: large enough that τ is negligible (τ < 10^-300) and rounding adds
// under 10^-7 of the noise variance, small enough for Sampler's table
// (about 1 MB).
const DefaultIntSigma = 4096

// Goal states what a deployment wants; Plan turns it into Params.
type Goal struct {
	// Epsilon and Delta: tenant-level target after Rounds rounds.
	Epsilon, Delta float64
	Rounds         int
	// Dim, ClipNorm, Threshold, Cohort, Bits, Beta, MaxWrapProb: as in
	// Params (Beta 0 means DefaultBeta here; Bits 0 means 32).
	Dim         int
	ClipNorm    float64
	Threshold   int
	Cohort      int
	Bits        int
	Beta        float64
	MaxWrapProb float64
	// IntSigma is the integer noise to aim for; 0 means DefaultIntSigma.
	IntSigma float64
}

// Plan chooses γ and the per-client σ following the paper's guidance
// (§4.5 and Eq. 61 of the arXiv version): σ is calibrated to the target ε
// for Threshold noise shares, and γ is the larger of σ/IntSigma and the
// smallest granularity for which the sum of Cohort clients stays inside
// the ring with probability 1 − MaxWrapProb:
//
//	γ ≥ k·√(Cohort²·S²/D + Cohort·σ²) / (2^{b−1} − 1 − Cohort),
//	k = √(2·ln(2D/MaxWrapProb)).
//
// σ and γ depend on each other through Δ₂; Plan iterates to a fixed point.
// It fails, naming the parameter, if no γ fits the ring.
func Plan(g Goal) (Params, error) {
	return plan(g, func(p Params, loose bool) (Params, error) {
		if loose {
			return calibrateLoose(g, p)
		}
		return Calibrate(g.Epsilon, g.Delta, g.Rounds, p)
	})
}

// plan is Plan with σ calibrated by cal (loose: without the ring check,
// which plan settles by adjusting γ afterwards).
func plan(g Goal, cal func(p Params, loose bool) (Params, error)) (Params, error) {
	p := Params{Dim: g.Dim, ClipNorm: g.ClipNorm, Beta: g.Beta, Threshold: g.Threshold,
		Cohort: g.Cohort, Bits: g.Bits, MaxWrapProb: g.MaxWrapProb}
	if p.Beta == 0 {
		p.Beta = DefaultBeta
	}
	if p.Bits == 0 {
		p.Bits = 32
	}
	target := g.IntSigma
	if target == 0 {
		target = DefaultIntSigma
	}
	if !(target >= 1) || target > MaxTableSigma {
		return p, bad("Goal.IntSigma = %v must be in [1, %d]", target, MaxTableSigma)
	}
	p.Gamma = g.ClipNorm * 1e-6
	p.Sigma = p.Gamma
	if err := p.validateBasic(); err != nil {
		return p, err
	}
	room := math.Ldexp(1, p.Bits-1) - 1 - float64(p.Cohort)
	if room <= 0 {
		return p, bad("Params.Bits = %d is too small for Params.Cohort = %d", p.Bits, p.Cohort)
	}
	d := float64(p.PaddedDim())
	k := math.Sqrt(2 * math.Log(2*d/p.maxWrap()))
	var err error
	for range 6 {
		if p, err = cal(p, true); err != nil {
			return p, err
		}
		n := float64(p.Cohort)
		gmin := 1.001 * k * math.Sqrt(n*n*p.ClipNorm*p.ClipNorm/d+n*p.Sigma*p.Sigma) / room
		p.Gamma = math.Max(p.Sigma/target, gmin)
	}
	p, err = cal(p, false)
	if err != nil {
		return p, fmt.Errorf("ddg: plan: %w", err)
	}
	return p, nil
}

// calibrateLoose calibrates σ for the current γ without the ring check
// (Plan adjusts γ afterwards).
func calibrateLoose(g Goal, p Params) (Params, error) {
	q := p
	q.Bits = 62
	q.MaxWrapProb = 0.999
	q, err := Calibrate(g.Epsilon, g.Delta, g.Rounds, q)
	if err != nil {
		return p, fmt.Errorf("ddg: plan: %w", err)
	}
	p.Sigma = q.Sigma
	return p, nil
}
