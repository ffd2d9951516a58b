package ddg

import (
	"errors"
	"fmt"
	"math"
)

// ErrParams is wrapped by every error about invalid or unsafe parameters.
var ErrParams = errors.New("ddg: invalid parameters")

// DefaultBeta is the conditional-rounding parameter β = e^{−1/2} used in
// the paper's experiments.
var DefaultBeta = math.Exp(-0.5)

// DefaultMaxWrapProb bounds, per round, the probability that any
// coordinate of the modular sum wraps around.
const DefaultMaxWrapProb = 1e-6

// maxRetries bounds conditional-rounding attempts; each succeeds with
// probability at least 1 − β.
const maxRetries = 10000

// Params fixes one round's distributed discrete Gaussian (Kairouz, Liu and
// Steinke 2021, Algorithm 1). Real quantities are in update units; the
// integer vectors are in steps of Gamma.
type Params struct {
	// Dim d is the length of a client's update; it is padded to
	// PaddedDim(d) = D for the rotation.
	Dim int
	// ClipNorm S bounds each client's update: ‖x‖₂ ≤ S after clipping.
	ClipNorm float64
	// Gamma γ is the granularity: one integer step is γ update units.
	Gamma float64
	// Sigma σ is the standard deviation of each client's noise share in
	// update units: each client adds N_Z(0, (σ/γ)²) per coordinate.
	Sigma float64
	// Beta β ∈ [0, 1) controls conditional randomized rounding: the rounded
	// vector is redrawn until its norm is within NormBound. 0 means no
	// conditioning (the bound is then S/γ + √D).
	Beta float64
	// Threshold n is the number of noise shares the accounting relies on:
	// the minimum number of survivors secure aggregation accepts (minus
	// the number of clients assumed to collude with the server, whose
	// noise the adversary knows).
	Threshold int
	// Cohort is the largest number of clients whose vectors can be summed
	// (the invited cohort); it bounds modular wrap-around.
	Cohort int
	// Bits b is the width of the ring Z_{2^b} (32 for aggregation/secagg).
	Bits int
	// MaxWrapProb bounds, per round, the probability that some coordinate
	// of the sum leaves [−2^{b−1}, 2^{b−1}); 0 means DefaultMaxWrapProb.
	MaxWrapProb float64
}

func bad(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrParams, fmt.Sprintf(format, a...))
}

// Validate checks p, including that modular wrap-around is unlikely
// (WrapProb ≤ MaxWrapProb). Every error names the parameter to change.
func (p Params) Validate() error {
	if err := p.validateBasic(); err != nil {
		return err
	}
	if s := p.Sigma / p.Gamma; s*s < MinSigma2 {
		return bad("integer noise Params.Sigma/Params.Gamma = %.3g is below √%v: increase Params.Sigma or decrease Params.Gamma", s, MinSigma2)
	}
	if p.Sigma/p.Gamma > 1<<40 {
		return bad("integer noise Params.Sigma/Params.Gamma = %.3g exceeds 2^40: increase Params.Gamma", p.Sigma/p.Gamma)
	}
	if p.spread() >= math.Ldexp(1, p.Bits-1) {
		return bad("Params.Bits = %d is too small for Params.Cohort = %d with Params.Gamma = %g: the sum's spread %.3g alone fills the ring", p.Bits, p.Cohort, p.Gamma, p.spread())
	}
	if w, max := p.WrapProb(), p.maxWrap(); w > max {
		return bad("wrap-around probability bound %.3g per round exceeds %.3g: increase Params.Gamma (now %g) or Params.Bits (now %d), or reduce Params.Cohort (now %d) or Params.Sigma", w, max, p.Gamma, p.Bits, p.Cohort)
	}
	return nil
}

func (p Params) validateBasic() error {
	switch {
	case p.Dim < 1 || p.Dim > 1<<30:
		return bad("Params.Dim = %d must be in [1, 2^30]", p.Dim)
	case !(p.ClipNorm > 0) || math.IsInf(p.ClipNorm, 0):
		return bad("Params.ClipNorm = %v must be positive and finite", p.ClipNorm)
	case !(p.Gamma > 0) || math.IsInf(p.Gamma, 0):
		return bad("Params.Gamma = %v must be positive and finite", p.Gamma)
	case !(p.Sigma > 0) || math.IsInf(p.Sigma, 0):
		return bad("Params.Sigma = %v must be positive and finite", p.Sigma)
	case !(p.Beta >= 0 && p.Beta < 1):
		return bad("Params.Beta = %v must be in [0, 1)", p.Beta)
	case p.Threshold < 1:
		return bad("Params.Threshold = %d must be at least 1", p.Threshold)
	case p.Cohort < p.Threshold:
		return bad("Params.Cohort = %d is below Params.Threshold = %d", p.Cohort, p.Threshold)
	case p.Bits < 2 || p.Bits > 62:
		return bad("Params.Bits = %d must be in [2, 62]", p.Bits)
	case !(p.MaxWrapProb >= 0 && p.MaxWrapProb < 1):
		return bad("Params.MaxWrapProb = %v must be in [0, 1)", p.MaxWrapProb)
	case p.ClipNorm/p.Gamma > 1<<40:
		return bad("Params.ClipNorm/Params.Gamma = %.3g exceeds 2^40: increase Params.Gamma", p.ClipNorm/p.Gamma)
	}
	return nil
}

