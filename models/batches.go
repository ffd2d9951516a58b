package models

import (
	"math"
	mrand "math/rand/v2"

	"github.com/fedb2b/fedb2b/privacy"
)

// Batches draws the minibatches of a TrainConfig over n examples: a
// Poisson sample at rate SampleRate per step for private training, else
// BatchSize examples from a permutation reshuffled every epoch. Every
// learner's DP-SGD loop uses it, so all sample the same way.
type Batches struct {
	cfg   TrainConfig
	n     int
	batch []int
	perm  []int
	pos   int
}

// NewBatches returns the sampler of cfg over n examples. For private
// training its buffer has room for a Poisson batch up to its mean + 6
// standard deviations, so steps do not allocate.
func NewBatches(cfg TrainConfig, n int) *Batches {
	b := &Batches{cfg: cfg, n: n, pos: n}
	if cfg.Private {
		m := cfg.SampleRate * float64(n)
		b.batch = make([]int, 0, int(m+6*math.Sqrt(m))+16)
	}
	return b
}

// Next returns the next batch (valid until the next call), the
// denominator of the step's mean gradient (the public ExpectedBatch for
// DP-SGD, the batch size otherwise) and the per-example clip norm (0: no
// clipping).
func (b *Batches) Next(rng *mrand.Rand) (batch []int, denom, clip float64) {
	if b.cfg.Private {
		b.batch = privacy.PoissonSample(b.n, b.cfg.SampleRate, rng, b.batch)
		return b.batch, b.cfg.ExpectedBatch, b.cfg.ClipNorm
	}
	if b.perm == nil {
		b.perm = make([]int, b.n)
		for i := range b.perm {
			b.perm[i] = i
		}
	}
	b.batch = b.batch[:0]
	for len(b.batch) < b.cfg.BatchSize && len(b.batch) < b.n {
		if b.pos == b.n {
			rng.Shuffle(b.n, func(i, j int) { b.perm[i], b.perm[j] = b.perm[j], b.perm[i] })
			b.pos = 0
		}
		b.batch = append(b.batch, b.perm[b.pos])
		b.pos++
	}
	return b.batch, float64(len(b.batch)), 0
}
