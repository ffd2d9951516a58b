package secagg

import (
	"fmt"
	"math"
)

// Choice is a neighbour count k, threshold t and corruption bound c for a
// cohort of n clients of which a fraction may drop out.
type Choice struct {
	Neighbours, Threshold, MaxCorrupt int
	// FailLog2 is log₂ of the union bound on the probability that some
	// client has more than k − t dropped neighbours (so that a dropped
	// client's secrets cannot be reconstructed, or a survivor is excluded
	// for want of t partners), for uniformly random drop-outs.
	FailLog2 float64
}

// ChooseNeighbours returns the smallest even k (or the complete graph,
// k = n − 1) that a tenant with policy pol accepts and that tolerates a
// fraction drop of the cohort dropping out, the way SecAgg+ (Bell et al.,
// CCS 2020, §3–4) sizes its graph: t = max(⌊k/2⌋+1, c+1) with
// c = pol.Corrupt(n) (what the coordinator takes by default), and k large
// enough that, with ⌈drop·n⌉ drop-outs chosen uniformly at random, the
// probability that any client has more than k − t dropped neighbours is at
// most 2^−sigma (a union bound over the n clients of the hypergeometric
// tail). The corruption bound dominates: the graph is chosen by the
// coordinator, so (doc.go, "Malicious model") t must exceed c in every
// neighbourhood, and k ≥ t > c ≈ n/3 under the default policy — sparse
// graphs pay off only for a smaller assumed corrupt fraction.
func ChooseNeighbours(n int, drop float64, pol Policy, sigma float64) (Choice, error) {
	if n < 3 || n > MaxParticipants {
		return Choice{}, fmt.Errorf("%w: need 3..%d participants, got %d", ErrParams, MaxParticipants, n)
	}
	if !(drop >= 0 && drop < 1) || !(sigma > 0) {
		return Choice{}, fmt.Errorf("%w: drop fraction %v must be in [0, 1) and sigma %v positive", ErrParams, drop, sigma)
	}
	c := pol.Corrupt(n)
	dropped := int(math.Ceil(drop * float64(n)))
	for k := 2; k < n-1; k += 2 {
		t := max(k/2+1, c+1)
		if t > k {
			continue
		}
		f := math.Log2(float64(n)) + log2HyperTail(n-1, dropped, k, k-t+1)
		if f <= -sigma {
			return Choice{Neighbours: k, Threshold: t, MaxCorrupt: c, FailLog2: f}, nil
		}
	}
	k := n - 1
	t := max(k/2+1, c+1)
	f := math.Log2(float64(n)) + log2HyperTail(n-1, dropped, k, k-t+1)
	if t > k || f > -sigma {
		return Choice{}, fmt.Errorf("%w: no graph on %d clients tolerates %d drop-outs with failure probability 2^-%v", ErrParams, n, dropped, sigma)
	}
	return Choice{Neighbours: k, Threshold: t, MaxCorrupt: c, FailLog2: f}, nil
}

// log2HyperTail returns log₂ P[X ≥ x] for X hypergeometric: draws from a
// population of size pop holding succ successes (−Inf if impossible).
func log2HyperTail(pop, succ, draws, x int) float64 {
	lo := max(x, 0)
	hi := min(draws, succ)
	if lo > hi {
		return math.Inf(-1)
	}
	lchoose := func(a, b int) float64 {
		la, _ := math.Lgamma(float64(a + 1))
		lb, _ := math.Lgamma(float64(b + 1))
		lc, _ := math.Lgamma(float64(a - b + 1))
		return la - lb - lc
	}
	den := lchoose(pop, draws)
	// log-sum-exp over the tail terms.
	terms := make([]float64, 0, hi-lo+1)
	top := math.Inf(-1)
	for i := lo; i <= hi; i++ {
		if draws-i > pop-succ {
			continue
		}
		v := lchoose(succ, i) + lchoose(pop-succ, draws-i) - den
		terms = append(terms, v)
		top = max(top, v)
	}
	if math.IsInf(top, -1) {
		return top
	}
	s := 0.0
	for _, v := range terms {
		s += math.Exp(v - top)
	}
	return (top + math.Log(s)) / math.Ln2
}
