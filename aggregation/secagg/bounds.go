package secagg

import (
	"fmt"
	"math"
)

// SumBounds describes what the decoded sum of Clients honest inputs can
// hold, each clipped to L2 ≤ ClipNorm before quantisation with step Step
// (1/Quantizer.Scale; stochastic rounding moves each coordinate by less
// than one step). A coordinator checks a decoded sum against it before
// using it: secure aggregation hides the inputs, so a client that sent an
// unclipped vector or a huge weight is visible only here, in the sum.
type SumBounds struct {
	// Clients m: the number of inputs in the sum (the survivors).
	Clients int
	// ClipNorm: the L2 bound of one input vector, weight coordinate
	// included (for weighted FedAvg: maxWeight·√(S²+1)).
	ClipNorm float64
	// Step: the quantisation step 1/Scale (0 for exact sums).
	Step float64
	// WeightIndex: the coordinate holding Σ w, or −1 for none.
	WeightIndex int
	// MaxWeight: the cap on one client's weight (with WeightIndex ≥ 0).
	MaxWeight float64
	// MinTotalWeight: a public floor on Σ w; a smaller positive total
	// would amplify the weighted mean Σ w·Δ / Σ w.
	MinTotalWeight float64
	// UpdateClip S (with WeightIndex ≥ 0): the L2 bound of one update Δ
	// before weighting. Honest weights are positive, so the weighted mean
	// Σ w·Δ / Σ w is a convex combination of updates clipped to S and
	// Check refuses ‖Σ w·Δ‖ > S·(Σ w + m·Step) + m·Step·√d: a hostile
	// negative weight that shrinks Σ w cannot amplify the mean (0: not
	// checked).
	UpdateClip float64
}

// Check refuses a decoded sum that m honest inputs cannot produce: an L2
// norm above m·(ClipNorm + Step·√d), a total weight above
// m·(MaxWeight + Step), or a total weight below MinTotalWeight. It does
// not detect a malicious input that stays within these bounds (see
// doc.go, "What is not defended").
func (b SumBounds) Check(sum []float64) error {
	if b.Clients < 1 {
		return fmt.Errorf("%w: a sum of %d inputs", ErrParams, b.Clients)
	}
	m := float64(b.Clients)
	var ss float64
	for i, v := range sum {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: coordinate %d of the sum is not finite", ErrInconsistent, i)
		}
		ss += v * v
	}
	if lim := m * (b.ClipNorm + b.Step*math.Sqrt(float64(len(sum)))); math.Sqrt(ss) > lim {
		return fmt.Errorf("%w: the sum has L2 norm %.6g, but %d inputs clipped to %.6g can reach at most %.6g", ErrInconsistent, math.Sqrt(ss), b.Clients, b.ClipNorm, lim)
	}
	if b.WeightIndex < 0 {
		return nil
	}
	if b.WeightIndex >= len(sum) {
		return fmt.Errorf("%w: weight index %d outside a sum of %d coordinates", ErrParams, b.WeightIndex, len(sum))
	}
	w := sum[b.WeightIndex]
	if hi := m * (b.MaxWeight + b.Step); w > hi {
		return fmt.Errorf("%w: total weight %.6g exceeds %d clients × cap %.6g", ErrInconsistent, w, b.Clients, b.MaxWeight)
	}
	if w < b.MinTotalWeight || w <= 0 {
		return fmt.Errorf("%w: total weight %.6g is below the floor %.6g", ErrInconsistent, w, b.MinTotalWeight)
	}
	if b.UpdateClip > 0 {
		ws := ss - w*w // the weighted updates: every coordinate but Σ w
		d := float64(len(sum) - 1)
		if lim := b.UpdateClip*(w+m*b.Step) + m*b.Step*math.Sqrt(d); math.Sqrt(max(ws, 0)) > lim {
			return fmt.Errorf("%w: the weighted mean has L2 norm %.6g, but positive weights on updates clipped to %.6g give at most %.6g", ErrInconsistent, math.Sqrt(max(ws, 0))/w, b.UpdateClip, lim/w)
		}
	}
	return nil
}
