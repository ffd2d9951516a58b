package privacy

import (
	"crypto/rand"
	"fmt"
	"io"
	mrand "math/rand/v2"
)

// NewRand returns a fast cryptographically secure generator (ChaCha8, as in
// math/rand/v2) keyed with 32 bytes read from seed. Pass crypto/rand.Reader
// in production; tests pass a seeded reader. Every random choice that
// protects privacy (Poisson sampling, Gaussian noise) draws from such a
// generator, never from a 64-bit-seeded math/rand source.
func NewRand(seed io.Reader) (*mrand.Rand, error) {
	if seed == nil {
		seed = rand.Reader
	}
	var key [32]byte
	if _, err := io.ReadFull(seed, key[:]); err != nil {
		return nil, fmt.Errorf("privacy: failed to read generator key: %w", err)
	}
	return mrand.New(mrand.NewChaCha8(key)), nil
}

// SeededReader is a deterministic io.Reader for tests and reproducible
// simulations: a ChaCha8 stream keyed by seed. Never use it for a real
// deployment; the seed is not secret.
func SeededReader(seed uint64) io.Reader {
	var key [32]byte
	for i := 0; i < 8; i++ {
		key[i] = byte(seed >> (8 * i))
	}
	return mrand.NewChaCha8(key)
}

// DeriveReader returns an independent ChaCha8 stream keyed with 32 bytes
// read from seed (crypto/rand when nil). Simulations give each party its
// own derived reader, so parties never share one reader across goroutines
// and a seeded run stays reproducible.
func DeriveReader(seed io.Reader) (io.Reader, error) {
	if seed == nil {
		seed = rand.Reader
	}
	var key [32]byte
	if _, err := io.ReadFull(seed, key[:]); err != nil {
		return nil, fmt.Errorf("privacy: failed to read stream key: %w", err)
	}
	return mrand.NewChaCha8(key), nil
}
