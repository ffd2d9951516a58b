package models

import (
	"fmt"
	"math"
)

// FeatureDim is the length of the rows Project returns and Train, Scores,
// Predict and Evaluate take: with frozen A, Rank (u = x·Aᵀ) followed by
// Classes entries of x·W0ᵀ if a base head is set; with TrainA, InputDim (the
// raw inputs, since A changes during training).
func (c *Classifier) FeatureDim() int {
	if c.cfg.TrainA {
		return c.cfg.InputDim
	}
	if c.w0 != nil {
		return c.cfg.Rank + c.cfg.Classes
	}
	return c.cfg.Rank
}

// Project turns encoder outputs (rows of length InputDim) into the cached
// features that training and prediction work on, so that a training step
// costs O(Rank·Classes) per example instead of O(Rank·InputDim). With
// TrainA the rows of x are returned as they are (aliased, not copied).
// Projections depend on A and W0: recompute them after SetTensor on either.
func (c *Classifier) Project(x [][]float64) ([][]float64, error) {
	for i, row := range x {
		if len(row) != c.cfg.InputDim {
			return nil, fmt.Errorf("models: input row %d has length %d, want %d", i, len(row), c.cfg.InputDim)
		}
	}
	if c.cfg.TrainA {
		return x, nil
	}
	fd := c.FeatureDim()
	flat := make([]float64, len(x)*fd)
	out := make([][]float64, len(x))
	var nz []int
	for i, row := range x {
		f := flat[i*fd : (i+1)*fd : (i+1)*fd]
		nz = c.project(f, row, nz)
		out[i] = f
	}
	return out, nil
}

// project writes x·Aᵀ (and x·W0ᵀ if set) into f, using the non-zero
// entries of x (hashed inputs are sparse). nz is scratch space.
func (c *Classifier) project(f, x []float64, nz []int) []int {
	nz = nz[:0]
	for j, v := range x {
		if v != 0 {
			nz = append(nz, j)
		}
	}
	din, r := c.cfg.InputDim, c.cfg.Rank
	// u = Σ_{j∈nz} x[j]·Aᵀ[j,:]: contiguous rows of Aᵀ.
	u := f[:r]
	clear(u)
	for _, j := range nz {
		axpy(u, x[j], c.aT[j*r:(j+1)*r])
	}
	if c.w0 != nil && len(f) > c.cfg.Rank {
		matVecSparse(f[c.cfg.Rank:], c.w0, din, x, nz)
	}
	return nz
}

// matVecSparse sets dst[k] = Σ_{j∈nz} m[k·cols+j]·x[j].
func matVecSparse(dst, m []float64, cols int, x []float64, nz []int) {
	for k := range dst {
		row := m[k*cols : (k+1)*cols]
		var s float64
		for _, j := range nz {
			s += row[j] * x[j]
		}
		dst[k] = s
	}
}

// logits writes the logits of one feature row into z. For TrainA, u
// (length Rank) receives x·Aᵀ; otherwise u is unused.
func (c *Classifier) logits(z, f, u []float64) {
	r := c.cfg.Rank
	var proj []float64
	copy(z, c.b0)
	if c.cfg.TrainA {
		din := c.cfg.InputDim
		for k := 0; k < r; k++ {
			u[k] = dotDense(c.a[k*din:(k+1)*din], f)
		}
		proj = u
		if c.w0 != nil {
			for o := range z {
				z[o] += dotDense(c.w0[o*din:(o+1)*din], f)
			}
		}
	} else {
		proj = f[:r]
		if len(f) > r {
			for o := range z {
				z[o] += f[r+o]
			}
		}
	}
	for o := range z {
		z[o] += c.hb[o] + c.scale*dotDense(c.b[o*r:(o+1)*r], proj)
	}
}

func dotDense(a, b []float64) float64 {
	b = b[:len(a)]
	var s float64
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

// softmaxInPlace replaces z by softmax(z) and returns log Σ exp(z) (the
// log-partition), computed stably.
func softmaxInPlace(z []float64) float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, v)
	}
	var s float64
	for i, v := range z {
		e := math.Exp(v - m)
		z[i] = e
		s += e
	}
	inv := 1 / s
	for i := range z {
		z[i] *= inv
	}
	return m + math.Log(s)
}

