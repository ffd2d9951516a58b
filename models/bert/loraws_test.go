package bert

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// loraCase builds an adapter with random B's and a random upstream vector.
func loraCase(t *testing.T, e *Encoder, c LoRAConfig) (*LoRA, []float64) {
	t.Helper()
	l, err := NewLoRA(e.Model(), c)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	p := make([]float64, l.NumParams())
	for i := range p {
		p[i] = rng.NormFloat64() * 0.3
	}
	if err := l.SetParams(p); err != nil {
		t.Fatal(err)
	}
	u := make([]float64, e.Dim())
	for i := range u {
		u[i] = rng.NormFloat64()
	}
	return l, u
}

// A float64 workspace reused across records (longest first, so buffers
// are recycled, and shortest first, so they grow) gives bit-identical
// outputs and gradients to Forward/Backward, which the finite-difference
// test checks.
func TestLoRAWorkspaceMatchesForward(t *testing.T) {
	e := loadTiny(t, Options{})
	for _, c := range []LoRAConfig{
		{TopLayers: 2, Rank: 2, Alpha: 4, Seed: 3, Pooling: PoolMean},
		{TopLayers: 1, Rank: 3, Seed: 4, Pooling: PoolCLS, Normalize: true},
	} {
		l, u := loraCase(t, e, c)
		xs, lens := tinyInputs(t, e, l.FirstLayer())
		ws := l.NewWorkspace(false)
		for _, order := range [][]int{{0, 1, 2}, {2, 1, 0, 0}} {
			for _, ex := range order {
				want, wantG := forwardBackward(t, l, nil, xs[ex], lens[ex], u)
				got, gotG := forwardBackward(t, l, ws, xs[ex], lens[ex], u)
				for j := range want {
					if got[j] != want[j] {
						t.Fatalf("%+v example %d dim %d: workspace output %g, Forward %g", c, ex, j, got[j], want[j])
					}
				}
				for j := range wantG {
					if gotG[j] != wantG[j] {
						t.Fatalf("%+v example %d param %d: workspace gradient %g, Backward %g", c, ex, j, gotG[j], wantG[j])
					}
				}
			}
		}
	}
}

// Mixed precision (float32 products with the frozen weights) against the
// float64 path, whose gradients match finite differences to 1e-8. Each
// frozen product rounds its inputs to float32 (relative 2⁻²⁴ ≈ 6e-8) and
// accumulates in float32, so it carries a relative error of order 1e-7;
// on the tiny model the observed differences are ≈3e-9 on the outputs and
// ≈2e-8 (relative to max(1, max |g|)) on the gradients. We require 1e-7
// and 1e-6, a margin of ~40× over what float32 rounding gives here, and
// that the difference is not zero (the float32 path is really taken).
func TestLoRAMixedPrecisionCloseToFloat64(t *testing.T) {
	e := loadTiny(t, Options{})
	for _, c := range []LoRAConfig{
		{TopLayers: 2, Rank: 2, Alpha: 4, Seed: 3, Pooling: PoolMean},
		{TopLayers: 1, Rank: 3, Seed: 4, Pooling: PoolCLS, Normalize: true},
	} {
		l, u := loraCase(t, e, c)
		xs, lens := tinyInputs(t, e, l.FirstLayer())
		ws := l.NewWorkspace(true)
		if !ws.Mixed() {
			t.Fatal("mixed workspace reports float64")
		}
		var worstOut, worstG float64
		for ex := range xs {
			want, wantG := forwardBackward(t, l, nil, xs[ex], lens[ex], u)
			got, gotG := forwardBackward(t, l, ws, xs[ex], lens[ex], u)
			var dOut, dG, norm float64
			for j := range want {
				dOut = max(dOut, math.Abs(got[j]-want[j]))
			}
			for j := range wantG {
				dG = max(dG, math.Abs(gotG[j]-wantG[j]))
				norm = max(norm, math.Abs(wantG[j]))
			}
			if dOut > 1e-7 || dG > 1e-6*max(1, norm) {
				t.Fatalf("%+v example %d: mixed vs float64: output max |Δ| %g, gradient max |Δ| %g (max |g| %g)", c, ex, dOut, dG, norm)
			}
			worstOut, worstG = max(worstOut, dOut), max(worstG, dG/max(1, norm))
		}
		if worstOut == 0 && worstG == 0 {
			t.Fatalf("%+v: mixed precision identical to float64: float32 path not taken", c)
		}
		t.Logf("top %d: mixed vs float64: output max |Δ| %.2g, gradient max relative |Δ| %.2g", c.TopLayers, worstOut, worstG)
	}
}

// Once a workspace has seen the longest record, a further record costs no
// allocation at all.
func TestLoRAWorkspaceNoAllocs(t *testing.T) {
	e := loadTiny(t, Options{})
	l, u := loraCase(t, e, LoRAConfig{TopLayers: 2, Rank: 2, Seed: 3, Pooling: PoolCLS, Normalize: true})
	xs, lens := tinyInputs(t, e, l.FirstLayer())
	grad := make([]float64, l.NumParams())
	for _, mixed := range []bool{false, true} {
		ws := l.NewWorkspace(mixed)
		run := func() {
			for ex := range xs {
				_, tape, err := l.ForwardWith(ws, xs[ex], lens[ex])
				if err != nil {
					t.Fatal(err)
				}
				if err := l.Backward(grad, tape, u); err != nil {
					t.Fatal(err)
				}
			}
		}
		run()
		run()
		if n := testing.AllocsPerRun(5, run); n != 0 {
			t.Errorf("mixed=%t: %v allocations per pass over %d records", mixed, n, len(xs))
		}
	}
}

