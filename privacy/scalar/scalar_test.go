package scalar

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func stats(xs []float64) (mean, std float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(xs)-1))
}

// TestNoiseScale: 4000 releases of each mechanism have noise mean ≈ 0 and
// std within 7% of Record.NoiseStd (the std estimate's standard error is
// ≈ 1.1% for Gaussian and ≈ 2.5% for Laplace noise at n = 4000). Gaussian
// σ is also checked against the closed form √(2 ln(1.25/δ))/ε as an upper
// bound (the library's analytic calibration is tighter).
func TestNoiseScale(t *testing.T) {
	const n = 4000
	cases := []struct {
		mech       Mechanism
		sens, eps  float64
		delta      float64
		wantStdMax float64
	}{
		{Laplace, 2, 0.5, 0, math.Sqrt2 * 2 / 0.5},
		{Gaussian, 1, 1, 1e-5, math.Sqrt(2*math.Log(1.25/1e-5)) / 1},
	}
	for _, c := range cases {
		xs := make([]float64, n)
		var rec Record
		for i := range xs {
			v, r, err := Release(100, c.sens, c.eps, c.delta, c.mech)
			if err != nil {
				t.Fatal(err)
			}
			xs[i], rec = v-100, r
		}
		if rec.Mechanism != c.mech || rec.Epsilon != c.eps || rec.Delta != c.delta || rec.Sensitivity != c.sens {
			t.Errorf("record %+v does not match the request", rec)
		}
		if rec.NoiseStd > c.wantStdMax*1.0001 || rec.NoiseStd < 0.3*c.wantStdMax {
			t.Errorf("%s: NoiseStd %v, expected at most %v", c.mech, rec.NoiseStd, c.wantStdMax)
		}
		mean, std := stats(xs)
		if math.Abs(mean) > 5*rec.NoiseStd/math.Sqrt(n) {
			t.Errorf("%s: noise mean %v", c.mech, mean)
		}
		if math.Abs(std/rec.NoiseStd-1) > 0.07 {
			t.Errorf("%s: noise std %v, record says %v", c.mech, std, rec.NoiseStd)
		}
		t.Logf("%s: empirical std %.4f, NoiseStd %.4f", c.mech, std, rec.NoiseStd)
	}
}

func TestReleaseIntAndInterval(t *testing.T) {
	var xs []float64
	for range 2000 {
		v, rec, err := ReleaseInt(50, 1, 1, 0, Laplace)
		if err != nil {
			t.Fatal(err)
		}
		xs = append(xs, float64(v-50))
		if rec.NoiseStd != math.Sqrt2 {
			t.Fatalf("NoiseStd %v", rec.NoiseStd)
		}
	}
	if _, std := stats(xs); math.Abs(std/math.Sqrt2-1) > 0.1 {
		t.Errorf("integer Laplace noise std %v, want ≈ √2", std)
	}
	v, rec, err := Release(10, 1, 1, 1e-6, Gaussian)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi, err := rec.Interval(v, 0.05)
	if err != nil || !(lo < v && v < hi) || hi-lo < 2*rec.NoiseStd {
		t.Errorf("interval [%v, %v] around %v (std %v), err %v", lo, hi, v, rec.NoiseStd, err)
	}
}

func TestReleaseErrors(t *testing.T) {
	bad := []struct {
		v, s, e, d float64
		m          Mechanism
	}{
		{1, 0, 1, 0, Laplace},
		{1, -1, 1, 0, Laplace},
		{1, 1, 0, 0, Laplace},
		{1, 1, math.Inf(1), 0, Laplace},
		{1, 1, 1, 1e-5, Laplace},
		{1, 1, 1, 0, Gaussian},
		{1, 1, 1, 1, Gaussian},
		{math.NaN(), 1, 1, 1e-5, Gaussian},
		{1, 1, 1, 1e-5, "binomial"},
	}
	for _, b := range bad {
		if _, _, err := Release(b.v, b.s, b.e, b.d, b.m); !errors.Is(err, ErrParams) {
			t.Errorf("Release(%v, %v, %v, %v, %q): error %v, want ErrParams", b.v, b.s, b.e, b.d, b.m, err)
		}
	}
	if _, _, err := ReleaseInt(1, 0, 1, 0, Laplace); !errors.Is(err, ErrParams) {
		t.Errorf("ReleaseInt with sensitivity 0: %v", err)
	}
}

func BenchmarkRelease(b *testing.B) {
	for _, m := range []Mechanism{Laplace, Gaussian} {
		b.Run(string(m), func(b *testing.B) {
			d := 1e-5
			if m == Laplace {
				d = 0
			}
			for range b.N {
				if _, _, err := Release(1, 1, 1, d, m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// ReleaseInts adds zero-mean noise with the recorded standard deviation,
// calibrated to the vector's L2 sensitivity √l0·lInf.
func TestReleaseIntsNoiseMatchesRecord(t *testing.T) {
	const n = 20000
	v := make([]int64, n)
	for i := range v {
		v[i] = 1000
	}
	rec, err := ReleaseInts(v, 5, 1, 1, 1e-5, Gaussian)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(rec.Sensitivity-math.Sqrt(5)) > 1e-12 {
		t.Fatalf("sensitivity %v, want √5", rec.Sensitivity)
	}
	one, _ := VectorRecord(1, 1, 1, 1e-5, Gaussian)
	if r := rec.NoiseStd / one.NoiseStd; math.Abs(r-math.Sqrt(5)) > 0.01 {
		t.Fatalf("σ(l0=5)/σ(l0=1) = %v, want √5", r)
	}
	var sum, sq float64
	for _, x := range v {
		d := float64(x - 1000)
		sum += d
		sq += d * d
	}
	mean, std := sum/n, math.Sqrt(sq/n-(sum/n)*(sum/n))
	// Standard errors: σ/√n for the mean, about σ/√(2n) for the std.
	if math.Abs(mean) > 5*rec.NoiseStd/math.Sqrt(n) || math.Abs(std-rec.NoiseStd) > 5*rec.NoiseStd/math.Sqrt(2*n) {
		t.Fatalf("noise mean %v std %v, record says 0 and %v", mean, std, rec.NoiseStd)
	}
	for _, c := range []struct {
		l0, linf int64
		eps, d   float64
		want     string
	}{{0, 1, 1, 1e-5, "l0 = 0"}, {5, 0, 1, 1e-5, "lInf = 0"}, {5, 1, 0, 1e-5, "epsilon"}, {5, 1, 1, 1, "delta"}} {
		if _, err := ReleaseInts(v[:1], c.l0, c.linf, c.eps, c.d, Gaussian); !errors.Is(err, ErrParams) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
