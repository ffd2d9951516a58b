package ddg

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"math/rand/v2"
)

// ExactSampler draws from the discrete Gaussian N_Z(0, σ²) exactly, with
// the rejection algorithm of Canonne, Kamath and Steinke 2020 ("The
// discrete Gaussian for differential privacy", Algorithms 1–3): a discrete
// Laplace proposal with scale t = ⌊σ⌋+1, accepted with probability
// exp(−(|Y| − σ²/t)²/(2σ²)). Every Bernoulli(exp(−γ)) is evaluated with
// integer arithmetic on the exact rational σ² = a/b of the float64 σ², so
// no floating-point rounding enters the output distribution.
//
// It costs a few hundred nanoseconds per sample (math/big); Sampler uses it
// only as the reference and for σ beyond its table range.
type ExactSampler struct {
	a, b *big.Int // σ² = a/b exactly
	t    uint64   // ⌊σ⌋+1
	tb   *big.Int // t·b
	den  *big.Int // 2·a·b·t²
}

// NewExactSampler returns an exact sampler for variance sigma2 (the σ² of
// N_Z(0, σ²); Var is slightly below σ² for σ < 1). sigma2 must be positive,
// finite and at most 2^100.
func NewExactSampler(sigma2 float64) (*ExactSampler, error) {
	if !(sigma2 > 0) || sigma2 > 1<<100 {
		return nil, fmt.Errorf("ddg: discrete Gaussian variance sigma2=%v must be in (0, 2^100]", sigma2)
	}
	q := new(big.Rat).SetFloat64(sigma2)
	s := &ExactSampler{a: new(big.Int).Set(q.Num()), b: new(big.Int).Set(q.Denom())}
	// t = ⌊σ⌋+1: the smallest integer with t²·b > a.
	t := uint64(math.Sqrt(sigma2))
	if t > 0 {
		t--
	}
	for {
		tt := new(big.Int).SetUint64(t)
		tt.Mul(tt, tt).Mul(tt, s.b)
		if tt.Cmp(s.a) > 0 {
			break
		}
		t++
	}
	s.t = t
	bt := new(big.Int).SetUint64(t)
	s.tb = new(big.Int).Mul(bt, s.b)
	s.den = new(big.Int).Mul(s.a, s.b)
	s.den.Mul(s.den, bt).Mul(s.den, bt).Lsh(s.den, 1)
	return s, nil
}

// Sample returns one draw of N_Z(0, σ²) using r (privacy.NewRand).
func (s *ExactSampler) Sample(r *rand.Rand) int64 {
	num := new(big.Int)
	for {
		y := discreteLaplace(s.t, r)
		// γ = (|Y|·t·b − a)² / (2·a·b·t²)
		ay := y
		if ay < 0 {
			ay = -ay
		}
		num.SetInt64(ay)
		num.Mul(num, s.tb).Sub(num, s.a)
		num.Mul(num, num)
		if bernoulliExpBig(num, s.den, r) {
			return y
		}
	}
}

// discreteLaplace samples P(Y=y) ∝ exp(−|y|/t) exactly (CKS Algorithm 2).
func discreteLaplace(t uint64, r *rand.Rand) int64 {
	for {
		u := r.Uint64N(t)
		if !bernoulliExpFrac(u, t, r) {
			continue
		}
		v := uint64(0)
		for bernoulliExpFrac(1, 1, r) {
			v++
		}
		x := u + t*v
		neg := r.Uint64()&1 == 1
		if neg && x == 0 {
			continue
		}
		if neg {
			return -int64(x)
		}
		return int64(x)
	}
}

// bernoulliExpFrac returns true with probability exp(−n/d), 0 ≤ n ≤ d,
// d ≥ 1 (CKS Algorithm 1 for γ = n/d ∈ [0, 1]): draw Bernoulli(γ/k) for
// k = 1, 2, ... until the first failure; true iff it happens at an odd k.
func bernoulliExpFrac(n, d uint64, r *rand.Rand) bool {
	k := uint64(1)
	for {
		hi, lo := bits.Mul64(d, k)
		if hi != 0 { // d·k overflows 64 bits: draw in 128 bits
			if !bern128(n, hi, lo, r) {
				break
			}
		} else if r.Uint64N(lo) >= n {
			break
		}
		k++
	}
	return k%2 == 1
}

// bern128 returns true with probability n / (hi·2^64 + lo).
func bern128(n, hi, lo uint64, r *rand.Rand) bool {
	m := new(big.Int).SetUint64(hi)
	m.Lsh(m, 64).Or(m, new(big.Int).SetUint64(lo))
	return uniformBig(m, r).Cmp(new(big.Int).SetUint64(n)) < 0
}

// bernoulliExpBig returns true with probability exp(−n/d) for big n ≥ 0,
// d ≥ 1: ⌊n/d⌋ Bernoulli(exp(−1)) trials, then one with the fraction.
func bernoulliExpBig(n, d *big.Int, r *rand.Rand) bool {
	q, rem := new(big.Int).QuoRem(n, d, new(big.Int))
	for i := new(big.Int).Set(q); i.Sign() > 0; i.Sub(i, big.NewInt(1)) {
		if !bernoulliExpFrac(1, 1, r) {
			return false
		}
	}
	if rem.IsUint64() && d.IsUint64() {
		return bernoulliExpFrac(rem.Uint64(), d.Uint64(), r)
	}
	k := big.NewInt(1)
	dk := new(big.Int)
	for {
		dk.Mul(d, k)
		if uniformBig(dk, r).Cmp(rem) >= 0 {
			break
		}
		k.Add(k, big.NewInt(1))
	}
	return k.Bit(0) == 1
}

// uniformBig returns a uniform integer in [0, m), m ≥ 1, by rejection.
func uniformBig(m *big.Int, r *rand.Rand) *big.Int {
	if m.IsUint64() {
		return new(big.Int).SetUint64(r.Uint64N(m.Uint64()))
	}
	n := m.BitLen()
	buf := make([]byte, (n+7)/8)
	x := new(big.Int)
	for {
		for i := 0; i < len(buf); i += 8 {
			v := r.Uint64()
			for j := i; j < i+8 && j < len(buf); j++ {
				buf[j] = byte(v)
				v >>= 8
			}
		}
		if extra := len(buf)*8 - n; extra > 0 {
			buf[0] &= 0xff >> extra
		}
		x.SetBytes(buf)
		if x.Cmp(m) < 0 {
			return x
		}
	}
}
