package bert

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// gemm is C = alpha·op(A)·op(B) + beta·C on row-major float64 slices, with
// op(A) m×k and op(B) k×n. It calls Dgemm on pieces of at most 64×192 of
// C, which gonum runs serially: the callers already run one record per
// core, and gonum's parallel split would start goroutines per 64×64 block.
func gemm(ta, tb bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	t := func(x bool) blas.Transpose {
		if x {
			return blas.Trans
		}
		return blas.NoTrans
	}
	impl := blas64.Implementation()
	for i0 := 0; i0 < m; i0 += 64 {
		mi := min(64, m-i0)
		var ai []float64
		if ta {
			ai = a[i0:]
		} else {
			ai = a[i0*lda:]
		}
		for j0 := 0; j0 < n; j0 += 192 {
			nj := min(192, n-j0)
			var bj []float64
			if tb {
				bj = b[j0*ldb:]
			} else {
				bj = b[j0:]
			}
			impl.Dgemm(t(ta), t(tb), mi, nj, k, alpha, ai, lda, bj, ldb, beta, c[i0*ldc+j0:], ldc)
		}
	}
}

// layerTape keeps what the backward pass of one adapted layer needs.
type layerTape struct {
	x, xaq, xav, q, k, v, p, ctx       []float64
	xhat1, inv1, y1, dact, xhat2, inv2 []float64 // dact: GELU′ of the FFN pre-activation
}

// Tape records one sequence's forward pass through the adapted layers.
type Tape struct {
	T      int
	layers []layerTape
	last   []float64 // output of the top layer, T×H
	pooled []float64 // before normalisation
	ws     *Workspace
	reused bool // ws belongs to a ForwardWith caller
}

// Forward runs the adapted layers in float64 on one sequence's input x
// (T×H, from Model.HiddenBefore) and returns the pooled vector and the tape
// for Backward.
func (l *LoRA) Forward(x []float64, T int) ([]float64, *Tape, error) {
	ws := l.NewWorkspace(false)
	v, tape, err := l.forward(ws, x, T)
	if err != nil {
		return nil, nil, err
	}
	tape.reused = false
	return v, tape, nil
}

// ForwardWith is Forward with ws's buffers and precision: the returned
// vector and tape live in ws and are valid until the next ForwardWith on
// ws; Backward on the tape uses ws too.
func (l *LoRA) ForwardWith(ws *Workspace, x []float64, T int) ([]float64, *Tape, error) {
	ws.f64.reset()
	ws.f32.reset()
	return l.forward(ws, x, T)
}

