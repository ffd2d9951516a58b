package privacy

import (
	"fmt"
	"math"
)

// This file discretises one step of the Poisson-subsampled Gaussian
// mechanism into a privacy loss distribution (PLD) with the pessimistic
// "connect-the-dots" algorithm (Doroshenko, Ghazi, Kamath, Kumar, Manurangsi
// 2022, Algorithm 1), following the construction of Google's dp_accounting
// (privacy_loss_mechanism.GaussianPrivacyLoss with
// log_mass_truncation_bound = −50, and
// pld_pmf.create_pmf_pessimistic_connect_dots_fixed_gap).
//
// With noise N(0, σ²), sensitivity 1 and sampling probability q:
//
//	remove: μ_upper = (1−q)·N(0,σ²) + q·N(−1,σ²), μ_lower = N(0,σ²),
//	        loss(x) = log(1 − q + q·exp((−1/2 − x)/σ²));
//	add:    μ_upper = N(0,σ²), μ_lower = (1−q)·N(0,σ²) + q·N(1,σ²),
//	        loss(x) = −log(1 − q + q·exp(−(1/2 − x)/σ²)).
//
// Both losses are decreasing in x. The hockey-stick divergence at ε is
// δ(ε) = μ_upper(X ≤ x*) − e^ε·μ_lower(X ≤ x*) with x* = loss⁻¹(ε).

// pldLogMassTruncation is the log of the noise mass discarded from the
// tails when choosing the loss range (dp_accounting's default).
const pldLogMassTruncation = -50

// gaussLoss is the privacy loss of one subsampled Gaussian step for one
// adjacency direction.
type gaussLoss struct {
	q, sigma float64
	add      bool // add adjacency; false = remove
}

// logPhi returns log Φ(x) for the standard normal CDF, accurate in the
// lower tail.
func logPhi(x float64) float64 { return math.Log(0.5) + logErfc(-x/math.Sqrt2) }

