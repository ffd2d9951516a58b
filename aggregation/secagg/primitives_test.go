package secagg

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

func TestFieldPrime(t *testing.T) {
	if !fieldP.ProbablyPrime(64) {
		t.Fatal("p = 2^256+297 is not prime")
	}
	// No prime between 2^256 and p: p is the smallest above 2^256.
	for i := int64(1); i < 297; i += 2 {
		if new(big.Int).Add(two256, big.NewInt(i)).ProbablyPrime(20) {
			t.Fatalf("2^256+%d is prime: p is not the smallest", i)
		}
	}
}

func TestShamirRoundTrip(t *testing.T) {
	rd := privacy.SeededReader(1)
	r := rand.New(rand.NewPCG(3, 4))
	for it := range 40 {
		k := 2 + r.IntN(12)
		th := 1 + r.IntN(k)
		holders := r.Perm(100)[:k]
		hs := make([]uint32, k)
		for i, h := range holders {
			hs[i] = uint32(h)
		}
		var secret [32]byte
		if it == 0 {
			for i := range secret {
				secret[i] = 0xff // largest 32-byte secret
			}
		} else {
			for i := range secret {
				secret[i] = byte(r.Uint32())
			}
		}
		sh, err := shamirSplit(secret, hs, th, rd)
		if err != nil {
			t.Fatal(err)
		}
		// Any t shares reconstruct.
		pick := r.Perm(k)[:th]
		sub := make([]share, th)
		for i, j := range pick {
			sub[i] = sh[j]
		}
		got, err := shamirCombine(sub)
		if err != nil || got != secret {
			t.Fatalf("iter %d (k=%d t=%d): reconstruct failed: %v", it, k, th, err)
		}
		// t−1 shares give another value (with overwhelming probability).
		if th > 1 {
			got, err := shamirCombine(sub[:th-1])
			if err == nil && got == secret {
				t.Fatalf("iter %d: t−1 shares reconstructed the secret", it)
			}
		}
	}
}

