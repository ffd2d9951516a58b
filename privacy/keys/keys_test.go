package keys

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/fedb2b/fedb2b/privacy"
)

// RFC 8032 section 7.1, test 1.
const (
	rfcSeed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
	rfcPub  = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
)

func TestIDKnownAnswer(t *testing.T) {
	pub, _ := hex.DecodeString(rfcPub)
	// sha256(pub)[:8], computed independently with sha256sum.
	if got, want := ID(pub), "21fe31dfa154a261"; got != want {
		t.Fatalf("ID = %s, want %s", got, want)
	}
}

func TestSaveLoadPassphrase(t *testing.T) {
	dir := t.TempDir()
	priv, err := Generate(privacy.SeededReader(1))
	if err != nil {
		t.Fatal(err)
	}
	r, err := PassphraseRecipient("correct horse", 10)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "signing.key.age")
	if err := Save(path, priv, r); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", st.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, priv.Seed()) || bytes.Contains(raw, []byte(seedLabel)) {
		t.Fatal("key file contains the seed in clear")
	}
	id, _ := PassphraseIdentity("correct horse")
	got, err := Load(path, id)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(priv) {
		t.Fatal("loaded key differs from saved key")
	}
	bad, _ := PassphraseIdentity("wrong")
	_, err = Load(path, bad)
	if err == nil || !strings.Contains(err.Error(), "failed to decrypt signing key") {
		t.Fatalf("wrong passphrase: err = %v", err)
	}
	if err := Save(path, priv, r); !errors.Is(err, ErrExists) {
		t.Fatalf("second Save: err = %v, want ErrExists", err)
	}
}

func TestSaveLoadIdentityFile(t *testing.T) {
	dir := t.TempDir()
	x, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	idPath := filepath.Join(dir, "age.txt")
	os.WriteFile(idPath, []byte("# created for a test\n"+x.String()+"\n"), 0o600)
	ids, err := ReadIdentityFile(idPath)
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := hex.DecodeString(rfcSeed)
	priv := ed25519.NewKeyFromSeed(seed)
	path := filepath.Join(dir, "k.age")
	if err := Save(path, priv, ids[0].Recipient()); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got.Public().(ed25519.PublicKey)) != rfcPub {
		t.Fatal("loaded key does not give the RFC 8032 public key")
	}
	other, _ := age.GenerateX25519Identity()
	if _, err := Load(path, other); err == nil {
		t.Fatal("Load with another identity succeeded")
	}
	os.WriteFile(idPath, []byte("not an identity\n"), 0o600)
	if _, err := ReadIdentityFile(idPath); err == nil || !strings.Contains(err.Error(), "invalid age identity file") {
		t.Fatalf("bad identity file: err = %v", err)
	}
}

func TestLoadRejectsOtherPayload(t *testing.T) {
	dir := t.TempDir()
	x, _ := age.GenerateX25519Identity()
	var buf bytes.Buffer
	w, _ := age.Encrypt(&buf, x.Recipient())
	w.Write([]byte("hello world\n"))
	w.Close()
	path := filepath.Join(dir, "other.age")
	os.WriteFile(path, buf.Bytes(), 0o600)
	_, err := Load(path, x)
	if err == nil || !strings.Contains(err.Error(), "not a fedb2b signing key") {
		t.Fatalf("err = %v", err)
	}
}

func TestPublicRoundTrip(t *testing.T) {
	dir := t.TempDir()
	pub, _ := hex.DecodeString(rfcPub)
	path := filepath.Join(dir, "signing.pub")
	if err := WritePublic(path, pub); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPublic(path)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(ed25519.PublicKey(pub)) {
		t.Fatal("public key round trip failed")
	}
	if err := WritePublic(path, pub); !errors.Is(err, ErrExists) {
		t.Fatalf("overwrite: err = %v", err)
	}
	// Hex is accepted on input.
	if got, err := ParsePublic([]byte(rfcPub + "\n")); err != nil || !got.Equal(ed25519.PublicKey(pub)) {
		t.Fatalf("hex input: %v", err)
	}
}

func TestParsePublicErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "no key in public key file"},
		{"# only a comment\n", "no key in public key file"},
		{"AAAA\n", "line 1: not a 32-byte ed25519 public key"},
		{strings.Repeat("zz", 32) + "\n", "line 1: not a 32-byte"},
		{rfcPub + "\n" + rfcPub + "\n", "line 2: more than one key"},
	} {
		_, err := ParsePublic([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParsePublic(%q) err = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func FuzzParsePublic(f *testing.F) {
	f.Add([]byte(rfcPub))
	f.Add(MarshalPublic(make([]byte, 32)))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePublic(b)
		if err != nil {
			return
		}
		k2, err := ParsePublic(MarshalPublic(k))
		if err != nil || !k2.Equal(k) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}