// phi returns Φ(x).
func phi(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// normalQuantileTiny returns x with Φ(x) = exp(logP) for very small p,
// by Newton's method on log Φ (math.Erfcinv loses the tail below ~1e-16).
func normalQuantileTiny(logP float64) float64 {
	x := -math.Sqrt(-2 * logP)
	for i := 0; i < 100; i++ {
		lp := logPhi(x)
		// d/dx log Φ(x) = φ(x)/Φ(x).
		deriv := math.Exp(-x*x/2 - 0.5*math.Log(2*math.Pi) - lp)
		step := (lp - logP) / deriv
		x -= step
		if math.Abs(step) <= 1e-15*math.Abs(x) {
			break
		}
	}
	return x
}

// logAExpBPlusC returns log(a·e^b + c) as dp_accounting's
// log_a_times_exp_b_plus_c does (a ≠ 0 assumed by callers).
func logAExpBPlusC(a, b, c float64) float64 {
	if a < 0 {
		// log(c − |a|e^b)
		v, _ := logSub(math.Log(c), math.Log(-a)+b)
		return v
	}
	if b == 0 {
		return math.Log(a + c)
	}
	d := b + math.Log(a)
	switch {
	case c == 0:
		return d
	case c < 0:
		v, err := logSub(d, math.Log(-c))
		if err != nil {
			return math.NaN()
		}
		return v
	default:
		return logAdd(d, math.Log(c))
	}
}

// loss returns the privacy loss at x.
func (g gaussLoss) loss(x float64) float64 {
	s2 := g.sigma * g.sigma
	if g.add {
		l0 := (0.5 - x) / s2
		if g.q == 1 {
			return l0
		}
		return -logAExpBPlusC(g.q, -l0, 1-g.q)
	}
	l0 := (-0.5 - x) / s2
	if g.q == 1 {
		return l0
	}
	return logAExpBPlusC(g.q, l0, 1-g.q)
}

// inverseLoss returns the largest x with loss(x) ≥ eps; eps must be in the
// range of the loss.
func (g gaussLoss) inverseLoss(eps float64) float64 {
	s2 := g.sigma * g.sigma
	if g.add {
		l0 := eps
		if g.q != 1 {
			if isClose(eps, -math.Log(1-g.q)) {
				return math.Inf(-1)
			}
			l0 = -logAExpBPlusC(1/g.q, -eps, 1-1/g.q)
		}
		return 0.5 - l0*s2
	}
	l0 := eps
	if g.q != 1 {
		if isClose(eps, math.Log(1-g.q)) {
			return math.Inf(1)
		}
		l0 = logAExpBPlusC(1/g.q, eps, 1-1/g.q)
	}
	return -0.5 - l0*s2
}

// isClose is Python's math.isclose with its default rel_tol 1e-9.
func isClose(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// upperCDF is μ_upper(X ≤ x).
func (g gaussLoss) upperCDF(x float64) float64 {
	if g.add {
		return phi(x / g.sigma)
	}
	if g.q == 1 {
		return phi((x + 1) / g.sigma)
	}
	return (1-g.q)*phi(x/g.sigma) + g.q*phi((x+1)/g.sigma)
}

// lowerLogCDF is log μ_lower(X ≤ x).
func (g gaussLoss) lowerLogCDF(x float64) float64 {
	if !g.add {
		return logPhi(x / g.sigma)
	}
	if g.q == 1 {
		return logPhi((x - 1) / g.sigma)
	}
	return logAdd(math.Log1p(-g.q)+logPhi(x/g.sigma), math.Log(g.q)+logPhi((x-1)/g.sigma))
}

// delta returns the hockey-stick divergence δ(eps), clipped to [0, 1].
func (g gaussLoss) delta(eps float64) float64 {
	if g.q != 1 {
		if g.add && eps >= -math.Log1p(-g.q) {
			return 0
		}
		if !g.add && eps <= math.Log1p(-g.q) {
			return -math.Expm1(eps)
		}
	}
	x := g.inverseLoss(eps)
	d := g.upperCDF(x) - math.Exp(eps+g.lowerLogCDF(x))
	return math.Min(math.Max(d, 0), 1)
}

// epsilonRange returns the losses at the noise-tail truncation points:
// the connect-the-dots grid spans [lo, hi].
func (g gaussLoss) epsilonRange() (lo, hi float64) {
	lowerX := g.sigma * normalQuantileTiny(math.Log(0.5)+pldLogMassTruncation)
	upperX := -lowerX
	if g.add {
		upperX++
	} else {
		lowerX--
	}
	return g.loss(upperX), g.loss(lowerX)
}

// connectDots returns the pessimistic connect-the-dots PMF of one step on
// the grid of multiples of interval: probs[i] is the mass at loss
// (lower+i)·interval, and inf the mass at +∞.
func (g gaussLoss) connectDots(interval float64, maxSize int) (pmf, error) {
	epsLo, epsHi := g.epsilonRange()
	rLo := math.Floor(epsLo / interval)
	rHi := math.Ceil(epsHi / interval)
	if !(rHi >= rLo) || rHi-rLo+1 > float64(maxSize) {
		return pmf{}, fmt.Errorf("%w: one step of q=%g sigma=%g needs %g points", ErrPLDTooLarge, g.q, g.sigma, rHi-rLo+1)
	}
	n := int(rHi-rLo) + 1
	lower := int(rLo)
	deltas := make([]float64, n)
	for i := range deltas {
		deltas[i] = g.delta(float64(lower+i) * interval)
		if i > 0 && deltas[i] > deltas[i-1] {
			deltas[i] = deltas[i-1] // running minimum: δ is non-increasing
		}
	}
	if n == 1 {
		return pmf{lower: lower, probs: []float64{1 - deltas[0]}, inf: deltas[0]}, nil
	}
	probs := make([]float64, n)
	em1 := math.Expm1(interval)
	e := math.Exp(interval)
	probs[0] = 1 - deltas[0] + (deltas[1]-deltas[0])/em1
	for i := 1; i < n-1; i++ {
		probs[i] = ((deltas[i+1] - deltas[i]) - e*(deltas[i]-deltas[i-1])) / em1
	}
	probs[n-1] = (deltas[n-1] - deltas[n-2]) / math.Expm1(-interval)
	for i, p := range probs {
		if p < 0 {
			probs[i] = 0
		}
	}
	return pmf{lower: lower, probs: probs, inf: deltas[n-1]}, nil
}
