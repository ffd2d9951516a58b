package secagg

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

func TestQuantizeClipsAndReports(t *testing.T) {
	r, _ := privacy.NewRand(privacy.SeededReader(1))
	q := Quantizer{ClipNorm: 1, Scale: 1000}
	x := []float64{3, 4} // norm 5
	dst := make([]uint32, 2)
	st, err := q.Quantize(dst, x, r)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Clipped || st.Norm != 5 {
		t.Fatalf("stats %+v, want clipped with norm 5", st)
	}
	got := []int64{int64(int32(dst[0])), int64(int32(dst[1]))}
	if math.Abs(float64(got[0])-600) > 1 || math.Abs(float64(got[1])-800) > 1 {
		t.Fatalf("quantised %v, want ≈ [600 800]", got)
	}
	st, _ = q.Quantize(dst, []float64{0.3, -0.4}, r)
	if st.Clipped {
		t.Fatal("vector inside the ball reported as clipped")
	}
	if int32(dst[1]) > -399 || int32(dst[1]) < -401 {
		t.Fatalf("negative coordinate quantised to %d", int32(dst[1]))
	}
	if _, err := q.Quantize(dst, []float64{math.NaN(), 0}, r); !errors.Is(err, ErrParams) {
		t.Fatalf("NaN: got %v", err)
	}
}

// TestStochasticRoundingUnbiased: the mean of many roundings of 0.3 steps
// is close to 0.3 (binomial standard error ≈ 0.0046 at 10^4 trials).
func TestStochasticRoundingUnbiased(t *testing.T) {
	r, _ := privacy.NewRand(privacy.SeededReader(2))
	q := Quantizer{ClipNorm: 10, Scale: 1}
	dst := make([]uint32, 1)
	sum := 0.0
	const trials = 10000
	for range trials {
		if _, err := q.Quantize(dst, []float64{0.3}, r); err != nil {
			t.Fatal(err)
		}
		v := int32(dst[0])
		if v != 0 && v != 1 {
			t.Fatalf("0.3 rounded to %d", v)
		}
		sum += float64(v)
	}
	if mean := sum / trials; math.Abs(mean-0.3) > 0.03 {
		t.Fatalf("mean rounding %v, want 0.3", mean)
	}
}

// TestDecodeExactSum: the decoded modular sum of quantised vectors at the
// largest admissible magnitude equals the exact integer sum.
func TestDecodeExactSum(t *testing.T) {
	r, _ := privacy.NewRand(privacy.SeededReader(3))
	const n = 50
	q := Quantizer{ClipNorm: 1, Scale: 1 << 20}
	if err := q.CheckRange(n); err != nil {
		t.Fatal(err)
	}
	sum := make([]uint32, 3)
	exact := make([]int64, 3)
	dst := make([]uint32, 3)
	for i := range n {
		x := []float64{-1, 0, 0}
		if i%3 == 0 {
			x = []float64{0, 0.6, -0.8}
		}
		if _, err := q.Quantize(dst, x, r); err != nil {
			t.Fatal(err)
		}
		for j, w := range dst {
			sum[j] += w
			exact[j] += int64(int32(w))
		}
	}
	got := make([]int64, 3)
	DecodeInt(got, sum)
	for j := range got {
		if got[j] != exact[j] {
			t.Fatalf("coordinate %d: decoded %d, exact %d", j, got[j], exact[j])
		}
	}
	f := make([]float64, 3)
	q.Decode(f, sum)
	if math.Abs(f[0]-(-float64(n-17))) > 1e-3 {
		t.Fatalf("decoded float %v, want ≈ %d", f[0], -(n - 17))
	}
}

func TestCheckRangeRefusesWrap(t *testing.T) {
	q := Quantizer{ClipNorm: 1, Scale: 1 << 20}
	if err := q.CheckRange(2047); err != nil {
		t.Fatalf("2047 clients fit: %v", err)
	}
	err := q.CheckRange(2048)
	if !errors.Is(err, ErrParams) || !strings.Contains(err.Error(), "Quantizer.Scale") {
		t.Fatalf("2048 clients can wrap; got %v", err)
	}
	if err := (Quantizer{ClipNorm: 1, Scale: 1 << 20, NoiseBound: 1 << 20}).CheckRange(1024); err == nil {
		t.Fatal("noise bound not counted")
	}
	for _, bad := range []Quantizer{{ClipNorm: 0, Scale: 1}, {ClipNorm: 1, Scale: math.Inf(1)}, {ClipNorm: 1, Scale: 1, NoiseBound: -1}} {
		if err := bad.Validate(); !errors.Is(err, ErrParams) {
			t.Fatalf("%+v accepted", bad)
		}
	}
}
