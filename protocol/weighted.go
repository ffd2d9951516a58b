package protocol

import (
	"math"
	"slices"

	"github.com/fedb2b/fedb2b/privacy"
)

// WeightedVector is what a client feeds into secure aggregation for
// weighted FedAvg: [w·clip(Δ, S), w] with w = min(n, maxWeight), so the
// coordinator learns only Σ w·Δ and Σ w. It reports whether Δ was clipped.
func WeightedVector(delta []float64, n int, clip, maxWeight float64) ([]float64, bool) {
	w := math.Min(float64(n), maxWeight)
	out := append(slices.Clone(delta), w)
	f := privacy.ClipL2(out[:len(delta)], clip)
	for i := range delta {
		out[i] *= w
	}
	return out, f < 1
}

// WeightedClip is the L2 bound of any WeightedVector: maxWeight·√(S²+1).
func WeightedClip(clip, maxWeight float64) float64 {
	return maxWeight * math.Sqrt(clip*clip+1)
}
