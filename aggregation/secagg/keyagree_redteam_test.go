package secagg

import (
	"bytes"
	"crypto/ecdh"
	"math/big"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

// Montgomery-curve arithmetic on Curve25519 (v² = u³ + A·u² + u over
// F_p), written with math/big, to build points the table must let
// through.
var (
	c25519P = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	c25519A = big.NewInt(486662)
)

func leU(b [32]byte) *big.Int {
	for l, r := 0, 31; l < r; l, r = l+1, r-1 {
		b[l], b[r] = b[r], b[l]
	}
	return new(big.Int).SetBytes(b[:])
}

func uLE(u *big.Int) (b [32]byte) {
	u.FillBytes(b[:])
	for l, r := 0, 31; l < r; l, r = l+1, r-1 {
		b[l], b[r] = b[r], b[l]
	}
	return b
}

// curveV returns a v with (u, v) on Curve25519, or nil (u on the twist).
func curveV(u *big.Int) *big.Int {
	p := c25519P
	rhs := new(big.Int).Mul(u, u)
	rhs.Add(rhs, new(big.Int).Mul(c25519A, u))
	rhs.Add(rhs, big.NewInt(1))
	rhs.Mul(rhs, u)
	rhs.Mod(rhs, p)
	return new(big.Int).ModSqrt(rhs, p)
}

// montAdd returns u(P+Q) for distinct affine points P, Q with uP ≠ uQ.
func montAdd(uP, vP, uQ, vQ *big.Int) *big.Int {
	p := c25519P
	num := new(big.Int).Sub(vQ, vP)
	den := new(big.Int).Sub(uQ, uP)
	den.Mod(den, p)
	l := new(big.Int).Mul(num, new(big.Int).ModInverse(den, p))
	l.Mod(l, p)
	u := new(big.Int).Mul(l, l)
	u.Sub(u, c25519A)
	u.Sub(u, uP)
	u.Sub(u, uQ)
	return u.Mod(u, p)
}

// TestRedMixedOrderKeysNotConfined: a hostile neighbour can advertise P+T
// for its honest key P and T of order 2 or 8. The table (rightly) lets it
// through, and the agreement must then be exactly that with P: the
// clamped scalar kills the torsion part, so the shared secret is neither
// all-zero nor confined to a small subgroup, and reveals nothing about
// the private scalar mod 8.
func TestRedMixedOrderKeysNotConfined(t *testing.T) {
	rd := privacy.SeededReader(41)
	torsion := []*big.Int{big.NewInt(0)}
	for _, dec := range []string{
		"325606250916557431795983626356110631294008115727848805560023387167927233504",
		"39382357235489614581723060781553021112529911719440698176882885853963445705823"} {
		v, _ := new(big.Int).SetString(dec, 10)
		torsion = append(torsion, v)
	}
	for range 8 {
		hostile, _ := newKeyPair(rd)
		victim, _ := newKeyPair(rd)
		pub := hostile.public()
		uP := leU(pub)
		vP := curveV(uP)
		if vP == nil {
			t.Fatal("an X25519 public key is not on the curve")
		}
		want, err := victim.agree(pub)
		if err != nil {
			t.Fatal(err)
		}
		for _, uT := range torsion {
			vT := curveV(uT)
			if vT == nil {
				t.Fatalf("torsion point u=%v is not on the curve", uT)
			}
			for _, sign := range []int{1, -1} {
				v := new(big.Int).Set(vT)
				if sign < 0 {
					v.Sub(c25519P, v)
				}
				mixed := uLE(montAdd(uP, vP, uT, v))
				if !usablePublicKey(mixed) {
					t.Fatalf("usablePublicKey refuses the mixed-order key %x (not low order)", mixed)
				}
				got, err := victim.agree(mixed)
				if err != nil {
					t.Fatalf("agreement with mixed-order key %x: %v", mixed, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("agreement with P+T (u(T)=%v) differs from that with P: the torsion part is not cleared", uT)
				}
			}
		}
	}
	// And every table entry, in both encodings of bit 255, fails
	// agreement with random private keys (not only with the probe).
	for _, u := range lowOrderU {
		for _, hi := range []byte{0, 0x80} {
			u[31] = u[31]&0x7f | hi
			for range 4 {
				k, _ := newKeyPair(rd)
				pk, _ := ecdh.X25519().NewPublicKey(u[:])
				if s, err := k.priv.ECDH(pk); err == nil {
					t.Fatalf("table entry %x agreed to %x: not low order", u, s)
				}
			}
		}
	}
}
