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
	p := min(runtime.GOMAXPROCS(0), maxParts, n/minPartWords)
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

// addBigEndian sets sum[i] += be32(b[4i:]) for every i; len(b) must be
// 4·len(sum). This is the wire layout of MaskedInput.Vector.
func addBigEndian(sum []uint32, b []byte) {
	b = b[:4*len(sum)]
	parallelParts(len(sum), 32, func(lo, hi int) {
		w, src := sum[lo:hi], b[4*lo:4*hi]
		n := addBigEndianVec(w, src)
		addBigEndianGeneric(w[n:], src[4*n:])
	})
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
	parallelParts(len(sum), 32, func(lo, hi int) {
		w, src := sum[lo:hi], v[lo:hi]
		n := addVectorVec(w, src)
		for i := n; i < len(w); i++ {
			w[i] += src[i]
		}
	})
}

// storeBigEndian writes w as big-endian words into b (len(b) ≥ 4·len(w)).
func storeBigEndian(b []byte, w []uint32) {
	b = b[:4*len(w)]
	n := storeBigEndianVec(b, w)
	for i := n; i < len(w); i++ {
		binary.BigEndian.PutUint32(b[4*i:], w[i])
	}
}
