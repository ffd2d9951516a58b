package bert

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// BenchmarkLoRADPSGDStep measures one DP-SGD step with LoRA (rank 8) in the
// top 2 layers of the bge-small-zh-v1.5 shape: for a batch of 32 sequences
// of 32 tokens, per-example forward and backward through the two adapted
// layers, clipping to norm 1, summing, and adding Gaussian noise (seeded
// math/rand here: the benchmark measures cost, not privacy). The inputs of
// layer 2 are computed once, outside the timed loop, since the base is
// frozen. Compare with BenchmarkForwardBGESmallZh/seq32_batch32, the frozen
// full-model inference of the same batch.
func BenchmarkLoRADPSGDStep(b *testing.B) {
	l, ids, xs, up, rng := benchLoRA(b)
	np := l.NumParams()
	workers := runtime.GOMAXPROCS(0)
	sums := make([][]float64, workers)
	grads := make([][]float64, workers)
	for w := range workers {
		sums[w], grads[w] = make([]float64, np), make([]float64, np)
	}
	for b.Loop() {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				clear(sums[w])
				for ex := w; ex < len(xs); ex += workers {
					_, tape, err := l.Forward(xs[ex], len(ids[ex]))
					if err != nil {
						b.Error(err)
						return
					}
					if err := l.Backward(grads[w], tape, up); err != nil {
						b.Error(err)
						return
					}
					f := min(1, 1/(math.Sqrt(dot(grads[w], grads[w]))+1e-12))
					for i, g := range grads[w] {
						sums[w][i] += f * g
					}
				}
			}()
		}
		wg.Wait()
		for i := range np {
			s := rng.NormFloat64()
			for w := range workers {
				s += sums[w][i]
			}
			sums[0][i] = s / float64(len(xs))
		}
	}
	b.ReportMetric(float64(32*b.N)/b.Elapsed().Seconds(), "examples/s")
}

// benchLoRA is the setup the LoRA benchmarks share: rank 8 in the top 2
// layers of the bge-small-zh-v1.5 shape, 32 random sequences of 32 tokens
// and the hidden states entering the adapted layers (computed once: the
// base is frozen), a random upstream gradient of the pooled vector, and
// the generator that made them.
func benchLoRA(b *testing.B) (*LoRA, [][]int, [][]float64, []float64, *rand.Rand) {
	b.Helper()
	m := randomModel(b, bgeSmallZh, 7)
	l, err := NewLoRA(m, LoRAConfig{TopLayers: 2, Rank: 8, Seed: 1, Pooling: PoolCLS, Normalize: true})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	ids := randomIDs(rng, 32, 32, bgeSmallZh.VocabSize)
	xs, err := m.HiddenBefore(context.Background(), ids, l.FirstLayer())
	if err != nil {
		b.Fatal(err)
	}
	up := make([]float64, bgeSmallZh.HiddenSize)
	for i := range up {
		up[i] = rng.NormFloat64()
	}
	return l, ids, xs, up, rng
}
