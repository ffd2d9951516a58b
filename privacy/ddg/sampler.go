package ddg

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// MaxTableSigma is the largest σ (integer units) for which Sampler uses its
// table; beyond it Sampler falls back to the exact rejection sampler (about
// 15 to 30 times slower). Plan keeps the integer σ well below it.
const MaxTableSigma = 1 << 16

// MinSigma2 is the smallest variance Sampler accepts (the paper's analysis
// needs σ ≥ 1/2 in integer units anyway; Params asks for more).
const MinSigma2 = 0.5

// Sampler draws discrete Gaussian noise N_Z(0, σ²) (integer units).
//
// For σ ≤ MaxTableSigma it inverts a 128-bit fixed-point CDF computed at
// 256-bit precision: its output law is within total variation TV() ≤ 2^-100
// of N_Z(0, σ²) per sample (report samples·TV() as an additive δ if you
// want it formally; it is below 10^-15 for 2^50 samples). Larger σ use
// ExactSampler. A Sampler is safe for concurrent use; the generator is not.
type Sampler struct {
	sigma2 float64
	table  *tableSampler
	exact  *ExactSampler
}

// NewSampler builds a sampler for variance sigma2 (integer units): finite
// and at least MinSigma2. The table takes O(σ) memory (16 bytes per unit
// of σ·13.6, plus a guide) and about a microsecond per entry to build.
func NewSampler(sigma2 float64) (*Sampler, error) {
	if !(sigma2 >= MinSigma2) || math.IsInf(sigma2, 1) {
		return nil, fmt.Errorf("ddg: discrete Gaussian variance %v must be finite and at least %v", sigma2, MinSigma2)
	}
	ex, err := NewExactSampler(sigma2)
	if err != nil {
		return nil, err
	}
	s := &Sampler{sigma2: sigma2, exact: ex}
	if math.Sqrt(sigma2) <= MaxTableSigma {
		s.table = newTableSampler(sigma2)
	}
	return s, nil
}

// Sigma2 returns σ².
func (s *Sampler) Sigma2() float64 { return s.sigma2 }

// Exact reports whether the sampler uses the exact rejection algorithm.
func (s *Sampler) Exact() bool { return s.table == nil }

// TV is an upper bound on the total-variation distance between one sample's
// law and N_Z(0, σ²): 0 for the exact algorithm.
func (s *Sampler) TV() float64 {
	if s.table == nil {
		return 0
	}
	return s.table.tv
}

// Sample returns one draw using r (privacy.NewRand).
func (s *Sampler) Sample(r *rand.Rand) int64 {
	if s.table == nil {
		return s.exact.Sample(r)
	}
	m := s.table.abs(r.Uint64(), r)
	if m != 0 && r.Uint64()&1 == 1 {
		return -m
	}
	return m
}

// Add adds independent draws to dst in place: dst[i] += X_i.
func (s *Sampler) Add(dst []int64, r *rand.Rand) {
	if s.table == nil {
		for i := range dst {
			dst[i] += s.exact.Sample(r)
		}
		return
	}
	var signs uint64
	left := 0
	for i := range dst {
		m := s.table.abs(r.Uint64(), r)
		if m == 0 {
			continue
		}
		if left == 0 {
			signs, left = r.Uint64(), 64
		}
		if signs&1 == 1 {
			m = -m
		}
		signs >>= 1
		left--
		dst[i] += m
	}
}
