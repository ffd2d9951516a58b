package ddg

import (
	"fmt"
	"math"

	"github.com/fedb2b/fedb2b/privacy"
)

// orders is the grid of Rényi orders α used to convert to (ε, δ): 1.01 to
// 10^5, geometric with ratio 1.02.
var orders = func() []float64 {
	var o []float64
	for a := 1.01; a < 1e5; a *= 1.02 {
		o = append(o, a)
	}
	return o
}()

// RDP returns the Rényi DP of one round at order α > 1, for the
// replace-by-zero change of one client's vector (the sums differ by at
// most Δ₂; replace-one, a vector replaced by another, needs 2Δ₂: see
// RDPReplaceOne), from Kairouz, Liu and Steinke 2021 (Theorem 1 with
// Proposition 14, omitting the optional L1 term):
//
//	RDP(α) = min{ α·s²/2 + τ·D,  (α/2)·(s + √D·τ)² },  s = Δ₂/(√n·σ/γ)
//
// where Δ₂ = NormBound(), n = Threshold noise shares, τ = Tau(). A round
// with more survivors than Threshold only adds independent noise
// (post-processing), so the bound holds for every accepted round. No
// subsampling amplification is assumed: every round counts in full.
func (p Params) RDP(alpha float64) float64 { return p.rdp(alpha, 1) }

// RDPReplaceOne is RDP for replace-one adjacency: one client's vector
// replaced by another, so the sums differ by up to 2Δ₂ (s doubled).
func (p Params) RDPReplaceOne(alpha float64) float64 { return p.rdp(alpha, 2) }

// rdp is the bound with the sensitivity scaled by k.
func (p Params) rdp(alpha, k float64) float64 {
	s := k * p.NormBound() / (math.Sqrt(float64(p.Threshold)) * p.IntSigma())
	tau := p.Tau()
	d := float64(p.PaddedDim())
	t1 := alpha*s*s/2 + tau*d
	t2 := alpha / 2 * (s + math.Sqrt(d)*tau) * (s + math.Sqrt(d)*tau)
	return math.Min(t1, t2)
}

func checkDelta(delta float64) error {
	if !(delta > 0 && delta < 1) {
		return bad("delta = %v must be in (0, 1)", delta)
	}
	return nil
}

// Epsilon returns the tenant-level ε at delta after rounds rounds with
// parameters p (composed by RDP additivity, converted with the Balle et
// al. 2020 bound ε = min_α T·RDP(α) + log((α−1)/α) − (log δ + log α)/(α−1),
// the conversion privacy.RDPAccountant uses). p must pass Validate.
func Epsilon(p Params, rounds int, delta float64) (float64, error) {
	if err := p.Validate(); err != nil {
		return 0, err
	}
	return epsilon(p, rounds, delta)
}

// EpsilonReplaceOne is Epsilon under replace-one adjacency (RDPReplaceOne):
// what the same parameters give when neighbours differ in one tenant's
// update replaced by another rather than by zero.
func EpsilonReplaceOne(p Params, rounds int, delta float64) (float64, error) {
	if err := p.Validate(); err != nil {
		return 0, err
	}
	return epsilonOf(p.RDPReplaceOne, rounds, delta)
}

func epsilon(p Params, rounds int, delta float64) (float64, error) {
	return epsilonOf(p.RDP, rounds, delta)
}

func epsilonOf(rdp func(float64) float64, rounds int, delta float64) (float64, error) {
	if err := checkDelta(delta); err != nil {
		return 0, err
	}
	if rounds < 0 {
		return 0, bad("rounds = %d must be non-negative", rounds)
	}
	if rounds == 0 {
		return 0, nil
	}
	best := math.Inf(1)
	for _, a := range orders {
		best = math.Min(best, privacy.RDPOrderEpsilon(float64(rounds)*rdp(a), a, delta))
	}
	return math.Max(best, 0), nil
}

// Calibrate returns p with Sigma set to the smallest per-client noise
// (within a relative 10^-4) for which Epsilon(p, rounds, delta) ≤
// targetEps, keeping p.Gamma. The result is validated (wrap-around
// included): if the noise it needs does not fit the ring, the error says
// which parameter to change.
func Calibrate(targetEps, delta float64, rounds int, p Params) (Params, error) {
	if !(targetEps > 0) || math.IsInf(targetEps, 0) {
		return p, bad("target epsilon %v must be positive and finite", targetEps)
	}
	if err := checkDelta(delta); err != nil {
		return p, err
	}
	if rounds < 1 {
		return p, bad("rounds = %d must be at least 1", rounds)
	}
	p.Sigma = p.Gamma // placeholder for the basic checks
	if err := p.validateBasic(); err != nil {
		return p, err
	}
	ok := func(sigma float64) bool {
		q := p
		q.Sigma = sigma
		e, err := epsilon(q, rounds, delta)
		return err == nil && e <= targetEps
	}
	lo, hi := p.Gamma*math.Sqrt(MinSigma2), p.Gamma
	for !ok(hi) {
		lo, hi = hi, hi*2
		if hi/p.Gamma > 1<<40 {
			return p, bad("target epsilon %v at delta %v over %d rounds needs integer noise above 2^40: increase Params.Gamma or the target", targetEps, delta, rounds)
		}
	}
	if ok(lo) {
		hi = lo // already at the smallest allowed noise σ/γ = √MinSigma2
	}
	for hi/lo > 1+1e-4 && !ok(lo) {
		mid := math.Sqrt(lo * hi)
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	p.Sigma = hi
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("ddg: calibrated per-client sigma %.4g: %w", hi, err)
	}
	return p, nil
}
