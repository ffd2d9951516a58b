package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/fedb2b/fedb2b/privacy/keys"
)

func TestKeysNewPassphrase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "acme")
	t.Setenv("FEDB2B_TEST_PASS", "s3cret passphrase")
	code, out, errs := auditRun("keys", "new", "--out", dir, "--passphrase-env", "FEDB2B_TEST_PASS", "--scrypt-log-n", "10")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	keyPath, pubPath := filepath.Join(dir, "signing.key.age"), filepath.Join(dir, "signing.pub")
	st, err := os.Stat(keyPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v", err, st.Mode())
	}
	id, _ := keys.PassphraseIdentity("s3cret passphrase")
	priv, err := keys.Load(keyPath, id)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := keys.ReadPublic(pubPath)
	if err != nil || !pub.Equal(priv.Public()) {
		t.Fatalf("public key file does not match the private key: %v", err)
	}
	if !strings.Contains(out, "key id "+keys.ID(pub)) {
		t.Fatalf("output = %q", out)
	}
	code, out, _ = auditRun("keys", "id", pubPath)
	if code != 0 || out != keys.ID(pub)+"  "+pubPath+"\n" {
		t.Fatalf("keys id: exit %d, %q", code, out)
	}
	// Never overwritten.
	code, _, errs = auditRun("keys", "new", "--out", dir, "--passphrase-env", "FEDB2B_TEST_PASS", "--scrypt-log-n", "10")
	if code != 1 || !strings.Contains(errs, "signing.key.age already exists; keys are never overwritten") {
		t.Fatalf("second keys new: exit %d, %q", code, errs)
	}
}

func TestKeysNewIdentity(t *testing.T) {
	dir := t.TempDir()
	x, _ := age.GenerateX25519Identity()
	idFile := filepath.Join(dir, "age-identity.txt")
	os.WriteFile(idFile, []byte(x.String()+"\n"), 0o600)
	out := filepath.Join(dir, "coordinator")
	if code, _, errs := auditRun("keys", "new", "--out", out, "--identity", idFile); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if _, err := keys.Load(filepath.Join(out, "signing.key.age"), x); err != nil {
		t.Fatal(err)
	}
}

func TestKeysUsageErrors(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FEDB2B_EMPTY", "")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"keys"}, 2, "usage: fedb2b keys new"},
		{[]string{"keys", "rotate"}, 2, `unknown subcommand "rotate"`},
		{[]string{"keys", "new", "--passphrase-env", "X"}, 2, "--out DIR is required"},
		{[]string{"keys", "new", "--out", dir}, 2, "give exactly one of --passphrase-env VAR or --identity FILE"},
		{[]string{"keys", "new", "--out", dir, "--passphrase-env", "A", "--identity", "B"}, 2, "give exactly one of"},
		{[]string{"keys", "new", "--out", dir, "--passphrase-env", "FEDB2B_EMPTY"}, 2, "environment variable FEDB2B_EMPTY is empty or unset"},
		{[]string{"keys", "new", "--out", dir, "--identity", filepath.Join(dir, "none")}, 1, "no such file or directory"},
		{[]string{"keys", "id", filepath.Join(dir, "none.pub")}, 1, "none.pub: no such file"},
	} {
		code, _, errs := auditRun(tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}

// Outside the demo, no party starts with a signing key that only file
// modes protect: without a passphrase or an identity kept elsewhere the
// client and the coordinator refuse, saying how to start.
func TestSigningKeyMustBeProtected(t *testing.T) {
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data.csv")
	os.WriteFile(data, []byte("text,label\nbolts,tools\nbread,food\n"), 0o600)
	work := filepath.Join(tmp, "work")
	os.MkdirAll(work, 0o700)
	beside := filepath.Join(work, "age-identity.txt")
	id, _ := age.GenerateX25519Identity()
	os.WriteFile(beside, []byte(id.String()+"\n"), 0o600)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"client, no key protection":        {[]string{"client", "--coordinator", "127.0.0.1:1", "--tenant", "acme", "--data", data, "--workdir", work, "--insecure-no-tls"}, "--passphrase-env VAR"},
		"client, identity beside the key":  {[]string{"client", "--coordinator", "127.0.0.1:1", "--tenant", "acme", "--data", data, "--workdir", work, "--insecure-no-tls", "--identity", beside}, "stored beside the key"},
		"coordinator, no key protection":   {[]string{"coordinator", "--labels", "a,b", "--workdir", work, "--insecure-no-tls", "--listen", "127.0.0.1:0"}, "must be encrypted"},
		"coordinator, identity beside key": {[]string{"coordinator", "--labels", "a,b", "--workdir", work, "--insecure-no-tls", "--listen", "127.0.0.1:0", "--identity", beside}, "stored beside the key"},
	} {
		if _, e, code := runCLI(t, tc.args...); code != 1 || !strings.Contains(e, tc.want) {
			t.Errorf("%s: exit %d, %q; want refusal containing %q", name, code, e, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "signing.key.age")); err == nil {
		t.Error("a refused start left a signing key behind")
	}
}
