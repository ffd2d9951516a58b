package secagg

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// Quantisation kernels. Quantize reads x twice: once for the norm (and the
// finiteness check), once to scale, round and clip. Rounding randomness is
// 32 bits per coordinate of AES-128-CTR keystream keyed with 32 bytes drawn
// from the caller's generator (privacy.NewRand: ChaCha8 keyed from
// crypto/rand), generated chunk by chunk into a buffer that stays in L1.
//
// Stochastic rounding of s is floor(s) + [u < frac(s)·2^32] with u a
// uniform 32-bit word: the rounding goes up with probability
// ⌈frac(s)·2^32⌉/2^32, so E[round(s)] − s lies in [0, 2^-32) steps (the
// previous Float64 draw had a bias below 2^-53 steps; both are far below
// any statistical resolution). The whole step is branch-free; the amd64
// kernel does four coordinates per AVX2 instruction and produces exactly
// the words of roundWordsGeneric (tested).

// sumLanes is the number of partial sums of squares; the fixed order of
// the additions makes sumSquares bit-identical on every platform.
const sumLanes = 16

// sumSquares returns Σ x_i² accumulated in sumLanes lanes (lane i mod 16
// for the first len(x)&^15 coordinates), combined in a fixed order, plus
// the tail added in order.
func sumSquares(x []float64) float64 {
	var lanes [sumLanes]float64
	n := sumSquaresVec(&lanes, x)
	if n == 0 {
		n = sumSquaresGeneric(&lanes, x)
	}
	var tail float64
	for _, v := range x[n:] {
		tail += float64(v * v)
	}
	for w := sumLanes / 2; w >= 1; w /= 2 {
		for j := range w {
			lanes[j] += lanes[j+w]
		}
	}
	return lanes[0] + tail
}

// sumSquaresGeneric fills lanes for the first len(x)&^15 coordinates and
// returns that count.
func sumSquaresGeneric(lanes *[sumLanes]float64, x []float64) int {
	n := len(x) &^ (sumLanes - 1)
	for i := 0; i < n; i += sumLanes {
		for j := range sumLanes {
			v := x[i+j]
			lanes[j] += float64(v * v) // float64(): never fused into an FMA
		}
	}
	return n
}

// roundWords sets dst[i] = clamp(floor(s) + [u_i < frac(s)·2^32], ±lim) for
// s = x[i]·f, u_i the little-endian uint32 at rnd[4i:]. lim < 2^31.
func roundWords(dst []uint32, x []float64, rnd []byte, f, lim float64) {
	rnd = rnd[:4*len(x)]
	dst = dst[:len(x)]
	n := roundWordsVec(dst, x, rnd, f, lim)
	roundWordsGeneric(dst[n:], x[n:], rnd[4*n:], f, lim)
}

func roundWordsGeneric(dst []uint32, x []float64, rnd []byte, f, lim float64) {
	rnd = rnd[:4*len(x)]
	dst = dst[:len(x)]
	for i, v := range x {
		s := v * f
		fl := math.Floor(s)
		fr := float64(s-fl) * (1 << 32)
		if float64(binary.LittleEndian.Uint32(rnd[4*i:])) < fr {
			fl++
		}
		fl = max(-lim, min(lim, fl))
		dst[i] = uint32(int32(fl))
	}
}

// roundingStream returns an AES-128-CTR keystream keyed from r.
func roundingStream(r *rand.Rand) keyStream {
	var key, iv [16]byte
	binary.LittleEndian.PutUint64(key[:8], r.Uint64())
	binary.LittleEndian.PutUint64(key[8:], r.Uint64())
	binary.LittleEndian.PutUint64(iv[:8], r.Uint64())
	binary.LittleEndian.PutUint64(iv[8:], r.Uint64())
	return newKeyStream(key, iv)
}

// quantizeWords scales, rounds and clips x into dst chunk by chunk with
// randomness from r.
func quantizeWords(dst []uint32, x []float64, r *rand.Rand, f, lim float64) {
	ctr := roundingStream(r)
	buf := make([]byte, chunkBytes)
	for len(x) > 0 {
		n := min(len(x), chunkBytes/4)
		b := buf[:4*n]
		ctr.fill(b)
		roundWords(dst[:n], x[:n], b, f, lim)
		dst, x = dst[n:], x[n:]
	}
	clear(buf)
}
