package pki

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
)

// newSecret draws a 256-bit invitation secret from r (crypto/rand if nil).
func newSecret(r io.Reader) ([32]byte, error) {
	var s [32]byte
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, s[:]); err != nil {
		return s, fmt.Errorf("failed to draw invitation secret: %w", err)
	}
	return s, nil
}

// tokenHash is what the registry stores for a secret: SHA-256 with a
// domain-separation label. A 256-bit random secret needs no slow hash.
func tokenHash(secret [32]byte) [32]byte {
	return sha256.Sum256(append([]byte("fedb2b enrolment token v1\x00"), secret[:]...))
}
