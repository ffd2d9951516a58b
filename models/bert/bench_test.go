package bert

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// bgeSmallZh is the shape of BAAI/bge-small-zh-v1.5.
var bgeSmallZh = Config{ModelType: "bert", HiddenSize: 512, NumLayers: 4, NumHeads: 8,
	IntermediateSize: 2048, HiddenAct: "gelu", LayerNormEps: 1e-12, MaxPositionEmbeddings: 512,
	TypeVocabSize: 2, VocabSize: 21128}

// randomModel is RandomModel for tests and benchmarks.
func randomModel(tb testing.TB, cfg Config, seed uint64) *Model {
	tb.Helper()
	m, err := RandomModel(cfg, seed)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func randomIDs(rng *rand.Rand, batch, seqLen, vocab int) [][]int {
	ids := make([][]int, batch)
	for i := range ids {
		ids[i] = make([]int, seqLen)
		for j := range ids[i] {
			ids[i][j] = 5 + rng.IntN(vocab-5)
		}
		ids[i][0], ids[i][seqLen-1] = 2, 3
	}
	return ids
}

// BenchmarkForwardBGESmallZh measures encoder throughput (sentences/s) for
// a batch of 32 sentences of exactly seq tokens on the bge-small-zh-v1.5
// shape with random weights: "kernel" is the forward pass as it runs
// (AVX2/FMA kernel where the CPU has it), "gonum" the baseline on gonum
// Sgemm with serial GELU and LayerNorm (the same where there is no kernel).
func BenchmarkForwardBGESmallZh(b *testing.B) {
	fast := randomModel(b, bgeSmallZh, 7)
	base := *fast
	base.blasOnly = true
	for _, c := range []struct {
		name string
		m    *Model
		seq  int
	}{{"gonum", &base, 32}, {"kernel", fast, 32}, {"gonum", &base, 128}, {"kernel", fast, 128}} {
		m, seq := c.m, c.seq
		b.Run(fmt.Sprintf("%s_seq%d_batch32", c.name, seq), func(b *testing.B) {
			ids := randomIDs(rand.New(rand.NewPCG(9, 9)), 32, seq, bgeSmallZh.VocabSize)
			b.ResetTimer()
			for b.Loop() {
				if _, _, err := m.Forward(context.Background(), ids); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(32*b.N)/b.Elapsed().Seconds(), "sentences/s")
		})
	}
}

// BenchmarkLinear compares the BLAS Sgemm used by the forward pass with a
// naive triple loop (the baseline) on the feed-forward shape of one batch
// of 32×32 tokens: [1024×512]·[512×2048].
func BenchmarkLinear(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	n, in, out := 1024, 512, 2048
	x := make([]float32, n*in)
	for i := range x {
		x[i] = rng.Float32()
	}
	l := Linear{W: make([]float32, out*in), B: make([]float32, out), In: in, Out: out}
	for i := range l.W {
		l.W[i] = rng.Float32()
	}
	dst := make([]float32, n*out)
	b.Run("naive", func(b *testing.B) {
		for b.Loop() {
			for r := range n {
				xr := x[r*in : (r+1)*in]
				for o := range out {
					wr := l.W[o*in : (o+1)*in]
					s := l.B[o]
					for j, v := range xr {
						s += v * wr[j]
					}
					dst[r*out+o] = s
				}
			}
		}
	})
	b.Run("blas", func(b *testing.B) {
		for b.Loop() {
			linear(dst, x, n, l)
		}
	})
}
