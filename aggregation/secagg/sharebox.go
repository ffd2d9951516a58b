package secagg

import (
	"bytes"
	"fmt"
	"io"

	"filippo.io/age"
)

// Share encryption (Bonawitz et al. 2017 §3.3, authenticated encryption
// of the shares relayed by the server). Shares are encrypted with
// filippo.io/age to the recipient's per-round X25519 encryption key c_v^PK
// (an age X25519 recipient: ephemeral X25519, HKDF-SHA256,
// ChaCha20-Poly1305; the stanza is made and opened by agex25519.go, with
// half of age's own scalar multiplications). age has no associated data, so the plaintext itself
// starts with labelSharePlain ‖ session ID ‖ sender ‖ recipient, and the
// recipient checks all four after decryption: a share cannot be replayed
// into another session or redirected to another pair.
//
// The ephemeral keys come from crypto/rand (ecdh.GenerateKey, as in age),
// not from the injected reader, so ciphertexts differ between runs even in
// seeded tests; nothing depends on their bytes.

// maxShareCiphertext bounds a share ciphertext (the plaintext is ~170 bytes;
// an age header with one X25519 stanza is ~200 bytes).
const maxShareCiphertext = 1024

// sealShare encrypts plaintext to the X25519 public key pub.
func sealShare(pub [32]byte, plaintext []byte) ([]byte, error) {
	r, err := newAgeX25519Recipient(pub)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		return nil, fmt.Errorf("secagg: failed to encrypt share: %w", err)
	}
	if _, err := w.Write(plaintext); err != nil {
		return nil, fmt.Errorf("secagg: failed to encrypt share: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("secagg: failed to encrypt share: %w", err)
	}
	return buf.Bytes(), nil
}

// openShare decrypts a share ciphertext with the X25519 secret key.
func openShare(secret [32]byte, ciphertext []byte) ([]byte, error) {
	k, err := privateKeyFromBytes(secret[:])
	if err != nil {
		return nil, err
	}
	return openShareWith(newAgeX25519Identity(k), ciphertext)
}

// openShareWith decrypts a share ciphertext with an age identity (made once
// per session: building one costs a scalar multiplication).
func openShareWith(id age.Identity, ciphertext []byte) ([]byte, error) {
	if len(ciphertext) > maxShareCiphertext {
		return nil, fmt.Errorf("%w: share ciphertext of %d bytes exceeds %d", ErrMalformed, len(ciphertext), maxShareCiphertext)
	}
	r, err := age.Decrypt(bytes.NewReader(ciphertext), oneStanza{id})
	if err != nil {
		return nil, fmt.Errorf("%w: share does not decrypt: %v", ErrInconsistent, err)
	}
	pt, err := io.ReadAll(io.LimitReader(r, maxShareCiphertext+1))
	if err != nil {
		return nil, fmt.Errorf("%w: share does not decrypt: %v", ErrInconsistent, err)
	}
	if len(pt) > maxShareCiphertext {
		return nil, fmt.Errorf("%w: share plaintext too long", ErrMalformed)
	}
	return pt, nil
}

// oneStanza refuses headers with other than one stanza before id sees
// them: sealShare writes exactly one, and each extra X25519 stanza a
// hostile sender adds would cost the recipient a scalar multiplication
// (7 fit under maxShareCiphertext: 2.8× the work of opening an honest
// share, BenchmarkRedOpenShareDecoys).
type oneStanza struct{ id age.Identity }

func (o oneStanza) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	if len(stanzas) != 1 {
		return nil, fmt.Errorf("share ciphertext has %d stanzas, want 1", len(stanzas))
	}
	return o.id.Unwrap(stanzas)
}
