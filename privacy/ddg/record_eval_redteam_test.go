package ddg

import (
	"math"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/scalar"
)

// clincGoal is the record-level distributed plan of the intent demo on
// clinc150 (#17 item 3): the linear head's weights (8192 features × 150
// intents, the bias frozen), simulate.DistributedDefaults' 1,000 one-step
// rounds at q = 0.1 and C = 0.1, the sum clip of four expected batches of
// 1,000 records, 5 tenants, 4 honest shares, ε = 8 at δ = 1e-5.
func clincGoal() RecordGoal {
	return RecordGoal{Epsilon: 8, Delta: 1e-5, Rounds: 1000, SampleRate: 0.1, RecordClip: 0.1, SumClip: 4 * 0.1 * 1000 * 0.1,
		Dim: 8192 * 150, Shares: 4, Cohort: 5}
}

// evalZ is the noise multiplier (σ over the L2 sensitivity 1: one message
// moves one bucket by one) at which a tenant's client releases its score
// histograms at evalEps: the Google DP library's Gaussian, as
// client.noiseEval and client.Releases calibrate it.
func evalZ(t *testing.T, evalEps, delta float64) float64 {
	t.Helper()
	rec, err := scalar.VectorRecord(1, 1, evalEps, delta, scalar.Gaussian)
	if err != nil {
		t.Fatal(err)
	}
	return rec.NoiseStd / rec.Sensitivity
}

// TestRedteamEvalReservationIndependentEpsilon recomputes, by routes other
// than the planner's, the ε of a tenant in the distributed mode with the
// evaluation release, for the clinc150-sized plan and one, then ten,
// noised evaluations at ε = 0.5:
//   - by hand: the rounds' RDP (Record.RDP at integer orders 2…256) times
//     the rounds, plus α/(2z²) per evaluation, converted with
//     ε = RDP + log((α−1)/α) − (log δ + log α)/(α−1) written out here
//     (no fractional orders: never below the ledger's value, and within
//     a few per cent of it), must stay within the target up to that
//     grid's difference;
//   - the ledger's route (privacy.RDPAccountant, the evaluation composed
//     as a Gaussian at sampling rate 1) must be within the target;
//   - a lower bound that must not exceed it: the PLD (privacy's PLD
//     accountant, a different method) of the continuous sampled Gaussian
//     at the z the plan guarantees on the sum, composed with the
//     evaluations' Gaussians. If the ledger's ε fell below it, the
//     charged ε would understate the release;
//   - the evaluations must be charged: the rounds alone must stay below
//     the target by at least the PLD-measured share of the evaluations
//     (the plan really left room, not a rounding of it).
func TestRedteamEvalReservationIndependentEpsilon(t *testing.T) {
	if testing.Short() {
		t.Skip("PLD composition of 1,000 rounds")
	}
	g := clincGoal()
	ze := evalZ(t, 0.5, g.Delta)
	plain, err := PlanRecord(g)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("without evaluations: z on the sum %.4f", plain.NoiseMultiplier())
	for _, evals := range []int{1, 10} {
		zs := make([]float64, evals)
		for i := range zs {
			zs[i] = ze
		}
		g.Extra = GaussianRDP(zs...)
		r, err := PlanRecord(g)
		if err != nil {
			t.Fatal(err)
		}
		// The ledger's route.
		acc := privacy.NewRDPAccountant(nil)
		if err := acc.ComposeRDP(r.RDPAt, g.Rounds); err != nil {
			t.Fatal(err)
		}
		alone, _, err := acc.Epsilon(g.Delta)
		if err != nil {
			t.Fatal(err)
		}
		for range evals {
			if err := acc.Compose(1, ze, 1); err != nil {
				t.Fatal(err)
			}
		}
		ledgerEps, _, err := acc.Epsilon(g.Delta)
		if err != nil {
			t.Fatal(err)
		}
		if ledgerEps > g.Epsilon {
			t.Errorf("%d evaluations: the ledger's ε %v exceeds the target %v", evals, ledgerEps, g.Epsilon)
		}
		// By hand, integer orders.
		hand := math.Inf(1)
		ld := math.Log(g.Delta)
		for a := 2; a <= 256; a++ {
			fa := float64(a)
			rdp := float64(g.Rounds)*r.RDP(a) + float64(evals)*fa/(2*ze*ze)
			hand = math.Min(hand, rdp+math.Log((fa-1)/fa)-(ld+math.Log(fa))/(fa-1))
		}
		if hand < ledgerEps*(1-1e-9) || hand > ledgerEps*1.03 {
			t.Errorf("%d evaluations: by hand ε %v, ledger %v (want the hand value at or a little above the ledger's)", evals, hand, ledgerEps)
		}
		// Lower bound: the continuous Gaussian with the z on the sum, by PLD.
		pld := privacy.NewPLDAccountant(0)
		if err := pld.Compose(g.SampleRate, r.NoiseMultiplier(), g.Rounds); err != nil {
			t.Fatal(err)
		}
		pldRounds, err := pld.Epsilon(g.Delta)
		if err != nil {
			t.Fatal(err)
		}
		for range evals {
			if err := pld.Compose(1, ze, 1); err != nil {
				t.Fatal(err)
			}
		}
		lower, err := pld.Epsilon(g.Delta)
		if err != nil {
			t.Fatal(err)
		}
		if lower > ledgerEps {
			t.Errorf("%d evaluations: the ledger charges ε %v, below the PLD of the same Gaussian noise %v", evals, ledgerEps, lower)
		}
		if share := lower - pldRounds; !(g.Epsilon-alone >= 0.5*share) {
			t.Errorf("%d evaluations: the rounds alone reach ε %v of %v, leaving %v; the evaluations alone add %v by PLD", evals, alone, g.Epsilon, g.Epsilon-alone, share)
		}
		t.Logf("%d evaluations at ε 0.5 (z %.3f): z on the sum %.4f; ledger ε %.4f (rounds alone %.4f), by hand %.4f, PLD of the Gaussian part %.4f (rounds alone %.4f)",
			evals, ze, r.NoiseMultiplier(), ledgerEps, alone, hand, lower, pldRounds)
	}
}