func (p Params) maxWrap() float64 {
	if p.MaxWrapProb == 0 {
		return DefaultMaxWrapProb
	}
	return p.MaxWrapProb
}

// PaddedDim returns D = PaddedDim(p.Dim), the number of words per client.
func (p Params) PaddedDim() int { return PaddedDim(p.Dim) }

// IntSigma returns σ/γ, the standard deviation of each client's integer
// noise share.
func (p Params) IntSigma() float64 { return p.Sigma / p.Gamma }

// NormBound returns Δ₂, the L2 bound (integer units) that conditional
// rounding enforces on each client's rounded vector (Theorem 1):
//
//	Δ₂² = min{ (S/γ + √D)², S²/γ² + D/4 + √(2 ln(1/β))·(S/γ + √D/2) }
//
// (only the first term when β = 0).
func (p Params) NormBound() float64 {
	c, d := p.ClipNorm/p.Gamma, float64(p.PaddedDim())
	b := (c + math.Sqrt(d)) * (c + math.Sqrt(d))
	if p.Beta > 0 {
		b = math.Min(b, c*c+d/4+math.Sqrt(2*math.Log(1/p.Beta))*(c+math.Sqrt(d)/2))
	}
	return math.Sqrt(b)
}

// Tau returns τ = 10·Σ_{k=1}^{n−1} exp(−2π²·(σ/γ)²·k/(k+1)), n = Threshold:
// how far the sum of n discrete Gaussians is from one discrete Gaussian
// (Kairouz et al. 2021, Theorem 1 / Proposition 14).
func (p Params) Tau() float64 {
	s2 := p.IntSigma() * p.IntSigma()
	var tau float64
	for k := 1; k < p.Threshold; k++ {
		tau += math.Exp(-2 * math.Pi * math.Pi * s2 * float64(k) / float64(k+1))
	}
	return 10 * tau
}

// spread returns the sub-Gaussian scale (integer units) of one coordinate
// of the sum of Cohort clients: √(Cohort²·S²/(γ²D) + Cohort·σ²/γ²). The
// signals are rotated with one shared rotation, so in the worst case they
// add coherently (Cohort², not Cohort).
func (p Params) spread() float64 {
	n, d := float64(p.Cohort), float64(p.PaddedDim())
	c := p.ClipNorm / p.Gamma
	return math.Sqrt(n*n*c*c/d + n*p.IntSigma()*p.IntSigma())
}

// WrapProb bounds the probability that some coordinate of the sum of up to
// Cohort clients leaves the ring's signed range in one round: each
// coordinate is a sub-Gaussian term of scale spread() plus at most Cohort
// from rounding, so with k = (2^{b−1} − 1 − Cohort)/spread the union bound
// gives D·2·exp(−k²/2).
func (p Params) WrapProb() float64 {
	room := math.Ldexp(1, p.Bits-1) - 1 - float64(p.Cohort)
	if room <= 0 {
		return 1
	}
	k := room / p.spread()
	return math.Min(1, float64(p.PaddedDim())*2*math.Exp(-k*k/2))
}

// BitsNeeded returns the ring width the sum actually needs at MaxWrapProb:
// ⌈log₂(2·(k·spread + Cohort) + 1)⌉ with 2D·exp(−k²/2) = MaxWrapProb —
// the bits per coordinate a ring of minimal width would carry.
func (p Params) BitsNeeded() int {
	k := math.Sqrt(2 * math.Log(2*float64(p.PaddedDim())/p.maxWrap()))
	return int(math.Ceil(math.Log2(2*(k*p.spread()+float64(p.Cohort)) + 1)))
}

// NoiseMultiplier returns √Threshold·σ/S: the std of the noise guaranteed
// on the sum, relative to the clip norm.
func (p Params) NoiseMultiplier() float64 {
	return math.Sqrt(float64(p.Threshold)) * p.Sigma / p.ClipNorm
}

// WithClip returns p with ClipNorm set to s and Gamma and Sigma scaled by
// the same factor: the integer-domain mechanism, hence ε, Δ₂, τ and the
// wrap-around bound, are unchanged. Adaptive clipping uses it to follow
// the clip norm without recalibrating.
func (p Params) WithClip(s float64) Params {
	f := s / p.ClipNorm
	p.ClipNorm, p.Gamma, p.Sigma = s, p.Gamma*f, p.Sigma*f
	return p
}
