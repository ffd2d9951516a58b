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

// TestKeyStreamMatchesCTR checks newKeyStream (the VAES kernel where the
// CPU has it) against crypto/aes CTR byte for byte: random keys, counters
// whose low half wraps inside the request (the kernel must hand those
// blocks to the carry path), read in pieces of every alignment, ending
// with a partial block.
func TestKeyStreamMatchesCTR(t *testing.T) {
	if !useVAES {
		t.Log("no AVX-512 VAES here: checking the crypto/aes path only")
	}
	r := rand.New(rand.NewPCG(11, 12))
	for trial := range 40 {
		var key, iv [16]byte
		for i := range key {
			key[i], iv[i] = byte(r.Uint32()), byte(r.Uint32())
		}
		if trial%2 == 0 { // low half 1…200 blocks before the wrap
			binary.BigEndian.PutUint64(iv[8:], -uint64(1+r.IntN(200)))
		}
		if trial == 4 {
			for i := range iv {
				iv[i] = 0xff // the whole counter wraps
			}
		}
		total := 16*(1+r.IntN(1200)) + r.IntN(16)
		want := make([]byte, total)
		block, _ := aes.NewCipher(key[:])
		cipher.NewCTR(block, iv[:]).XORKeyStream(want, make([]byte, total))
		got := make([]byte, total)
		ks := newKeyStream(key, iv)
		for off := 0; off < total; {
			n := 16 * (1 + r.IntN(70))
			if r.IntN(4) == 0 {
				n = 16 * (1 + r.IntN(3))
			}
			n = min(n, total-off)
			if total-off-n < 16 {
				n = total - off // the last read takes the partial block
			}
			ks.fill(got[off : off+n])
			off += n
		}
		if !bytes.Equal(got, want) {
			i := 0
			for got[i] == want[i] {
				i++
			}
			t.Fatalf("trial %d (iv %x): keystream differs from crypto/aes CTR at byte %d of %d", trial, iv, i, total)
		}
	}
}

func TestExpandKey128(t *testing.T) {
	if !useVAES {
		t.Skip("the round keys are only expanded for the VAES kernel")
	}
	// FIPS 197 Appendix A.1: key 2b7e1516 28aed2a6 abf71588 09cf4f3c.
	key := [16]byte{0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c}
	rk := expandKey128(key)
	want := []byte{0xd0, 0x14, 0xf9, 0xa8, 0xc9, 0xee, 0x25, 0x89, 0xe1, 0x3f, 0x0c, 0xc8, 0xb6, 0x63, 0x0c, 0xa6}
	if !bytes.Equal(rk[160:], want) {
		t.Fatalf("last round key %x, want %x", rk[160:], want)
	}
}

// TestApplyStreamMatchesCTR checks the fused add/subtract path against
// crypto/aes CTR keystream added or subtracted word by word, with the
// same carries, piece sizes and partial last block as above.
func TestApplyStreamMatchesCTR(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for trial := range 40 {
		var key, iv [16]byte
		for i := range key {
			key[i], iv[i] = byte(r.Uint32()), byte(r.Uint32())
		}
		if trial%2 == 0 {
			binary.BigEndian.PutUint64(iv[8:], -uint64(1+r.IntN(200)))
		}
		sub := trial%3 == 0
		words := 4*(1+r.IntN(1200)) + r.IntN(4)
		ks := make([]byte, 4*words+16)
		block, _ := aes.NewCipher(key[:])
		cipher.NewCTR(block, iv[:]).XORKeyStream(ks, make([]byte, len(ks)))
		w := make([]uint32, words)
		want := make([]uint32, words)
		for i := range w {
			w[i] = r.Uint32()
			k := binary.LittleEndian.Uint32(ks[4*i:])
			if sub {
				want[i] = w[i] - k
			} else {
				want[i] = w[i] + k
			}
		}
		s := newKeyStream(key, iv)
		buf := make([]byte, 4*words)
		for off := 0; off < words; {
			n := 4 * (1 + r.IntN(300))
			if r.IntN(4) == 0 {
				n = 4 * (1 + r.IntN(3))
			}
			n = min(n, words-off)
			if words-off-n < 4 {
				n = words - off
			}
			applyStream(s, w[off:off+n], buf, sub)
			off += n
		}
		if !slices.Equal(w, want) {
			t.Fatalf("trial %d (sub %v, iv %x): fused mask differs from crypto/aes CTR", trial, sub, iv)
		}
	}
}
