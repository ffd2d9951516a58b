package coordinator

import (
	"errors"
	"math"
	"testing"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/protocol"
)

// TestRedteamWeightedMeanAmplification: in a weighted secure round a
// hostile tenant sends a negative weight that cancels the honest ones,
// leaving Σ w small but positive, and nothing (or anything within the
// norm bound) as its update. The coordinator then divides the honest
// Σ w·Δ by that small Σ w, amplifying the mean update far beyond the clip
// norm S — one tenant wrecks the model in one round. Every bound of the
// sum check held: the norm of the sum and Σ w ≤ m·cap, and Σ w above the
// default floor (0: "positive"). Honest inputs have positive weights, so
// Σ w·Δ / Σ w is a convex combination of updates clipped to S: its norm
// is at most S (up to rounding); the coordinator must refuse a sum whose
// mean is longer, whatever the floor.
func TestRedteamWeightedMeanAmplification(t *testing.T) {
	const clip, maxW, m = 1.0, 100.0, 4
	plan := SecurePlan{MaxWeight: maxW, ClipNorm: clip}
	q := secagg.Quantizer{ClipNorm: protocol.WeightedClip(clip, maxW), Scale: 1 << 10}
	honest := make([]float64, 3)
	for i := range m - 1 {
		v, _ := protocol.WeightedVector([]float64{0.6, 0.8}, 50+i, clip, maxW)
		for j := range v {
			honest[j] += v[j]
		}
	}
	fourth, _ := protocol.WeightedVector([]float64{-0.6, 0.8}, 7, clip, maxW)
	control := []float64{honest[0] + fourth[0], honest[1] + fourth[1], honest[2] + fourth[2]}
	if err := checkSecureSum(plan, q, 0, control, m); err != nil {
		t.Fatalf("honest sum of %d refused: %v", m, err)
	}
	for name, w := range map[string]float64{"Σw = 0.01": 0.01, "Σw = 1.5": 1.5} {
		// The hostile fourth input: weight w − Σ honest w, update 0.
		sum := []float64{honest[0], honest[1], w}
		mean := math.Hypot(sum[0], sum[1]) / w
		err := checkSecureSum(plan, q, 0, sum, m)
		if !errors.Is(err, secagg.ErrInconsistent) {
			t.Errorf("%s: the mean update has norm %.4g with clip %g, and the sum was accepted (err %v)", name, mean, clip, err)
		}
	}
}
