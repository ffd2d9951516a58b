package dataset

import (
	"math"
	"math/rand/v2"
)

// logGamma draws log X for X ~ Gamma(shape, 1) with the method of Marsaglia
// and Tsang (2000), "A simple method for generating gamma variables", ACM
// TOMS 26(3). For shape < 1 it uses their boost X = Y·U^(1/shape) with
// Y ~ Gamma(shape+1), kept in logs because U^(1/shape) underflows to 0 for
// the small shapes (α ≈ 0.01) used for extreme label skew. shape must be
// positive and finite.
func logGamma(r *rand.Rand, shape float64) float64 {
	if !(shape > 0) || math.IsInf(shape, 1) {
		panic("dataset: gamma shape must be positive and finite")
	}
	if shape < 1 {
		u := 1 - r.Float64() // (0, 1]: log is finite
		return logGamma(r, shape+1) + math.Log(u)/shape
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x {
			return math.Log(d * v)
		}
		if u > 0 && math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return math.Log(d * v)
		}
	}
}

// dirichlet draws p ~ Dirichlet(alpha, ..., alpha) of length k: normalised
// independent Gamma(alpha) draws, normalised in log space so that tiny
// alpha gives a valid (very sparse) vector instead of 0/0.
func dirichlet(r *rand.Rand, alpha float64, k int) []float64 {
	p := make([]float64, k)
	maxLog := math.Inf(-1)
	for i := range p {
		p[i] = logGamma(r, alpha)
		maxLog = max(maxLog, p[i])
	}
	if math.IsInf(maxLog, -1) || math.IsNaN(maxLog) {
		// Every draw underflowed (alpha near the smallest float): the
		// limit of Dirichlet(alpha) as alpha -> 0 is a uniform vertex.
		clear(p)
		p[r.IntN(k)] = 1
		return p
	}
	var sum float64
	for i := range p {
		p[i] = math.Exp(p[i] - maxLog)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}
