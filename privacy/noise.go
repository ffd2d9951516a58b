package privacy

import (
	"fmt"
	"math"
	mrand "math/rand/v2"
)

// AddGaussian adds independent Gaussian noise to dst in place:
// dst[i] += std·N(0,1), with N(0,1) drawn by rng.NormFloat64 (math/rand/v2's
// ziggurat). rng must come from NewRand (crypto-secure key). std = 0 leaves
// dst unchanged; a negative, NaN or infinite std is a programmer error and
// panics. For DP-SGD, std = σ·C (noise multiplier times clipping norm).
func AddGaussian(dst []float64, std float64, rng *mrand.Rand) {
	if !(std >= 0) || math.IsInf(std, 1) {
		panic(fmt.Sprintf("privacy: AddGaussian: invalid standard deviation %g", std))
	}
	if std == 0 {
		return
	}
	for i := range dst {
		dst[i] += std * rng.NormFloat64()
	}
}

// ClipL2 scales v in place so that its L2 norm is at most c, and returns the
// factor applied:
//
//	factor = 1         if ‖v‖₂ ≤ c (v unchanged),
//	factor = c / ‖v‖₂  otherwise,
//
// so the clipped norm is c up to floating-point rounding (a relative error
// of a few ulps). Unlike Opacus (c/(‖v‖+1e-6)) there is no additive
// constant. If ‖v‖₂ is not finite because v holds a NaN or ±Inf, v is
// set to zero and 0 is returned: a non-finite contribution would break the
// sensitivity bound. Norms that overflow float64 are computed with scaling.
// c must be positive and finite (programmer error otherwise: panics).
func ClipL2(v []float64, c float64) (factor float64) {
	if !(c > 0) || math.IsInf(c, 1) {
		panic(fmt.Sprintf("privacy: ClipL2: invalid clipping norm %g", c))
	}
	norm := l2Norm(v)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		clear(v)
		return 0
	}
	if norm <= c {
		return 1
	}
	factor = c / norm
	for i := range v {
		v[i] *= factor
	}
	return factor
}

// l2Norm returns ‖v‖₂, rescaling by the largest magnitude if the plain sum
// of squares overflows. It is NaN or +Inf if v holds a NaN or an infinity.
func l2Norm(v []float64) float64 {
	var ss float64
	for _, x := range v {
		ss += x * x
	}
	if !math.IsInf(ss, 1) {
		return math.Sqrt(ss)
	}
	var maxAbs float64
	for _, x := range v {
		if math.IsNaN(x) {
			return x
		}
		maxAbs = math.Max(maxAbs, math.Abs(x))
	}
	if math.IsInf(maxAbs, 1) {
		return maxAbs
	}
	ss = 0
	for _, x := range v {
		y := x / maxAbs
		ss += y * y
	}
	return maxAbs * math.Sqrt(ss)
}

// PoissonSample returns, in increasing order, the indices in [0, n) selected
// independently each with probability q, appending to dst[:0] (pass the
// previous result to reuse its storage; nil is fine). It draws geometric
// gaps between selected indices, P(gap ≥ k) = (1−q)^k, from one uniform each,
// so it costs O(q·n + 1) draws. rng must come from NewRand. q must be in
// [0, 1] and n ≥ 0; callers validate remote parameters first (ValidateSGM)
// because an invalid q or n is a programmer error here and panics.
func PoissonSample(n int, q float64, rng *mrand.Rand, dst []int) []int {
	if !(q >= 0 && q <= 1) || n < 0 {
		panic(fmt.Sprintf("privacy: PoissonSample: invalid n=%d or q=%g", n, q))
	}
	dst = dst[:0]
	if q == 0 || n == 0 {
		return dst
	}
	if q == 1 {
		for i := 0; i < n; i++ {
			dst = append(dst, i)
		}
		return dst
	}
	log1mq := math.Log1p(-q) // < 0
	i := -1
	for {
		u := 1 - rng.Float64() // (0, 1]
		gap := math.Floor(math.Log(u) / log1mq)
		if gap >= float64(n-1-i) {
			return dst
		}
		i += int(gap) + 1
		dst = append(dst, i)
	}
}

// ValidateSGM checks the parameters of steps steps of the Poisson-subsampled
// Gaussian mechanism as the accountants do: q in (0, 1], sigma positive and
// finite, steps ≥ 0. Use it on parameters received from elsewhere before
// PoissonSample or AddGaussian.
func ValidateSGM(q, sigma float64, steps int) error { return validateSGM(q, sigma, steps) }
