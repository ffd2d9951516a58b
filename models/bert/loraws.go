package bert

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Workspace holds the buffers of one goroutine's ForwardWith calls and of
// the Backward calls on the tapes they return, so that a training loop
// allocates nothing per record once the buffers have grown. A Workspace
// must not be used by two goroutines at once.
//
// In mixed precision the products with the frozen weights of the adapted
// layers (query, key, value, attention output, intermediate and output
// projections, forward and backward) run in float32 (gonum Sgemm on the
// model's float32 weights, activations rounded to float32, float32
// accumulation); everything else — the LoRA factors and their rank-r
// products, biases, residuals, attention, LayerNorm, GELU, pooling and
// every accumulation of the trainable gradient — stays float64. The
// float32 rounding perturbs outputs and per-example gradients by about
// 1e-6 relative: negligible next to DP-SGD's clipping and noise, but not
// the float64 exactness that Forward and finite-difference checks have.
type Workspace struct {
	mixed bool
	f64   arena[float64]
	f32   arena[float32]
	tape  Tape
}

// NewWorkspace returns an empty workspace for ForwardWith; mixed selects
// float32 products with the frozen weights (see Workspace).
func (l *LoRA) NewWorkspace(mixed bool) *Workspace { return &Workspace{mixed: mixed} }

// Mixed reports whether the workspace runs the frozen products in float32.
func (ws *Workspace) Mixed() bool { return ws.mixed }

// arena hands out zeroed slices from reusable chunks; reset makes every
// slice handed out before it invalid.
type arena[E float32 | float64] struct {
	chunks  [][]E
	ci, off int
}

func (a *arena[E]) alloc(n int) []E {
	for a.ci < len(a.chunks) {
		c := a.chunks[a.ci]
		if a.off+n <= len(c) {
			s := c[a.off : a.off+n : a.off+n]
			a.off += n
			clear(s)
			return s
		}
		a.ci++
		a.off = 0
	}
	size := n
	if k := len(a.chunks); k > 0 {
		size = max(n, len(a.chunks[k-1]))
	}
	a.chunks = append(a.chunks, make([]E, size))
	a.ci, a.off = len(a.chunks)-1, n
	return a.chunks[a.ci][:n:n]
}

// reset recycles the arena; if the last round needed several chunks they
// are replaced by one of their total size, so a steady state uses one.
func (a *arena[E]) reset() {
	if len(a.chunks) > 1 {
		total := 0
		for _, c := range a.chunks {
			total += len(c)
		}
		a.chunks = [][]E{make([]E, total)}
	}
	a.ci, a.off = 0, 0
}

// frozen is a frozen weight matrix stored [out][in] row-major in float64
// (exact path) and float32 (the model's own copy, mixed path).
type frozen struct {
	w64     []float64
	w32     []float32
	out, in int
}

// mulAdd adds x·Wᵀ (trans: x is T×in, c is T×out) or x·W (x is T×out, c is
// T×in) to c, in float64 or, for a mixed workspace, in float32.
func (ws *Workspace) mulAdd(c []float64, x []float64, T int, w frozen, trans bool) {
	k, n := w.out, w.in
	if trans {
		k, n = w.in, w.out
	}
	if !ws.mixed {
		gemm(false, trans, T, n, k, 1, x, k, w.w64, w.in, 1, c, n)
		return
	}
	x32, c32 := ws.f32.alloc(T*k), ws.f32.alloc(T*n)
	for i, v := range x[:T*k] {
		x32[i] = float32(v)
	}
	tb := blas.NoTrans
	if trans {
		tb = blas.Trans
	}
	blas32.Implementation().Sgemm(blas.NoTrans, tb, T, n, k, 1, x32, k, w.w32, w.in, 0, c32, n)
	for i, v := range c32 {
		c[i] += float64(v)
	}
}
