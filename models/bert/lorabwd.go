package bert

import (
	"fmt"
	"math"
)

// Backward computes one example's gradient of a loss with respect to the
// trainable LoRA parameters, given dPooled = ∂loss/∂(the vector Forward
// returned), and writes it to dst (NumParams values, the Params layout).
// Gradients flow through the adapted layers only; the frozen layers below
// get none. One call per example gives the per-example gradients that
// DP-SGD clips.
func (l *LoRA) Backward(dst []float64, tape *Tape, dPooled []float64) error {
	h := l.m.cfg.HiddenSize
	if len(dst) != l.NumParams() || len(dPooled) != h || tape == nil || len(tape.layers) != len(l.layers) {
		return fmt.Errorf("bert: LoRA backward: %d destination values (want %d), %d upstream (want %d)",
			len(dst), l.NumParams(), len(dPooled), h)
	}
	T := tape.T
	// Scratch comes from the tape's workspace when a ForwardWith caller
	// owns it; a tape from Forward may be shared, so it gets its own.
	ws := tape.ws
	if !tape.reused {
		ws = l.NewWorkspace(ws.mixed)
	}
	a := &ws.f64
	// Through the normalisation p = v/|v|: dv = (dp − p·(p·dp))/|v|.
	dv := a.alloc(h)
	copy(dv, dPooled)
	if l.cfg.Normalize {
		if nrm := math.Sqrt(dot(tape.pooled, tape.pooled)); nrm > 0 {
			pd := dot(tape.pooled, dPooled) / nrm
			for j := range dv {
				dv[j] = (dPooled[j] - tape.pooled[j]/nrm*pd) / nrm
			}
		}
	}
	// Through the pooling.
	dy := a.alloc(T * h)
	n := 1
	if l.cfg.Pooling == PoolMean {
		n = T
	}
	for t := range n {
		for j := range dv {
			dy[t*h+j] = dv[j] / float64(n)
		}
	}
	k := h * l.cfg.Rank
	for i := len(l.layers) - 1; i >= 0; i-- {
		dy = l.layerBackward(ws, i, &tape.layers[i], T, dy, dst[2*i*k:(2*i+1)*k], dst[(2*i+1)*k:(2*i+2)*k], i > 0)
	}
	return nil
}

