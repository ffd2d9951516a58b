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

// probeKey is a fixed X25519 key used only to test peers' public keys.
var probeKey = func() *ecdh.PrivateKey {
	var b [32]byte
	b[0] = 1
	k, err := ecdh.X25519().NewPrivateKey(b[:])
	if err != nil {
		panic("secagg: probe key: " + err.Error())
	}
	return k
}()

// usablePublicKey reports whether pub is an X25519 public key with which
// agreement succeeds: not a low-order point (those give the all-zero
// secret for every private key, which crypto/ecdh refuses, so an agreement
// with pub would fail for every neighbour).
func usablePublicKey(pub [32]byte) bool {
	k, err := ecdh.X25519().NewPublicKey(pub[:])
	if err != nil {
		return false
	}
	_, err = probeKey.ECDH(k)
	return err == nil
}

// usableAdvert reports whether both keys of an advert are usable: a
// signed advert with a low-order key is its sender's fault, and relaying
// it would make every neighbour's share encryption or mask agreement fail.
func usableAdvert(m *AdvertiseMsg) bool {
	return usablePublicKey(m.EncKey) && usablePublicKey(m.MaskKey)
}
