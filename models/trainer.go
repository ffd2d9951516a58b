package models

import "math"

// trainer holds every buffer a training step needs, allocated once, so the
// per-example loop does not allocate.
//
// Per example with features f, label y, probabilities p and g = p − e_y,
// s = Alpha/Rank and u = x·Aᵀ:
//
//	∂hb = g,  ∂B = s·g·uᵀ,  ∂A = s·(Bᵀg)·xᵀ (TrainA only)
//	‖∂‖² = ‖g‖²·(1 + s²‖u‖²) + s²‖Bᵀg‖²‖x‖²
//
// The norm is computed from these factors without materialising the
// gradient, and factor·∂ is added to the running sum directly: clipping
// costs O(Rank + Classes) extra per example.
type trainer struct {
	c      *Classifier
	sum    []float64 // gradient sum, Params order
	mom    []float64 // momentum buffer, Params order
	z, u   []float64 // logits/probabilities, u = x·Aᵀ (TrainA)
	v      []float64 // Bᵀg (TrainA)
	batch  []int
	params [][]float64
}

func newTrainer(c *Classifier) *trainer {
	n := c.NumParams()
	return &trainer{
		c:      c,
		sum:    make([]float64, n),
		mom:    make([]float64, n),
		z:      make([]float64, c.cfg.Classes),
		u:      make([]float64, c.cfg.Rank),
		v:      make([]float64, c.cfg.Rank),
		batch:  make([]int, 0, 64),
		params: c.trainable(),
	}
}

// accumulate sets t.sum to Σ factor_i·∂_i over the batch, with
// factor_i = min(1, clip/(‖∂_i‖+1e-12)) if clip > 0 and 1 otherwise, and
// returns the summed loss and the number of clipped examples. An example
// whose gradient norm is not finite contributes nothing.
func (t *trainer) accumulate(f [][]float64, y []int, batch []int, clip float64) (lossSum float64, clipped int) {
	c := t.c
	r, din := c.cfg.Rank, c.cfg.InputDim
	s := c.scale
	clear(t.sum)
	off := 0
	var sumA []float64
	if c.cfg.TrainA {
		sumA = t.sum[:r*din]
		off = r * din
	}
	sumB := t.sum[off : off+len(c.b)]
	sumHB := t.sum[off+len(c.b):]
	z := t.z
	for _, i := range batch {
		x := f[i]
		c.logits(z, x, t.u)
		zy := z[y[i]]
		lossSum += softmaxInPlace(z) - zy
		z[y[i]] -= 1
		proj := x[:r]
		if c.cfg.TrainA {
			proj = t.u
		}
		gg := sumSq(z)
		norm2 := gg * (1 + s*s*sumSq(proj))
		if c.cfg.TrainA {
			for k := range t.v {
				var acc float64
				for o, g := range z {
					acc += c.b[o*r+k] * g
				}
				t.v[k] = acc
			}
			norm2 += s * s * sumSq(t.v) * sumSq(x)
		}
		factor := 1.0
		if clip > 0 {
			norm := math.Sqrt(norm2)
			if math.IsNaN(norm) || math.IsInf(norm, 0) {
				continue
			}
			if norm > clip {
				clipped++
			}
			factor = math.Min(1, clip/(norm+clipEpsilon))
		}
		for o, g := range z {
			fg := factor * g
			sumHB[o] += fg
			axpy(sumB[o*r:(o+1)*r], fg*s, proj)
		}
		if c.cfg.TrainA {
			for k, vk := range t.v {
				axpy(sumA[k*din:(k+1)*din], factor*s*vk, x)
			}
		}
	}
	return lossSum, clipped
}

// apply takes one SGD step with gradient t.sum/denom:
// m ← μ·m + sum/denom; θ ← θ − lr·m.
func (t *trainer) apply(denom, lr, mu float64) {
	if denom <= 0 {
		return
	}
	inv := 1 / denom
	off := 0
	for _, p := range t.params {
		g := t.sum[off : off+len(p)]
		m := t.mom[off : off+len(p)]
		for i := range p {
			m[i] = mu*m[i] + g[i]*inv
			p[i] -= lr * m[i]
		}
		off += len(p)
	}
}

func sumSq(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return s
}

// axpy sets dst += a·x.
func axpy(dst []float64, a float64, x []float64) {
	x = x[:len(dst)]
	for i := range dst {
		dst[i] += a * x[i]
	}
}
