package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"
	"google.golang.org/grpc"

	"github.com/fedb2b/fedb2b/client/enroll"
	"github.com/fedb2b/fedb2b/coordinator/pki"
)

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return out.String(), errb.String(), code
}

// TestCAInviteEnrolRevoke walks the operator and tenant commands end to
// end: ca init, tenant invite, client enroll against a loopback enrolment
// service, tenant list, tenant revoke.
func TestCAInviteEnrolRevoke(t *testing.T) {
	tmp := t.TempDir()
	caDir := filepath.Join(tmp, "ca")
	t.Setenv("FEDB2B_TEST_CA_PASS", "correct horse battery staple")
	if _, e, code := runCLI(t, "ca", "init", "--dir", caDir); code != 2 || !strings.Contains(e, "exactly one of --passphrase-env") {
		t.Fatalf("ca init without key protection: %d %q", code, e)
	}
	out, e, code := runCLI(t, "ca", "init", "--dir", caDir, "--passphrase-env", "FEDB2B_TEST_CA_PASS", "--scrypt-log-n", "10", "--name", "coord.example")
	if code != 0 || !strings.Contains(out, "CA fingerprint") {
		t.Fatalf("ca init: %d %q %q", code, out, e)
	}
	if _, e, code := runCLI(t, "ca", "init", "--dir", caDir, "--passphrase-env", "FEDB2B_TEST_CA_PASS", "--scrypt-log-n", "10"); code != 1 || !strings.Contains(e, "already exists") {
		t.Fatalf("second ca init: %d %q", code, e)
	}
	if _, e, code := runCLI(t, "tenant", "invite", "Bad Name", "--dir", caDir); code != 1 || !strings.Contains(e, "invalid tenant name") {
		t.Fatalf("bad name: %d %q", code, e)
	}
	inv, e, code := runCLI(t, "tenant", "invite", "acme", "--dir", caDir, "--ttl", "1h")
	if code != 0 || !strings.HasPrefix(inv, "fedb2b-invite-v1.acme.") || !strings.Contains(e, "only once") {
		t.Fatalf("tenant invite: %d %q %q", code, inv, e)
	}

	// The coordinator side: the enrolment service over loopback.
	auth, err := pki.LoadAuthority(caDir, mustPassID(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := pki.GRPCServerOptions(pki.ServerConfig{Dir: caDir, Identity: mustPassID(t), Registry: auth.Registry(), AllowEnrollment: true})
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(opts...)
	esvc := pki.NewEnrollmentService(auth, nil)
	var mu sync.Mutex
	var refusals []string
	esvc.OnRefuse = func(_ string, err error) { mu.Lock(); refusals = append(refusals, err.Error()); mu.Unlock() }
	esvc.Register(g)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(lis)
	defer g.Stop()

	// The tenant side, with an age identity file.
	tid, _ := age.GenerateX25519Identity()
	idFile := filepath.Join(tmp, "tenant.agekey")
	if err := os.WriteFile(idFile, []byte(tid.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokFile := filepath.Join(tmp, "invite.txt")
	os.WriteFile(tokFile, []byte(inv), 0o600)
	tdir := filepath.Join(tmp, "tenant")
	args := []string{"enroll", "--coordinator", lis.Addr().String(), "--token-file", tokFile, "--dir", tdir, "--identity", idFile}
	out, e, code = runCLI(t, args...)
	if code != 0 || !strings.Contains(out, "enrolled as acme") {
		t.Fatalf("enroll: %d %q %q", code, out, e)
	}
	if _, e, code := runCLI(t, args...); code != 1 || !strings.Contains(e, "already enrolled") {
		t.Fatalf("second enroll: %d %q", code, e)
	}
	c, err := enroll.Load(tdir, tid)
	if err != nil || c.Tenant != "acme" {
		t.Fatalf("load: %v", err)
	}
	// Reusing the invitation from a fresh directory is refused by the CA.
	args[6] = filepath.Join(tmp, "tenant2")
	// The tenant sees only the generic refusal; the operator's log has why.
	_, e, code = runCLI(t, args...)
	mu.Lock()
	logged := slices.Clone(refusals)
	mu.Unlock()
	if code != 1 || !strings.Contains(e, pki.RefusedMessage) || len(logged) != 1 || !strings.Contains(logged[0], "already used") {
		t.Fatalf("token reuse: %d %q, refusals %q", code, e, logged)
	}
	out, _, _ = runCLI(t, "tenant", "list", "--dir", caDir)
	if !strings.Contains(out, "acme") || !strings.Contains(out, "active") {
		t.Fatalf("list: %q", out)
	}
	if out, e, code := runCLI(t, "tenant", "revoke", "acme", "--dir", caDir); code != 0 {
		t.Fatalf("revoke: %d %q %q", code, out, e)
	}
	if _, e, code := runCLI(t, "tenant", "revoke", "nobody", "--dir", caDir); code != 1 || !strings.Contains(e, "unknown tenant") {
		t.Fatalf("revoke unknown: %d %q", code, e)
	}
	out, _, _ = runCLI(t, "tenant", "list", "--dir", caDir)
	if !strings.Contains(out, "revoked") {
		t.Fatalf("list after revoke: %q", out)
	}
}

func mustPassID(t *testing.T) age.Identity {
	id, err := age.NewScryptIdentity("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	return id
}
