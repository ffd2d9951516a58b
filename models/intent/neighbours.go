package intent

import (
	"fmt"

	"github.com/fedb2b/fedb2b/models"
)

// Neighbours is an inverted index of a tenant's own encoded in-scope
// messages (L2-normalised rows, as the hashing encoder gives) that
// returns a message's largest cosine similarity to them: the
// nearest-neighbour part of the as-deployed out-of-scope score
// (KNNScore). It holds raw data of the tenant: it and anything computed
// from it stay with the tenant. A released statistic of such scores would
// have no small sensitivity (one message can be the nearest neighbour of
// every other), so nothing built on it may enter the federation's
// histograms.
type Neighbours struct {
	post [][]posting
	n    int
	acc  []float64
	row  models.SparseRow
}

type posting struct {
	row int32
	val float32
}

// NewNeighbours indexes rows (feature indices below dim).
func NewNeighbours(rows models.Rows, dim int) (*Neighbours, error) {
	if dim < 1 {
		return nil, fmt.Errorf("intent: neighbour index of dimension %d", dim)
	}
	ix := &Neighbours{post: make([][]posting, dim), n: rows.Len(), acc: make([]float64, rows.Len())}
	var buf models.SparseRow
	for r := range rows.Len() {
		row := rows.Row(r, &buf)
		for k, j := range row.Idx {
			if j < 0 || int(j) >= dim {
				return nil, fmt.Errorf("intent: row %d has feature %d outside [0, %d)", r, j, dim)
			}
			ix.post[j] = append(ix.post[j], posting{int32(r), float32(row.Val[k])})
		}
	}
	return ix, nil
}

// MaxCos returns the largest dot product of q with an indexed row (0 when
// none is positive or the index is empty); features outside the index's
// dimension are ignored.
func (ix *Neighbours) MaxCos(q models.SparseRow) float64 {
	clear(ix.acc)
	for k, j := range q.Idx {
		if j < 0 || int(j) >= len(ix.post) {
			continue
		}
		v := q.Val[k]
		for _, p := range ix.post[j] {
			ix.acc[p.row] += v * float64(p.val)
		}
	}
	best := 0.0
	for _, a := range ix.acc {
		best = max(best, a)
	}
	return best
}

// MaxNeighbourRows is the most training rows the simulation indexes for
// the nearest-neighbour figures (skipped above it: the index takes 8
// bytes a feature, and a query walks the postings of all its features).
const MaxNeighbourRows = 50_000

// KNNWeight is λ of KNNScore, chosen on clinc150 development splits
// (TestOOSLinearDevExperiment; the held-out splits untouched).
const KNNWeight = 8

// KNNScore returns score[i] + λ·MaxCos(rows[i]) for every row: an
// out-of-scope score (higher: more in scope) that adds the message's
// similarity to the tenant's own messages to the model's score.
func (ix *Neighbours) KNNScore(score []float64, rows models.Rows, lambda float64) ([]float64, error) {
	if rows.Len() != len(score) {
		return nil, fmt.Errorf("intent: %d scores for %d rows", len(score), rows.Len())
	}
	out := make([]float64, len(score))
	for i := range score {
		out[i] = score[i] + lambda*ix.MaxCos(rows.Row(i, &ix.row))
	}
	return out, nil
}
