package secagg

import (
	"bytes"
	"errors"
	"testing"

	"filippo.io/age"
	"github.com/fedb2b/fedb2b/privacy"
)

// decoyShare is what a hostile neighbour can send: a share ciphertext to
// the victim's key carrying, before the victim's stanza, as many decoy
// X25519 stanzas (to keys of its own) as fit under maxShareCiphertext.
// Each decoy costs the victim one scalar multiplication and an AEAD
// failure before its own stanza opens.
func decoyShare(tb testing.TB, victimPub [32]byte, plaintext []byte) ([]byte, int) {
	rd := privacy.SeededReader(47)
	var best []byte
	n := 0
	for decoys := 0; ; decoys++ {
		var rs []age.Recipient
		for range decoys {
			k, _ := newKeyPair(rd)
			r, err := newAgeX25519Recipient(k.public())
			if err != nil {
				tb.Fatal(err)
			}
			rs = append(rs, r)
		}
		r, err := newAgeX25519Recipient(victimPub)
		if err != nil {
			tb.Fatal(err)
		}
		rs = append(rs, r)
		var buf bytes.Buffer
		w, err := age.Encrypt(&buf, rs...)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(plaintext)
		w.Close()
		if buf.Len() > maxShareCiphertext {
			return best, n
		}
		best, n = buf.Bytes(), decoys
	}
}

// TestRedShareDecoyStanzasRefused: sealShare always writes exactly one
// stanza, so a share ciphertext with more is the sender's doing and must
// not cost the recipient more than one scalar multiplication: it is
// refused (and draws a complaint, like any share that does not open).
func TestRedShareDecoyStanzasRefused(t *testing.T) {
	rd := privacy.SeededReader(48)
	victim, _ := newKeyPair(rd)
	pt := bytes.Repeat([]byte{7}, sharePlainSize)
	ct, decoys := decoyShare(t, victim.public(), pt)
	if decoys < 2 {
		t.Fatalf("only %d decoy stanzas fit in %d bytes", decoys, maxShareCiphertext)
	}
	id := newAgeX25519Identity(victim)
	got, err := openShareWith(id, ct)
	if err == nil {
		t.Fatalf("a share with %d decoy stanzas before the recipient's opened (%d bytes of plaintext): %d wasted scalar multiplications", decoys, len(got), decoys)
	}
	if !errors.Is(err, ErrInconsistent) {
		t.Fatalf("decoy stanzas: %v, want ErrInconsistent (a share that does not open)", err)
	}
	// An honest share still opens.
	honest, err := sealShare(victim.public(), pt)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := openShareWith(id, honest); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("honest share: %v", err)
	}
}

func BenchmarkRedOpenShareDecoys(b *testing.B) {
	rd := privacy.SeededReader(49)
	victim, _ := newKeyPair(rd)
	pt := bytes.Repeat([]byte{7}, sharePlainSize)
	id := newAgeX25519Identity(victim)
	honest, _ := sealShare(victim.public(), pt)
	decoy, _ := decoyShare(b, victim.public(), pt)
	b.Run("honest", func(b *testing.B) {
		for b.Loop() {
			openShareWith(id, honest)
		}
	})
	b.Run("decoys", func(b *testing.B) {
		for b.Loop() {
			openShareWith(id, decoy)
		}
	})
}
