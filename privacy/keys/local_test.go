package keys

import (
	"os"
	"path/filepath"
	"testing"
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