func (c *Classifier) checkFeatures(f [][]float64) error {
	fd := c.FeatureDim()
	for i, row := range f {
		if len(row) != fd {
			return fmt.Errorf("models: feature row %d has length %d, want %d (use Project)", i, len(row), fd)
		}
	}
	return nil
}

// Scores returns, for each feature row, the class probabilities
// softmax(logits).
func (c *Classifier) Scores(f [][]float64) ([][]float64, error) {
	if err := c.checkFeatures(f); err != nil {
		return nil, err
	}
	out := make([][]float64, len(f))
	u := make([]float64, c.cfg.Rank)
	for i, row := range f {
		z := make([]float64, c.cfg.Classes)
		c.logits(z, row, u)
		softmaxInPlace(z)
		out[i] = z
	}
	return out, nil
}

// Logits returns, for each feature row, the class logits (Scores before
// the softmax): out-of-scope scores such as the energy log Σ exp(logits)
// need them, since probabilities lose their scale.
func (c *Classifier) Logits(f [][]float64) ([][]float64, error) {
	if err := c.checkFeatures(f); err != nil {
		return nil, err
	}
	out := make([][]float64, len(f))
	u := make([]float64, c.cfg.Rank)
	for i, row := range f {
		z := make([]float64, c.cfg.Classes)
		c.logits(z, row, u)
		out[i] = z
	}
	return out, nil
}

// Predict returns the most likely class (lowest index on ties) of each
// feature row.
func (c *Classifier) Predict(f [][]float64) ([]int, error) {
	if err := c.checkFeatures(f); err != nil {
		return nil, err
	}
	out := make([]int, len(f))
	z := make([]float64, c.cfg.Classes)
	u := make([]float64, c.cfg.Rank)
	for i, row := range f {
		c.logits(z, row, u)
		out[i] = argmax(z)
	}
	return out, nil
}

func argmax(z []float64) int {
	best := 0
	for i, v := range z {
		if v > z[best] {
			best = i
		}
	}
	return best
}

// PerExampleGradient writes into dst (length NumParams, Params order) the
// gradient of the softmax cross-entropy loss of one feature row f with
// label y, and returns the loss. It materialises the gradient, so it is
// meant for tests and inspection; training uses the fused path.
func (c *Classifier) PerExampleGradient(dst, f []float64, y int) (float64, error) {
	if len(dst) != c.NumParams() {
		return 0, fmt.Errorf("models: gradient buffer has length %d, want %d", len(dst), c.NumParams())
	}
	if err := c.checkFeatures([][]float64{f}); err != nil {
		return 0, err
	}
	if y < 0 || y >= c.cfg.Classes {
		return 0, fmt.Errorf("models: label %d out of range [0, %d)", y, c.cfg.Classes)
	}
	r, dout, din := c.cfg.Rank, c.cfg.Classes, c.cfg.InputDim
	z := make([]float64, dout)
	u := make([]float64, r)
	c.logits(z, f, u)
	zy := z[y]
	loss := softmaxInPlace(z) - zy // log Σ exp(z) − z_y; z now holds p
	z[y] -= 1                      // g = p - e_y
	proj := u
	if !c.cfg.TrainA {
		proj = f[:r]
	}
	off := 0
	if c.cfg.TrainA {
		// dA[k][j] = s·(Bᵀg)[k]·x[j]
		for k := 0; k < r; k++ {
			var v float64
			for o := 0; o < dout; o++ {
				v += c.b[o*r+k] * z[o]
			}
			for j := 0; j < din; j++ {
				dst[k*din+j] = c.scale * v * f[j]
			}
		}
		off = r * din
	}
	for o := 0; o < dout; o++ {
		for k := 0; k < r; k++ {
			dst[off+o*r+k] = c.scale * z[o] * proj[k]
		}
	}
	copy(dst[off+dout*r:], z)
	return loss, nil
}
