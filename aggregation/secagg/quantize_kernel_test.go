package secagg

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

// quantizeReference is the previous Quantize: one Float64 draw per
// coordinate, rounding up when it falls below the fractional part. The fast
// path must keep its output distribution.
func quantizeReference(dst []uint32, x []float64, r *rand.Rand, f float64, lim int64) {
	for i, v := range x {
		s := v * f
		fl := math.Floor(s)
		w := int64(fl)
		if r.Float64() < s-fl {
			w++
		}
		dst[i] = uint32(int32(max(-lim, min(lim, w))))
	}
}

// awkwardFloats returns n values with every kind of fractional part:
// integers, halves, tiny and huge magnitudes, negative zero, values just
// below and above integers, and random ones.
func awkwardFloats(r *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		switch i % 9 {
		case 0:
			x[i] = float64(r.IntN(2001) - 1000)
		case 1:
			x[i] = float64(r.IntN(2001)-1000) + 0.5
		case 2:
			x[i] = (r.Float64() - 0.5) * 1e-300
		case 3:
			x[i] = math.Copysign(0, -1)
		case 4:
			x[i] = math.Nextafter(float64(r.IntN(100)-50), math.Inf(-1))
		case 5:
			x[i] = math.Nextafter(float64(r.IntN(100)-50), math.Inf(1))
		case 6:
			x[i] = (r.Float64() - 0.5) * 3e9 // clamped
		default:
			x[i] = r.NormFloat64() * 100
		}
	}
	return x
}

// TestRoundWordsVecMatchesGeneric: the AVX2 kernel produces exactly the
// words of the Go loop for the same random words, at every length
// (tails) and on awkward values.
func TestRoundWordsVecMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 3, 4, 5, 15, 16, 17, 1000, 4099} {
		x := awkwardFloats(r, n)
		rnd := make([]byte, 4*n)
		for i := range rnd {
			rnd[i] = byte(r.Uint32())
		}
		for i := 0; i+4 <= len(rnd); i += 36 { // extreme random words
			copy(rnd[i:i+4], []byte{0xff, 0xff, 0xff, 0xff})
		}
		for _, f := range []float64{1, 0.37, 1 << 20} {
			lim := float64(1<<31 - 1)
			if f == 1 {
				lim = 1e9
			}
			fast := make([]uint32, n)
			slow := make([]uint32, n)
			roundWords(fast, x, rnd, f, lim)
			roundWordsGeneric(slow, x, rnd, f, lim)
			for i := range fast {
				if fast[i] != slow[i] {
					t.Fatalf("n=%d f=%v: coordinate %d (x=%v, u=%x): fast %d, generic %d", n, f, i, x[i], rnd[4*i:4*i+4], int32(fast[i]), int32(slow[i]))
				}
			}
		}
	}
}

// TestSumSquaresVecMatchesGeneric: the AVX2 norm is bit-identical to the
// lane-ordered Go loop and within rounding of the naive sum.
func TestSumSquaresVecMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{0, 1, 15, 16, 17, 33, 1000, 100_003} {
		x := make([]float64, n)
		naive := 0.0
		for i := range x {
			x[i] = r.NormFloat64() * math.Exp(r.NormFloat64()*5)
			naive += x[i] * x[i]
		}
		var lanes [sumLanes]float64
		m := sumSquaresGeneric(&lanes, x)
		var tail float64
		for _, v := range x[m:] {
			tail += v * v
		}
		for w := sumLanes / 2; w >= 1; w /= 2 {
			for j := range w {
				lanes[j] += lanes[j+w]
			}
		}
		want := lanes[0] + tail
		if got := sumSquares(x); got != want {
			t.Fatalf("n=%d: vector sum of squares %v, generic %v", n, got, want)
		}
		if math.Abs(want-naive) > 1e-12*naive {
			t.Fatalf("n=%d: sum of squares %v, naive %v", n, want, naive)
		}
	}
}

