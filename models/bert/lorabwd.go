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
	// Through the normalisation p = v/|v|: dv = (dp − p·(p·dp))/|v|.
	dv := append([]float64(nil), dPooled...)
	if l.cfg.Normalize {
		if nrm := math.Sqrt(dot(tape.pooled, tape.pooled)); nrm > 0 {
			pd := dot(tape.pooled, dPooled) / nrm
			for j := range dv {
				dv[j] = (dPooled[j] - tape.pooled[j]/nrm*pd) / nrm
			}
		}
	}
	// Through the pooling.
	dy := make([]float64, T*h)
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
		dy = l.layerBackward(i, &tape.layers[i], T, dy, dst[2*i*k:(2*i+1)*k], dst[(2*i+1)*k:(2*i+2)*k], i > 0)
	}
	return nil
}

// layerBackward back-propagates dY (T×H) through adapted layer i, writes
// ∂/∂Bq and ∂/∂Bv, and returns ∂/∂(layer input) when needInput.
func (l *LoRA) layerBackward(i int, lt *layerTape, T int, dY, dBq, dBv []float64, needInput bool) []float64 {
	w := &l.layers[i]
	h, in, r, nh := l.m.cfg.HiddenSize, l.m.cfg.IntermediateSize, l.cfg.Rank, l.m.cfg.NumHeads
	dh := h / nh
	// Output LayerNorm and feed-forward.
	dR2 := layerNormBack(lt.xhat2, lt.inv2, w.g2, dY, h)
	dG := make([]float64, T*in)
	gemm(false, false, T, in, h, 1, dR2, h, w.wo, in, 0, dG, in)
	for j, v := range lt.pre {
		dG[j] *= l.geluGrad(v)
	}
	dY1 := dR2
	gemm(false, false, T, h, in, 1, dG, in, w.wi, h, 1, dY1, h)
	// Attention LayerNorm and output projection.
	dR1 := layerNormBack(lt.xhat1, lt.inv1, w.g1, dY1, h)
	dC := make([]float64, T*h)
	gemm(false, false, T, h, h, 1, dR1, h, w.wao, h, 0, dC, h)
	// Attention heads.
	dq, dk, dvv := make([]float64, T*h), make([]float64, T*h), make([]float64, T*h)
	dP := make([]float64, T*T)
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
		gemm(true, false, T, dh, T, c, dP, T, lt.q[o:], h, 0, dk[o:], h)
	}
	// LoRA gradients: Q = … + s·(X·Aqᵀ)·Bqᵀ, so ∂/∂Bq = s·dQᵀ·(X·Aqᵀ).
	gemm(true, false, h, r, T, l.scale, dq, h, lt.xaq, r, 0, dBq, r)
	gemm(true, false, h, r, T, l.scale, dvv, h, lt.xav, r, 0, dBv, r)
	if !needInput {
		return nil
	}
	dX := dR1 // residual
	tmp := make([]float64, T*r)
	for _, pr := range []struct{ d, wt, b, a []float64 }{{dq, w.wq, l.bq[i], w.aq}, {dvv, w.wv, l.bv[i], w.av}} {
		gemm(false, false, T, h, h, 1, pr.d, h, pr.wt, h, 1, dX, h)
		gemm(false, false, T, r, h, 1, pr.d, h, pr.b, r, 0, tmp, r)
		gemm(false, false, T, h, r, l.scale, tmp, r, pr.a, h, 1, dX, h)
	}
	gemm(false, false, T, h, h, 1, dk, h, w.wk, h, 1, dX, h)
	return dX
}

// layerNormBack returns ∂/∂x of y = γ⊙x̂ + β given dy, row by row:
// dx = (1/σ)·(dx̂ − mean(dx̂) − x̂·mean(dx̂⊙x̂)) with dx̂ = dy⊙γ.
func layerNormBack(xhat, inv, gamma, dy []float64, h int) []float64 {
	dx := make([]float64, len(dy))
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
	return dx
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
