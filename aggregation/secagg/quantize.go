package secagg

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Quantizer maps float64 updates to integers in Z_{2^32} and back
// (Bonawitz et al. 2017 §1 and Kairouz et al. 2021 "The distributed
// discrete Gaussian mechanism" §3 describe the same pipeline: clip, scale,
// randomly round, sum modulo 2^b, decode).
//
// Encoding one vector x: clip to ‖x‖₂ ≤ ClipNorm (reported, never silent),
// multiply by Scale, round each coordinate stochastically to one of its two
// neighbouring integers (unbiased: E[round(v)] = v), and store the
// two's-complement integer as a uint32 word. After clipping |x_i| ≤
// ClipNorm, so every word lies in [−MaxAbs, MaxAbs] with MaxAbs =
// ⌈ClipNorm·Scale⌉+1 (the +1 absorbs floating-point error in the clip);
// NoiseBound adds room for integer noise added after quantisation (for
// example a tail bound on distributed discrete Gaussian noise).
//
// Decoding the modular sum of n such vectors is exact as long as
// 2·n·(MaxAbs+NoiseBound) < 2^32, which CheckRange verifies before a round.
type Quantizer struct {
	// ClipNorm S: L2 bound applied to each update (same units as the update).
	ClipNorm float64
	// Scale: integer steps per unit; the quantisation step is 1/Scale.
	Scale float64
	// NoiseBound: maximum |integer noise| a client adds per coordinate
	// after quantisation (0 if none).
	NoiseBound int64
}

// QuantStats describes one Quantize call.
type QuantStats struct {
	// Norm is the L2 norm of the input before clipping.
	Norm float64
	// Clipped is true when Norm > ClipNorm and the vector was scaled down.
	Clipped bool
}

// Validate checks the quantiser's parameters.
func (q Quantizer) Validate() error {
	if !(q.ClipNorm > 0) || math.IsInf(q.ClipNorm, 0) {
		return fmt.Errorf("%w: Quantizer.ClipNorm must be positive and finite, got %v", ErrParams, q.ClipNorm)
	}
	if !(q.Scale > 0) || math.IsInf(q.Scale, 0) {
		return fmt.Errorf("%w: Quantizer.Scale must be positive and finite, got %v", ErrParams, q.Scale)
	}
	if q.NoiseBound < 0 {
		return fmt.Errorf("%w: Quantizer.NoiseBound must be ≥ 0, got %d", ErrParams, q.NoiseBound)
	}
	if q.ClipNorm*q.Scale > 1<<31 {
		return fmt.Errorf("%w: ClipNorm·Scale = %g exceeds 2^31: reduce Quantizer.Scale", ErrParams, q.ClipNorm*q.Scale)
	}
	return nil
}

// MaxAbs is the largest |word| one client's quantised input can hold,
// noise included.
func (q Quantizer) MaxAbs() int64 {
	return int64(math.Ceil(q.ClipNorm*q.Scale)) + 1 + q.NoiseBound
}

// CheckRange verifies, before a round, that the sum of cohort clients'
// vectors cannot wrap modulo 2^32: 2·cohort·MaxAbs < 2^32. The error names
// the parameter to change.
func (q Quantizer) CheckRange(cohort int) error {
	if err := q.Validate(); err != nil {
		return err
	}
	if cohort < 1 {
		return fmt.Errorf("%w: cohort must be ≥ 1, got %d", ErrParams, cohort)
	}
	need := 2 * float64(cohort) * float64(q.MaxAbs())
	if need >= 1<<Bits {
		maxScale := (float64(uint64(1)<<(Bits-1))/float64(cohort) - 2 - float64(q.NoiseBound)) / q.ClipNorm
		return fmt.Errorf("%w: a sum of %d clients with |word| ≤ %d needs %.0f > 2^%d values: reduce Quantizer.Scale (to below %.4g), Quantizer.ClipNorm, Quantizer.NoiseBound or the cohort size",
			ErrParams, cohort, q.MaxAbs(), need, Bits, maxScale)
	}
	return nil
}

// Quantize clips x (not modified), scales and stochastically rounds it into
// dst (len(dst) must equal len(x)). r supplies the rounding randomness
// (privacy.NewRand): it keys an AES-128-CTR stream that gives 32 bits per
// coordinate (see quantize_kernel.go for the rounding rule and its bias
// below 2^-32 steps). It fails on NaN or infinite input.
func (q Quantizer) Quantize(dst []uint32, x []float64, r *rand.Rand) (QuantStats, error) {
	if len(dst) != len(x) {
		panic("secagg: Quantize: len(dst) != len(x)")
	}
	if err := q.Validate(); err != nil {
		return QuantStats{}, err
	}
	ss := sumSquares(x)
	if math.IsNaN(ss) || math.IsInf(ss, 0) {
		for i, v := range x {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return QuantStats{}, fmt.Errorf("%w: coordinate %d is not finite", ErrParams, i)
			}
		}
	}
	st := QuantStats{Norm: math.Sqrt(ss)}
	f := q.Scale
	if st.Norm > q.ClipNorm {
		st.Clipped = true
		f *= q.ClipNorm / st.Norm
	}
	// |round(x_i·f)| ≤ MaxAbs−NoiseBound by construction; the clamp keeps
	// the bound against floating-point error and keeps words below 2^31.
	lim := float64(min(q.MaxAbs()-q.NoiseBound, math.MaxInt32))
	quantizeWords(dst, x, r, f, lim)
	return st, nil
}

// DecodeInt converts a modular sum to signed integers (two's complement).
func DecodeInt(dst []int64, sum []uint32) {
	if len(dst) != len(sum) {
		panic("secagg: DecodeInt: len(dst) != len(sum)")
	}
	for i, w := range sum {
		dst[i] = int64(int32(w))
	}
}

// Decode converts the modular sum of quantised vectors back to float64:
// dst[i] = int32(sum[i]) / Scale. It is exact (up to the float64 division)
// when CheckRange(cohort) passed for the cohort that was summed.
func (q Quantizer) Decode(dst []float64, sum []uint32) {
	if len(dst) != len(sum) {
		panic("secagg: Decode: len(dst) != len(sum)")
	}
	for i, w := range sum {
		dst[i] = float64(int32(w)) / q.Scale
	}
}
