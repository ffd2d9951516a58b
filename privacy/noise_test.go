package privacy

import (
	"math"
	mrand "math/rand/v2"
	"testing"
)

func testRand(t testing.TB, seed uint64) *mrand.Rand {
	t.Helper()
	r, err := NewRand(SeededReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestAddGaussianMoments: with 1e6 draws of std 2.5 around an offset, the
// sample mean, variance and kurtosis match N(offset, 6.25) within ~5
// standard errors (seeded, so the test is deterministic).
func TestAddGaussianMoments(t *testing.T) {
	const n, std, off = 1_000_000, 2.5, 3.0
	v := make([]float64, n)
	for i := range v {
		v[i] = off
	}
	AddGaussian(v, std, testRand(t, 1))
	var m1, m2, m4 float64
	for _, x := range v {
		m1 += x
	}
	m1 /= n
	for _, x := range v {
		d := x - m1
		m2 += d * d
		m4 += d * d * d * d
	}
	m2 /= n
	m4 /= n
	if se := std / math.Sqrt(n); math.Abs(m1-off) > 5*se {
		t.Errorf("mean %g, want %g ± %g", m1, off, 5*se)
	}
	if se := std * std * math.Sqrt(2.0/n); math.Abs(m2-std*std) > 5*se {
		t.Errorf("variance %g, want %g ± %g", m2, std*std, 5*se)
	}
	if k := m4 / (m2 * m2); math.Abs(k-3) > 5*math.Sqrt(24.0/n) {
		t.Errorf("kurtosis %g, want 3", k)
	}
	// Tail frequency beyond 3 std: 2·Φ(−3) = 0.0026998.
	var tail int
	for _, x := range v {
		if math.Abs(x-off) > 3*std {
			tail++
		}
	}
	p := 0.0026997960632601866
	if se := math.Sqrt(p * (1 - p) / n); math.Abs(float64(tail)/n-p) > 5*se {
		t.Errorf("3-sigma tail frequency %g, want %g", float64(tail)/n, p)
	}
}

func TestAddGaussianZeroAndDeterminism(t *testing.T) {
	v := []float64{1, 2, 3}
	AddGaussian(v, 0, testRand(t, 1))
	if v[0] != 1 || v[1] != 2 || v[2] != 3 {
		t.Errorf("std 0 changed v: %v", v)
	}
	a, b := make([]float64, 5), make([]float64, 5)
	AddGaussian(a, 1, testRand(t, 7))
	AddGaussian(b, 1, testRand(t, 7))
	c := make([]float64, 5)
	AddGaussian(c, 1, testRand(t, 8))
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different noise")
		}
	}
	if a[0] == c[0] {
		t.Errorf("different seeds gave the same noise")
	}
	for _, bad := range []float64{-1, math.NaN(), math.Inf(1)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddGaussian std=%g did not panic", bad)
				}
			}()
			AddGaussian(v, bad, testRand(t, 1))
		}()
	}
}

func TestClipL2(t *testing.T) {
	v := []float64{3, 4}
	if f := ClipL2(v, 10); f != 1 || v[0] != 3 || v[1] != 4 {
		t.Errorf("below the bound: factor %g, v %v", f, v)
	}
	if f := ClipL2(v, 5); f != 1 {
		t.Errorf("at the bound: factor %g", f)
	}
	if f := ClipL2(v, 1); math.Abs(f-0.2) > 1e-16 || math.Abs(v[0]-0.6) > 1e-15 || math.Abs(v[1]-0.8) > 1e-15 {
		t.Errorf("clipped: factor %g, v %v", f, v)
	}
	z := []float64{0, 0}
	if f := ClipL2(z, 1); f != 1 {
		t.Errorf("zero vector factor %g", f)
	}
	huge := []float64{1e200, 1e200}
	if f := ClipL2(huge, 1); math.Abs(l2Norm(huge)-1) > 1e-15 || !(f > 0) {
		t.Errorf("overflowing norm: factor %g, clipped norm %g", f, l2Norm(huge))
	}
	for _, bad := range [][]float64{{1, math.NaN()}, {math.Inf(-1), 1}} {
		if f := ClipL2(bad, 1); f != 0 || bad[0] != 0 || bad[1] != 0 {
			t.Errorf("non-finite input: factor %g, v %v", f, bad)
		}
	}
	// Random vectors: clipped norm ≤ c up to rounding.
	rng := testRand(t, 3)
	for k := 0; k < 100; k++ {
		v := make([]float64, 1+rng.IntN(1000))
		AddGaussian(v, 10, rng)
		before := l2Norm(v)
		f := ClipL2(v, 1.5)
		after := l2Norm(v)
		if after > 1.5*(1+1e-14) || math.Abs(after-math.Min(before, 1.5)) > 1e-13 || math.Abs(f*before-after) > 1e-13 {
			t.Fatalf("norm %g -> %g with factor %g", before, after, f)
		}
	}
}

