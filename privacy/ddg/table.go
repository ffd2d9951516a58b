package ddg

import (
	"math"
	"math/big"
	"math/bits"
	"math/rand/v2"
)

// tablePrec is the working precision (bits) of the table construction.
const tablePrec = 256

// tailBits: the table covers |X| ≤ K with P(|X| > K) < 2^-tailBits.
const tailBits = 140

// tableSampler is an inverse-CDF sampler for |X|, X ~ N_Z(0, σ²), with
// 128-bit fixed-point cumulative probabilities computed at 256-bit
// precision, a guide table indexed by the top bits of the first uniform
// word, and the second word drawn only on ties (probability ≈ 2^-64).
type tableSampler struct {
	hi, lo []uint64 // ⌊2^128·P(|X| ≤ k)⌋ for k < K; entry K is a catch-all
	guide  []int32  // guide[j]: smallest k with C_k > j·2^(128−G)
	shift  uint     // 64 − G
	tv     float64  // bound on the total-variation distance per sample
}

// bigExp returns e^x for 0 ≤ x ≤ 64 at precision prec (Taylor series after
// halving x below 1/2, then squaring back).
func bigExp(x *big.Float, prec uint) *big.Float {
	y := new(big.Float).SetPrec(prec).Set(x)
	halvings := 0
	half := big.NewFloat(0.5)
	for y.Cmp(half) > 0 {
		y.Quo(y, big.NewFloat(2))
		halvings++
	}
	sum := new(big.Float).SetPrec(prec).SetInt64(1)
	term := new(big.Float).SetPrec(prec).SetInt64(1)
	eps := new(big.Float).SetPrec(prec).SetMantExp(big.NewFloat(1), -int(prec)-8)
	for n := int64(1); n < 1000; n++ {
		term.Mul(term, y)
		term.Quo(term, new(big.Float).SetInt64(n))
		sum.Add(sum, term)
		if term.Cmp(eps) < 0 {
			break
		}
	}
	for range halvings {
		sum.Mul(sum, sum)
	}
	return sum
}

// newTableSampler builds the table for N_Z(0, sigma2), sigma2 ≤ MaxTableSigma².
func newTableSampler(sigma2 float64) *tableSampler {
	sigma := math.Sqrt(sigma2)
	kmax := int(math.Ceil(sigma*math.Sqrt(2*(tailBits*math.Ln2+math.Log(2+2*sigma))))) + 1
	// w_k = exp(−k²/(2σ²)) by the recurrence w_{k+1} = w_k·m_k,
	// m_k = exp(−(2k+1)/(2σ²)) = m_{k−1}·exp(−1/σ²).
	inv := new(big.Float).SetPrec(tablePrec).SetFloat64(sigma2)
	inv.Quo(new(big.Float).SetPrec(tablePrec).SetInt64(1), inv) // 1/σ²
	one := new(big.Float).SetPrec(tablePrec).SetInt64(1)
	// exp(−x) = 1/exp(x), x ≤ 2 because σ² ≥ 1/2 is checked by callers.
	q := new(big.Float).SetPrec(tablePrec).Quo(one, bigExp(inv, tablePrec))
	halfInv := new(big.Float).SetPrec(tablePrec).Quo(inv, big.NewFloat(2))
	m := new(big.Float).SetPrec(tablePrec).Quo(one, bigExp(halfInv, tablePrec))
	w := new(big.Float).SetPrec(tablePrec).SetInt64(1)
	cum := make([]*big.Float, kmax+1)
	acc := new(big.Float).SetPrec(tablePrec).SetInt64(1)
	cum[0] = new(big.Float).SetPrec(tablePrec).Set(acc)
	two := new(big.Float).SetPrec(tablePrec).SetInt64(2)
	tmp := new(big.Float).SetPrec(tablePrec)
	for k := 1; k <= kmax; k++ {
		w.Mul(w, m)
		m.Mul(m, q)
		acc.Add(acc, tmp.Mul(w, two))
		cum[k] = new(big.Float).SetPrec(tablePrec).Set(acc)
	}
	scale := new(big.Float).SetPrec(tablePrec).SetMantExp(one, 128)
	scale.Quo(scale, acc) // 2^128 / Z_truncated
	t := &tableSampler{hi: make([]uint64, kmax+1), lo: make([]uint64, kmax+1)}
	c := new(big.Int)
	mask := new(big.Int).SetUint64(math.MaxUint64)
	for k := 0; k < kmax; k++ {
		tmp.Mul(cum[k], scale)
		tmp.Int(c)
		t.lo[k] = new(big.Int).And(c, mask).Uint64()
		t.hi[k] = new(big.Int).Rsh(c, 64).Uint64()
	}
	t.hi[kmax], t.lo[kmax] = math.MaxUint64, math.MaxUint64
	g := min(max(bits.Len(uint(kmax+1))+1, 12), 20)
	t.shift = uint(64 - g)
	t.guide = make([]int32, 1<<g)
	k := 0
	for j := range t.guide {
		// smallest k with C_k > j·2^(128−g), i.e. hi > j<<shift or
		// (hi == j<<shift and lo > 0)
		b := uint64(j) << t.shift
		for k < kmax && (t.hi[k] < b || (t.hi[k] == b && t.lo[k] == 0)) {
			k++
		}
		t.guide[j] = int32(k)
	}
	// Rounding each of K+1 cumulative values down by < 2^-128 and
	// truncating a tail of mass < 2^-tailBits.
	t.tv = float64(kmax+2)*math.Ldexp(1, -128) + math.Ldexp(1, -tailBits)
	return t
}

// abs returns |X| for the first uniform word u1; r supplies the second
// word if u1 ties with a table entry.
func (t *tableSampler) abs(u1 uint64, r *rand.Rand) int64 {
	i := int(t.guide[u1>>t.shift])
	last := len(t.hi) - 1
	var u2 uint64
	drawn := false
	for i < last {
		h := t.hi[i]
		if u1 < h {
			break
		}
		if u1 == h {
			if !drawn {
				u2, drawn = r.Uint64(), true
			}
			if u2 < t.lo[i] {
				break
			}
		}
		i++
	}
	return int64(i)
}
