package models

import (
	"math"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

// At q = 1 the FedSGD sum is exactly the sum of the per-example gradients
// (bias frozen: zero there), each clipped to the bound on its own, with
// no noise and no division; the clipped ones are counted.
func TestClippedGradSumIsTheSumOfClippedGradients(t *testing.T) {
	h, err := NewLinearHead(LinearConfig{InputDim: 6, Classes: 3})
	if err != nil {
		t.Fatal(err)
	}
	p := h.Params()
	for i := range p {
		p[i] = 0.3 * math.Sin(float64(i))
	}
	if err := h.SetParams(p); err != nil {
		t.Fatal(err)
	}
	rows := []SparseRow{
		{Idx: []int32{0, 3}, Val: []float64{0.6, 0.8}},
		{Idx: []int32{1}, Val: []float64{3}}, // large: clipped
		{Idx: []int32{2, 4, 5}, Val: []float64{0.5, 0.5, 0.7}},
	}
	y := []int{0, 2, 1}
	const clip = 0.9
	want := make([]float64, h.NumParams())
	g := make([]float64, h.NumParams())
	clipped := 0
	for i, r := range rows {
		if _, err := h.PerExampleGradient(g, r, y[i]); err != nil {
			t.Fatal(err)
		}
		clear(g[len(h.w):]) // frozen bias
		if privacy.ClipL2(g, clip) < 1 {
			clipped++
		}
		for j, v := range g {
			want[j] += v
		}
	}
	rng, err := privacy.NewRand(privacy.SeededReader(1))
	if err != nil {
		t.Fatal(err)
	}
	got, st, err := NewLinearTrainer(h).ClippedGradSum(rows, y, 1, clip, true, rng)
	if err != nil {
		t.Fatal(err)
	}
	if st.Examples != 3 || st.Clipped != clipped || clipped == 0 {
		t.Fatalf("stats %+v, want 3 examples, %d clipped (> 0)", st, clipped)
	}
	for j := range want {
		if math.Abs(got[j]-want[j]) > 1e-12 {
			t.Fatalf("coordinate %d: %v, want %v", j, got[j], want[j])
		}
	}
	if _, _, err := NewLinearTrainer(h).ClippedGradSum(rows, y, 0, clip, true, rng); err == nil {
		t.Error("q = 0 accepted")
	}
}
