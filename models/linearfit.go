package models

import (
	"fmt"
	"math"
	"slices"
)

// DefaultLinearC is the inverse regularisation strength of FitLinear's
// default, scikit-learn's C = 10 of the TF-IDF + logistic
// regression reference (not tuned here).
const DefaultLinearC = 10

// FitOptions sets up FitLinear.
type FitOptions struct {
	// C is scikit-learn's inverse L2 strength: the objective is
	// ½‖W‖² + C·Σ_i loss_i (the bias is not penalised). 0 means
	// DefaultLinearC.
	C float64
	// MaxIterations bounds the L-BFGS iterations (0: 500).
	MaxIterations int
}

// FitLinear trains h non-privately to the minimum of the L2-regularised
// softmax cross-entropy over rows with labels y, by full-batch L-BFGS
// (lbfgs.go) from h's current parameters: the multinomial logistic
// regression a tenant would fit on its own data, and the pooled reference.
// It works on data that never leaves its owner, so it has no privacy
// mechanism; its result must not be released as a DP model.
func FitLinear(h *LinearHead, rows []SparseRow, y []int, opt FitOptions) error {
	return FitLinearRows(h, SliceRows(rows), y, opt)
}

// FitLinearRows is FitLinear over any Rows.
func FitLinearRows(h *LinearHead, rows Rows, y []int, opt FitOptions) error {
	if opt.C == 0 {
		opt.C = DefaultLinearC
	}
	if !(opt.C > 0) || math.IsInf(opt.C, 0) {
		return fmt.Errorf("models: regularisation C %v must be positive and finite", opt.C)
	}
	if opt.MaxIterations == 0 {
		opt.MaxIterations = 500
	}
	if rows.Len() != len(y) || rows.Len() == 0 {
		return fmt.Errorf("models: %d rows and %d labels (need the same, at least one)", rows.Len(), len(y))
	}
	if err := h.checkRows(rows); err != nil {
		return err
	}
	k := h.cfg.Classes
	for i, l := range y {
		if l < 0 || l >= k {
			return fmt.Errorf("models: label %d of example %d out of range [0, %d)", l, i, k)
		}
	}
	// Mean-loss form: Σ loss/n + ‖W‖²/(2·C·n), the same minimiser.
	n := float64(rows.Len())
	lambda := 1 / (opt.C * n)
	nw := len(h.w)
	z := make([]float64, k)
	var lastX, lastG []float64
	var lastF float64
	eval := func(x []float64) (float64, []float64) {
		if lastX != nil && slices.Equal(x, lastX) {
			return lastF, lastG
		}
		g := make([]float64, len(x))
		if h.SetParams(x) != nil { // a non-finite trial point
			return math.Inf(1), g
		}
		var f float64
		var buf SparseRow
		for i := range y {
			r := rows.Row(i, &buf)
			h.logits(z, r)
			zy := z[y[i]]
			f += softmaxInPlace(z) - zy
			z[y[i]] -= 1
			for m, j := range r.Idx {
				axpy(g[int(j)*k:int(j)*k+k], r.Val[m], z)
			}
			axpy(g[nw:], 1, z)
		}
		for i := range g {
			g[i] /= n
		}
		f /= n
		for i, w := range x[:nw] {
			f += 0.5 * lambda * w * w
			g[i] += lambda * w
		}
		lastX, lastF, lastG = append(lastX[:0], x...), f, g
		return f, g
	}
	x, err := lbfgs(func(x, g []float64) float64 {
		f, gg := eval(x)
		copy(g, gg)
		return f
	}, h.Params(), opt.MaxIterations)
	if err != nil {
		return fmt.Errorf("models: fit linear head: %w", err)
	}
	// An iteration limit is not a failure: the best point found is kept.
	return h.SetParams(x)
}
