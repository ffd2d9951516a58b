//go:build amd64 && !purego

package secagg

import "golang.org/x/sys/cpu"

var useAVX2 = cpu.X86.HasAVX2

// roundWordsVec rounds the longest prefix of x that is a multiple of 4
// coordinates with AVX2 (when the CPU has it) and returns its length.
func roundWordsVec(dst []uint32, x []float64, rnd []byte, f, lim float64) int {
	n := len(x) &^ 3
	if n == 0 || !useAVX2 {
		return 0
	}
	roundWordsAVX2(&dst[0], &x[0], &rnd[0], n, f, lim)
	return n
}

// sumSquaresVec fills lanes like sumSquaresGeneric with AVX2 and returns
// the count, or 0 without AVX2 (the caller then uses the generic loop).
func sumSquaresVec(lanes *[sumLanes]float64, x []float64) int {
	n := len(x) &^ (sumLanes - 1)
	if n == 0 || !useAVX2 {
		return 0
	}
	sumSquaresAVX2(lanes, &x[0], n)
	return n
}

//go:noescape
func roundWordsAVX2(dst *uint32, x *float64, rnd *byte, n int, f, lim float64)

//go:noescape
func sumSquaresAVX2(lanes *[sumLanes]float64, x *float64, n int)
