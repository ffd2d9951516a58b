package empirical

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// ClopperPearsonUpper returns the one-sided Clopper–Pearson upper bound at
// confidence 1 − alpha on a binomial proportion with k successes in n
// trials: the p with P(Binomial(n, p) ≤ k) = alpha (1 when k = n).
func ClopperPearsonUpper(k, n int, alpha float64) float64 {
	if n <= 0 || k < 0 || k > n || !(alpha > 0 && alpha < 1) {
		panic(fmt.Sprintf("empirical: Clopper–Pearson bound of %d of %d at α=%v", k, n, alpha))
	}
	if k == n {
		return 1
	}
	return distuv.Beta{Alpha: float64(k + 1), Beta: float64(n - k)}.Quantile(1 - alpha)
}

// EpsilonFromRates is the smallest ε an (ε, δ)-DP mechanism needs for a
// test with false-positive rate fpr and false-negative rate fnr to exist:
// max(0, log((1−δ−fnr)/fpr), log((1−δ−fpr)/fnr)). A zero rate with the
// other below 1 − δ gives +Inf.
func EpsilonFromRates(fpr, fnr, delta float64) float64 {
	e := 0.0
	for _, r := range [][2]float64{{fpr, fnr}, {fnr, fpr}} {
		num := 1 - delta - r[1]
		if num <= 0 {
			continue
		}
		if r[0] == 0 {
			return math.Inf(1)
		}
		e = math.Max(e, math.Log(num/r[0]))
	}
	return e
}

// Test is a threshold distinguisher: it says "D′" when Above and the
// score is > Threshold, or when !Above and the score is < Threshold.
type Test struct {
	Threshold float64
	Above     bool
}

// says1 reports whether t says "D′" for score s.
func (t Test) says1(s float64) bool {
	if t.Above {
		return s > t.Threshold
	}
	return s < t.Threshold
}

// Rates returns t's false-positive count on scores of D (world 0) and its
// false-negative count on scores of D′ (world 1).
func (t Test) Rates(s0, s1 []float64) (fp, fn int) {
	for _, s := range s0 {
		if t.says1(s) {
			fp++
		}
	}
	for _, s := range s1 {
		if !t.says1(s) {
			fn++
		}
	}
	return fp, fn
}

// Estimate is the result of LowerBound.
type Estimate struct {
	// Epsilon is the lower bound on ε at the given δ, valid with
	// confidence 1 − Alpha (0 when nothing is shown; +Inf when the test
	// never erred and the rates' bounds still allow it, which cannot
	// happen with Clopper–Pearson bounds: they are never 0).
	Epsilon float64
	Delta   float64
	Alpha   float64
	Test    Test
	// FP and FN are the test's errors on the held-out halves of N0 and
	// N1 trials; FPRUpper and FNRUpper their Clopper–Pearson bounds.
	FP, FN, N0, N1     int
	FPRUpper, FNRUpper float64
	// MaxEpsilon is the largest bound these numbers of trials can give
	// (a test without any error).
	MaxEpsilon float64
}

// ErrTrials is returned when there are too few trials.
var ErrTrials = errors.New("empirical: too few trials")

// LowerBound audits a mechanism from the scores of its outputs on D (s0)
// and on D′ (s1): it chooses the best threshold test on the first half
// of each list and bounds ε from its errors on the second half (see the
// package documentation). delta is the δ of the claim; alpha the
// probability that the bound is wrong. Each list needs at least 20
// scores; NaN scores are refused.
func LowerBound(s0, s1 []float64, delta, alpha float64) (Estimate, error) {
	if len(s0) < 20 || len(s1) < 20 {
		return Estimate{}, fmt.Errorf("%w: %d and %d scores, need at least 20 each", ErrTrials, len(s0), len(s1))
	}
	if !(delta >= 0 && delta < 1) || !(alpha > 0 && alpha < 1) {
		return Estimate{}, fmt.Errorf("empirical: δ=%v must be in [0, 1) and α=%v in (0, 1)", delta, alpha)
	}
	if slices.ContainsFunc(s0, math.IsNaN) || slices.ContainsFunc(s1, math.IsNaN) {
		return Estimate{}, errors.New("empirical: a score is NaN")
	}
	h0, h1 := len(s0)/2, len(s1)/2
	t := bestTest(s0[:h0], s1[:h1], delta, alpha)
	e0, e1 := s0[h0:], s1[h1:]
	est := Estimate{Delta: delta, Alpha: alpha, Test: t, N0: len(e0), N1: len(e1)}
	est.FP, est.FN = t.Rates(e0, e1)
	est.FPRUpper = ClopperPearsonUpper(est.FP, est.N0, alpha/2)
	est.FNRUpper = ClopperPearsonUpper(est.FN, est.N1, alpha/2)
	est.Epsilon = EpsilonFromRates(est.FPRUpper, est.FNRUpper, delta)
	est.MaxEpsilon = EpsilonFromRates(ClopperPearsonUpper(0, est.N0, alpha/2), ClopperPearsonUpper(0, est.N1, alpha/2), delta)
	return est, nil
}

// bestTest returns the threshold test with the largest Clopper–Pearson ε
// bound on (s0, s1): every threshold between two consecutive distinct
// scores, in both directions.
func bestTest(s0, s1 []float64, delta, alpha float64) Test {
	type pt struct {
		s     float64
		world int
	}
	all := make([]pt, 0, len(s0)+len(s1))
	for _, s := range s0 {
		all = append(all, pt{s, 0})
	}
	for _, s := range s1 {
		all = append(all, pt{s, 1})
	}
	slices.SortFunc(all, func(a, b pt) int { return cmpFloat(a.s, b.s) })
	n0, n1 := len(s0), len(s1)
	best, bestEps := Test{Threshold: math.Inf(1), Above: true}, -1.0
	// below0/below1: scores of each world at or below the threshold.
	below0, below1 := 0, 0
	// consider tries the thresholds th in the gap above the scores counted
	// so far: Above says 1 when s > th (fp = n0 − below0, fn = below1),
	// Below says 1 when s < th (fp = below0, fn = n1 − below1).
	consider := func(th float64) {
		for _, c := range []struct {
			t      Test
			fp, fn int
		}{
			{Test{th, true}, n0 - below0, below1},
			{Test{th, false}, below0, n1 - below1},
		} {
			e := EpsilonFromRates(ClopperPearsonUpper(c.fp, n0, alpha/2), ClopperPearsonUpper(c.fn, n1, alpha/2), delta)
			if e > bestEps {
				best, bestEps = c.t, e
			}
		}
	}
	consider(math.Inf(-1))
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].s == all[i].s {
			if all[j].world == 0 {
				below0++
			} else {
				below1++
			}
			j++
		}
		th := math.Inf(1) // above every score
		if j < len(all) {
			th = all[i].s + (all[j].s-all[i].s)/2 // the middle of the gap
		}
		consider(th)
		i = j
	}
	return best
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
