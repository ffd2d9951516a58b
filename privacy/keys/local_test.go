package keys

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
)

func TestLoadOrCreate(t *testing.T) {
	dir := t.TempDir()
	kp, ap := filepath.Join(dir, "signing.key.age"), filepath.Join(dir, "age-identity.txt")
	k1, err := LoadOrCreate(kp, ap)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreate(kp, ap)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Fatal("second load returned another key")
	}
	if PublicPath(kp) != filepath.Join(dir, "signing.pub") {
		t.Errorf("public key path %s", PublicPath(kp))
	}
	pub, err := ReadPublic(PublicPath(kp))
	if err != nil || !pub.Equal(k1.Public()) {
		t.Fatalf("public key file: %v", err)
	}
	for _, p := range []string{kp, ap} {
		fi, _ := os.Stat(p)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", p, fi.Mode().Perm())
		}
	}
	os.Remove(ap)
	if _, err := LoadOrCreate(kp, ap); err == nil {
		t.Fatal("key without its identity file was replaced silently")
	}
}

func TestLoadOrCreateWithRefusesIdentityBeside(t *testing.T) {
	dir := t.TempDir()
	kp := filepath.Join(dir, "work", "signing.key.age")
	if err := CheckIdentityApart(kp, filepath.Join(dir, "work", "age-identity.txt")); !errors.Is(err, ErrIdentityBesideKey) {
		t.Fatalf("identity beside the key accepted: %v", err)
	}
	if err := CheckIdentityApart(kp, filepath.Join(dir, "secrets", "age-identity.txt")); err != nil {
		t.Fatalf("identity elsewhere refused: %v", err)
	}
	os.MkdirAll(filepath.Join(dir, "work"), 0o700)
	id, _ := age.GenerateX25519Identity()
	k1, err := LoadOrCreateWith(kp, id, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateWith(kp, id, id.Recipient())
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("reload: %v", err)
	}
	other, _ := age.GenerateX25519Identity()
	if _, err := LoadOrCreateWith(kp, other, other.Recipient()); err == nil {
		t.Fatal("key decrypted with the wrong identity")
	}
	if _, err := ReadPublic(PublicPath(kp)); err != nil {
		t.Fatalf("public key not written: %v", err)
	}
}
