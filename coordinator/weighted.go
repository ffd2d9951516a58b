package coordinator

import "math"

// WeightedVector is what a client feeds into secure aggregation for
// weighted FedAvg: [w·clip(Δ, S), w] with w = min(n, maxWeight), so the
// coordinator learns only Σ w·Δ and Σ w. It reports whether Δ was clipped.
func WeightedVector(delta []float64, n int, clip, maxWeight float64) ([]float64, bool) {
	var ss float64
	for _, v := range delta {
		ss += v * v
	}
	f, clipped := 1.0, false
	if norm := math.Sqrt(ss); norm > clip {
		f, clipped = clip/norm, true
	}
	w := math.Min(float64(n), maxWeight)
	out := make([]float64, len(delta)+1)
	for i, v := range delta {
		out[i] = w * f * v
	}
	out[len(delta)] = w
	return out, clipped
}

// WeightedClip is the L2 bound of any WeightedVector: maxWeight·√(S²+1).
func WeightedClip(clip, maxWeight float64) float64 {
	return maxWeight * math.Sqrt(clip*clip+1)
}