// layerBackward back-propagates dY (T×H) through adapted layer i, writes
// ∂/∂Bq and ∂/∂Bv, and returns ∂/∂(layer input) when needInput. Without
// needInput (the lowest adapted layer) it skips what only the input
// gradient uses: ∂/∂K and the products with Wq, Wk, Wv and the A's.
func (l *LoRA) layerBackward(ws *Workspace, i int, lt *layerTape, T int, dY, dBq, dBv []float64, needInput bool) []float64 {
	w := &l.layers[i]
	h, in, r, nh := l.m.cfg.HiddenSize, l.m.cfg.IntermediateSize, l.cfg.Rank, l.m.cfg.NumHeads
	dh := h / nh
	a := &ws.f64
	// Output LayerNorm and feed-forward.
	dR2 := a.alloc(T * h)
	layerNormBack(dR2, lt.xhat2, lt.inv2, w.g2, dY, h)
	dG := a.alloc(T * in)
	ws.mulAdd(dG, dR2, T, w.wo, false)
	for j, d := range lt.dact {
		dG[j] *= d
	}
	dY1 := dR2
	ws.mulAdd(dY1, dG, T, w.wi, false)
	// Attention LayerNorm and output projection.
	dR1 := a.alloc(T * h)
	layerNormBack(dR1, lt.xhat1, lt.inv1, w.g1, dY1, h)
	dC := a.alloc(T * h)
	ws.mulAdd(dC, dR1, T, w.wao, false)
	// Attention heads.
	dq, dvv := a.alloc(T*h), a.alloc(T*h)
	var dk []float64
	if needInput {
		dk = a.alloc(T * h)
	}
	dP := a.alloc(T * T)
	c := 1 / math.Sqrt(float64(dh))
	for hd := range nh {
		o := hd * dh
		p := lt.p[hd*T*T : (hd+1)*T*T]
		gemm(false, true, T, T, dh, 1, dC[o:], h, lt.v[o:], h, 0, dP, T)
		gemm(true, false, T, dh, T, 1, p, T, dC[o:], h, 0, dvv[o:], h)
		for row := range T {
			pr, dr := p[row*T:(row+1)*T], dP[row*T:(row+1)*T]
			s := dot(pr, dr)
			for j := range dr {
				dr[j] = pr[j] * (dr[j] - s)
			}
		}
		gemm(false, false, T, dh, T, c, dP, T, lt.k[o:], h, 0, dq[o:], h)
		if needInput {
			gemm(true, false, T, dh, T, c, dP, T, lt.q[o:], h, 0, dk[o:], h)
		}
	}
	// LoRA gradients: Q = … + s·(X·Aqᵀ)·Bqᵀ, so ∂/∂Bq = s·dQᵀ·(X·Aqᵀ).
	gemm(true, false, h, r, T, l.scale, dq, h, lt.xaq, r, 0, dBq, r)
	gemm(true, false, h, r, T, l.scale, dvv, h, lt.xav, r, 0, dBv, r)
	if !needInput {
		return nil
	}
	dX := dR1 // residual
	tmp := a.alloc(T * r)
	for _, pr := range []struct {
		d  []float64
		wt frozen
		b  []float64
		a  []float64
	}{{dq, w.wq, l.bq[i], w.aq}, {dvv, w.wv, l.bv[i], w.av}} {
		ws.mulAdd(dX, pr.d, T, pr.wt, false)
		gemm(false, false, T, r, h, 1, pr.d, h, pr.b, r, 0, tmp, r)
		gemm(false, false, T, h, r, l.scale, tmp, r, pr.a, h, 1, dX, h)
	}
	ws.mulAdd(dX, dk, T, w.wk, false)
	return dX
}

// layerNormBack writes to dx ∂/∂x of y = γ⊙x̂ + β given dy, row by row:
// dx = (1/σ)·(dx̂ − mean(dx̂) − x̂·mean(dx̂⊙x̂)) with dx̂ = dy⊙γ. dx may not
// alias dy.
func layerNormBack(dx, xhat, inv, gamma, dy []float64, h int) {
	for r := range inv {
		var m1, m2 float64
		for j := range h {
			g := dy[r*h+j] * gamma[j]
			m1 += g
			m2 += g * xhat[r*h+j]
		}
		m1 /= float64(h)
		m2 /= float64(h)
		for j := range h {
			dx[r*h+j] = inv[r] * (dy[r*h+j]*gamma[j] - m1 - xhat[r*h+j]*m2)
		}
	}
}

// activate sets g = GELU(pre) (the model's activation, bit for bit) and
// d = GELU′(pre); the exact form shares one erf between the two.
func (l *LoRA) activate(g, d, pre []float64) {
	if l.m.cfg.HiddenAct == "gelu" {
		for j, x := range pre {
			e := 1 + math.Erf(x/math.Sqrt2)
			g[j] = 0.5 * x * e
			d[j] = 0.5*e + x*math.Exp(-x*x/2)/math.Sqrt(2*math.Pi)
		}
		return
	}
	for j, x := range pre {
		g[j] = l.m.act(x)
		d[j] = l.geluGrad(x)
	}
}

// geluGrad is the derivative of the model's activation.
func (l *LoRA) geluGrad(x float64) float64 {
	if l.m.cfg.HiddenAct == "gelu" {
		return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-x*x/2)/math.Sqrt(2*math.Pi)
	}
	k := math.Sqrt(2 / math.Pi)
	u := k * (x + 0.044715*x*x*x)
	t := math.Tanh(u)
	return 0.5*(1+t) + 0.5*x*(1-t*t)*k*(1+3*0.044715*x*x)
}
