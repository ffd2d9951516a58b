package adaptive

import (
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/ddg"
)

func testRand(t *testing.T, seed uint64) *rand.Rand {
	r, err := privacy.NewRand(privacy.SeededReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// lognormal norms exp(0.5·N(0,1)): the q-quantile is exp(0.5·Φ⁻¹(q)).
func norms(r *rand.Rand, m int) []float64 {
	out := make([]float64, m)
	for i := range out {
		out[i] = math.Exp(0.5 * r.NormFloat64())
	}
	return out
}

func quantile(q float64) float64 {
	// Φ⁻¹ by bisection on erfc.
	lo, hi := -10.0, 10.0
	for range 100 {
		mid := (lo + hi) / 2
		if 0.5*math.Erfc(-mid/math.Sqrt2) < q {
			lo = mid
		} else {
			hi = mid
		}
	}
	return math.Exp(0.5 * lo)
}

// TestConvergesToQuantile: with m = 100 clients a round, bit noise
// σ_b = m/20 (the paper's suggestion) and η = 0.2, C started at 0.1 ends
// (mean of the last 100 of 400 rounds) between the (γ−0.05)- and
// (γ+0.05)-quantiles of the norm distribution.
func TestConvergesToQuantile(t *testing.T) {
	for i, target := range []float64{0.5, 0.8} {
		r := testRand(t, uint64(i))
		a, err := New(Config{InitialClip: 0.1, TargetQuantile: target, LearningRate: 0.2})
		if err != nil {
			t.Fatal(err)
		}
		const m, rounds = 100, 400
		sigmaB := float64(m) / 20
		var tail []float64
		for round := range rounds {
			sum := 0.0
			for _, n := range norms(r, m) {
				sum += Bit(n, a.Clip())
			}
			sum += sigmaB * r.NormFloat64()
			if _, err := a.Update(sum, m); err != nil {
				t.Fatal(err)
			}
			if round >= rounds-100 {
				tail = append(tail, a.Clip())
			}
		}
		sort.Float64s(tail)
		med := tail[len(tail)/2]
		lo, hi := quantile(target-0.05), quantile(target+0.05)
		if med < lo || med > hi {
			t.Errorf("target %.2f: clip %.4f not within [%.4f, %.4f]", target, med, lo, hi)
		}
		t.Logf("target quantile %.2f: clip %.4f (true quantile %.4f)", target, med, quantile(target))
	}
}

// TestJointWithDDG runs the bits through the distributed discrete Gaussian
// as one extra coordinate of each client's vector: the estimated unclipped
// fraction tracks the true one, and C converges.
func TestJointWithDDG(t *testing.T) {
	const m, dim = 20, 31
	unit := ddg.Params{Dim: dim + 1, ClipNorm: 1, Gamma: 1e-3, Sigma: 0.25, Beta: ddg.DefaultBeta, Threshold: m, Cohort: m, Bits: 32}
	z := unit.NoiseMultiplier() // 1.118
	sigmaB := 1.0               // m/20
	clipFrac, weightFrac, err := Split(z, sigmaB)
	if err != nil {
		t.Fatal(err)
	}
	zd, _ := EffectiveNoise(z, sigmaB)
	if math.Abs(z/clipFrac-zd) > 1e-12 || math.Abs(JointClipNorm(clipFrac, weightFrac)-1) > 1e-12 {
		t.Fatalf("Split inconsistent: z/clipFrac %v vs z_Δ %v", z/clipFrac, zd)
	}
	a, _ := New(Config{InitialClip: 0.2, TargetQuantile: 0.5, LearningRate: 0.2})
	r := testRand(t, 3)
	base, err := ddg.NewCodec(unit)
	if err != nil {
		t.Fatal(err)
	}
	var errSum, errSq float64
	const rounds = 150
	var tail []float64
	for round := range rounds {
		c := a.Clip()
		s := c / clipFrac // joint clip
		p := unit.WithClip(s)
		codec, err := base.WithClip(s)
		if err != nil {
			t.Fatal(err)
		}
		w := weightFrac * s
		seed := ddg.RoundSeed{byte(round)}
		sum := make([]uint32, p.PaddedDim())
		trueBits := 0.0
		for _, n := range norms(r, m) {
			u := make([]float64, dim)
			for j := range u {
				u[j] = r.NormFloat64()
			}
			f := n / math.Sqrt(privacyNorm2(u))
			for j := range u {
				u[j] *= f // norm n
			}
			privacy.ClipL2(u, c)
			trueBits += Bit(n, c)
			words := make([]uint32, p.PaddedDim())
			if _, err := codec.Encode(words, AppendBit(u, n, c, w), seed, r); err != nil {
				t.Fatal(err)
			}
			for j := range sum {
				sum[j] += words[j]
			}
		}
		joint := make([]float64, dim+1)
		if err := codec.Decode(joint, sum, seed); err != nil {
			t.Fatal(err)
		}
		_, bitSum, err := DecodeBitSum(joint, w)
		if err != nil {
			t.Fatal(err)
		}
		e := bitSum - trueBits
		errSum += e
		errSq += e * e
		if _, err := a.Update(bitSum, m); err != nil {
			t.Fatal(err)
		}
		if round >= rounds-50 {
			tail = append(tail, a.Clip())
		}
	}
	mean := errSum / rounds
	sd := math.Sqrt(errSq/rounds - mean*mean)
	if math.Abs(sd/sigmaB-1) > 0.25 || math.Abs(mean) > 4*sigmaB/math.Sqrt(rounds) {
		t.Errorf("bit-sum noise: mean %.3f, std %.3f, want 0 and σ_b = %v", mean, sd, sigmaB)
	}
	sort.Float64s(tail)
	med := tail[len(tail)/2]
	if lo, hi := quantile(0.4), quantile(0.6); med < lo || med > hi {
		t.Errorf("clip %.4f not within [%.4f, %.4f]", med, lo, hi)
	}
	t.Logf("bit-sum noise std %.3f (σ_b %v), final clip %.4f (median norm 1), z=%.3f z_Δ=%.3f", sd, sigmaB, med, z, zd)
}

func privacyNorm2(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	return s
}

func TestEffectiveNoise(t *testing.T) {
	// Paper, §3: z = 1, σ_b = m/20 with m = 100 → z_Δ = (1 − 1/100)^{−1/2}.
	zd, err := EffectiveNoise(1, 5)
	if err != nil || math.Abs(zd-1/math.Sqrt(0.99)) > 1e-12 {
		t.Errorf("EffectiveNoise(1, 5) = %v, %v", zd, err)
	}
	for _, c := range [][2]float64{{1, 0.5}, {1, 0.4}, {0, 1}, {1, 0}, {math.NaN(), 1}} {
		if _, err := EffectiveNoise(c[0], c[1]); !errors.Is(err, ErrParams) {
			t.Errorf("EffectiveNoise(%v, %v): %v", c[0], c[1], err)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	good := Config{InitialClip: 1, TargetQuantile: 0.5, LearningRate: 0.2}
	bad := []func(*Config){
		func(c *Config) { c.InitialClip = 0 },
		func(c *Config) { c.TargetQuantile = 1 },
		func(c *Config) { c.TargetQuantile = 0 },
		func(c *Config) { c.LearningRate = -1 },
		func(c *Config) { c.MinClip, c.MaxClip = 2, 1 },
	}
	for i, f := range bad {
		c := good
		f(&c)
		if _, err := New(c); !errors.Is(err, ErrParams) {
			t.Errorf("case %d: %v", i, err)
		}
	}
	a, _ := New(good)
	if _, err := a.Update(math.NaN(), 10); err == nil {
		t.Error("NaN sum accepted")
	}
	if _, err := a.Update(1, 0); err == nil {
		t.Error("zero clients accepted")
	}
	a.Update(5, 10) // b̄ = 1: C shrinks by e^{-0.1}
	if math.Abs(a.Clip()-math.Exp(-0.1)) > 1e-12 {
		t.Errorf("clip after update %v, want e^-0.1", a.Clip())
	}
}
