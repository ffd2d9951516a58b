package coordinator

import (
	"errors"
	"testing"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/protocol"
)

// TestSecureSumBounds: the coordinator refuses a decoded weighted sum that
// three honest clipped clients cannot produce — a weight coordinate far
// above 3 × cap (a client claiming a huge example count), a tiny positive
// total weight (which would amplify the mean), or an unclipped update —
// and accepts the honest one.
func TestSecureSumBounds(t *testing.T) {
	const clip, maxW, m = 1.0, 100.0, 3
	plan := SecurePlan{MaxWeight: maxW}
	q := secagg.Quantizer{ClipNorm: protocol.WeightedClip(clip, maxW), Scale: 1 << 10}
	var honest []float64
	for i := range m {
		v, _ := protocol.WeightedVector([]float64{0.6, 0.8}, 50+i, clip, maxW)
		if honest == nil {
			honest = make([]float64, len(v))
		}
		for j := range v {
			honest[j] += v[j]
		}
	}
	if err := checkSecureSum(plan, q, 10, honest, m); err != nil {
		t.Fatalf("honest sum refused: %v", err)
	}
	for name, sum := range map[string][]float64{
		"huge weight":       {honest[0], honest[1], 1e6},
		"tiny total weight": {honest[0], honest[1], 1e-3},
		"unclipped update":  {1e5, 0, honest[2]},
		"below the floor":   {0, 0, 5},
	} {
		if err := checkSecureSum(plan, q, 10, sum, m); !errors.Is(err, secagg.ErrInconsistent) {
			t.Errorf("%s: got %v, want a refusal", name, err)
		}
	}
}
