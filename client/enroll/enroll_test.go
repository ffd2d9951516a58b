package enroll

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"google.golang.org/grpc"

	"github.com/fedb2b/fedb2b/coordinator/pki"
	"github.com/fedb2b/fedb2b/protocol/certs"
)

type env struct {
	auth *pki.Authority
	addr string
}

func setup(t *testing.T) env {
	t.Helper()
	e, start := setupLater(t)
	start()
	return e
}

// setupLater prepares the CA and reserves an address; the service starts
// listening there only when start is called.
func setupLater(t *testing.T) (env, func()) {
	t.Helper()
	dir := t.TempDir()
	id, _ := age.GenerateX25519Identity()
	if err := pki.Init(dir, pki.InitOptions{Recipient: id.Recipient()}); err != nil {
		t.Fatal(err)
	}
	a, err := pki.LoadAuthority(dir, id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := pki.GRPCServerOptions(pki.ServerConfig{Dir: dir, Identity: id, Registry: a.Registry(), AllowEnrollment: true})
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(opts...)
	pki.NewEnrollmentService(a, nil).Register(g)
	t.Cleanup(g.Stop)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return env{a, addr}, func() {
		lis, err := net.Listen("tcp", addr)
		if err != nil {
			t.Error(err)
			return
		}
		go g.Serve(lis)
	}
}

// A tenant that runs `client enroll` while the enrolment service is still
// starting waits for it (up to its timeout) instead of failing at once.
func TestEnrollWaitsForService(t *testing.T) {
	e, start := setupLater(t)
	inv, _ := e.auth.Registry().Invite("acme", time.Hour, time.Now(), nil)
	id, _ := age.GenerateX25519Identity()
	time.AfterFunc(700*time.Millisecond, start)
	c, err := Enroll(context.Background(), Options{Coordinator: e.addr, Invite: inv.String(), Dir: t.TempDir(), Recipient: id.Recipient(), Timeout: 20 * time.Second})
	if err != nil || c.Tenant != "acme" {
		t.Fatalf("enrolment against a service that started late: %v", err)
	}
	// Nothing ever listening: the timeout ends the wait with a clear error.
	_, err = Enroll(context.Background(), Options{Coordinator: freeAddr(t), Invite: inv.String(), Dir: t.TempDir(), Recipient: id.Recipient(), Timeout: 600 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "nothing answered") {
		t.Fatalf("enrolment with nothing listening: %v", err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	return lis.Addr().String()
}

func TestEnrollAndLoad(t *testing.T) {
	e := setup(t)
	inv, _ := e.auth.Registry().Invite("acme", time.Hour, time.Now(), nil)
	id, _ := age.GenerateX25519Identity()
	dir := filepath.Join(t.TempDir(), "creds")
	c, err := Enroll(context.Background(), Options{Coordinator: e.addr, Invite: inv.String(), Dir: dir, Recipient: id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	if c.Tenant != "acme" || time.Until(c.Cert.NotAfter) > time.Hour {
		t.Fatalf("credentials %q until %v (authority validity is 1h)", c.Tenant, c.Cert.NotAfter)
	}
	for _, f := range []string{KeyFile, CertFile, CAFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	// The key is not stored in clear.
	raw, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	if !strings.HasPrefix(string(raw), "age-encryption.org/v1") {
		t.Fatalf("key file is not an age file: %.30q", raw)
	}
	got, err := Load(dir, id)
	if err != nil || got.Tenant != "acme" || !got.Cert.Equal(c.Cert) {
		t.Fatalf("Load: %v", err)
	}
	other, _ := age.GenerateX25519Identity()
	if _, err := Load(dir, other); err == nil || !strings.Contains(err.Error(), "decrypt") {
		t.Fatalf("Load with the wrong identity: %v", err)
	}
	cfg, err := got.TLSConfig("127.0.0.1")
	if err != nil || len(cfg.Certificates) != 1 {
		t.Fatalf("TLSConfig: %v", err)
	}
	// Enrolling again into the same directory is refused before any call.
	_, err = Enroll(context.Background(), Options{Coordinator: "127.0.0.1:1", Invite: inv.String(), Dir: dir, Recipient: id.Recipient()})
	if !errors.Is(err, ErrEnrolled) {
		t.Fatalf("second enrolment: %v", err)
	}
}

func TestEnrollRefusals(t *testing.T) {
	e := setup(t)
	id, _ := age.GenerateX25519Identity()
	for name, o := range map[string]Options{
		"bad invite":   {Coordinator: e.addr, Invite: "nope", Recipient: id.Recipient()},
		"no recipient": {Coordinator: e.addr, Invite: certs.Invite{Tenant: "a"}.String()},
		"bad address":  {Coordinator: "no-port", Invite: certs.Invite{Tenant: "a"}.String(), Recipient: id.Recipient()},
	} {
		o.Dir = t.TempDir()
		if _, err := Enroll(context.Background(), o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// An interrupted enrolment (key, no certificate) is reported.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, KeyFile), []byte("x"), 0o600)
	inv, _ := e.auth.Registry().Invite("acme", time.Hour, time.Now(), nil)
	_, err := Enroll(context.Background(), Options{Coordinator: e.addr, Invite: inv.String(), Dir: dir, Recipient: id.Recipient()})
	if err == nil || !strings.Contains(err.Error(), "interrupted enrolment") {
		t.Fatalf("interrupted: %v", err)
	}
}

// TestCheckResponse plays a coordinator that returns the wrong things.
func TestCheckResponse(t *testing.T) {
	e := setup(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	issue := func(name string, k *ecdsa.PrivateKey) []byte {
		inv, _ := e.auth.Registry().Invite(name, time.Hour, time.Now(), nil)
		csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}, k)
		req, err := pki.CheckEnrollRequest(name, inv.Token(), csr)
		if err != nil {
			t.Fatal(err)
		}
		der, _, err := e.auth.Enroll(req, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	ca := e.auth.Certificate()
	inv := certs.Invite{Tenant: "acme", CAFingerprint: certs.Fingerprint(ca)}
	good := issue("acme", key)
	if _, err := checkResponse(inv, key, nil, good, ca.Raw); err != nil {
		t.Fatalf("good response: %v", err)
	}
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other := setup(t)
	for name, tc := range map[string]struct {
		cert, ca []byte
		want     string
	}{
		"another key":    {issue("acme", otherKey), ca.Raw, "not for the key"},
		"another tenant": {issue("globex", key), ca.Raw, `names tenant "globex"`},
		"another CA":     {good, other.auth.Certificate().Raw, "fingerprint"},
		"garbage cert":   {[]byte("x"), ca.Raw, "certificate in response"},
		"CA as cert":     {ca.Raw, ca.Raw, "tenant URIs"},
	} {
		_, err := checkResponse(inv, key, nil, tc.cert, tc.ca)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want error containing %q", name, err, tc.want)
		}
	}
}