func TestShamirRejects(t *testing.T) {
	var secret [32]byte
	sh, err := shamirSplit(secret, []uint32{0, 1, 2}, 2, privacy.SeededReader(2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := shamirCombine([]share{sh[0], sh[0]}); !errors.Is(err, ErrInconsistent) {
		t.Fatalf("duplicate holder: got %v", err)
	}
	bad := sh[1]
	for i := range bad.y {
		bad.y[i] = 0xff
	}
	if _, err := shamirCombine([]share{sh[0], bad}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("non-field share: got %v", err)
	}
	if _, err := shamirCombine(nil); !errors.Is(err, ErrBelowThreshold) {
		t.Fatalf("no shares: got %v", err)
	}
}

func TestBech32MatchesAge(t *testing.T) {
	rd := privacy.SeededReader(3)
	for range 20 {
		kp, err := newKeyPair(rd)
		if err != nil {
			t.Fatal(err)
		}
		id, err := ageIdentity(kp.secret())
		if err != nil {
			t.Fatal(err)
		}
		pub := kp.public()
		if got, want := id.Recipient().String(), bech32Encode("age", pub[:]); got != want {
			t.Fatalf("age derives recipient %s, we encode %s", got, want)
		}
	}
	// BIP 173 test vector.
	if got := bech32Encode("a", nil); got != "a12uel5l" {
		t.Fatalf("bech32(a, empty) = %s, want a12uel5l", got)
	}
}

func TestShareBox(t *testing.T) {
	rd := privacy.SeededReader(4)
	kp, _ := newKeyPair(rd)
	other, _ := newKeyPair(rd)
	msg := []byte("share plaintext")
	ct, err := sealShare(kp.public(), msg)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := openShare(kp.secret(), ct)
	if err != nil || !bytes.Equal(pt, msg) {
		t.Fatalf("open: %v", err)
	}
	if _, err := openShare(other.secret(), ct); !errors.Is(err, ErrInconsistent) {
		t.Fatalf("open with another key: got %v", err)
	}
	ct[len(ct)-1] ^= 1
	if _, err := openShare(kp.secret(), ct); err == nil {
		t.Fatal("tampered ciphertext opened")
	}
}

func TestKeyAgreementRejectsLowOrder(t *testing.T) {
	kp, _ := newKeyPair(privacy.SeededReader(5))
	var zero [32]byte // the identity point: X25519 output is all zero
	if _, err := kp.agree(zero); !errors.Is(err, ErrInconsistent) {
		t.Fatalf("low-order point: got %v", err)
	}
}

func TestPairwiseSeedSymmetricAndSeparated(t *testing.T) {
	rd := privacy.SeededReader(6)
	a, _ := newKeyPair(rd)
	b, _ := newKeyPair(rd)
	sab, _ := a.agree(b.public())
	sba, _ := b.agree(a.public())
	var s1, s2 SessionID
	s2[0] = 1
	if pairwiseSeed(sab, s1, 3, 9) != pairwiseSeed(sba, s1, 9, 3) {
		t.Fatal("pairwise seed is not symmetric")
	}
	if pairwiseSeed(sab, s1, 3, 9) == pairwiseSeed(sab, s2, 3, 9) {
		t.Fatal("session does not change the seed")
	}
	if pairwiseSeed(sab, s1, 3, 9) == pairwiseSeed(sab, s1, 3, 8) {
		t.Fatal("indices do not change the seed")
	}
	if deriveMaskSeed(sab, s1, labelPairwise, 3, 3) == selfSeed(sab, s1, 3) {
		t.Fatal("labels do not separate pairwise and self masks")
	}
}

// TestMaskMatchesKeystream checks the fast expander against the
// definition: word i = little-endian uint32 of AES-128-CTR keystream bytes
// 4i..4i+3, at sizes around the chunk boundary.
func TestMaskMatchesKeystream(t *testing.T) {
	var seed maskSeed
	for i := range seed.key {
		seed.key[i] = byte(i)
		seed.iv[i] = byte(200 + i)
	}
	e := newExpander()
	for _, d := range []int{1, 3, chunkBytes/4 - 1, chunkBytes / 4, chunkBytes/4 + 1, 3*chunkBytes/4 + 5} {
		block, _ := aes.NewCipher(seed.key[:])
		ks := make([]byte, 4*d)
		cipher.NewCTR(block, seed.iv[:]).XORKeyStream(ks, ks)
		base := make([]uint32, d)
		for i := range base {
			base[i] = uint32(i * 7)
		}
		y := append([]uint32(nil), base...)
		e.apply(y, seed, false)
		for i := range y {
			if want := base[i] + binary.LittleEndian.Uint32(ks[4*i:]); y[i] != want {
				t.Fatalf("d=%d word %d: got %d want %d", d, i, y[i], want)
			}
		}
		e.apply(y, seed, true)
		if !slices.Equal(y, base) {
			t.Fatalf("d=%d: add then subtract is not the identity", d)
		}
	}
}

func TestGraph(t *testing.T) {
	var seed [32]byte
	for _, tc := range []struct{ n, k int }{{5, 2}, {10, 4}, {31, 10}, {64, 12}, {7, 6}} {
		g := NewGraph(tc.n, tc.k, seed)
		for i := range tc.n {
			nb := g.Neighbours(uint32(i))
			if len(nb) != tc.k {
				t.Fatalf("n=%d k=%d: node %d has degree %d", tc.n, tc.k, i, len(nb))
			}
			for _, j := range nb {
				if j == uint32(i) || !g.IsNeighbour(j, uint32(i)) {
					t.Fatalf("n=%d k=%d: edge %d-%d not symmetric or a loop", tc.n, tc.k, i, j)
				}
			}
		}
	}
	seed2 := seed
	seed2[0] = 1
	a, b, c := NewGraph(40, 6, seed), NewGraph(40, 6, seed), NewGraph(40, 6, seed2)
	same, diff := true, false
	for i := range 40 {
		same = same && slices.Equal(a.Neighbours(uint32(i)), b.Neighbours(uint32(i)))
		diff = diff || !slices.Equal(a.Neighbours(uint32(i)), c.Neighbours(uint32(i)))
	}
	if !same || !diff {
		t.Fatalf("graph must be a deterministic function of the seed (same=%v, differs=%v)", same, diff)
	}
}

func TestGraphIsStable(t *testing.T) {
	// Golden value: coordinator and clients of different builds must derive
	// the same graph from the same seed.
	var seed [32]byte
	seed[0] = 42
	g := NewGraph(8, 2, seed)
	golden := [][]uint32{{1, 2}, {0, 5}, {0, 6}, {4, 7}, {3, 6}, {1, 7}, {2, 4}, {3, 5}}
	for i, want := range golden {
		if got := g.Neighbours(uint32(i)); !slices.Equal(got, want) {
			t.Fatalf("graph changed: node %d of n=8 k=2 has neighbours %v, golden %v", i, got, want)
		}
	}
}

// TestVectorAddMatchesGeneric compares the vector add/subtract (SSE2 on
// amd64) with the generic loop at every length around the block size.
func TestVectorAddMatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for n := range 70 {
		w := make([]uint32, n)
		b := make([]byte, 4*n)
		for i := range w {
			w[i] = r.Uint32()
		}
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		for _, sub := range []bool{false, true} {
			got, want := append([]uint32(nil), w...), append([]uint32(nil), w...)
			if sub {
				subWords(got, b)
				subWordsGeneric(want, b)
			} else {
				addWords(got, b)
				addWordsGeneric(want, b)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("n=%d sub=%v: vector result differs from generic", n, sub)
			}
		}
	}
}
