package secagg

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

// Red-team checks of the AES-128-CTR keystream (ctr.go, ctr_amd64.s)
// against crypto/aes + cipher.NewCTR: every awkward length, counters at
// and across both wraps, seeks, random keys, and the fused add/subtract.

func refKeystream(key, iv [16]byte, n int) []byte {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err)
	}
	out := make([]byte, n)
	cipher.NewCTR(block, iv[:]).XORKeyStream(out, out)
	return out
}

// redIVs are counters at the edges: zero, random, the low half 1…33
// blocks before its wrap (so the wrap falls before, inside and after a
// 4- or 32-block kernel group), the whole 128-bit counter about to wrap.
func redIVs(r *rand.Rand) [][16]byte {
	var ivs [][16]byte
	ivs = append(ivs, [16]byte{})
	var iv [16]byte
	for i := range iv {
		iv[i] = byte(r.Uint32())
	}
	ivs = append(ivs, iv)
	for _, k := range []uint64{1, 2, 3, 4, 5, 7, 31, 32, 33} {
		binary.BigEndian.PutUint64(iv[8:], -k)
		ivs = append(ivs, iv)
		var full [16]byte
		binary.BigEndian.PutUint64(full[:8], ^uint64(0))
		binary.BigEndian.PutUint64(full[8:], -k)
		ivs = append(ivs, full)
	}
	return ivs
}

func TestRedKeyStreamEdgeLengthsAndCounters(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	lengths := []int{0, 1, 3, 4, 15, 16, 17, 48, 63, 64, 65, 127, 128, 129, 496, 511, 512, 513, 528, 8191, 8192, 8193, 3*8192 + 20}
	for _, iv := range redIVs(r) {
		var key [16]byte
		for i := range key {
			key[i] = byte(r.Uint32())
		}
		ref := refKeystream(key, iv, 3*8192+64)
		for _, n := range lengths {
			got := make([]byte, n+32)
			for i := range got {
				got[i] = 0xa5
			}
			newKeyStream(key, iv).fill(got[:n])
			if !bytes.Equal(got[:n], ref[:n]) {
				t.Fatalf("fill(%d) at iv %x differs from crypto/aes CTR", n, iv)
			}
			for i := n; i < len(got); i++ {
				if got[i] != 0xa5 {
					t.Fatalf("fill(%d) at iv %x wrote byte %d past the slice", n, iv, i)
				}
			}
		}
		for _, words := range []int{0, 1, 2, 3, 4, 5, 12, 15, 16, 17, 31, 63, 64, 65, 127, 128, 129, 2047, 2048, 2049, 6000} {
			for _, sub := range []bool{false, true} {
				w := make([]uint32, words+8)
				for i := range w {
					w[i] = r.Uint32()
				}
				want := slices.Clone(w)
				for i := range words {
					k := binary.LittleEndian.Uint32(ref[4*i:])
					if sub {
						want[i] -= k
					} else {
						want[i] += k
					}
				}
				applyStream(newKeyStream(key, iv), w[:words], make([]byte, 4*words), sub)
				if !slices.Equal(w, want) {
					t.Fatalf("apply(%d words, sub %v) at iv %x differs from crypto/aes CTR (or wrote past the slice)", words, sub, iv)
				}
			}
		}
	}
}

// TestRedKeyStreamSeek: a stream started at ctrAdd(iv, off) must be the
// reference stream from block off on, for offsets on both sides of the
// low-half wrap and across the 128-bit wrap (parts of a mask split across
// cores start this way).
func TestRedKeyStreamSeek(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, iv := range redIVs(r) {
		var key [16]byte
		for i := range key {
			key[i] = byte(r.Uint32())
		}
		const blocks = 600
		ref := refKeystream(key, iv, 16*blocks)
		for _, off := range []int{0, 1, 2, 3, 4, 5, 8, 28, 31, 32, 33, 36, 64, 100, 512} {
			n := 16*(blocks-off) - 5
			got := make([]byte, n)
			newKeyStream(key, ctrAdd(iv, uint64(off))).fill(got)
			if !bytes.Equal(got, ref[16*off:16*off+n]) {
				t.Fatalf("stream seeked to block %d from iv %x differs from crypto/aes CTR", off, iv)
			}
		}
	}
}

// TestRedKeyScheduleRandomKeys: the hand-written key expansion against
// crypto/aes for many random keys (the FIPS vector alone checks one).
func TestRedKeyScheduleRandomKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	for range 500 {
		var key, iv [16]byte
		for i := range key {
			key[i], iv[i] = byte(r.Uint32()), byte(r.Uint32())
		}
		got := make([]byte, 16*36)
		newKeyStream(key, iv).fill(got)
		if !bytes.Equal(got, refKeystream(key, iv, len(got))) {
			t.Fatalf("key %x: keystream differs from crypto/aes CTR", key)
		}
	}
}

// TestRedVAESKernelBounds calls the kernels directly: blocks=0 writes
// nothing, and n blocks write exactly 16n bytes (64n for the fused ones,
// which must not touch the words after).
func TestRedVAESKernelBounds(t *testing.T) {
	if !useVAES {
		t.Skip("no AVX-512 VAES on this CPU")
	}
	var key [16]byte
	rk := expandKey128(key)
	for _, blocks := range []int{0, 4, 8, 28, 32, 36, 64, 68} {
		var lanes [8]uint64
		for j := range 4 {
			lanes[2*j] = uint64(j)
		}
		b := make([]byte, 16*blocks+64)
		for i := range b {
			b[i] = 0xa5
		}
		ctrVAES(&rk, &lanes, &b[0], blocks)
		ref := refKeystream(key, [16]byte{}, 16*blocks)
		if !bytes.Equal(b[:16*blocks], ref) {
			t.Fatalf("ctrVAES(%d blocks) differs from crypto/aes", blocks)
		}
		for i := 16 * blocks; i < len(b); i++ {
			if b[i] != 0xa5 {
				t.Fatalf("ctrVAES(%d blocks) wrote byte %d past its blocks", blocks, i)
			}
		}
		w := make([]uint32, 4*blocks+16)
		ctrVAESAdd(&rk, &lanes, &w[0], blocks)
		ctrVAESSub(&rk, &lanes, &w[0], blocks)
		for i, v := range w {
			if v != 0 {
				t.Fatalf("add then subtract of %d blocks left word %d = %d", blocks, i, v)
			}
		}
	}
}

//go:noinline
func zeroedArray() [256]byte {
	var z [256]byte
	return z
}

// TestRedVAESKeepsGoABI: the kernels load data into Z8–Z15; Go's
// ABIInternal needs X15 = 0 after the call (the compiler zeroes memory
// with it). Non-zero data through the fused kernel, then Go zeroing.
func TestRedVAESKeepsGoABI(t *testing.T) {
	if !useVAES {
		t.Skip("no AVX-512 VAES on this CPU")
	}
	var key [16]byte
	rk := expandKey128(key)
	w := make([]uint32, 4*32)
	for i := range w {
		w[i] = 0xdeadbeef
	}
	var lanes [8]uint64
	for range 100 {
		ctrVAESAdd(&rk, &lanes, &w[0], 32)
		z := zeroedArray()
		for i, b := range z {
			if b != 0 {
				t.Fatalf("zeroed array has byte %d = %#x after the kernel: X15 clobbered", i, b)
			}
		}
	}
}
