package secagg

import (
	"encoding/binary"
	"runtime"
	"sync"
)

// Adding masked inputs into the running sum. The sum is memory-bound, so
// it is split across the available cores (GOMAXPROCS, at most maxParts)
// when the vector is large enough for the goroutine hand-off to pay, and
// each part runs a vector kernel (AVX2 on amd64: byte swap and add, 32
// words per iteration).

const (
	// minPartWords is the smallest part given to its own goroutine.
	minPartWords = 1 << 16
	// maxParts bounds the goroutines of one sum.
	maxParts = 8
)

// parallelParts calls f on consecutive ranges [lo, hi) covering [0, n),
// each a multiple of align words except the last, concurrently when n is
// large, and returns when all calls have returned.
func parallelParts(n, align int, f func(lo, hi int)) {
	p := numParts(n)
	if p <= 1 {
		f(0, n)
		return
	}
	step := (n/p + align - 1) / align * align
	var wg sync.WaitGroup
	for lo := step; lo < n; lo += step {
		wg.Go(func() { f(lo, min(lo+step, n)) })
	}
	f(0, min(step, n))
	wg.Wait()
}

// numParts is the number of goroutines a sum of n words uses.
func numParts(n int) int { return min(runtime.GOMAXPROCS(0), maxParts, n/minPartWords) }

// addBigEndian sets sum[i] += be32(b[4i:]) for every i; len(b) must be
// 4·len(sum). This is the wire layout of MaskedInput.Vector.
func addBigEndian(sum []uint32, b []byte) {
	b = b[:4*len(sum)]
	if numParts(len(sum)) <= 1 { // no closure: small sums allocate nothing
		addBigEndianPart(sum, b)
		return
	}
	parallelParts(len(sum), 32, func(lo, hi int) { addBigEndianPart(sum[lo:hi], b[4*lo:4*hi]) })
}

func addBigEndianPart(w []uint32, b []byte) {
	n := addBigEndianVec(w, b)
	addBigEndianGeneric(w[n:], b[4*n:])
}

func addBigEndianGeneric(w []uint32, b []byte) {
	b = b[:4*len(w)]
	for i := range w {
		w[i] += binary.BigEndian.Uint32(b[4*i:])
	}
}

// addVector sets sum[i] += v[i]; len(v) must equal len(sum). It is also the
// memory-bandwidth baseline of the benchmarks.
func addVector(sum, v []uint32) {
	v = v[:len(sum)]
	if numParts(len(sum)) <= 1 {
		addVectorPart(sum, v)
		return
	}
	parallelParts(len(sum), 32, func(lo, hi int) { addVectorPart(sum[lo:hi], v[lo:hi]) })
}

func addVectorPart(w, v []uint32) {
	n := addVectorVec(w, v)
	for i := n; i < len(w); i++ {
		w[i] += v[i]
	}
}

// storeBigEndian writes w as big-endian words into b (len(b) ≥ 4·len(w)).
func storeBigEndian(b []byte, w []uint32) {
	b = b[:4*len(w)]
	n := storeBigEndianVec(b, w)
	for i := n; i < len(w); i++ {
		binary.BigEndian.PutUint32(b[4*i:], w[i])
	}
}