// TestPoissonSample checks inclusion frequencies per index, batch-size mean
// and variance (Binomial(n, q)), pairwise independence of neighbours and
// the edge cases, with a fixed seed.
func TestPoissonSample(t *testing.T) {
	const n, q, trials = 500, 0.03, 20000
	rng := testRand(t, 11)
	counts := make([]int, n)
	pairs := 0
	var s1, s2 float64
	var dst []int
	for k := 0; k < trials; k++ {
		dst = PoissonSample(n, q, rng, dst)
		for j, i := range dst {
			if i < 0 || i >= n || (j > 0 && dst[j-1] >= i) {
				t.Fatalf("bad sample %v", dst)
			}
			counts[i]++
			if j > 0 && dst[j-1] == i-1 && i == 1 {
				pairs++
			}
		}
		b := float64(len(dst))
		s1 += b
		s2 += b * b
	}
	mean := s1 / trials
	variance := s2/trials - mean*mean
	if want, se := n*q, math.Sqrt(n*q*(1-q)/trials); math.Abs(mean-want) > 5*se {
		t.Errorf("batch mean %g, want %g ± %g", mean, want, 5*se)
	}
	if want := n * q * (1 - q); math.Abs(variance-want) > 0.05*want {
		t.Errorf("batch variance %g, want %g", variance, want)
	}
	sd := math.Sqrt(trials * q * (1 - q))
	for i, c := range counts {
		if math.Abs(float64(c)-trials*q) > 5*sd {
			t.Errorf("index %d selected %d times, want %g ± %g", i, c, trials*q, 5*sd)
		}
	}
	// Chi-square over all indices (df = n−1 ≈ 499, sd ≈ 31.6).
	var chi2 float64
	for _, c := range counts {
		d := float64(c) - trials*q
		chi2 += d * d / (trials * q * (1 - q))
	}
	if chi2 > n+6*math.Sqrt(2*n) || chi2 < n-6*math.Sqrt(2*n) {
		t.Errorf("chi-square %g far from %d", chi2, n-1)
	}
	if want, se := trials*q*q, math.Sqrt(trials*q*q); math.Abs(float64(pairs)-want) > 5*se {
		t.Errorf("indices 0 and 1 together %d times, want %g", pairs, want)
	}

	if got := PoissonSample(7, 1, rng, dst); len(got) != 7 || got[6] != 6 {
		t.Errorf("q=1: %v", got)
	}
	if got := PoissonSample(7, 0, rng, dst); len(got) != 0 {
		t.Errorf("q=0: %v", got)
	}
	if got := PoissonSample(0, 0.5, rng, nil); len(got) != 0 {
		t.Errorf("n=0: %v", got)
	}
	for _, bad := range []float64{-0.1, 1.1, math.NaN()} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("q=%g did not panic", bad)
				}
			}()
			PoissonSample(10, bad, rng, nil)
		}()
	}
}

func benchNoise(b *testing.B, n int, f func(v []float64, r *mrand.Rand)) {
	r := testRand(b, 1)
	v := make([]float64, n)
	b.SetBytes(int64(8 * n))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f(v, r)
	}
}

// BenchmarkAddGaussian vs BenchmarkNormFloat64Loop (the baseline: a plain
// loop over rng.NormFloat64 on the same ChaCha8 generator).
func BenchmarkAddGaussian(b *testing.B) {
	benchNoise(b, 100_000, func(v []float64, r *mrand.Rand) { AddGaussian(v, 1.3, r) })
}

func BenchmarkNormFloat64Loop(b *testing.B) {
	benchNoise(b, 100_000, func(v []float64, r *mrand.Rand) {
		for i := range v {
			v[i] += 1.3 * r.NormFloat64()
		}
	})
}

func BenchmarkClipL2(b *testing.B) {
	r := testRand(b, 1)
	v := make([]float64, 100_000)
	AddGaussian(v, 1, r)
	b.SetBytes(int64(8 * len(v)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ClipL2(v, 1e9) // no scaling: measures the norm
	}
}

// BenchmarkPoissonSample draws from n = 1e6 with q = 1e-3 (expected batch 1000).
func BenchmarkPoissonSample(b *testing.B) {
	r := testRand(b, 1)
	var dst []int
	for i := 0; i < b.N; i++ {
		dst = PoissonSample(1_000_000, 1e-3, r, dst)
	}
}
