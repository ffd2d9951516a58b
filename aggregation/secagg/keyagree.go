package secagg

import (
	"crypto/ecdh"
	"fmt"
	"io"
)

// keyPair is one X25519 key pair (Bonawitz et al. 2017 §3.2, key agreement
// KA.gen / KA.agree, instantiated with Diffie–Hellman on Curve25519).
// Each client makes two per round: c for share encryption, s for masks.
type keyPair struct {
	priv *ecdh.PrivateKey
}

// newKeyPair reads 32 bytes from r as the private scalar. The reader is
// used directly (not ecdh.GenerateKey, which ignores its reader since Go
// 1.24) so that seeded tests are reproducible.
func newKeyPair(r io.Reader) (keyPair, error) {
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return keyPair{}, fmt.Errorf("secagg: failed to read key material: %w", err)
	}
	priv, err := ecdh.X25519().NewPrivateKey(b[:])
	if err != nil {
		return keyPair{}, fmt.Errorf("secagg: failed to make X25519 key: %w", err)
	}
	return keyPair{priv: priv}, nil
}

// privateKeyFromBytes rebuilds a key pair from a reconstructed secret.
func privateKeyFromBytes(b []byte) (keyPair, error) {
	priv, err := ecdh.X25519().NewPrivateKey(b)
	if err != nil {
		return keyPair{}, fmt.Errorf("%w: reconstructed key: %v", ErrInconsistent, err)
	}
	return keyPair{priv: priv}, nil
}

// public returns the 32-byte public key.
func (k keyPair) public() [32]byte {
	var p [32]byte
	copy(p[:], k.priv.PublicKey().Bytes())
	return p
}

// secret returns the 32-byte private scalar (to be Shamir-shared).
func (k keyPair) secret() [32]byte {
	var s [32]byte
	copy(s[:], k.priv.Bytes())
	return s
}

// agree computes the X25519 shared secret with a peer's public key. It
// fails on low-order points (all-zero output), which a malicious peer or
// coordinator could send to force a known mask.
func (k keyPair) agree(peer [32]byte) ([]byte, error) {
	pub, err := ecdh.X25519().NewPublicKey(peer[:])
	if err != nil {
		return nil, fmt.Errorf("%w: bad X25519 public key: %v", ErrMalformed, err)
	}
	s, err := k.priv.ECDH(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: X25519 agreement failed (low-order key?): %v", ErrInconsistent, err)
	}
	return s, nil
}

// lowOrderU lists, little-endian, the u-coordinates of every point of
// order dividing 8 on Curve25519 and on its twist — 0, 1, p−1 and the two
// points of order 8 — and the non-canonical encodings p and p+1 of 0 and 1
// (no other encoding of these reduces to them below 2^255): libsodium's
// has_small_order list. X25519 with any clamped scalar (a multiple of 8)
// maps exactly these points to the all-zero output that crypto/ecdh
// refuses; bit 255 is ignored (RFC 7748 §5), here as there.
var lowOrderU = [...][32]byte{
	{},
	{0x01},
	{0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
	{0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
	{0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
	{0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
	{0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
}

// usablePublicKey reports whether pub is an X25519 public key with which
// agreement succeeds: not a low-order point (those give the all-zero
// secret for every private key, which crypto/ecdh refuses, so an agreement
// with pub would fail for every neighbour). It compares against lowOrderU
// (a table look-up instead of a trial scalar multiplication; the two
// agree on every input, tested against an X25519 probe in
// TestUsablePublicKeyMatchesProbe).
func usablePublicKey(pub [32]byte) bool {
	pub[31] &= 0x7f
	for i := range lowOrderU {
		if pub == lowOrderU[i] {
			return false
		}
	}
	return true
}

// usableAdvert reports whether both keys of an advert are usable: a
// signed advert with a low-order key is its sender's fault, and relaying
// it would make every neighbour's share encryption or mask agreement fail.
func usableAdvert(m *AdvertiseMsg) bool {
	return usablePublicKey(m.EncKey) && usablePublicKey(m.MaskKey)
}
