package bert

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// gemm is C = alpha·op(A)·op(B) + beta·C on row-major float64 slices, with
// op(A) m×k and op(B) k×n.
func gemm(ta, tb bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	t := func(x bool) blas.Transpose {
		if x {
			return blas.Trans
		}
		return blas.NoTrans
	}
	blas64.Implementation().Dgemm(t(ta), t(tb), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// layerTape keeps what the backward pass of one adapted layer needs.
type layerTape struct {
	x, xaq, xav, q, k, v, p, ctx      []float64
	xhat1, inv1, y1, pre, xhat2, inv2 []float64
}

// Tape records one sequence's forward pass through the adapted layers.
type Tape struct {
	T      int
	layers []layerTape
	last   []float64 // output of the top layer, T×H
	pooled []float64 // before normalisation
}

// Forward runs the adapted layers in float64 on one sequence's input x
// (T×H, from Model.HiddenBefore) and returns the pooled vector and the tape
// for Backward.
func (l *LoRA) Forward(x []float64, T int) ([]float64, *Tape, error) {
	h := l.m.cfg.HiddenSize
	if T < 1 || len(x) != T*h {
		return nil, nil, fmt.Errorf("bert: LoRA input of %d values for %d tokens of width %d", len(x), T, h)
	}
	tape := &Tape{T: T}
	cur := x
	for i := range l.layers {
		lt := l.layerForward(i, cur, T)
		tape.layers = append(tape.layers, lt)
		cur = l.finishLayer(i, &tape.layers[i], T)
	}
	tape.last = cur
	n := 1
	if l.cfg.Pooling == PoolMean {
		n = T
	}
	pooled := make([]float64, h)
	for t := range n {
		for j := range pooled {
			pooled[j] += cur[t*h+j]
		}
	}
	for j := range pooled {
		pooled[j] /= float64(n)
	}
	tape.pooled = pooled
	out := append([]float64(nil), pooled...)
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

// layerForward computes the attention half of adapted layer i.
func (l *LoRA) layerForward(i int, x []float64, T int) layerTape {
	w := &l.layers[i]
	h, r, nh := l.m.cfg.HiddenSize, l.cfg.Rank, l.m.cfg.NumHeads
	dh := h / nh
	lt := layerTape{x: x, xaq: make([]float64, T*r), xav: make([]float64, T*r),
		q: make([]float64, T*h), k: make([]float64, T*h), v: make([]float64, T*h),
		p: make([]float64, nh*T*T), ctx: make([]float64, T*h)}
	gemm(false, true, T, r, h, 1, x, h, w.aq, h, 0, lt.xaq, r)
	gemm(false, true, T, r, h, 1, x, h, w.av, h, 0, lt.xav, r)
	biasRows(lt.q, w.bq, T)
	gemm(false, true, T, h, h, 1, x, h, w.wq, h, 1, lt.q, h)
	gemm(false, true, T, h, r, l.scale, lt.xaq, r, l.bq[i], r, 1, lt.q, h)
	biasRows(lt.k, w.bk, T)
	gemm(false, true, T, h, h, 1, x, h, w.wk, h, 1, lt.k, h)
	biasRows(lt.v, w.bv, T)
	gemm(false, true, T, h, h, 1, x, h, w.wv, h, 1, lt.v, h)
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
	return lt
}

// finishLayer computes the rest of adapted layer i (attention output,
// LayerNorm, feed-forward, LayerNorm) and returns the layer output.
func (l *LoRA) finishLayer(i int, lt *layerTape, T int) []float64 {
	w := &l.layers[i]
	h, in := l.m.cfg.HiddenSize, l.m.cfg.IntermediateSize
	eps := l.m.cfg.LayerNormEps
	r1 := make([]float64, T*h)
	biasRows(r1, w.bao, T)
	gemm(false, true, T, h, h, 1, lt.ctx, h, w.wao, h, 1, r1, h)
	for j := range r1 {
		r1[j] += lt.x[j]
	}
	lt.y1, lt.xhat1, lt.inv1 = layerNorm64(r1, h, w.g1, w.be1, eps)
	lt.pre = make([]float64, T*in)
	biasRows(lt.pre, w.bi, T)
	gemm(false, true, T, in, h, 1, lt.y1, h, w.wi, h, 1, lt.pre, in)
	g := make([]float64, T*in)
	for j, v := range lt.pre {
		g[j] = l.m.act(v)
	}
	r2 := make([]float64, T*h)
	biasRows(r2, w.bo, T)
	gemm(false, true, T, h, in, 1, g, in, w.wo, in, 1, r2, h)
	for j := range r2 {
		r2[j] += lt.y1[j]
	}
	var y2 []float64
	y2, lt.xhat2, lt.inv2 = layerNorm64(r2, h, w.g2, w.be2, eps)
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

// layerNorm64 returns LayerNorm(x) row by row, the normalised x̂ and each
// row's 1/σ.
func layerNorm64(x []float64, h int, gamma, beta []float64, eps float64) (y, xhat, inv []float64) {
	rows := len(x) / h
	y, xhat, inv = make([]float64, len(x)), make([]float64, len(x)), make([]float64, rows)
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
	return y, xhat, inv
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
