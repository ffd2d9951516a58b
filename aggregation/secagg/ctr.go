package secagg

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
)

// keyStream yields successive AES-128-CTR keystream bytes: fill
// overwrites b with the next len(b) bytes. Only the last call of a stream
// may ask for a length that is not a multiple of 16.
type keyStream interface {
	fill(b []byte)
}

// applyStream adds (sub=false) or subtracts the next 4·len(w) keystream
// bytes, as little-endian uint32 words, to w, through buf (≥ 4·len(w)
// bytes) or, for the VAES stream, without it (keystream and add fused).
func applyStream(ks keyStream, w []uint32, buf []byte, sub bool) {
	if v, ok := ks.(*vaesStream); ok {
		v.apply(w, sub)
		return
	}
	b := buf[:4*len(w)]
	ks.fill(b)
	if sub {
		subWords(w, b)
	} else {
		addWords(w, b)
	}
}

// newKeyStream starts the AES-128-CTR keystream of key at the 128-bit
// big-endian counter iv, exactly cipher.NewCTR(aes.NewCipher(key), iv)'s:
// with the VAES kernel (ctrVAES, 16–32 blocks per instruction group) when
// the CPU has AVX-512 VAES, else crypto/aes.
func newKeyStream(key [16]byte, iv [16]byte) keyStream {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic("secagg: aes: " + err.Error()) // 16-byte key: cannot fail
	}
	if !useVAES {
		return stdStream{cipher.NewCTR(block, iv[:])}
	}
	s := &vaesStream{block: block, hi: binary.BigEndian.Uint64(iv[:8]), lo: binary.BigEndian.Uint64(iv[8:])}
	s.rk = expandKey128(key)
	return s
}

type stdStream struct{ cipher.Stream }

func (s stdStream) fill(b []byte) {
	for len(b) > 0 {
		n := min(len(b), chunkBytes)
		s.XORKeyStream(b[:n], zeroChunk[:n])
		b = b[n:]
	}
}

// vaesStream is AES-128-CTR with the counter kept as two uint64 halves.
type vaesStream struct {
	rk     [176]byte
	block  cipher.Block // for the blocks around a carry and a partial last block
	hi, lo uint64
	ended  bool
}

func (s *vaesStream) advance(n uint64) {
	old := s.lo
	s.lo += n
	if s.lo < old {
		s.hi++
	}
}

func (s *vaesStream) counter() (c [16]byte) {
	binary.BigEndian.PutUint64(c[:8], s.hi)
	binary.BigEndian.PutUint64(c[8:], s.lo)
	return c
}

func (s *vaesStream) fill(b []byte) {
	if s.ended {
		panic("secagg: keystream read after a partial block")
	}
	n := len(b) / 16
	var lanes [8]uint64
	for i := 0; i < n; {
		m := uint64(n - i)
		if room := -s.lo; room != 0 && m > room { // lo must not wrap inside the kernel
			m = room
		}
		if m >= 4 {
			m &^= 3
			for j := range 4 {
				lanes[2*j], lanes[2*j+1] = s.lo+uint64(j), s.hi
			}
			ctrVAES(&s.rk, &lanes, &b[16*i], int(m))
			s.advance(m)
			i += int(m)
			continue
		}
		c := s.counter()
		s.block.Encrypt(b[16*i:16*i+16], c[:])
		s.advance(1)
		i++
	}
	if r := len(b) % 16; r != 0 {
		var ks [16]byte
		c := s.counter()
		s.block.Encrypt(ks[:], c[:])
		copy(b[16*n:], ks[:r])
		s.advance(1)
		s.ended = true
	}
}

// apply is applyStream for the VAES stream: whole groups of 4 blocks (16
// words) go through the fused kernel, the blocks around a carry of the low
// counter half and a last partial block through crypto/aes.
func (s *vaesStream) apply(w []uint32, sub bool) {
	if s.ended {
		panic("secagg: keystream read after a partial block")
	}
	n := len(w) / 4
	var lanes [8]uint64
	var ks [16]byte
	for i := 0; i < n; {
		m := uint64(n - i)
		if room := -s.lo; room != 0 && m > room {
			m = room
		}
		if m >= 4 {
			m &^= 3
			for j := range 4 {
				lanes[2*j], lanes[2*j+1] = s.lo+uint64(j), s.hi
			}
			if sub {
				ctrVAESSub(&s.rk, &lanes, &w[4*i], int(m))
			} else {
				ctrVAESAdd(&s.rk, &lanes, &w[4*i], int(m))
			}
			s.advance(m)
			i += int(m)
			continue
		}
		s.fill(ks[:])
		applyBytes(w[4*i:4*i+4], ks[:], sub)
		i++
	}
	if r := len(w) % 4; r != 0 {
		s.fill(ks[:4*r])
		applyBytes(w[4*n:], ks[:4*r], sub)
	}
}

func applyBytes(w []uint32, b []byte, sub bool) {
	if sub {
		subWordsGeneric(w, b)
	} else {
		addWordsGeneric(w, b)
	}
}
