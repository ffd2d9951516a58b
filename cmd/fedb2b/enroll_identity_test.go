package main

import (
	"crypto/ed25519"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"google.golang.org/grpc"

	"github.com/fedb2b/fedb2b/client/enroll"
	"github.com/fedb2b/fedb2b/coordinator/pki"
	"github.com/fedb2b/fedb2b/privacy/keys"
)

// `client enroll --workdir` and `--identity-pub` bind the tenant's signing
// key into its certificate; `client` refuses a --key other than the bound
// one before it connects.
func TestEnrollBindsIdentityKey(t *testing.T) {
	tmp := t.TempDir()
	caDir := filepath.Join(tmp, "ca")
	caID, _ := age.GenerateX25519Identity()
	if err := pki.Init(caDir, pki.InitOptions{Recipient: caID.Recipient()}); err != nil {
		t.Fatal(err)
	}
	auth, err := pki.LoadAuthority(caDir, caID, 0)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := pki.GRPCServerOptions(pki.ServerConfig{Dir: caDir, Identity: caID, Registry: auth.Registry(), AllowEnrollment: true})
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(opts...)
	pki.NewEnrollmentService(auth, nil).Register(g)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(lis)
	defer g.Stop()

	tid, _ := age.GenerateX25519Identity()
	idFile := filepath.Join(tmp, "tenant.agekey")
	if err := os.WriteFile(idFile, []byte(tid.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	enrol := func(tenant string, extra ...string) (string, string, int) {
		inv, err := auth.Registry().Invite(tenant, time.Hour, time.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		args := append([]string{"enroll", "--coordinator", lis.Addr().String(), "--token", inv.String(),
			"--dir", filepath.Join(tmp, tenant, "tls"), "--identity", idFile}, extra...)
		return runCLI(t, args...)
	}
	bound := func(tenant string) ed25519.PublicKey {
		c, err := enroll.Load(filepath.Join(tmp, tenant, "tls"), tid)
		if err != nil {
			t.Fatal(err)
		}
		return c.Identity
	}

	// --workdir creates the signing key the client would, and binds it.
	work := filepath.Join(tmp, "acme", "work")
	out, e, code := enrol("acme", "--workdir", work)
	if code != 0 || !strings.Contains(out, "binds identity key") {
		t.Fatalf("enroll --workdir: %d %q %q", code, out, e)
	}
	pub, err := keys.ReadPublic(filepath.Join(work, "signing.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(bound("acme")) {
		t.Fatalf("certificate binds %x, signing.pub is %x", bound("acme"), pub)
	}
	// --identity-pub reads a public key file.
	if out, e, code := enrol("globex", "--identity-pub", filepath.Join(work, "signing.pub")); code != 0 || !pub.Equal(bound("globex")) {
		t.Fatalf("enroll --identity-pub: %d %q %q", code, out, e)
	}
	if _, e, code := enrol("initech", "--identity-pub", filepath.Join(tmp, "missing.pub")); code != 1 || !strings.Contains(e, "--identity-pub") {
		t.Fatalf("missing public key file: %d %q", code, e)
	}
	if _, e, code := enrol("initech", "--identity-pub", "x", "--workdir", "y"); code != 2 || !strings.Contains(e, "at most one") {
		t.Fatalf("both flags: %d %q", code, e)
	}
	if _, e, code := enrol("hooli"); code != 0 || !strings.Contains(e, "binds no identity key") {
		t.Fatalf("no identity key: %d %q", code, e)
	}

	// The client with another signing key than the bound one stops early.
	data := filepath.Join(tmp, "data.csv")
	os.WriteFile(data, []byte("text,label\nbolts,tools\nbread,food\n"), 0o600)
	other := filepath.Join(tmp, "other")
	_, e, code = runCLI(t, "client", "--coordinator", "127.0.0.1:1", "--tenant", "acme", "--data", data,
		"--workdir", other, "--tls-dir", filepath.Join(tmp, "acme", "tls"), "--identity", idFile)
	if code != 1 || !strings.Contains(e, "use the key you enrolled with") {
		t.Fatalf("client with another key: %d %q", code, e)
	}
}
