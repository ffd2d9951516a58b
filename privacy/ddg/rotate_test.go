package ddg

import (
	"math"
	"testing"
)

func TestPaddedDim(t *testing.T) {
	for _, c := range [][2]int{{1, 1}, {2, 2}, {3, 4}, {4, 4}, {5, 8}, {5140, 8192}, {8192, 8192}, {8193, 16384}} {
		if got := PaddedDim(c[0]); got != c[1] {
			t.Errorf("PaddedDim(%d) = %d, want %d", c[0], got, c[1])
		}
	}
}

func TestRotateInverse(t *testing.T) {
	r := testRand(t, 7)
	for _, d := range []int{1, 2, 3, 7, 64, 1000} {
		var seed RoundSeed
		seed[0] = byte(d)
		x := make([]float64, d)
		for i := range x {
			x[i] = r.NormFloat64() * 10
		}
		y := make([]float64, PaddedDim(d))
		Rotate(y, x, seed)
		if nx, ny := norm(x), norm(y); math.Abs(nx-ny) > 1e-12*nx {
			t.Errorf("d=%d: ‖Rx‖ = %v, ‖x‖ = %v", d, ny, nx)
		}
		back := make([]float64, d)
		Unrotate(back, y, seed)
		for i := range x {
			if math.Abs(back[i]-x[i]) > 1e-12*(1+math.Abs(x[i])) {
				t.Fatalf("d=%d: coordinate %d: %v after round trip, want %v", d, i, back[i], x[i])
			}
		}
		// A different seed must not invert it.
		seed[1] = 1
		Unrotate(back, y, seed)
		diff := 0.0
		for i := range x {
			diff += math.Abs(back[i] - x[i])
		}
		if d > 1 && diff < 1e-6 {
			t.Errorf("d=%d: wrong seed inverted the rotation", d)
		}
	}
}

// TestRotateOrthogonal checks RᵀR = I on the standard basis (D = 16).
func TestRotateOrthogonal(t *testing.T) {
	const d = 16
	var seed RoundSeed
	seed[3] = 9
	cols := make([][]float64, d)
	for j := range cols {
		e := make([]float64, d)
		e[j] = 1
		cols[j] = make([]float64, d)
		Rotate(cols[j], e, seed)
	}
	for i := range cols {
		for j := range cols {
			dot := 0.0
			for k := range cols[i] {
				dot += cols[i][k] * cols[j][k]
			}
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(dot-want) > 1e-14 {
				t.Fatalf("column %d · column %d = %v, want %v", i, j, dot, want)
			}
		}
		// every entry is ±1/√D: the rotation spreads mass evenly
		for _, v := range cols[i] {
			if math.Abs(math.Abs(v)-0.25) > 1e-15 {
				t.Fatalf("entry %v, want ±1/4", v)
			}
		}
	}
}

func norm(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}
