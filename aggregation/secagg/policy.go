package secagg

import (
	"fmt"
	"math"
)

// DefaultCorruptFraction is the share of a cohort a Policy assumes may be
// corrupt (colluding with a malicious coordinator) when none is given:
// fewer than a third, the setting of Bonawitz et al. 2017 §6.
const DefaultCorruptFraction = 1.0 / 3

// Policy is a client's own minimum requirements for a session, checked
// against the parameters it rebuilt from the plan and the cohort it was
// actually given (Params.N is the length of the participant list, not a
// number the coordinator declares). The zero value is the safe default.
// The conditions are those of the malicious-model analysis in doc.go.
type Policy struct {
	// MinCohort refuses sessions with fewer participants (0: 3).
	MinCohort int
	// CorruptFraction γ: the policy assumes c = ⌈γ·n⌉−1 corrupt clients,
	// the largest number below γ·n (0: DefaultCorruptFraction).
	CorruptFraction float64
	// MinHonestInSum refuses sessions in which a coordinator could learn a
	// sum of fewer honest inputs than this (0: 2, which only excludes
	// learning a single input).
	MinHonestInSum int
}

// Corrupt returns c = ⌈γ·n⌉−1 for the policy's γ.
func (pol Policy) Corrupt(n int) int {
	g := pol.CorruptFraction
	if g == 0 {
		g = DefaultCorruptFraction
	}
	return max(0, int(math.Ceil(g*float64(n)))-1)
}

// MinHonestInSum returns h = t − c + 1 for c corrupt clients: the fewest
// honest inputs in any sum a malicious coordinator colluding with c
// clients can learn (doc.go, "Malicious model").
func MinHonestInSum(t, c int) int { return t - c + 1 }

// Check refuses a session that does not meet the policy:
//   - n < MinCohort;
//   - Params.MaxCorrupt < c: the consistency quorum q = ⌊(n+c_s)/2⌋+1 would
//     not guarantee 2q > n + c, so two survivor sets could both collect q
//     signatures (the "different stories" attack);
//   - t − c + 1 < MinHonestInSum (this implies t ≤ c when MinHonestInSum
//     is 2: c corrupt holders could then reconstruct any secret alone).
func (pol Policy) Check(p *Params) error {
	n := p.N()
	minN := pol.MinCohort
	if minN == 0 {
		minN = 3
	}
	if n < minN {
		return fmt.Errorf("%w: the cohort given has %d participants, this tenant requires at least %d", ErrParams, n, minN)
	}
	c := pol.Corrupt(n)
	if p.MaxCorrupt() < c {
		return fmt.Errorf("%w: the session's consistency quorum (%d of %d signatures) withstands %d corrupt clients, this tenant assumes up to %d: the coordinator must set MaxCorrupt ≥ %d", ErrParams, p.Quorum(), n, p.MaxCorrupt(), c, c)
	}
	h := pol.MinHonestInSum
	if h == 0 {
		h = 2
	}
	if got := MinHonestInSum(p.Threshold(), c); got < h {
		return fmt.Errorf("%w: with threshold t = %d and up to %d corrupt clients the coordinator could learn a sum of %d honest inputs, this tenant requires %d: raise the threshold to ≥ %d", ErrParams, p.Threshold(), c, got, h, c+h-1)
	}
	return nil
}

// CheckNoiseShares refuses a distributed-noise plan in which each client
// adds 1/shares of the target noise variance (privacy/ddg Threshold) when a
// sum the coordinator can learn may hold fewer than shares honest
// contributions: 1 ≤ shares ≤ t − c + 1 (doc.go, "Malicious model").
func (pol Policy) CheckNoiseShares(shares int, p *Params) error {
	c := pol.Corrupt(p.N())
	h := MinHonestInSum(p.Threshold(), c)
	if shares < 1 || shares > h {
		return fmt.Errorf("%w: the plan splits the noise into %d shares, but a learnable sum may hold only t − c + 1 = %d honest contributions (t = %d, c = %d): at most %d shares", ErrParams, shares, h, p.Threshold(), c, h)
	}
	return nil
}
