package empirical

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

func TestClopperPearsonUpper(t *testing.T) {
	// k = 0: the bound solves (1−p)^n = α.
	if got, want := ClopperPearsonUpper(0, 100, 0.025), 1-math.Pow(0.025, 0.01); math.Abs(got-want) > 1e-9 {
		t.Errorf("0 of 100: %v, want %v", got, want)
	}
	if ClopperPearsonUpper(5, 5, 0.05) != 1 {
		t.Error("k = n must give 1")
	}
	// Definition: P(Binomial(n, p) ≤ k) = α at the bound.
	for _, c := range []struct{ k, n int }{{3, 50}, {10, 200}, {99, 100}} {
		p := ClopperPearsonUpper(c.k, c.n, 0.05)
		cdf := distuv.Binomial{N: float64(c.n), P: p}.CDF(float64(c.k))
		if math.Abs(cdf-0.05) > 1e-6 {
			t.Errorf("%d of %d: bound %v has P(X ≤ k) = %v, want 0.05", c.k, c.n, p, cdf)
		}
	}
}

func TestEpsilonFromRates(t *testing.T) {
	if e := EpsilonFromRates(0.5, 0.5, 0); e != 0 {
		t.Errorf("coin-flip test: ε %v, want 0", e)
	}
	if e, want := EpsilonFromRates(0.01, 0.2, 1e-5), math.Log((1-1e-5-0.2)/0.01); math.Abs(e-want) > 1e-12 {
		t.Errorf("ε %v, want %v", e, want)
	}
	if !math.IsInf(EpsilonFromRates(0, 0.1, 0), 1) {
		t.Error("a test without false positives and FNR < 1 must give +Inf")
	}
}

// gaussianEpsilon is the exact ε at δ of the Gaussian mechanism with
// sensitivity 1 and noise σ (Balle and Wang 2018), by bisection.
func gaussianEpsilon(sigma, delta float64) float64 {
	phi := func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
	d := func(e float64) float64 {
		return phi(1/(2*sigma)-e*sigma) - math.Exp(e)*phi(-1/(2*sigma)-e*sigma)
	}
	lo, hi := 0.0, 50.0
	for range 200 {
		mid := (lo + hi) / 2
		if d(mid) > delta {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// gaussianScores draws n outputs of the Gaussian mechanism on D (mean 0)
// and D′ (mean 1).
func gaussianScores(n int, sigma float64, seed uint64) (s0, s1 []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	for range n {
		s0 = append(s0, sigma*r.NormFloat64())
		s1 = append(s1, 1+sigma*r.NormFloat64())
	}
	return s0, s1
}

// TestLowerBoundIsSoundAndHasPower audits a Gaussian mechanism whose exact
// ε is known: the bound must stay below it (soundness) and come within a
// reasonable distance of it with enough trials (power).
func TestLowerBoundIsSoundAndHasPower(t *testing.T) {
	const delta, alpha = 1e-5, 0.05
	for _, sigma := range []float64{0.5, 1, 2} {
		truth := gaussianEpsilon(sigma, delta)
		for seed := range uint64(5) {
			s0, s1 := gaussianScores(20000, sigma, seed)
			est, err := LowerBound(s0, s1, delta, alpha)
			if err != nil {
				t.Fatal(err)
			}
			if est.Epsilon > truth {
				t.Fatalf("σ=%v seed %d: lower bound %.3f above the exact ε %.3f: %+v", sigma, seed, est.Epsilon, truth, est)
			}
			if seed == 0 {
				t.Logf("σ=%v: exact ε %.3f, lower bound %.3f (max %.2f with these trials), test %+v, FP %d FN %d",
					sigma, truth, est.Epsilon, est.MaxEpsilon, est.Test, est.FP, est.FN)
				// A threshold test at 10⁴ trials per world reaches a
				// fair part of the exact ε for these σ (at δ = 1e-5 the
				// optimal test lives in tails that 10⁴ trials barely see).
				if est.Epsilon < truth/6 {
					t.Errorf("σ=%v: lower bound %.3f is weak against exact ε %.3f", sigma, est.Epsilon, truth)
				}
			}
		}
	}
}

func TestLowerBoundSameDistribution(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	positive := 0
	for range 40 {
		var s0, s1 []float64
		for range 1000 {
			s0 = append(s0, r.NormFloat64())
			s1 = append(s1, r.NormFloat64())
		}
		est, err := LowerBound(s0, s1, 1e-5, 0.05)
		if err != nil {
			t.Fatal(err)
		}
		if est.Epsilon > 0 {
			positive++
		}
	}
	// The bound is wrong with probability at most α = 0.05: at most a
	// few of 40 audits of a mechanism with ε = 0 may show ε > 0.
	if positive > 6 {
		t.Errorf("%d of 40 audits of identical worlds gave ε > 0", positive)
	}
}

func TestLowerBoundErrors(t *testing.T) {
	s0, s1 := gaussianScores(100, 1, 1)
	if _, err := LowerBound(s0[:10], s1, 1e-5, 0.05); !errors.Is(err, ErrTrials) {
		t.Errorf("10 trials: %v", err)
	}
	bad := append([]float64{math.NaN()}, s1...)
	if _, err := LowerBound(s0, bad, 1e-5, 0.05); err == nil {
		t.Error("NaN score accepted")
	}
	if _, err := LowerBound(s0, s1, 1e-5, 0); err == nil {
		t.Error("α = 0 accepted")
	}
	// Perfectly separated worlds: the bound is the most these trials show.
	for i := range s1 {
		s1[i] += 100
	}
	est, err := LowerBound(s0, s1, 1e-5, 0.05)
	if err != nil || est.FP != 0 || est.FN != 0 || est.Epsilon != est.MaxEpsilon {
		t.Errorf("separated worlds: %+v, %v", est, err)
	}
}
