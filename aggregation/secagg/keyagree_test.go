package secagg

import (
	"crypto/ecdh"
	"math/big"
	"math/rand/v2"
	"testing"
)

// probeUsable is the former check: a trial X25519 agreement with a fixed
// key, which crypto/ecdh refuses exactly for low-order points.
func probeUsable(tb testing.TB, pub [32]byte) bool {
	var b [32]byte
	b[0] = 1
	k, err := ecdh.X25519().NewPrivateKey(b[:])
	if err != nil {
		tb.Fatal(err)
	}
	pk, err := ecdh.X25519().NewPublicKey(pub[:])
	if err != nil {
		return false
	}
	_, err = k.ECDH(pk)
	return err == nil
}

// TestUsablePublicKeyMatchesProbe attacks the table look-up that replaced
// the trial agreement: every low-order point in either encoding of bit
// 255, every u near 0 and near p (where non-canonical encodings live),
// and random keys must be judged exactly as the X25519 probe judges them.
// A missing table entry would let a hostile advert with that point through
// (TestKeyAgreementRejectsLowOrder and the server's advert check depend on it).
func TestUsablePublicKeyMatchesProbe(t *testing.T) {
	var cases [][32]byte
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	// The low-order u-coordinates, written independently of lowOrderU's
	// bytes: 0, 1, p−1, the two points of order 8 (Bernstein's Curve25519
	// page; libsodium), and the non-canonical p and p+1.
	for _, dec := range []string{"0", "1",
		"325606250916557431795983626356110631294008115727848805560023387167927233504",
		"39382357235489614581723060781553021112529911719440698176882885853963445705823"} {
		v, _ := new(big.Int).SetString(dec, 10)
		for _, w := range []*big.Int{v, new(big.Int).Sub(p, v), new(big.Int).Add(p, v)} {
			if w.BitLen() > 255 {
				continue
			}
			var u [32]byte
			w.FillBytes(u[:])
			for l, r := 0, 31; l < r; l, r = l+1, r-1 {
				u[l], u[r] = u[r], u[l]
			}
			cases = append(cases, u)
			u[31] |= 0x80
			cases = append(cases, u)
		}
	}
	for i := int64(-64); i < 64; i++ {
		for _, base := range []*big.Int{big.NewInt(0), p} {
			v := new(big.Int).Add(base, big.NewInt(i))
			if v.Sign() < 0 || v.BitLen() > 255 {
				continue
			}
			var u [32]byte
			v.FillBytes(u[:])
			for l, r := 0, 31; l < r; l, r = l+1, r-1 {
				u[l], u[r] = u[r], u[l]
			}
			cases = append(cases, u)
			u[31] |= 0x80
			cases = append(cases, u)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		var u [32]byte
		for i := range u {
			u[i] = byte(r.Uint32())
		}
		cases = append(cases, u)
	}
	bad := map[[32]byte]bool{}
	for _, u := range cases {
		want := probeUsable(t, u)
		if got := usablePublicKey(u); got != want {
			t.Fatalf("usablePublicKey(%x) = %v, X25519 probe says %v", u, got, want)
		}
		if !want {
			bad[u] = true
		}
	}
	if len(bad) != 2*len(lowOrderU) {
		t.Fatalf("%d distinct low-order encodings among the cases, want %d", len(bad), 2*len(lowOrderU))
	}
}
