package bert

import "math"

// erfSmall approximates erf for |x| < 3/√2 by the odd rational function
// x·P(x²)/Q(x²) of Eigen's fast float erf (its coefficients, evaluated in
// float64): absolute error below 7e-8 there (TestGeluErfRows), without the
// branches and exponentials of math.Erf.
func erfSmall(x float64) float64 {
	x2 := x * x
	p := -2.72614225801306e-10
	p = p*x2 + 2.77068142495902e-08
	p = p*x2 - 2.10102402082508e-06
	p = p*x2 - 5.69250639462346e-05
	p = p*x2 - 7.34990630326855e-04
	p = p*x2 - 2.95459980854025e-03
	p = p*x2 - 1.60960333262415e-02
	q := -1.45660718464996e-05
	q = q*x2 - 2.13374055278905e-04
	q = q*x2 - 1.68282697438203e-03
	q = q*x2 - 7.37332916720468e-03
	q = q*x2 - 1.42647390514189e-02
	return x * p / q
}

// geluErfRows applies exact-form GELU, x/2·(1 + erf(x/√2)), in place: for
// |x| < 3 with erfSmall (GELU off by at most about 1e-7, one float32
// rounding step of the result), elsewhere with math.Erf. It is the fast
// path's GELU; geluErf stays the reference.
func geluErfRows(s []float32) {
	for i, v := range s {
		x := float64(v)
		if x >= 3 || x <= -3 || x != x {
			s[i] = float32(geluErf(x))
			continue
		}
		s[i] = float32(0.5 * x * (1 + erfSmall(x*(1/math.Sqrt2))))
	}
}
