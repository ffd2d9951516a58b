package ddg

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

func testRand(t testing.TB, seed uint64) *rand.Rand {
	t.Helper()
	r, err := privacy.NewRand(privacy.SeededReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// dgPMF returns the N_Z(0, σ²) probabilities of 0..K (one side) in float64
// and the exact variance.
func dgPMF(sigma2 float64) (p []float64, variance float64) {
	k := int(math.Ceil(40*math.Sqrt(sigma2))) + 10
	w := make([]float64, k+1)
	z := 0.0
	for i := range w {
		w[i] = math.Exp(-float64(i*i) / (2 * sigma2))
		if i == 0 {
			z += w[i]
		} else {
			z += 2 * w[i]
		}
	}
	for i := range w {
		w[i] /= z
		variance += 2 * float64(i*i) * w[i]
	}
	return w, variance
}

type sampleFn func(*rand.Rand) int64

func checkMoments(t *testing.T, name string, sigma2 float64, n int, draw sampleFn, r *rand.Rand) {
	t.Helper()
	_, v := dgPMF(sigma2)
	var sum, sq float64
	var pos, neg int
	for range n {
		x := float64(draw(r))
		sum += x
		sq += x * x
		if x > 0 {
			pos++
		} else if x < 0 {
			neg++
		}
	}
	mean := sum / float64(n)
	vr := sq/float64(n) - mean*mean
	if se := math.Sqrt(v / float64(n)); math.Abs(mean) > 5*se {
		t.Errorf("%s σ²=%v: mean %.4g, want 0 ± %.3g (5 s.e.)", name, sigma2, mean, 5*se)
	}
	// Var of X² ≈ 2σ⁴ for a Gaussian; allow 5 standard errors plus 1%.
	if se := v * math.Sqrt(2/float64(n)); math.Abs(vr-v) > 5*se+0.01*v {
		t.Errorf("%s σ²=%v: variance %.5g, want %.5g ± %.3g", name, sigma2, vr, v, 5*se+0.01*v)
	}
	if m := pos + neg; math.Abs(float64(pos-neg)) > 5*math.Sqrt(float64(m)) {
		t.Errorf("%s σ²=%v: %d positive vs %d negative samples: not symmetric", name, sigma2, pos, neg)
	}
	t.Logf("%s σ²=%v: n=%d mean %.4g variance %.5g (exact %.5g)", name, sigma2, n, mean, vr, v)
}

func TestSamplerMoments(t *testing.T) {
	for i, s2 := range []float64{0.5, 4, 100, 1e4} {
		s, err := NewSampler(s2)
		if err != nil {
			t.Fatal(err)
		}
		if s.Exact() {
			t.Fatalf("σ²=%v: expected the table sampler", s2)
		}
		checkMoments(t, "table", s2, 200000, s.Sample, testRand(t, uint64(i)))
		// Add must draw from the same law.
		buf := make([]int64, 200000)
		s.Add(buf, testRand(t, uint64(100+i)))
		k := 0
		checkMoments(t, "table/Add", s2, len(buf), func(*rand.Rand) int64 { k++; return buf[k-1] }, nil)
	}
}

func TestExactSamplerMoments(t *testing.T) {
	for i, s2 := range []float64{0.5, 4, 100, 1e4} {
		s, err := NewExactSampler(s2)
		if err != nil {
			t.Fatal(err)
		}
		checkMoments(t, "exact", s2, 20000, s.Sample, testRand(t, uint64(10+i)))
	}
}

// chiSquareCritical approximates the upper 10^-4 quantile of χ²(df)
// (Wilson–Hilferty).
func chiSquareCritical(df int) float64 {
	const z = 3.719 // standard normal upper 10^-4 quantile
	k := float64(df)
	c := 1 - 2/(9*k) + z*math.Sqrt(2/(9*k))
	return k * c * c * c
}

func chiSquare(t *testing.T, name string, sigma2 float64, n int, draw sampleFn, r *rand.Rand) {
	t.Helper()
	p, _ := dgPMF(sigma2)
	// Bins: each k with |k| < kc, and the two tails |k| ≥ kc, where kc is
	// the largest k whose expected count is at least 5.
	kc := 0
	for kc+1 < len(p) && p[kc+1]*float64(n) >= 5 {
		kc++
	}
	tail := 0.0
	for k := kc; k < len(p); k++ {
		tail += p[k]
	}
	counts := make(map[int64]int)
	for range n {
		v := draw(r)
		v = max(-int64(kc), min(int64(kc), v))
		counts[v]++
	}
	var chi float64
	df := -1
	for k := -kc; k <= kc; k++ {
		a := max(k, -k)
		prob := p[a]
		if a == kc {
			prob = tail
		}
		e := prob * float64(n)
		o := float64(counts[int64(k)])
		chi += (o - e) * (o - e) / e
		df++
	}
	crit := chiSquareCritical(df)
	if chi > crit {
		t.Errorf("%s σ²=%v: χ² = %.1f with %d df exceeds the 10^-4 critical value %.1f", name, sigma2, chi, df, crit)
	}
	t.Logf("%s σ²=%v: χ² = %.1f, df %d (critical %.1f)", name, sigma2, chi, df, crit)
}

func TestSamplerPMFChiSquare(t *testing.T) {
	for i, s2 := range []float64{0.5, 2, 9} {
		s, err := NewSampler(s2)
		if err != nil {
			t.Fatal(err)
		}
		chiSquare(t, "table", s2, 300000, s.Sample, testRand(t, uint64(20+i)))
		e, _ := NewExactSampler(s2)
		chiSquare(t, "exact", s2, 30000, e.Sample, testRand(t, uint64(30+i)))
	}
}

// TestTableProbabilities compares the table's implied probabilities with
// the float64 pmf.
func TestTableProbabilities(t *testing.T) {
	for _, s2 := range []float64{0.5, 3.7, 1000} {
		tb := newTableSampler(s2)
		p, _ := dgPMF(s2)
		prev := 0.0
		for k := 0; k < len(tb.hi)-1 && k < len(p); k++ {
			c := math.Ldexp(float64(tb.hi[k]), -64) + math.Ldexp(float64(tb.lo[k]), -128)
			got := c - prev
			want := p[k]
			if k > 0 {
				want *= 2
			}
			if want > 1e-12 && math.Abs(got-want) > 1e-9*want+1e-15 {
				t.Fatalf("σ²=%v: P(|X|=%d) = %.17g in the table, want %.17g", s2, k, got, want)
			}
			prev = c
		}
		if tb.tv > 1e-30 {
			t.Errorf("σ²=%v: TV bound %g larger than expected", s2, tb.tv)
		}
	}
}

func TestSamplerErrors(t *testing.T) {
	for _, s2 := range []float64{0, -1, 0.49, math.NaN(), math.Inf(1)} {
		if _, err := NewSampler(s2); err == nil {
			t.Errorf("NewSampler(%v): no error", s2)
		}
	}
	if _, err := NewExactSampler(0); err == nil {
		t.Error("NewExactSampler(0): no error")
	}
}

func TestSamplerLargeSigmaFallsBackToExact(t *testing.T) {
	s, err := NewSampler(float64(MaxTableSigma) * MaxTableSigma * 4)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Exact() || s.TV() != 0 {
		t.Fatal("σ above MaxTableSigma must use the exact sampler")
	}
	r := testRand(t, 5)
	buf := make([]int64, 2000)
	s.Add(buf, r)
	var sq float64
	for _, v := range buf {
		sq += float64(v) * float64(v)
	}
	if v := sq / float64(len(buf)); math.Abs(v/s.Sigma2()-1) > 0.15 {
		t.Errorf("exact fallback: variance ratio %.3f", v/s.Sigma2())
	}
}
