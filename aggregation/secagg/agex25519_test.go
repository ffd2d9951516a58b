package secagg

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/fedb2b/fedb2b/privacy"
)

// ageIdentity is age's own X25519 identity for a secret key (through its
// bech32 encoding), to check agex25519.go against age.
func ageIdentity(secret [32]byte) (*age.X25519Identity, error) {
	return age.ParseX25519Identity(strings.ToUpper(bech32Encode("age-secret-key-", secret[:])))
}

func ageSeal(tb testing.TB, r age.Recipient, msg []byte) []byte {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		tb.Fatal(err)
	}
	w.Write(msg)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func ageOpen(id age.Identity, ct []byte) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(ct), id)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// TestAgeX25519MatchesAge checks the stanza code against age both ways:
// what it seals, age's X25519Identity opens, and what age's
// X25519Recipient seals, it opens; and it attacks the unwrap: a wrong key,
// a flipped body or ephemeral-key bit, a low-order ephemeral key, a body
// of the wrong length and a malformed argument are all refused, as age
// refuses them.
func TestAgeX25519MatchesAge(t *testing.T) {
	rd := privacy.SeededReader(9)
	kp, _ := newKeyPair(rd)
	other, _ := newKeyPair(rd)
	msg := []byte("share plaintext: session, sender, recipient, two field elements")
	ours, err := newAgeX25519Recipient(kp.public())
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := ageIdentity(kp.secret())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ageOpen(theirs, ageSeal(t, ours, msg)); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("age cannot open our stanza: %v", err)
	}
	ct := ageSeal(t, theirs.Recipient(), msg)
	id := newAgeX25519Identity(kp)
	if got, err := ageOpen(id, ct); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("we cannot open age's stanza: %v", err)
	}
	if _, err := ageOpen(newAgeX25519Identity(other), ct); err == nil {
		t.Fatal("wrong identity opened the share")
	}

	// Stanza-level attacks, each also checked against age itself.
	stanza := func() *age.Stanza {
		s, err := ours.Wrap(make([]byte, ageFileKeySize))
		if err != nil {
			t.Fatal(err)
		}
		return s[0]
	}
	lowOrder := ageB64.EncodeToString(make([]byte, 32))
	for name, mutate := range map[string]func(s *age.Stanza){
		"body bit": func(s *age.Stanza) { s.Body[3] ^= 1 },
		"ephemeral bit": func(s *age.Stanza) {
			b, _ := ageB64.DecodeString(s.Args[0])
			b[5] ^= 1
			s.Args[0] = ageB64.EncodeToString(b)
		},
		"low-order key":   func(s *age.Stanza) { s.Args[0] = lowOrder },
		"short body":      func(s *age.Stanza) { s.Body = s.Body[:len(s.Body)-1] },
		"two args":        func(s *age.Stanza) { s.Args = append(s.Args, "x") },
		"newline in arg":  func(s *age.Stanza) { s.Args[0] += "\n" },
		"padded argument": func(s *age.Stanza) { s.Args[0] += "=" },
	} {
		s := stanza()
		mutate(s)
		_, errOurs := id.Unwrap([]*age.Stanza{s})
		_, errAge := theirs.Unwrap([]*age.Stanza{s})
		if errOurs == nil || errAge == nil {
			t.Fatalf("%s: unwrap accepted a tampered stanza (ours: %v, age: %v)", name, errOurs, errAge)
		}
		if errors.Is(errOurs, age.ErrIncorrectIdentity) != errors.Is(errAge, age.ErrIncorrectIdentity) {
			t.Fatalf("%s: ours says %v, age says %v", name, errOurs, errAge)
		}
	}
	s := stanza()
	s.Type = "scrypt"
	if _, err := id.Unwrap([]*age.Stanza{s}); !errors.Is(err, age.ErrIncorrectIdentity) {
		t.Fatalf("foreign stanza type: %v", err)
	}
}