// TestQuantizeUnbiasedEveryCoordinate: for values with many fractional
// parts, the mean of T independent roundings of each coordinate is within
// 5 standard errors (√(p(1−p)/T)) of the scaled value, and every rounding
// is one of the two neighbouring integers. An implementation that rounds
// to nearest, always down, or with a bias of 1/T^(1/2) fails.
func TestQuantizeUnbiasedEveryCoordinate(t *testing.T) {
	rng, _ := privacy.NewRand(privacy.SeededReader(11))
	const d, trials = 257, 4000
	q := Quantizer{ClipNorm: 1e9, Scale: 1}
	x := make([]float64, d)
	for i := range x {
		x[i] = float64(i-128)/7 + float64(i%5)*0.013
	}
	sums := make([]float64, d)
	dst := make([]uint32, d)
	for range trials {
		if _, err := q.Quantize(dst, x, rng); err != nil {
			t.Fatal(err)
		}
		for i, w := range dst {
			v := float64(int32(w))
			if v != math.Floor(x[i]) && v != math.Floor(x[i])+1 {
				t.Fatalf("%v rounded to %v", x[i], v)
			}
			sums[i] += v
		}
	}
	worst := 0.0
	for i, v := range x {
		p := v - math.Floor(v)
		se := math.Sqrt(max(p*(1-p), 1e-12) / trials)
		z := math.Abs(sums[i]/trials-v) / se
		if p == 0 && sums[i] != trials*v {
			t.Fatalf("integer %v rounded away from itself", v)
		}
		if p > 0 {
			worst = max(worst, z)
		}
	}
	if worst > 5 {
		t.Fatalf("worst coordinate mean is %.1f standard errors from its value", worst)
	}
}

// TestQuantizeSameDistributionAsReference: on the same vector, the fast
// path and the previous Float64 rounding give per-coordinate round-up
// frequencies whose difference is within 5 standard errors, and their
// total sums agree within 5 standard errors.
func TestQuantizeSameDistributionAsReference(t *testing.T) {
	rng, _ := privacy.NewRand(privacy.SeededReader(12))
	ref, _ := privacy.NewRand(privacy.SeededReader(13))
	const d, trials = 1000, 2000
	q := Quantizer{ClipNorm: 1e8, Scale: 3}
	x := awkwardFloats(rand.New(rand.NewPCG(1, 1)), d)
	for i := range x {
		x[i] = max(-1e6, min(1e6, x[i]))
	}
	fast := make([]uint32, d)
	slow := make([]uint32, d)
	upFast := make([]float64, d)
	upSlow := make([]float64, d)
	lim := q.MaxAbs() - q.NoiseBound
	var totFast, totSlow float64
	for range trials {
		if _, err := q.Quantize(fast, x, rng); err != nil {
			t.Fatal(err)
		}
		quantizeReference(slow, x, ref, q.Scale, lim)
		for i := range x {
			fl := math.Floor(x[i] * q.Scale)
			upFast[i] += float64(int32(fast[i])) - fl
			upSlow[i] += float64(int32(slow[i])) - fl
			totFast += float64(int32(fast[i]))
			totSlow += float64(int32(slow[i]))
		}
	}
	var varSum float64
	for i, v := range x {
		s := v * q.Scale
		p := s - math.Floor(s)
		varSum += p * (1 - p)
		se := math.Sqrt(2 * max(p*(1-p), 1e-12) / trials)
		if math.Abs(upFast[i]-upSlow[i])/trials > 5*se {
			t.Fatalf("coordinate %d (%v): round-up frequency %v, reference %v", i, v, upFast[i]/trials, upSlow[i]/trials)
		}
	}
	if se := math.Sqrt(2 * varSum * trials); math.Abs(totFast-totSlow) > 5*se+1 {
		t.Fatalf("total of all roundings %v, reference %v (5σ = %v)", totFast, totSlow, 5*se)
	}
}
