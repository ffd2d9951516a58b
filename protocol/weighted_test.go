package protocol

import (
	"math"
	"testing"
)

func TestWeightedVector(t *testing.T) {
	v, clipped := WeightedVector([]float64{3, 4}, 10, 1, 100)
	// ‖Δ‖ = 5 > S = 1: Δ becomes (0.6, 0.8); w = 10.
	want := []float64{6, 8, 10}
	for i := range want {
		if math.Abs(v[i]-want[i]) > 1e-12 {
			t.Fatalf("got %v want %v", v, want)
		}
	}
	if !clipped {
		t.Error("clipping not reported")
	}
	v, clipped = WeightedVector([]float64{0.3, 0.4}, 500, 1, 100)
	if clipped || v[2] != 100 || math.Abs(v[0]-30) > 1e-12 {
		t.Fatalf("weight cap: %v clipped=%v", v, clipped)
	}
	var ss float64
	for _, x := range v {
		ss += x * x
	}
	if math.Sqrt(ss) > WeightedClip(1, 100)+1e-9 {
		t.Fatalf("norm %v above bound %v", math.Sqrt(ss), WeightedClip(1, 100))
	}
}
