package secagg

import (
	"encoding/binary"
	"math/bits"
)

// chunkBytes is the keystream buffer size: small enough to stay in L1/L2
// cache, large enough to amortise the call overhead of the AES-CTR code.
const chunkBytes = 8 << 10

var zeroChunk [chunkBytes]byte

// expander expands mask seeds into uint32 words with AES-128-CTR: the PRG
// of Bonawitz et al. 2017 §3.4 (any secure PRG; AES-CTR because AES-NI
// makes it several GB/s per core). Word i of the mask is the little-endian
// uint32 at keystream bytes 4i..4i+3, on every platform. An expander holds
// one reusable keystream buffer; it is not safe for concurrent use.
type expander struct {
	buf []byte
}

func newExpander() *expander { return &expander{buf: make([]byte, chunkBytes)} }

// apply adds (sub=false) or subtracts (sub=true) the mask of seed to dst,
// in place, modulo 2^32.
func (e *expander) apply(dst []uint32, seed maskSeed, sub bool) {
	e.applyAll(dst, []maskSeed{seed}, []bool{sub})
}

// applyAll applies several masks at once: dst[i] ±= mask_j[i] for every
// seed j (subtracting where subs[j]). It walks dst once, chunk by chunk,
// applying every stream to a chunk while it is in cache, so a vector
// larger than the cache is read and written once rather than once per
// mask.
func (e *expander) applyAll(dst []uint32, seeds []maskSeed, subs []bool) {
	e.applyAllAt(dst, 0, seeds, subs)
}

// applyAllParallel is applyAll split across the available cores: each part
// of dst (a multiple of the chunk size, so of the AES block) gets its own
// expander and starts every stream at its own keystream offset, so the
// result is exactly that of applyAll.
func applyAllParallel(dst []uint32, seeds []maskSeed, subs []bool) {
	parallelParts(len(dst), chunkBytes/4, func(lo, hi int) {
		newExpander().applyAllAt(dst[lo:hi], lo, seeds, subs)
	})
}

// applyAllAt is applyAll for the words of the masks starting at word
// offset (a multiple of 4: whole AES blocks).
func (e *expander) applyAllAt(dst []uint32, offset int, seeds []maskSeed, subs []bool) {
	if len(seeds) != len(subs) {
		panic("secagg: applyAll: len(seeds) != len(subs)")
	}
	if offset%4 != 0 {
		panic("secagg: applyAllAt: offset is not a whole AES block")
	}
	streams := e.streams(seeds, offset)
	for len(dst) > 0 {
		w := dst[:min(len(dst), chunkBytes/4)]
		e.applyChunk(w, streams, subs)
		dst = dst[len(w):]
	}
}

// streams starts one AES-128-CTR stream per seed at block offset/4.
func (e *expander) streams(seeds []maskSeed, offset int) []keyStream {
	streams := make([]keyStream, len(seeds))
	for i, s := range seeds {
		streams[i] = newKeyStream(s.key, ctrAdd(s.iv, uint64(offset/4)))
	}
	return streams
}

// applyChunk applies the next len(w) words of every stream to w
// (len(w) ≤ chunkBytes/4).
func (e *expander) applyChunk(w []uint32, streams []keyStream, subs []bool) {
	for i, ctr := range streams {
		applyStream(ctr, w, e.buf, subs[i])
	}
}

// addWords sets w[i] += le32(b[4i:]). len(b) must be ≥ 4·len(w).
func addWords(w []uint32, b []byte) {
	b = b[:4*len(w)]
	n := addWordsVec(w, b)
	addWordsGeneric(w[n:], b[4*n:])
}

// subWords sets w[i] -= le32(b[4i:]). len(b) must be ≥ 4·len(w).
func subWords(w []uint32, b []byte) {
	b = b[:4*len(w)]
	n := subWordsVec(w, b)
	subWordsGeneric(w[n:], b[4*n:])
}

func addWordsGeneric(w []uint32, b []byte) {
	b = b[:4*len(w)]
	for i := range w {
		w[i] += binary.LittleEndian.Uint32(b[4*i : 4*i+4])
	}
}

func subWordsGeneric(w []uint32, b []byte) {
	b = b[:4*len(w)]
	for i := range w {
		w[i] -= binary.LittleEndian.Uint32(b[4*i : 4*i+4])
	}
}

// ctrAdd returns the 128-bit big-endian counter iv + n (mod 2^128), the
// counter block cipher.NewCTR reaches after n blocks.
func ctrAdd(iv [16]byte, n uint64) [16]byte {
	lo := binary.BigEndian.Uint64(iv[8:])
	hi := binary.BigEndian.Uint64(iv[:8])
	sum, carry := bits.Add64(lo, n, 0)
	binary.BigEndian.PutUint64(iv[8:], sum)
	binary.BigEndian.PutUint64(iv[:8], hi+carry)
	return iv
}

// maskChunks computes input + masks a chunk at a time in a scratch buffer
// that stays in cache and hands each finished chunk (words [off,
// off+len(w)) of the masked vector) to emit, so a caller writes the result
// once in the layout it needs.
func (e *expander) maskChunks(input []uint32, seeds []maskSeed, subs []bool, emit func(off int, w []uint32)) {
	e.maskChunksAt(input, 0, seeds, subs, emit)
}

// maskChunksParallel is maskChunks split across the available cores like
// applyAllParallel: each part (a multiple of the chunk size) has its own
// expander and streams started at its keystream offset, and emit is called
// concurrently for disjoint ranges of words (so it must only write
// there). The result is exactly maskChunks'.
func maskChunksParallel(input []uint32, seeds []maskSeed, subs []bool, emit func(off int, w []uint32)) {
	parallelParts(len(input), chunkBytes/4, func(lo, hi int) {
		newExpander().maskChunksAt(input[lo:hi], lo, seeds, subs, func(off int, w []uint32) { emit(lo+off, w) })
	})
}

// maskChunksAt is maskChunks for the words of the masks starting at word
// offset (a multiple of 4: whole AES blocks); emit's offsets are relative
// to input.
func (e *expander) maskChunksAt(input []uint32, offset int, seeds []maskSeed, subs []bool, emit func(off int, w []uint32)) {
	if offset%4 != 0 {
		panic("secagg: maskChunksAt: offset is not a whole AES block")
	}
	scratch := make([]uint32, chunkBytes/4)
	streams := e.streams(seeds, offset)
	for off := 0; off < len(input); off += len(scratch) {
		w := scratch[:min(len(scratch), len(input)-off)]
		copy(w, input[off:])
		e.applyChunk(w, streams, subs)
		emit(off, w)
	}
	clear(scratch)
}
