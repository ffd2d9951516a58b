package adaptive

import (
	"errors"
	"fmt"
	"math"
)

// ErrParams is wrapped by every error about invalid parameters or inputs.
var ErrParams = errors.New("adaptive: invalid parameters")

// Config of an adaptive clipper.
type Config struct {
	// InitialClip C₀ > 0 (update units). The paper starts at 0.1.
	InitialClip float64
	// TargetQuantile γ ∈ (0, 1): the fraction of clients that should be
	// unclipped. The paper uses 0.5.
	TargetQuantile float64
	// LearningRate η_C > 0 of the geometric update. The paper uses 0.2.
	LearningRate float64
	// MinClip and MaxClip bound C (0 means 1e-12 and +Inf).
	MinClip, MaxClip float64
}

// Clipper holds the current clip norm. It is not safe for concurrent
// mutation.
type Clipper struct {
	cfg Config
	c   float64
}

// New validates cfg and returns a clipper at cfg.InitialClip.
func New(cfg Config) (*Clipper, error) {
	switch {
	case !(cfg.InitialClip > 0) || math.IsInf(cfg.InitialClip, 0):
		return nil, fmt.Errorf("%w: Config.InitialClip %v must be positive and finite", ErrParams, cfg.InitialClip)
	case !(cfg.TargetQuantile > 0 && cfg.TargetQuantile < 1):
		return nil, fmt.Errorf("%w: Config.TargetQuantile %v must be in (0, 1)", ErrParams, cfg.TargetQuantile)
	case !(cfg.LearningRate > 0) || math.IsInf(cfg.LearningRate, 0):
		return nil, fmt.Errorf("%w: Config.LearningRate %v must be positive and finite", ErrParams, cfg.LearningRate)
	case cfg.MinClip < 0 || math.IsNaN(cfg.MinClip) || cfg.MaxClip < 0 || math.IsNaN(cfg.MaxClip):
		return nil, fmt.Errorf("%w: Config.MinClip %v and Config.MaxClip %v must be non-negative", ErrParams, cfg.MinClip, cfg.MaxClip)
	}
	if cfg.MinClip == 0 {
		cfg.MinClip = 1e-12
	}
	if cfg.MaxClip == 0 {
		cfg.MaxClip = math.Inf(1)
	}
	if cfg.MinClip > cfg.MaxClip {
		return nil, fmt.Errorf("%w: Config.MinClip %v exceeds Config.MaxClip %v", ErrParams, cfg.MinClip, cfg.MaxClip)
	}
	return &Clipper{cfg: cfg, c: math.Min(math.Max(cfg.InitialClip, cfg.MinClip), cfg.MaxClip)}, nil
}

// Clip returns the current clip norm C.
func (a *Clipper) Clip() float64 { return a.c }

// Bit returns a client's centred report b − 1/2 ∈ {−1/2, +1/2} for an
// update of norm `norm` under clip c (the clip of the round's plan):
// +1/2 if norm ≤ c.
func Bit(norm, c float64) float64 {
	if norm <= c {
		return 0.5
	}
	return -0.5
}

// Update applies one round: sum is the noised sum over m clients of their
// centred bits. It returns the estimated unclipped fraction b̄ (not
// clamped: noise may push it outside [0, 1]) and moves C to
// C·exp(−η_C·(b̄ − γ)) within [MinClip, MaxClip].
func (a *Clipper) Update(sum float64, m int) (fraction float64, err error) {
	if m < 1 {
		return 0, fmt.Errorf("%w: %d summed clients, need at least 1", ErrParams, m)
	}
	if math.IsNaN(sum) || math.IsInf(sum, 0) {
		return 0, fmt.Errorf("%w: noised bit sum %v is not finite", ErrParams, sum)
	}
	fraction = sum/float64(m) + 0.5
	c := a.c * math.Exp(-a.cfg.LearningRate*(fraction-a.cfg.TargetQuantile))
	a.c = math.Min(math.Max(c, a.cfg.MinClip), a.cfg.MaxClip)
	return fraction, nil
}

// EffectiveNoise returns the noise multiplier z_Δ the updates may use so
// that updates and bits together are as private as one Gaussian mechanism
// with multiplier z: z_Δ = (z^{−2} − (2σ_b)^{−2})^{−1/2}, where σ_b is the
// std of the noise on the sum of centred bits. It needs 2σ_b > z.
func EffectiveNoise(z, sigmaB float64) (float64, error) {
	if !(z > 0) || math.IsInf(z, 0) || !(sigmaB > 0) || math.IsInf(sigmaB, 0) {
		return 0, fmt.Errorf("%w: noise multiplier z %v and bit noise sigma_b %v must be positive and finite", ErrParams, z, sigmaB)
	}
	if 2*sigmaB <= z {
		return 0, fmt.Errorf("%w: bit noise sigma_b %v must exceed z/2 = %v, or the bits alone spend the budget", ErrParams, sigmaB, z/2)
	}
	return 1 / math.Sqrt(1/(z*z)-1/(4*sigmaB*sigmaB)), nil
}

// BitWeight returns w = c·z_Δ/σ_b: with this weight on the bit coordinate,
// noise of std z_Δ·c on the joint sum is noise σ_b on the bit sum.
func BitWeight(c, zDelta, sigmaB float64) float64 { return c * zDelta / sigmaB }

// JointClipNorm returns √(c² + w²/4): the L2 bound of an update clipped to
// c with the bit coordinate w·(b − 1/2) appended. Use it as
// ddg.Params.ClipNorm.
func JointClipNorm(c, w float64) float64 { return math.Sqrt(c*c + w*w/4) }

// AppendBit returns the update (already clipped to c) with the coordinate
// w·(b − 1/2) appended, where b = [norm ≤ c] and norm is the update's norm
// before clipping.
func AppendBit(clippedUpdate []float64, norm, c, w float64) []float64 {
	out := make([]float64, len(clippedUpdate)+1)
	copy(out, clippedUpdate)
	out[len(clippedUpdate)] = w * Bit(norm, c)
	return out
}

// DecodeBitSum splits a decoded joint sum into the update sum and the
// noised sum of centred bits (last coordinate divided by w).
func DecodeBitSum(joint []float64, w float64) (updates []float64, bitSum float64, err error) {
	if len(joint) < 1 {
		return nil, 0, fmt.Errorf("%w: empty joint vector", ErrParams)
	}
	if !(w > 0) || math.IsInf(w, 0) {
		return nil, 0, fmt.Errorf("%w: bit weight %v must be positive and finite", ErrParams, w)
	}
	n := len(joint) - 1
	return joint[:n], joint[n] / w, nil
}

// Split divides a unit joint clip norm between the update and the bit:
// with total noise std z on the joint sum (z = ddg Params.NoiseMultiplier()
// for ClipNorm 1) and the wanted bit-sum noise σ_b, the update is clipped
// to clipFrac·S and the bit weighted by weightFrac·S, for a joint clip S:
//
//	weightFrac = z/σ_b,  clipFrac = √(1 − (z/(2σ_b))²),
//
// so that JointClipNorm(clipFrac, weightFrac) = 1 and the update's own
// noise multiplier z/clipFrac equals EffectiveNoise(z, σ_b).
func Split(z, sigmaB float64) (clipFrac, weightFrac float64, err error) {
	if _, err := EffectiveNoise(z, sigmaB); err != nil {
		return 0, 0, err
	}
	r := z / (2 * sigmaB)
	return math.Sqrt(1 - r*r), z / sigmaB, nil
}
