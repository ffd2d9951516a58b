package bert

import (
	"math"
	"testing"
)

// The fast GELU against geluErf (math.Erf) on a fine grid across both
// branches, and on the values where the branch changes; NaN stays NaN.
func TestGeluErfRows(t *testing.T) {
	var xs []float32
	for i := -80000; i <= 80000; i++ {
		xs = append(xs, float32(i)*1e-4)
	}
	xs = append(xs, 3, -3, math.Nextafter32(3, 0), math.Nextafter32(-3, 0), 1e-30, -1e-30, 0, 50, -50)
	got := append([]float32(nil), xs...)
	geluErfRows(got)
	var worst float64
	for i, x := range xs {
		want := geluErf(float64(x))
		d := math.Abs(float64(got[i]) - want)
		// erfSmall's error (< 7e-8) times |x|/2, plus the float32 rounding
		// of the result (half an ulp, ≤ 6e-8 relative).
		if d > 7e-8*math.Abs(float64(x))/2+6e-8*math.Abs(want)+1e-45 {
			t.Fatalf("gelu(%g) = %g, want %g (off by %g)", x, got[i], want, d)
		}
		worst = max(worst, d)
	}
	t.Logf("worst absolute error %.3g", worst)
	nan := []float32{float32(math.NaN())}
	geluErfRows(nan)
	if nan[0] == nan[0] {
		t.Fatalf("gelu(NaN) = %g, want NaN", nan[0])
	}
}
