package privacy

import (
	"errors"
	"fmt"
	"math"
)

// This file holds the per-step Rényi DP of the Poisson-subsampled Gaussian
// mechanism (Mironov, Talwar, Zhang 2019, "Rényi Differential Privacy of the
// Sampled Gaussian Mechanism", Sec. 3.3), evaluated in log space:
//
//	RDP(α) = log(A_α)/(α−1),
//	A_α = E_{z~N(0,σ²)}[(1 − q + q·exp((2z−1)/(2σ²)))^α].
//
// Integer α use the exact binomial expansion; fractional α use the exact
// signed series of MTZ19 (the same series and stopping rule as Opacus'
// `_compute_log_a_frac`), not dp_accounting's absolute-value upper bound.

// maxFracTerms bounds the fractional-order series. The series converges
// geometrically with ratio about (1−q); it only needs many terms when q is
// close to 1, which the accountant reports as an error instead of looping.
const maxFracTerms = 1_000_000

// errNegativeLogSub reports that a signed series became non-positive, which
// can only happen through a loss of floating-point precision.
var errNegativeLogSub = errors.New("log-space subtraction would be negative")

// logAdd returns log(exp(a)+exp(b)).
func logAdd(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(b, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// logSub returns log(exp(a)−exp(b)) for a ≥ b.
func logSub(a, b float64) (float64, error) {
	if a < b {
		return 0, errNegativeLogSub
	}
	if math.IsInf(b, -1) {
		return a, nil
	}
	if a == b {
		return math.Inf(-1), nil
	}
	return math.Log(-math.Expm1(b-a)) + a, nil
}

// logErfc returns log(erfc(x)) without underflow for large x.
func logErfc(x float64) float64 {
	if x < 25 {
		return math.Log(math.Erfc(x))
	}
	// Asymptotic expansion erfc(x) = exp(−x²)/(x√π)·Σ (−1)^n (2n−1)!!/(2x²)^n;
	// for x ≥ 25 nine terms are accurate to far below float64 precision.
	t := 1 / (2 * x * x)
	sum, term := 1.0, 1.0
	for n := 1; n <= 9; n++ {
		term *= -float64(2*n-1) * t
		sum += term
	}
	return -x*x - math.Log(x) - 0.5*math.Log(math.Pi) + math.Log(sum)
}

// logIntTable[k] = log(k) for the integer orders of the default lists.
var logIntTable = func() []float64 {
	t := make([]float64, 1025)
	for k := 1; k < len(t); k++ {
		t[k] = math.Log(float64(k))
	}
	return t
}()

// logInt returns log(k) for an integer k ≥ 1.
func logInt(k int) float64 {
	if k < len(logIntTable) {
		return logIntTable[k]
	}
	return math.Log(float64(k))
}

// logAInt returns log(A_α) for an integer order α ≥ 1 by the exact binomial
// expansion A_α = Σ_i C(α,i) q^i (1−q)^(α−i) exp((i²−i)/(2σ²)), summed
// with a streaming log-sum-exp (one exp per term).
func logAInt(q, sigma float64, alpha int) float64 {
	logQ, log1mQ := math.Log(q), math.Log1p(-q)
	inv2s2 := 1 / (2 * sigma * sigma)
	maxS, sum := math.Inf(-1), 0.0 // Σ exp(s_i) = sum·exp(maxS)
	logBinom := 0.0                // log C(α, 0)
	for i := 0; i <= alpha; i++ {
		if i > 0 {
			logBinom += logInt(alpha-i+1) - logInt(i)
		}
		fi := float64(i)
		s := logBinom + fi*logQ + float64(alpha-i)*log1mQ + (fi*fi-fi)*inv2s2
		if s <= maxS {
			sum += math.Exp(s - maxS)
		} else {
			sum = sum*math.Exp(maxS-s) + 1
			maxS = s
		}
	}
	return maxS + math.Log(sum)
}

// logAFrac returns log(A_α) for a fractional order α > 1 by the exact
// signed series of MTZ19 Sec. 3.3 (two half-line integrals, each expanded
// with the generalised binomial theorem), summed until both current terms
// are below e^−30, as Opacus does.
func logAFrac(q, sigma, alpha float64) (float64, error) {
	logA0, logA1 := math.Inf(-1), math.Inf(-1)
	z0 := sigma*sigma*math.Log(1/q-1) + 0.5
	logQ, log1mQ := math.Log(q), math.Log1p(-q)
	inv2s2 := 1 / (2 * sigma * sigma)
	sqrt2s := math.Sqrt2 * sigma
	logHalf := math.Log(0.5)
	logAbsCoef, positive := 0.0, true // C(α, 0) = 1
	for i := 0; i < maxFracTerms; i++ {
		if i > 0 {
			f := alpha - float64(i) + 1
			logAbsCoef += math.Log(math.Abs(f)) - math.Log(float64(i))
			if f < 0 {
				positive = !positive
			}
		}
		fi := float64(i)
		j := alpha - fi
		logT0 := logAbsCoef + fi*logQ + j*log1mQ
		logT1 := logAbsCoef + j*logQ + fi*log1mQ
		logE0 := logHalf + logErfc((fi-z0)/sqrt2s)
		logE1 := logHalf + logErfc((z0-j)/sqrt2s)
		logS0 := logT0 + (fi*fi-fi)*inv2s2 + logE0
		logS1 := logT1 + (j*j-j)*inv2s2 + logE1
		if positive {
			logA0 = logAdd(logA0, logS0)
			logA1 = logAdd(logA1, logS1)
		} else {
			var err error
			if logA0, err = logSub(logA0, logS0); err != nil {
				return 0, fmt.Errorf("privacy: fractional RDP series at order %g, term %d: %w", alpha, i, err)
			}
			if logA1, err = logSub(logA1, logS1); err != nil {
				return 0, fmt.Errorf("privacy: fractional RDP series at order %g, term %d: %w", alpha, i, err)
			}
		}
		if math.Max(logS0, logS1) < -30 {
			return logAdd(logA0, logA1), nil
		}
	}
	return 0, fmt.Errorf("privacy: fractional RDP series at order %g did not converge in %d terms (q=%g too close to 1)", alpha, maxFracTerms, q)
}

// stepRDP returns the Rényi divergence of order alpha of one step of the
// Poisson-subsampled Gaussian mechanism with sampling probability q and
// noise multiplier sigma (add-or-remove adjacency, sensitivity 1).
func stepRDP(q, sigma, alpha float64) (float64, error) {
	if math.IsInf(alpha, 1) {
		return math.Inf(1), nil
	}
	if q == 1 {
		return alpha / (2 * sigma * sigma), nil
	}
	var logA float64
	if alpha == math.Trunc(alpha) && alpha < 1<<30 {
		logA = logAInt(q, sigma, int(alpha))
	} else {
		var err error
		if logA, err = logAFrac(q, sigma, alpha); err != nil {
			return 0, err
		}
	}
	return logA / (alpha - 1), nil
}
