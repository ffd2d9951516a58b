package secagg

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"

	"filippo.io/age"
	"github.com/fedb2b/fedb2b/privacy"
	"golang.org/x/crypto/chacha20poly1305"
)

// craftStanza is a hostile sender's X25519 stanza: the ephemeral share
// as the given bytes (which need not be canonical), wrapping fileKey
// under the secret it agrees with recipient.
func craftStanza(tb testing.TB, eph *ecdh.PrivateKey, ephBytes []byte, recipient []byte, fileKey []byte) *age.Stanza {
	pk, _ := ecdh.X25519().NewPublicKey(recipient)
	shared, err := eph.ECDH(pk)
	if err != nil {
		tb.Fatal(err)
	}
	body, err := ageWrapAEAD(shared, ephBytes, recipient, func(a aeadSealOpen) ([]byte, error) {
		return a.Seal(nil, make([]byte, chacha20poly1305.NonceSize), fileKey, nil), nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return &age.Stanza{Type: "X25519", Args: []string{ageB64.EncodeToString(ephBytes)}, Body: body}
}

// TestRedAgeUnwrapDifferential feeds the same hostile stanza lists to our
// identity and to age's X25519Identity: they must return the same file
// key, or both fail with the same class of error (ErrIncorrectIdentity,
// which lets age try the next stanza, or a hard error), and never panic.
func TestRedAgeUnwrapDifferential(t *testing.T) {
	rd := privacy.SeededReader(43)
	kp, _ := newKeyPair(rd)
	ours := newAgeX25519Identity(kp)
	theirs, err := ageIdentity(kp.secret())
	if err != nil {
		t.Fatal(err)
	}
	recip := kp.priv.PublicKey().Bytes()
	fileKey := []byte("0123456789abcdef")
	eph, _ := ecdh.X25519().GenerateKey(rand.Reader)
	ephPub := eph.PublicKey().Bytes()
	valid := func() *age.Stanza { return craftStanza(t, eph, ephPub, recip, fileKey) }
	hiBit := func() *age.Stanza { // same point, bit 255 set: X25519 ignores it, the salt does not
		b := bytes.Clone(ephPub)
		b[31] |= 0x80
		return craftStanza(t, eph, b, recip, fileKey)
	}
	other, _ := newKeyPair(rd)
	wrongRecipient := func() *age.Stanza {
		return craftStanza(t, eph, ephPub, other.priv.PublicKey().Bytes(), fileKey)
	}
	with := func(f func(s *age.Stanza)) *age.Stanza { s := valid(); f(s); return s }

	cases := map[string][]*age.Stanza{
		"valid":               {valid()},
		"ephemeral bit 255":   {hiBit()},
		"wrong recipient":     {wrongRecipient()},
		"foreign then valid":  {{Type: "scrypt", Args: []string{"x", "10"}, Body: []byte("y")}, valid()},
		"other key then ours": {wrongRecipient(), valid()},
		"no stanza":           {},
		"lowercase type":      {with(func(s *age.Stanza) { s.Type = "x25519" })},
		"no args":             {with(func(s *age.Stanza) { s.Args = nil })},
		"empty arg":           {with(func(s *age.Stanza) { s.Args[0] = "" })},
		"31-byte key":         {with(func(s *age.Stanza) { s.Args[0] = ageB64.EncodeToString(make([]byte, 31)) })},
		"33-byte key":         {with(func(s *age.Stanza) { s.Args[0] = ageB64.EncodeToString(make([]byte, 33)) })},
		"not base64":          {with(func(s *age.Stanza) { s.Args[0] = "!!!!" })},
		"empty body":          {with(func(s *age.Stanza) { s.Body = nil })},
		"long body":           {with(func(s *age.Stanza) { s.Body = append(s.Body, 0) })},
		"32-byte file key":    {craftStanza(t, eph, ephPub, recip, append(bytes.Clone(fileKey), fileKey...))},
	}
	for i, u := range lowOrderU {
		for _, hi := range []byte{0, 0x80} {
			u[31] = u[31]&0x7f | hi
			cases[fmt.Sprintf("low-order ephemeral %d/%x then valid", i, hi)] = []*age.Stanza{
				{Type: "X25519", Args: []string{ageB64.EncodeToString(u[:])}, Body: make([]byte, 32)}, valid()}
		}
	}
	for name, stanzas := range cases {
		keyOurs, errOurs := ours.Unwrap(stanzas)
		keyAge, errAge := theirs.Unwrap(stanzas)
		if (errOurs == nil) != (errAge == nil) || !bytes.Equal(keyOurs, keyAge) {
			t.Fatalf("%s: ours (%x, %v), age (%x, %v)", name, keyOurs, errOurs, keyAge, errAge)
		}
		if errors.Is(errOurs, age.ErrIncorrectIdentity) != errors.Is(errAge, age.ErrIncorrectIdentity) {
			t.Fatalf("%s: ours says %v, age says %v", name, errOurs, errAge)
		}
	}
	if k, err := ours.Unwrap(cases["ephemeral bit 255"]); err != nil || !bytes.Equal(k, fileKey) {
		t.Fatalf("a stanza whose ephemeral share has bit 255 set does not open (%v): age opens it", err)
	}
}
