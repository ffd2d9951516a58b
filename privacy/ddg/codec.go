package ddg

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"sync"

	"github.com/fedb2b/fedb2b/privacy"
)

// Codec encodes client updates into ring words and decodes their modular
// sum, for fixed Params. Build it once per parameter set (it holds the
// noise sampler's table); it is safe for concurrent use with one generator
// per goroutine.
type Codec struct {
	p       Params
	samp    *Sampler
	bound2  uint64 // ⌊Δ₂²⌋ (integer units), conservatively rounded down
	bound2f float64
}

// NewCodec validates p and builds its noise sampler.
func NewCodec(p Params) (*Codec, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Bits > 32 {
		return nil, bad("Params.Bits = %d exceeds the 32-bit words a codec writes", p.Bits)
	}
	s, err := cachedSampler(p.IntSigma() * p.IntSigma())
	if err != nil {
		return nil, err
	}
	b2 := p.NormBound() * p.NormBound() * (1 - 1e-12)
	if b2 >= math.Ldexp(1, 63) {
		return nil, bad("norm bound Δ₂² = %.3g too large: increase Params.Gamma", b2)
	}
	return &Codec{p: p, samp: s, bound2: uint64(b2), bound2f: b2}, nil
}

// Params returns the codec's parameters.
func (c *Codec) Params() Params { return c.p }

// Sampler returns the codec's noise sampler.
func (c *Codec) Sampler() *Sampler { return c.samp }

// EncodeStats describes one Encode call. It is computed from private data:
// do not release it.
type EncodeStats struct {
	Norm    float64 // ‖x‖₂ before clipping
	Clipped bool    // Norm > ClipNorm
	Retries int     // rejected rounding attempts
}

// Encode runs the client side of the mechanism on x (len p.Dim, not
// modified) and writes p.PaddedDim() ring words into dst:
//
//  1. clip to ‖x‖₂ ≤ S; 2. rotate with the round's seed (Rotate);
//  3. scale by 1/γ; 4. round each coordinate to a neighbouring integer
//     (unbiased), redrawing until ‖·‖₂ ≤ Δ₂ (conditional rounding);
//  5. add N_Z(0, (σ/γ)²) to each coordinate; 6. reduce mod 2^b.
//
// r supplies rounding and noise randomness and must come from
// privacy.NewRand (crypto-strong). Non-finite input is an error.
func (c *Codec) Encode(dst []uint32, x []float64, seed RoundSeed, r *rand.Rand) (EncodeStats, error) {
	p := c.p
	if len(x) != p.Dim {
		return EncodeStats{}, fmt.Errorf("ddg: encode: update has %d coordinates, want Params.Dim = %d", len(x), p.Dim)
	}
	if len(dst) != p.PaddedDim() {
		return EncodeStats{}, fmt.Errorf("ddg: encode: output has %d words, want PaddedDim = %d", len(dst), p.PaddedDim())
	}
	var ss float64
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return EncodeStats{}, fmt.Errorf("ddg: encode: coordinate %d is not finite", i)
		}
		ss += v * v
	}
	xc := append([]float64(nil), x...)
	f := privacy.ClipL2(xc, p.ClipNorm)
	st := EncodeStats{Norm: math.Sqrt(ss), Clipped: f < 1}
	y := make([]float64, p.PaddedDim())
	Rotate(y, xc, seed)
	for i := range y {
		y[i] /= p.Gamma
	}
	z := make([]int64, len(y))
	for {
		if c.roundOnce(z, y, r) {
			break
		}
		st.Retries++
		if st.Retries >= maxRetries {
			return st, fmt.Errorf("ddg: encode: conditional rounding failed %d times (Params.Beta = %v)", st.Retries, p.Beta)
		}
	}
	c.samp.Add(z, r)
	for i, v := range z {
		dst[i] = uint32(uint64(v)) // reduction mod 2^32; mod 2^b below
	}
	if p.Bits < 32 {
		mask := uint32(1)<<p.Bits - 1
		for i := range dst {
			dst[i] &= mask
		}
	}
	return st, nil
}

// roundOnce rounds y stochastically into z and reports whether the exact
// integer ‖z‖₂² is at most ⌊Δ₂²⌋.
func (c *Codec) roundOnce(z []int64, y []float64, r *rand.Rand) bool {
	var hi, lo uint64
	for i, v := range y {
		fl := math.Floor(v)
		w := int64(fl)
		if r.Float64() < v-fl {
			w++
		}
		z[i] = w
		a := uint64(w)
		if w < 0 {
			a = uint64(-w)
		}
		h, l := bits.Mul64(a, a)
		var carry uint64
		lo, carry = bits.Add64(lo, l, 0)
		hi += h + carry
	}
	return hi == 0 && lo <= c.bound2
}

// Decode turns the modular sum of the survivors' words (len PaddedDim) into
// the noisy sum of their clipped updates (len Dim) in dst: words → signed
// integers (two's complement in b bits) → times γ → inverse rotation.
// The result is Σ clip(x_i) + noise with per-coordinate variance about
// m·σ² (m survivors) plus rounding noise of variance at most m·γ²/4.
func (c *Codec) Decode(dst []float64, sum []uint32, seed RoundSeed) error {
	p := c.p
	if len(dst) != p.Dim {
		return fmt.Errorf("ddg: decode: output has %d coordinates, want Params.Dim = %d", len(dst), p.Dim)
	}
	if len(sum) != p.PaddedDim() {
		return fmt.Errorf("ddg: decode: sum has %d words, want PaddedDim = %d", len(sum), p.PaddedDim())
	}
	y := make([]float64, len(sum))
	shift := 64 - p.Bits
	for i, w := range sum {
		v := int64(uint64(w)<<shift) >> shift // sign-extend b bits
		y[i] = float64(v) * p.Gamma
	}
	Unrotate(dst, y, seed)
	return nil
}

// WithClip returns a codec for c.Params().WithClip(s), sharing c's noise
// sampler (the integer noise σ/γ does not change), so following an
// adaptive clip norm costs no table rebuild.
func (c *Codec) WithClip(s float64) (*Codec, error) {
	p := c.p.WithClip(s)
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Codec{p: p, samp: c.samp, bound2: c.bound2, bound2f: c.bound2f}, nil
}

// samplers caches noise samplers by variance: a table for σ/γ near
// MaxTableSigma takes seconds to build (about 10 s here for 2^16), and
// every round of a federation uses the same σ/γ. A Sampler is read-only
// once built, so sharing it is safe. At most maxCachedSamplers are kept.
var samplers struct {
	sync.Mutex
	m map[float64]*Sampler
}

const maxCachedSamplers = 4

func cachedSampler(sigma2 float64) (*Sampler, error) {
	samplers.Lock()
	defer samplers.Unlock()
	if s, ok := samplers.m[sigma2]; ok {
		return s, nil
	}
	s, err := NewSampler(sigma2)
	if err != nil {
		return nil, err
	}
	if samplers.m == nil || len(samplers.m) >= maxCachedSamplers {
		samplers.m = map[float64]*Sampler{}
	}
	samplers.m[sigma2] = s
	return s, nil
}
