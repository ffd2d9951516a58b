package bert

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// sgemmNT against a naive float64 x·Wᵀ, with ragged rows and columns,
// several inner and column blocks, strides wider than the matrices, and
// column ranges that start inside the matrix; columns outside [j0, j1)
// must stay untouched.
func TestSgemmNT(t *testing.T) {
	if !haveKernel {
		t.Skip("no AVX2/FMA kernel on this machine")
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for _, c := range []struct{ n, out, k, pad, j0, j1 int }{
		{68, 544, 520, 0, 0, 544}, {7, 37, 300, 3, 0, 37}, {4, 16, 1, 0, 0, 16}, {3, 15, 5, 1, 0, 15},
		{130, 300, 257, 2, 32, 299}, {9, 64, 64, 0, 16, 48}, {5, 40, 33, 1, 17, 40},
	} {
		ldx, ldw, ldc := c.k+c.pad, c.k+2*c.pad, c.out+c.pad
		x, w, got := make([]float32, c.n*ldx), make([]float32, c.out*ldw), make([]float32, c.n*ldc)
		for _, s := range [][]float32{x, w, got} {
			for i := range s {
				s[i] = float32(rng.NormFloat64())
			}
		}
		want := make([]float64, len(got))
		for i, v := range got {
			want[i] = float64(v)
		}
		for i := range c.n {
			for j := c.j0; j < c.j1; j++ {
				for l := range c.k {
					want[i*ldc+j] += float64(x[i*ldx+l]) * float64(w[j*ldw+l])
				}
			}
		}
		sgemmNT(c.n, c.k, x, ldx, w, ldw, got, ldc, c.j0, c.j1)
		for i := range got {
			if d := math.Abs(float64(got[i]) - want[i]); d > 1e-5*math.Sqrt(float64(c.k))*max(1, math.Abs(want[i])) {
				t.Fatalf("%+v: element %d (row %d, column %d) = %g, want %g", c, i, i/ldc, i%ldc, got[i], want[i])
			}
		}
	}
}

// linearFast (columns split among goroutines) against the gonum linear,
// on shapes below and above the single-goroutine threshold.
func TestLinearFastMatchesBLAS(t *testing.T) {
	if !haveKernel {
		t.Skip("no AVX2/FMA kernel on this machine")
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for _, c := range []struct{ n, in, out int }{{6, 10, 21}, {130, 96, 200}, {256, 384, 1040}} {
		l := Linear{W: make([]float32, c.out*c.in), B: make([]float32, c.out), In: c.in, Out: c.out}
		x := make([]float32, c.n*c.in)
		for _, s := range [][]float32{l.W, l.B, x} {
			for i := range s {
				s[i] = float32(rng.NormFloat64())
			}
		}
		got, want := make([]float32, c.n*c.out), make([]float32, c.n*c.out)
		linearFast(got, x, c.n, l)
		linear(want, x, c.n, l)
		for i := range got {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*math.Sqrt(float64(c.in))*max(1, math.Abs(float64(want[i]))) {
				t.Fatalf("%+v: element %d = %g, gonum %g", c, i, got[i], want[i])
			}
		}
	}
}

// The forward pass on the kernel against the gonum-only one, on a random
// model with widths that are not multiples of 16 and a ragged batch (an
// odd number of tokens in all, padding masked).
func TestForwardKernelMatchesBLAS(t *testing.T) {
	if !haveKernel {
		t.Skip("no AVX2/FMA kernel on this machine")
	}
	cfg := Config{ModelType: "bert", HiddenSize: 72, NumLayers: 2, NumHeads: 4, IntermediateSize: 200,
		HiddenAct: "gelu", LayerNormEps: 1e-12, MaxPositionEmbeddings: 64, TypeVocabSize: 2, VocabSize: 50}
	fast := randomModel(t, cfg, 11)
	base := *fast
	base.blasOnly = true
	rng := rand.New(rand.NewPCG(6, 6))
	ids := randomIDs(rng, 5, 37, cfg.VocabSize)
	ids[1], ids[3] = ids[1][:9], ids[3][:1]
	got, T, err := fast.Forward(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	want, T2, err := base.Forward(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	if T != T2 || len(got) != len(want) {
		t.Fatalf("kernel: T %d, %d values; gonum: T %d, %d values", T, len(got), T2, len(want))
	}
	var maxd float64
	for i := range got {
		maxd = max(maxd, math.Abs(float64(got[i]-want[i])))
	}
	if maxd > 1e-4 {
		t.Fatalf("kernel and gonum forward differ by %g", maxd)
	}
}
