package models

import (
	"fmt"
	"math"
)

// SparseRow is one input row stored by its non-zero entries: Idx strictly
// increasing in [0, dim), Val the matching values. Hashed text features
// have a few hundred non-zero entries out of thousands, so the linear head
// works on these rows.
type SparseRow struct {
	Idx []int32
	Val []float64
}

// Sparsify returns the non-zero entries of x.
func Sparsify(x []float64) SparseRow {
	n := 0
	for _, v := range x {
		if v != 0 {
			n++
		}
	}
	r := SparseRow{Idx: make([]int32, 0, n), Val: make([]float64, 0, n)}
	for j, v := range x {
		if v != 0 {
			r.Idx = append(r.Idx, int32(j))
			r.Val = append(r.Val, v)
		}
	}
	return r
}

// SparsifyAll returns the sparse form of every row of x, each checked to
// have length dim.
func SparsifyAll(x [][]float64, dim int) ([]SparseRow, error) {
	out := make([]SparseRow, len(x))
	for i, row := range x {
		if len(row) != dim {
			return nil, fmt.Errorf("models: input row %d has length %d, want %d", i, len(row), dim)
		}
		if j := firstNonFinite(row); j >= 0 {
			return nil, fmt.Errorf("models: input row %d entry %d is not finite", i, j)
		}
		out[i] = Sparsify(row)
	}
	return out, nil
}

// SqNorm is the squared L2 norm of the row.
func (r SparseRow) SqNorm() float64 { return sumSq(r.Val) }

// check validates a row received from elsewhere against dim.
func (r SparseRow) check(dim int) error {
	if len(r.Idx) != len(r.Val) {
		return fmt.Errorf("%d indices but %d values", len(r.Idx), len(r.Val))
	}
	prev := int32(-1)
	for k, j := range r.Idx {
		if j <= prev || int(j) >= dim {
			return fmt.Errorf("index %d (%d) not increasing or outside [0, %d)", k, j, dim)
		}
		if v := r.Val[k]; math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("value %d is not finite", k)
		}
		prev = j
	}
	return nil
}
