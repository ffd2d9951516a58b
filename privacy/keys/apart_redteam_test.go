package keys

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestRedteamIdentityApartBypasses attacks claim 5 of #15 (an age
// identity "stored apart from the key"). CheckIdentityApart compares the
// two files' directories only, after resolving symlinks of the
// directories: an identity in a subdirectory of the key's directory, or
// given as a symlink (elsewhere) to a file beside the key, is accepted —
// yet a copy of the key's directory (a backup, a tarball of the workdir)
// carries the identity with the key.
func TestRedteamIdentityApartBypasses(t *testing.T) {
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(filepath.Join(work, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	kp := filepath.Join(work, "ledger.key.age")
	beside := filepath.Join(work, "age-identity.txt")
	if err := os.WriteFile(beside, []byte("AGE-SECRET-KEY-1…\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "elsewhere")
	if err := os.MkdirAll(other, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(other, "id.txt")
	if err := os.Symlink(beside, link); err != nil {
		t.Fatal(err)
	}
	for name, id := range map[string]string{
		"subdirectory of the key's":   filepath.Join(work, "secrets", "age-identity.txt"),
		"symlink to a file beside it": link,
		"relative path beside it":     filepath.Join(work, ".", "secrets", "..", "age-identity.txt"),
	} {
		if err := CheckIdentityApart(kp, id); !errors.Is(err, ErrIdentityBesideKey) {
			t.Errorf("identity %s (%s): %v, want ErrIdentityBesideKey", name, id, err)
		}
	}
	// Apart: a sibling directory, and the key's parent (copying the key's
	// directory does not carry it).
	for _, id := range []string{filepath.Join(dir, "secrets", "id.txt"), filepath.Join(dir, "id.txt")} {
		if err := CheckIdentityApart(kp, id); err != nil {
			t.Errorf("identity %s: %v, want accepted", id, err)
		}
	}
}
