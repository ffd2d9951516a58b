package secagg

import (
	"math"
	"testing"
)

func paramsFor(t *testing.T, n, k, th, c int) *Params {
	t.Helper()
	ps, _ := testParticipants(n, 3)
	p, err := NewParams(Config{Round: 1, Participants: ps, Threshold: th, Neighbours: k, Dim: 4, MaxCorrupt: c})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPolicyRefusesUnsafeSessions: the client policy counts the cohort
// from the participant list and refuses a quorum that does not withstand
// the assumed corruption, a threshold that lets c corrupt holders plus the
// coordinator learn one input, and noise split into more shares than a
// learnable sum holds honest contributions.
func TestPolicyRefusesUnsafeSessions(t *testing.T) {
	var pol Policy
	if c := pol.Corrupt(10); c != 3 {
		t.Fatalf("Corrupt(10) = %d, want 3 (largest integer below 10/3)", c)
	}
	if c := pol.Corrupt(9); c != 2 {
		t.Fatalf("Corrupt(9) = %d, want 2", c)
	}
	// n = 10, c = 3: q = ⌊13/2⌋+1 = 7; t ≥ c+1 = 4.
	ok := paramsFor(t, 10, 0, 5, 3)
	if err := pol.Check(ok); err != nil {
		t.Fatalf("safe session refused: %v", err)
	}
	if q := ok.Quorum(); q != 7 || 2*q <= 10+3 {
		t.Fatalf("quorum %d", q)
	}
	// The shipped default before #14: MaxCorrupt 0 (quorum 6 of 10): two
	// quorums could share only corrupt signers when 3 are corrupt.
	wantErr(t, pol.Check(paramsFor(t, 10, 0, 5, 0)), ErrParams, "quorum too small for the assumed corruption")
	// A tenant assuming 4 corrupt (γ = 0.35 → c = 3 of 10... and 0.4 → 3)
	// refuses a session configured for 2 (t = 3 ≤ c = 3 would also let the
	// corrupt holders reconstruct any secret alone; NewParams' c_s < t and
	// this check together exclude t ≤ c).
	p := paramsFor(t, 10, 4, 3, 2)
	wantErr(t, Policy{CorruptFraction: 0.35}.Check(p), ErrParams, "session withstands fewer corrupt clients than assumed")
	// A cohort smaller than the tenant's minimum, counted from the list.
	wantErr(t, Policy{MinCohort: 11}.Check(ok), ErrParams, "cohort below minimum")
	// Requiring sums of at least 3 honest inputs: t − c + 1 = 3 passes, 4 fails.
	if err := (Policy{MinHonestInSum: 3}).Check(ok); err != nil {
		t.Fatal(err)
	}
	wantErr(t, Policy{MinHonestInSum: 4}.Check(ok), ErrParams, "too few honest inputs in a learnable sum")
	// Noise shares: at most t − c + 1 = 3.
	if err := pol.CheckNoiseShares(3, ok); err != nil {
		t.Fatal(err)
	}
	wantErr(t, pol.CheckNoiseShares(4, ok), ErrParams, "noise shares above t − c + 1")
	wantErr(t, pol.CheckNoiseShares(10, ok), ErrParams, "noise shares = cohort size")
	wantErr(t, pol.CheckNoiseShares(0, ok), ErrParams, "no noise shares")
	// NewParams itself refuses c ≥ t.
	ps, _ := testParticipants(6, 3)
	_, err := NewParams(Config{Participants: ps, Threshold: 3, Dim: 1, MaxCorrupt: 3})
	wantErr(t, err, ErrParams, "MaxCorrupt ≥ t")
}

// TestSumBoundsRefuseImpossibleSums: sums that m honest clipped inputs
// cannot produce are refused; honest sums pass.
func TestSumBoundsRefuseImpossibleSums(t *testing.T) {
	const m, clip, maxW = 5, 1.0, 10.0
	b := SumBounds{Clients: m, ClipNorm: maxW * math.Sqrt(clip*clip+1), Step: 1.0 / 1024, WeightIndex: 2, MaxWeight: maxW, MinTotalWeight: 5}
	honest := []float64{0, 0, 0}
	for range m { // each client: w·clip(Δ) with ‖Δ‖ = 1, w = maxW
		honest[0] += maxW * 0.6
		honest[1] += maxW * 0.8
		honest[2] += maxW
	}
	if err := b.Check(honest); err != nil {
		t.Fatalf("honest sum refused: %v", err)
	}
	for name, sum := range map[string][]float64{
		"weight above m·cap":  {0, 0, m*maxW + 1},
		"tiny positive total": {0.1, 0, 1e-6},
		"negative total":      {0, 0, -3},
		"norm above m·clip":   {m * 20, 0, 20},
		"not finite":          {math.NaN(), 0, 20},
	} {
		wantErr(t, b.Check(sum), ErrInconsistent, name)
	}
	unweighted := SumBounds{Clients: 2, ClipNorm: 1, WeightIndex: -1}
	if err := unweighted.Check([]float64{1.2, 1.2}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, unweighted.Check([]float64{2, 2}), ErrInconsistent, "unweighted norm")
}
