package bert

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The assembly kernel's product against a naive float64 one, with ragged
// rows and columns, several k blocks and strides wider than the matrices.
func TestSgemmNN(t *testing.T) {
	if !haveKernel {
		t.Skip("no AVX2/FMA kernel on this machine")
	}
	rng := rand.New(rand.NewPCG(3, 3))
	for _, c := range []struct{ T, n, k, pad int }{{32, 512, 2048, 0}, {7, 37, 300, 3}, {4, 16, 1, 0}, {3, 15, 5, 1}, {64, 48, 513, 2}} {
		ldx, ldw, ldc := c.k+c.pad, c.n+c.pad, c.n+2*c.pad
		x, w, got := make([]float32, c.T*ldx), make([]float32, c.k*ldw), make([]float32, c.T*ldc)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		for i := range w {
			w[i] = float32(rng.NormFloat64())
		}
		for i := range got {
			got[i] = float32(rng.NormFloat64())
		}
		want := make([]float64, len(got))
		for i, v := range got {
			want[i] = float64(v)
		}
		for i := range c.T {
			for j := range c.n {
				for l := range c.k {
					want[i*ldc+j] += float64(x[i*ldx+l]) * float64(w[l*ldw+j])
				}
			}
		}
		sgemmNN(c.T, c.n, c.k, x, ldx, w, ldw, got, ldc)
		for i := range got {
			if d := math.Abs(float64(got[i]) - want[i]); d > 1e-5*math.Sqrt(float64(c.k))*max(1, math.Abs(want[i])) {
				t.Fatalf("%+v: element %d = %g, want %g", c, i, got[i], want[i])
			}
		}
	}
}
