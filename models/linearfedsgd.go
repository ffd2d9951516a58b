package models

import (
	"errors"
	"fmt"
	mrand "math/rand/v2"

	"github.com/fedb2b/fedb2b/privacy"
)

// GradSumStats describes one ClippedGradSum call. It is computed from
// private data: do not release it.
type GradSumStats struct {
	Examples int // records sampled
	Clipped  int // of them, gradients clipped
}

// ClippedGradSum is a tenant's part of one FedSGD round of the
// record-level distributed mode (privacy/ddg.Record): it Poisson-samples
// rows at rate q, clips each example's gradient at the head's current
// parameters to L2 norm clip, and returns their sum in Params order — no
// noise and no division (the noise shares are added inside secure
// aggregation; the coordinator divides by a public expected batch). With
// freezeBias the bias coordinates are zero and the whole clip budget goes
// to W. The result is private: it may leave the tenant only as a noised
// share of secure aggregation.
func (t *LinearTrainer) ClippedGradSum(rows []SparseRow, y []int, q, clip float64, freezeBias bool, rng *mrand.Rand) ([]float64, GradSumStats, error) {
	return t.ClippedGradSumRows(SliceRows(rows), y, q, clip, freezeBias, rng)
}

// ClippedGradSumRows is ClippedGradSum over any Rows (a RowStore).
func (t *LinearTrainer) ClippedGradSumRows(rows Rows, y []int, q, clip float64, freezeBias bool, rng *mrand.Rand) ([]float64, GradSumStats, error) {
	h := t.h
	if rows.Len() != len(y) {
		return nil, GradSumStats{}, fmt.Errorf("models: %d rows and %d labels", rows.Len(), len(y))
	}
	if err := h.checkRows(rows); err != nil {
		return nil, GradSumStats{}, err
	}
	for i, l := range y {
		if l < 0 || l >= h.cfg.Classes {
			return nil, GradSumStats{}, fmt.Errorf("models: label %d of example %d out of range [0, %d)", l, i, h.cfg.Classes)
		}
	}
	if !(q > 0 && q <= 1) || !(clip > 0) {
		return nil, GradSumStats{}, fmt.Errorf("models: sample rate %v must be in (0, 1] and clip %v positive", q, clip)
	}
	if rng == nil {
		return nil, GradSumStats{}, errors.New("models: ClippedGradSum needs a random generator")
	}
	t.batch = privacy.PoissonSample(rows.Len(), q, rng, t.batch)
	_, cl := t.accumulate(rows, y, t.batch, clip, freezeBias)
	if freezeBias {
		clear(t.sum[len(h.w):])
	}
	return append([]float64(nil), t.sum...), GradSumStats{Examples: len(t.batch), Clipped: cl}, nil
}
