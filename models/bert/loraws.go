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
// projections, forward and backward) run in float32 (on the model's
// float32 weights, activations rounded to float32, float32 accumulation:
// an AVX2/FMA kernel on amd64 CPUs that have it, gonum Sgemm elsewhere); everything else — the LoRA factors and their rank-r
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
// (exact path) and float32 (the model's own copy, mixed path). Where the
// assembly kernel runs (haveKernel), t32 is the float32 transpose
// [in][out], so that x·Wᵀ is also a non-transposed product.
type frozen struct {
	w64     []float64
	w32     []float32
	t32     []float32
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
	switch {
	case haveKernel && trans:
		sgemmNN(T, n, k, x32, k, w.t32, w.out, c32, n)
	case haveKernel:
		sgemmNN(T, n, k, x32, k, w.w32, w.in, c32, n)
	default:
		sgemmBlocked(trans, T, n, k, x32, w.w32, w.in, c32)
	}
	for i, v := range c32 {
		c[i] += float64(v)
	}
}

// Block sizes of sgemmBlocked: rows of x, columns of c and the inner
// dimension, per Sgemm call. Each call then spans fewer than gonum's four
// 64×64 blocks, so it runs serially (the callers already run one record
// per core) on a slice of W that stays in cache.
const (
	blkRows = 64
	blkNT   = 128 // c columns, x·Wᵀ
	blkKNT  = 512 // inner, x·Wᵀ
	blkNN   = 192 // c columns, x·W
	blkKNN  = 128 // inner, x·W
)

// sgemmBlocked adds x·Wᵀ (trans; W n×k) or x·W (W k×n) to c (T×n), x T×k,
// all row-major float32, W with row stride ldw.
func sgemmBlocked(trans bool, T, n, k int, x, w []float32, ldw int, c []float32) {
	impl := blas32.Implementation()
	jc, kc, tb := blkNN, blkKNN, blas.NoTrans
	if trans {
		jc, kc, tb = blkNT, blkKNT, blas.Trans
	}
	for i0 := 0; i0 < T; i0 += blkRows {
		ni := min(blkRows, T-i0)
		for j0 := 0; j0 < n; j0 += jc {
			nj := min(jc, n-j0)
			for k0 := 0; k0 < k; k0 += kc {
				nk := min(kc, k-k0)
				var wb []float32
				if trans {
					wb = w[j0*ldw+k0:]
				} else {
					wb = w[k0*ldw+j0:]
				}
				impl.Sgemm(blas.NoTrans, tb, ni, nj, nk, 1, x[i0*k+k0:], k, wb, ldw, 1, c[i0*n+j0:], n)
			}
		}
	}
}
