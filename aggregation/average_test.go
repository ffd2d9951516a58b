package aggregation

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveAverage is the definition: Σ β^{t−i} θ_i / Σ β^{t−i}.
func naiveAverage(models [][]float64, b float64) []float64 {
	t := len(models)
	out := make([]float64, len(models[0]))
	var norm float64
	for i, m := range models {
		w := math.Pow(b, float64(t-1-i))
		norm += w
		for j, v := range m {
			out[j] += w * v
		}
	}
	for j := range out {
		out[j] /= norm
	}
	return out
}

func TestIterateAverageMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, b := range []float64{0, 0.5, 0.9, 0.99, 0.999} {
		var a IterateAverage
		a.Decay = b
		var seen [][]float64
		for step := 1; step <= 300; step++ {
			m := []float64{rng.NormFloat64(), 10 + rng.NormFloat64(), float64(step)}
			seen = append(seen, m)
			if err := a.Add(m); err != nil {
				t.Fatal(err)
			}
			if step%37 != 0 && step != 1 && step != 300 {
				continue
			}
			got, want := a.Average(), naiveAverage(seen, b)
			for j := range want {
				if math.Abs(got[j]-want[j]) > 1e-9*(1+math.Abs(want[j])) {
					t.Fatalf("β=%v step %d coordinate %d: got %v, want %v", b, step, j, got[j], want[j])
				}
			}
		}
		if a.Count() != 300 {
			t.Fatalf("count %d", a.Count())
		}
	}
}

func TestIterateAverageEdges(t *testing.T) {
	var a IterateAverage
	if a.Average() != nil {
		t.Fatal("average of nothing is not nil")
	}
	a.Decay = 0.9
	// The first model is its own average (bias correction: no pull to 0).
	if err := a.Add([]float64{4, -2}); err != nil {
		t.Fatal(err)
	}
	got := a.Average()
	if math.Abs(got[0]-4) > 1e-12 || math.Abs(got[1]+2) > 1e-12 {
		t.Fatalf("first average %v, want [4 -2]", got)
	}
	got[0] = 100 // a copy: the state must not change
	if a.Average()[0] == 100 {
		t.Fatal("Average returned its internal state")
	}
	if err := a.Add([]float64{1}); err == nil {
		t.Fatal("a model of another length was accepted")
	}
	for _, d := range []float64{-0.1, 1, math.NaN()} {
		b := IterateAverage{Decay: d}
		if err := b.Add([]float64{1}); err == nil {
			t.Fatalf("decay %v accepted", d)
		}
	}
}