func (l *LoRA) forward(ws *Workspace, x []float64, T int) ([]float64, *Tape, error) {
	h := l.m.cfg.HiddenSize
	if T < 1 || len(x) != T*h {
		return nil, nil, fmt.Errorf("bert: LoRA input of %d values for %d tokens of width %d", len(x), T, h)
	}
	tape := &ws.tape
	*tape = Tape{T: T, layers: tape.layers[:0], ws: ws, reused: true}
	cur := x
	for i := range l.layers {
		tape.layers = append(tape.layers, layerTape{})
		lt := &tape.layers[i]
		l.layerForward(ws, i, lt, cur, T)
		cur = l.finishLayer(ws, i, lt, T)
	}
	tape.last = cur
	n := 1
	if l.cfg.Pooling == PoolMean {
		n = T
	}
	pooled := ws.f64.alloc(h)
	for t := range n {
		for j := range pooled {
			pooled[j] += cur[t*h+j]
		}
	}
	for j := range pooled {
		pooled[j] /= float64(n)
	}
	tape.pooled = pooled
	out := ws.f64.alloc(h)
	copy(out, pooled)
	if l.cfg.Normalize {
		if nrm := math.Sqrt(dot(out, out)); nrm > 0 {
			for j := range out {
				out[j] /= nrm
			}
		}
	}
	return out, tape, nil
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func biasRows(dst, b []float64, rows int) {
	for r := range rows {
		copy(dst[r*len(b):(r+1)*len(b)], b)
	}
}

// layerForward computes the attention half of adapted layer i into lt.
func (l *LoRA) layerForward(ws *Workspace, i int, lt *layerTape, x []float64, T int) {
	w := &l.layers[i]
	h, r, nh := l.m.cfg.HiddenSize, l.cfg.Rank, l.m.cfg.NumHeads
	dh := h / nh
	a := &ws.f64
	*lt = layerTape{x: x, xaq: a.alloc(T * r), xav: a.alloc(T * r),
		q: a.alloc(T * h), k: a.alloc(T * h), v: a.alloc(T * h),
		p: a.alloc(nh * T * T), ctx: a.alloc(T * h)}
	gemm(false, true, T, r, h, 1, x, h, w.aq, h, 0, lt.xaq, r)
	gemm(false, true, T, r, h, 1, x, h, w.av, h, 0, lt.xav, r)
	biasRows(lt.q, w.bq, T)
	ws.mulAdd(lt.q, x, T, w.wq, true)
	gemm(false, true, T, h, r, l.scale, lt.xaq, r, l.bq[i], r, 1, lt.q, h)
	biasRows(lt.k, w.bk, T)
	ws.mulAdd(lt.k, x, T, w.wk, true)
	biasRows(lt.v, w.bv, T)
	ws.mulAdd(lt.v, x, T, w.wv, true)
	gemm(false, true, T, h, r, l.scale, lt.xav, r, l.bv[i], r, 1, lt.v, h)
	c := 1 / math.Sqrt(float64(dh))
	for hd := range nh {
		o := hd * dh
		p := lt.p[hd*T*T : (hd+1)*T*T]
		gemm(false, true, T, T, dh, c, lt.q[o:], h, lt.k[o:], h, 0, p, T)
		for row := range T {
			softmax64(p[row*T : (row+1)*T])
		}
		gemm(false, false, T, dh, T, 1, p, T, lt.v[o:], h, 0, lt.ctx[o:], h)
	}
}

// finishLayer computes the rest of adapted layer i (attention output,
// LayerNorm, feed-forward, LayerNorm) and returns the layer output.
func (l *LoRA) finishLayer(ws *Workspace, i int, lt *layerTape, T int) []float64 {
	w := &l.layers[i]
	h, in := l.m.cfg.HiddenSize, l.m.cfg.IntermediateSize
	eps := l.m.cfg.LayerNormEps
	a := &ws.f64
	r1 := a.alloc(T * h)
	biasRows(r1, w.bao, T)
	ws.mulAdd(r1, lt.ctx, T, w.wao, true)
	for j := range r1 {
		r1[j] += lt.x[j]
	}
	lt.y1, lt.xhat1, lt.inv1 = a.alloc(T*h), a.alloc(T*h), a.alloc(T)
	layerNorm64(lt.y1, lt.xhat1, lt.inv1, r1, h, w.g1, w.be1, eps)
	pre := a.alloc(T * in)
	biasRows(pre, w.bi, T)
	ws.mulAdd(pre, lt.y1, T, w.wi, true)
	g := a.alloc(T * in)
	lt.dact = a.alloc(T * in)
	l.activate(g, lt.dact, pre)
	r2 := a.alloc(T * h)
	biasRows(r2, w.bo, T)
	ws.mulAdd(r2, g, T, w.wo, true)
	for j := range r2 {
		r2[j] += lt.y1[j]
	}
	y2 := a.alloc(T * h)
	lt.xhat2, lt.inv2 = a.alloc(T*h), a.alloc(T)
	layerNorm64(y2, lt.xhat2, lt.inv2, r2, h, w.g2, w.be2, eps)
	return y2
}

func softmax64(s []float64) {
	mx := s[0]
	for _, v := range s[1:] {
		mx = max(mx, v)
	}
	var sum float64
	for i, v := range s {
		s[i] = math.Exp(v - mx)
		sum += s[i]
	}
	for i := range s {
		s[i] /= sum
	}
}

// layerNorm64 writes LayerNorm(x) row by row to y, the normalised x̂ to
// xhat and each row's 1/σ to inv.
func layerNorm64(y, xhat, inv, x []float64, h int, gamma, beta []float64, eps float64) {
	rows := len(x) / h
	for r := range rows {
		row := x[r*h : (r+1)*h]
		var mean, vr float64
		for _, v := range row {
			mean += v
		}
		mean /= float64(h)
		for _, v := range row {
			vr += (v - mean) * (v - mean)
		}
		inv[r] = 1 / math.Sqrt(vr/float64(h)+eps)
		for j, v := range row {
			xh := (v - mean) * inv[r]
			xhat[r*h+j] = xh
			y[r*h+j] = xh*gamma[j] + beta[j]
		}
	}
}

// Embed encodes texts through the frozen layers and the adapted ones:
// the vectors a head trained with this adapter sees at prediction time.
func (l *LoRA) Embed(ctx context.Context, tok *Tokenizer, texts []string) ([][]float64, error) {
	ids := make([][]int, len(texts))
	for i, t := range texts {
		ids[i] = tok.Encode(t)
	}
	xs, err := l.m.HiddenBefore(ctx, ids, l.first)
	if err != nil {
		return nil, err
	}
	out := make([][]float64, len(texts))
	for i, x := range xs {
		if out[i], _, err = l.Forward(x, len(ids[i])); err != nil {
			return nil, err
		}
	}
	return out, nil
}