// sgemmBlocked against a naive float64 product, on shapes that span
// several blocks in every dimension, with ragged edges.
func TestSgemmBlocked(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct {
		trans   bool
		T, n, k int
	}{{true, 70, 300, 1100}, {false, 70, 400, 300}, {true, 3, 5, 7}, {false, 1, 1, 1}} {
		x := make([]float32, c.T*c.k)
		w := make([]float32, c.n*c.k)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		for i := range w {
			w[i] = float32(rng.NormFloat64())
		}
		got := make([]float32, c.T*c.n)
		for i := range got {
			got[i] = 1
		}
		ldw := c.n
		if c.trans {
			ldw = c.k
		}
		sgemmBlocked(c.trans, c.T, c.n, c.k, x, w, ldw, got)
		for i := range c.T {
			for j := range c.n {
				want := 1.0
				for l := range c.k {
					wv := w[l*c.n+j]
					if c.trans {
						wv = w[j*c.k+l]
					}
					want += float64(x[i*c.k+l]) * float64(wv)
				}
				if d := math.Abs(float64(got[i*c.n+j]) - want); d > 1e-5*float64(c.k) {
					t.Fatalf("%+v: c[%d][%d] = %g, want %g", c, i, j, got[i*c.n+j], want)
				}
			}
		}
	}
}

// activate gives the model's activation bit for bit and its derivative
// (against central differences), for the exact and the tanh GELU.
func TestLoRAActivate(t *testing.T) {
	for _, m := range []*Model{{cfg: Config{HiddenAct: "gelu"}, act: geluErf}, {cfg: Config{HiddenAct: "gelu_new"}, act: geluTanh}} {
		l := &LoRA{m: m}
		pre := []float64{-6, -2.5, -1, -0.3, 0, 1e-3, 0.7, 1.9, 4, 9}
		g, d := make([]float64, len(pre)), make([]float64, len(pre))
		l.activate(g, d, pre)
		for j, x := range pre {
			if g[j] != m.act(x) {
				t.Fatalf("%s: GELU(%g) = %g, model %g", m.cfg.HiddenAct, x, g[j], m.act(x))
			}
			const eps = 1e-6
			if fd := (m.act(x+eps) - m.act(x-eps)) / (2 * eps); math.Abs(fd-d[j]) > 1e-8 {
				t.Fatalf("%s: GELU′(%g) = %g, finite difference %g", m.cfg.HiddenAct, x, d[j], fd)
			}
		}
	}
}

// gemm (Dgemm in pieces) against a naive product, for every transpose
// combination, shapes spanning several pieces, strides wider than the
// matrices and beta ≠ 0.
func TestGemmPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const m, n, k, pad = 130, 400, 9, 2
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			ar, ac := m, k
			if ta {
				ar, ac = k, m
			}
			br, bc := k, n
			if tb {
				br, bc = n, k
			}
			lda, ldb, ldc := ac+pad, bc+pad, n+pad
			a, b, c := make([]float64, ar*lda), make([]float64, br*ldb), make([]float64, m*ldc)
			for _, s := range [][]float64{a, b, c} {
				for i := range s {
					s[i] = rng.NormFloat64()
				}
			}
			want := append([]float64(nil), c...)
			for i := range m {
				for j := range n {
					var s float64
					for l := range k {
						ai, bi := i*lda+l, l*ldb+j
						if ta {
							ai = l*lda + i
						}
						if tb {
							bi = j*ldb + l
						}
						av, bv := a[ai], b[bi]
						s += av * bv
					}
					want[i*ldc+j] = 0.5*s + 2*c[i*ldc+j]
				}
			}
			gemm(ta, tb, m, n, k, 0.5, a, lda, b, ldb, 2, c, ldc)
			for i := range c {
				if math.Abs(c[i]-want[i]) > 1e-12 {
					t.Fatalf("ta=%t tb=%t: element %d = %g, want %g", ta, tb, i, c[i], want[i])
				}
			}
		}
	}
}

// forwardBackward returns the pooled output for x (T tokens) and the
// per-example gradient for upstream vector u, through Forward when ws is
// nil and ForwardWith(ws) otherwise. The output is copied: a workspace's
// is reused by its next pass.
func forwardBackward(t *testing.T, l *LoRA, ws *Workspace, x []float64, T int, u []float64) (out, grad []float64) {
	t.Helper()
	var tape *Tape
	var err error
	if ws == nil {
		out, tape, err = l.Forward(x, T)
	} else {
		out, tape, err = l.ForwardWith(ws, x, T)
	}
	if err != nil {
		t.Fatal(err)
	}
	grad = make([]float64, l.NumParams())
	if err := l.Backward(grad, tape, u); err != nil {
		t.Fatal(err)
	}
	return slices.Clone(out), grad
}
