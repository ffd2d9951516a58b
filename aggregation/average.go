package aggregation

import "fmt"

// IterateAverage is a bias-corrected exponential moving average of a
// sequence of global models θ_1 … θ_t (Polyak–Ruppert averaging with
// exponential weights): with decay β in [0, 1),
//
//	Average() = Σ_{i=1..t} β^{t−i} θ_i / Σ_{i=1..t} β^{t−i}
//
// computed as m = β·m + (1−β)·θ_i, Average() = m / (1 − β^t), so the
// first models are not pulled towards zero. β = 0 is the latest model.
//
// It is post-processing of the released models: it reads only what the
// coordinator already holds, so no privacy accounting changes.
type IterateAverage struct {
	Decay float64

	m   []float64
	pow float64 // β^t
	n   int
}

// Add folds the next model into the average. All models must have the
// same length.
func (a *IterateAverage) Add(params []float64) error {
	if !(a.Decay >= 0 && a.Decay < 1) {
		return fmt.Errorf("aggregation: iterate average decay %v must be in [0, 1)", a.Decay)
	}
	if a.m == nil {
		a.m, a.pow = make([]float64, len(params)), 1
	} else if len(params) != len(a.m) {
		return fmt.Errorf("aggregation: iterate average of %d parameters given %d", len(a.m), len(params))
	}
	b := a.Decay
	for i, v := range params {
		a.m[i] = b*a.m[i] + (1-b)*v
	}
	a.pow *= b
	a.n++
	return nil
}

// Count returns the number of models added.
func (a *IterateAverage) Count() int { return a.n }

// Average returns a fresh copy of the bias-corrected average, or nil if
// no model was added.
func (a *IterateAverage) Average() []float64 {
	if a.n == 0 {
		return nil
	}
	out := make([]float64, len(a.m))
	c := 1 / (1 - a.pow)
	for i, v := range a.m {
		out[i] = v * c
	}
	return out
}
