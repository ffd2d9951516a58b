package models

import (
	"errors"
	"math"
)

// lbfgsMemory is the number of correction pairs L-BFGS keeps.
const lbfgsMemory = 10

// lbfgs minimises the smooth function fg (it returns f(x) and writes ∇f(x)
// into g) from x0 by limited-memory BFGS (Nocedal & Wright, algorithm 7.4)
// with a backtracking Armijo line search, for at most maxIter iterations
// or until ‖∇f‖∞ ≤ 1e-7 or the objective stalls. It returns the last
// accepted iterate; an error only if the objective is not finite at x0.
// (gonum's optimize would pull golang.org/x/tools into the module graph
// for its CMA-ES; this is all FitLinear needs.)
func lbfgs(fg func(x, g []float64) float64, x0 []float64, maxIter int) ([]float64, error) {
	n := len(x0)
	x := append([]float64(nil), x0...)
	g := make([]float64, n)
	f := fg(x, g)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errors.New("objective not finite at the starting point")
	}
	var s, y [][]float64
	var rho []float64
	d := make([]float64, n)
	xn := make([]float64, n)
	gn := make([]float64, n)
	alpha := make([]float64, lbfgsMemory)
	stall := 0
	for it := 0; it < maxIter; it++ {
		if maxAbs(g) <= 1e-7 {
			break
		}
		// d = −H·g by the two-loop recursion.
		for i := range d {
			d[i] = -g[i]
		}
		for i := len(s) - 1; i >= 0; i-- {
			alpha[i] = rho[i] * dotDense(s[i], d)
			axpy(d, -alpha[i], y[i])
		}
		if m := len(s); m > 0 {
			gamma := dotDense(s[m-1], y[m-1]) / dotDense(y[m-1], y[m-1])
			for i := range d {
				d[i] *= gamma
			}
		}
		for i := range s {
			b := rho[i] * dotDense(y[i], d)
			axpy(d, alpha[i]-b, s[i])
		}
		slope := dotDense(g, d)
		if !(slope < 0) { // not a descent direction: restart from steepest descent
			s, y, rho = nil, nil, nil
			for i := range d {
				d[i] = -g[i]
			}
			slope = -dotDense(g, g)
		}
		step := 1.0
		if len(s) == 0 {
			step = 1 / math.Max(1, math.Sqrt(-slope))
		}
		var fn float64
		accepted := false
		for ls := 0; ls < 40; ls++ {
			for i := range xn {
				xn[i] = x[i] + step*d[i]
			}
			fn = fg(xn, gn)
			if fn <= f+1e-4*step*slope { // Armijo; NaN fails the test
				accepted = true
				break
			}
			step /= 2
		}
		if !accepted {
			break
		}
		si := make([]float64, n)
		yi := make([]float64, n)
		for i := range si {
			si[i] = xn[i] - x[i]
			yi[i] = gn[i] - g[i]
		}
		if sy := dotDense(si, yi); sy > 1e-12 {
			if len(s) == lbfgsMemory {
				s, y, rho = s[1:], y[1:], rho[1:]
			}
			s, y, rho = append(s, si), append(y, yi), append(rho, 1/sy)
		}
		if f-fn <= 1e-12*math.Max(1, math.Abs(f)) {
			stall++
		} else {
			stall = 0
		}
		copy(x, xn)
		copy(g, gn)
		f = fn
		if stall >= 10 {
			break
		}
	}
	return x, nil
}

func maxAbs(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}
