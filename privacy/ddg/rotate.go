package ddg

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
)

// RoundSeed is the per-round secret shared by the clients of a round (for
// example derived by secure aggregation's key agreement or sent in the
// signed round plan): it fixes the random signs of the rotation. It need
// not be hidden from the coordinator, which must invert the rotation.
type RoundSeed [32]byte

// PaddedDim returns the smallest power of two ≥ d (d ≥ 1).
func PaddedDim(d int) int {
	if d <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(d-1))
}

// signs returns n fair ±1 signs from ChaCha8 keyed by seed.
func signs(seed RoundSeed, n int) []float64 {
	r := rand.New(rand.NewChaCha8(seed))
	out := make([]float64, n)
	var w uint64
	for i := range out {
		if i%64 == 0 {
			w = r.Uint64()
		}
		out[i] = 1 - 2*float64(w&1)
		w >>= 1
	}
	return out
}

// fwht applies the unnormalised fast Walsh–Hadamard transform in place
// (len(v) a power of two): v ← H v with H entries ±1, H·H = len(v)·I.
func fwht(v []float64) {
	n := len(v)
	for h := 1; h < n; h <<= 1 {
		for i := 0; i < n; i += 2 * h {
			a, b := v[i:i+h], v[i+h:i+2*h]
			for j := range a {
				x, y := a[j], b[j]
				a[j], b[j] = x+y, x-y
			}
		}
	}
}

// Rotate writes y = (1/√D)·H·diag(s)·x into dst, where x is padded with
// zeros to D = len(dst) = PaddedDim(len(x)) and s are the seed's signs.
// The map is orthogonal: ‖y‖₂ = ‖x‖₂, and each y_j is a Rademacher sum
// with variance proxy ‖x‖²/D (which is what bounds modular wrap-around).
func Rotate(dst, x []float64, seed RoundSeed) {
	if len(dst) != PaddedDim(len(x)) {
		panic(fmt.Sprintf("ddg: Rotate: len(dst)=%d, want %d", len(dst), PaddedDim(len(x))))
	}
	s := signs(seed, len(dst))
	for i := range dst {
		if i < len(x) {
			dst[i] = s[i] * x[i]
		} else {
			dst[i] = 0
		}
	}
	fwht(dst)
	f := 1 / math.Sqrt(float64(len(dst)))
	for i := range dst {
		dst[i] *= f
	}
}

// Unrotate inverts Rotate: it computes x = diag(s)·(1/√D)·H·y (len(y) = D,
// a power of two) and writes its first len(dst) coordinates into dst. y is
// left unchanged.
func Unrotate(dst, y []float64, seed RoundSeed) {
	if len(y) != PaddedDim(len(dst)) {
		panic(fmt.Sprintf("ddg: Unrotate: len(y)=%d, want %d", len(y), PaddedDim(len(dst))))
	}
	v := append([]float64(nil), y...)
	fwht(v)
	s := signs(seed, len(v))
	f := 1 / math.Sqrt(float64(len(v)))
	for i := range dst {
		dst[i] = s[i] * v[i] * f
	}
}
