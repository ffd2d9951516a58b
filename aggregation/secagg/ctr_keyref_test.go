package secagg

import "testing"

// expandKey128Ref is the AES-128 key schedule (FIPS 197 §5.2) in plain Go
// with a table S-box: the reference the assembly key expansion is checked
// against. Not for secret keys: its S-box look-ups are indexed by key
// bytes (a cache-timing channel), which is why ctr_amd64.s expands keys
// with AESKEYGENASSIST instead.
func expandKey128Ref(key [16]byte) (rk [176]byte) {
	copy(rk[:16], key[:])
	rcon := byte(1)
	for i := 16; i < 176; i += 4 {
		t := [4]byte{rk[i-4], rk[i-3], rk[i-2], rk[i-1]}
		if i%16 == 0 {
			t = [4]byte{aesSbox[t[1]] ^ rcon, aesSbox[t[2]], aesSbox[t[3]], aesSbox[t[0]]}
			rcon = gfMul(rcon, 2)
		}
		for j := range 4 {
			rk[i+j] = rk[i-16+j] ^ t[j]
		}
	}
	return rk
}

// aesSbox is the AES S-box, computed from its definition (FIPS 197 §5.1.1:
// inversion in GF(2^8), then the affine map).
var aesSbox = func() (s [256]byte) {
	for x := range 256 {
		inv := byte(0)
		if x != 0 {
			inv = 1
			for range 254 { // x^254 = x^-1
				inv = gfMul(inv, byte(x))
			}
		}
		b := inv
		s[x] = b ^ rotl8(b, 1) ^ rotl8(b, 2) ^ rotl8(b, 3) ^ rotl8(b, 4) ^ 0x63
	}
	return s
}()

func rotl8(b byte, n uint) byte { return b<<n | b>>(8-n) }

// gfMul multiplies in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1.
func gfMul(a, b byte) byte {
	var p byte
	for b != 0 {
		if b&1 != 0 {
			p ^= a
		}
		hi := a & 0x80
		a <<= 1
		if hi != 0 {
			a ^= 0x1b
		}
		b >>= 1
	}
	return p
}

// TestExpandKey128MatchesReference: the constant-time assembly schedule
// against the plain FIPS 197 one, for the FIPS key and random keys.
func TestExpandKey128MatchesReference(t *testing.T) {
	if !useVAES {
		t.Skip("the round keys are only expanded for the VAES kernel")
	}
	keys := [][16]byte{{}, {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c}}
	var k [16]byte
	for i := range 1000 {
		for j := range k {
			k[j] = byte(i*131 + j*29 + i*j*7)
		}
		keys = append(keys, k)
	}
	for i := range k {
		k[i] = 0xff
	}
	keys = append(keys, k)
	for _, k := range keys {
		if got, want := expandKey128(k), expandKey128Ref(k); got != want {
			t.Fatalf("key %x: round keys %x, want %x", k, got, want)
		}
	}
}

func BenchmarkExpandKey128(b *testing.B) {
	if !useVAES {
		b.Skip("no VAES")
	}
	var k [16]byte
	b.Run("table", func(b *testing.B) {
		for b.Loop() {
			k[0]++
			_ = expandKey128Ref(k)
		}
	})
	b.Run("aeskeygenassist", func(b *testing.B) {
		for b.Loop() {
			k[0]++
			_ = expandKey128(k)
		}
	})
}
