package secagg

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

// age's X25519 recipient stanza (age-encryption.org/v1, "X25519
// recipient stanza"), built on crypto/ecdh. The stanza, its bytes and the
// checks are those of age.X25519Recipient / age.X25519Identity (tested
// against them both ways in TestAgeX25519MatchesAge); the difference is
// the cost: golang.org/x/crypto/curve25519.X25519, which age calls, builds
// an ecdh.PrivateKey per call and so computes a public key it discards,
// which makes an age encryption 4 X25519 scalar multiplications and a
// decryption 2, against 2 and 1 here. The file key, header MAC and payload
// stay age's (age.Encrypt / age.Decrypt).

const (
	ageX25519Label = "age-encryption.org/v1/X25519"
	ageFileKeySize = 16
)

var ageB64 = base64.RawStdEncoding.Strict()

// ageX25519Recipient wraps age file keys to one X25519 public key.
type ageX25519Recipient struct {
	their      *ecdh.PublicKey
	theirBytes []byte
}

func newAgeX25519Recipient(pub [32]byte) (*ageX25519Recipient, error) {
	k, err := ecdh.X25519().NewPublicKey(pub[:])
	if err != nil {
		return nil, fmt.Errorf("%w: encryption key: %v", ErrMalformed, err)
	}
	return &ageX25519Recipient{their: k, theirBytes: k.Bytes()}, nil
}

// Wrap is age.X25519Recipient.Wrap: a fresh ephemeral key from
// crypto/rand, wrapping key HKDF-SHA256(shared, ephemeral ‖ recipient,
// label), ChaCha20-Poly1305 with the zero nonce.
func (r *ageX25519Recipient) Wrap(fileKey []byte) ([]*age.Stanza, error) {
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	ours := eph.PublicKey().Bytes()
	shared, err := eph.ECDH(r.their)
	if err != nil {
		return nil, err
	}
	body, err := ageWrapAEAD(shared, ours, r.theirBytes, func(a aeadSealOpen) ([]byte, error) {
		return a.Seal(nil, make([]byte, chacha20poly1305.NonceSize), fileKey, nil), nil
	})
	if err != nil {
		return nil, err
	}
	return []*age.Stanza{{Type: "X25519", Args: []string{ageB64.EncodeToString(ours)}, Body: body}}, nil
}

// ageX25519Identity unwraps file keys wrapped to its public key.
type ageX25519Identity struct {
	priv *ecdh.PrivateKey
	ours []byte
}

func newAgeX25519Identity(k keyPair) *ageX25519Identity {
	return &ageX25519Identity{priv: k.priv, ours: k.priv.PublicKey().Bytes()}
}

// Unwrap is age.X25519Identity.Unwrap: the first stanza addressed to this
// identity gives the file key; stanzas of other types or that do not open
// are skipped (age.ErrIncorrectIdentity); a malformed X25519 stanza or a
// low-order ephemeral key is an error.
func (i *ageX25519Identity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	for _, s := range stanzas {
		fileKey, err := i.unwrap(s)
		if errors.Is(err, age.ErrIncorrectIdentity) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return fileKey, nil
	}
	return nil, age.ErrIncorrectIdentity
}

func (i *ageX25519Identity) unwrap(b *age.Stanza) ([]byte, error) {
	if b.Type != "X25519" {
		return nil, age.ErrIncorrectIdentity
	}
	if len(b.Args) != 1 {
		return nil, errors.New("invalid X25519 recipient block")
	}
	if strings.ContainsAny(b.Args[0], "\n\r") {
		return nil, errors.New("failed to parse X25519 recipient: unexpected newline character")
	}
	pub, err := ageB64.DecodeString(b.Args[0])
	if err != nil {
		return nil, fmt.Errorf("failed to parse X25519 recipient: %v", err)
	}
	if len(pub) != 32 {
		return nil, errors.New("invalid X25519 recipient block")
	}
	pk, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("invalid X25519 recipient: %v", err)
	}
	shared, err := i.priv.ECDH(pk) // refuses the all-zero (low-order) output
	if err != nil {
		return nil, fmt.Errorf("invalid X25519 recipient: %v", err)
	}
	return ageWrapAEAD(shared, pub, i.ours, func(a aeadSealOpen) ([]byte, error) {
		if len(b.Body) != ageFileKeySize+a.Overhead() {
			return nil, errors.New("invalid X25519 recipient block: incorrect file key size")
		}
		fileKey, err := a.Open(nil, make([]byte, chacha20poly1305.NonceSize), b.Body, nil)
		if err != nil {
			return nil, age.ErrIncorrectIdentity
		}
		return fileKey, nil
	})
}

type aeadSealOpen interface {
	Seal(dst, nonce, plaintext, additionalData []byte) []byte
	Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
	Overhead() int
}

// ageWrapAEAD derives the stanza's wrapping key from the shared secret and
// the two public keys (ephemeral first) and hands its AEAD to f.
func ageWrapAEAD(shared, ephemeral, recipient []byte, f func(aeadSealOpen) ([]byte, error)) ([]byte, error) {
	salt := make([]byte, 0, 64)
	salt = append(append(salt, ephemeral...), recipient...)
	key, err := hkdf.Key(sha256.New, shared, salt, ageX25519Label, chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	a, err := chacha20poly1305.New(key)
	if err != nil {
		return nil, err
	}
	return f(a)
}
