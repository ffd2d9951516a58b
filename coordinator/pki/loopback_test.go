package pki_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/api/enrollpb"
	"github.com/fedb2b/fedb2b/client/enroll"
	"github.com/fedb2b/fedb2b/coordinator/pki"
	"github.com/fedb2b/fedb2b/protocol/certs"
)

func wantCode(t *testing.T, err error, code codes.Code, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("call succeeded, want %v", code)
	}
	st, _ := status.FromError(err)
	if st.Code() != code || !strings.Contains(st.Message(), substr) {
		t.Fatalf("got %v %q, want %v containing %q", st.Code(), st.Message(), code, substr)
	}
}

// wantRefused checks that the tenant saw only the generic refusal and that
// the service's log (OnRefuse) has the real reason.
func wantRefused(t *testing.T, s *server, err error, reason string) {
	t.Helper()
	wantCode(t, err, codes.PermissionDenied, pki.RefusedMessage)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.refusals) == 0 || !strings.Contains(s.refusals[len(s.refusals)-1].Error(), reason) {
		t.Fatalf("operator's log of refusals %v, want the last containing %q", s.refusals, reason)
	}
}

func TestGoodTenantAccepted(t *testing.T) {
	dir, id, a := newCA(t)
	s := serve(t, dir, id, a)
	creds := enrolTenant(t, a, s.addr, "acme")
	opt, err := creds.DialOption("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(s.addr, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := api.NewFederationClient(conn)
	resp, err := c.Poll(ctxT(t), &api.PollRequest{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.GetFinished().GetReason(); got != "acme" {
		t.Fatalf("TenantFromContext gave %q, want acme", got)
	}
	// Stream interceptor.
	st, err := c.Download(ctxT(t), &api.DownloadRequest{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := st.Recv()
	if err != nil || string(ch.GetData()) != "acme" {
		t.Fatalf("stream: %v %q", err, ch.GetData())
	}
	if _, err := st.Recv(); err != io.EOF {
		t.Fatalf("stream end: %v", err)
	}
	// Claiming another tenant's ID in a message is refused.
	_, err = c.Join(ctxT(t), &api.JoinRequest{Tenant: "globex"})
	wantCode(t, err, codes.PermissionDenied, `names tenant "globex" but the client certificate is for "acme"`)
	if _, err := c.Join(ctxT(t), &api.JoinRequest{Tenant: "acme"}); err != nil {
		t.Fatal(err)
	}
	// The stored credentials load back and work.
	if creds.Tenant != "acme" || creds.Cert.NotAfter.Sub(time.Now()) > pki.DefaultClientValidity {
		t.Fatalf("credentials: %q valid until %v", creds.Tenant, creds.Cert.NotAfter)
	}
}

func TestNoCertificateRefused(t *testing.T) {
	dir, id, a := newCA(t)
	s := serve(t, dir, id, a)
	c := dial(t, a, s.addr, tls.Certificate{})
	_, err := c.Poll(ctxT(t), &api.PollRequest{Tenant: "acme"})
	wantCode(t, err, codes.Unauthenticated, "requires a client certificate")
	st, err := c.Download(ctxT(t), &api.DownloadRequest{})
	if err == nil {
		_, err = st.Recv()
	}
	wantCode(t, err, codes.Unauthenticated, "requires a client certificate")
}

func TestNoCertificateRefusedAtHandshakeWithoutEnrollment(t *testing.T) {
	dir, id, _ := newCA(t)
	cfg, err := pki.ServerTLSConfig(pki.ServerConfig{Dir: dir, Identity: id})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.MinVersion != tls.VersionTLS13 {
		t.Fatalf("ClientAuth %v MinVersion %x", cfg.ClientAuth, cfg.MinVersion)
	}
	if err := cfg.VerifyConnection(tls.ConnectionState{}); err == nil {
		t.Fatal("hook accepted a connection without a verified chain")
	}
}

// refusedAtHandshake checks that a call with cert fails before reaching any
// handler: crypto/tls or the VerifyConnection hook closes the connection.
func refusedAtHandshake(t *testing.T, a *pki.Authority, addr string, cert tls.Certificate) {
	t.Helper()
	c := dial(t, a, addr, cert)
	_, err := c.Poll(ctxT(t), &api.PollRequest{})
	if err == nil {
		t.Fatal("call succeeded")
	}
	t.Logf("refused: %v", err)
	if code := status.Code(err); code != codes.Unavailable {
		t.Fatalf("got %v (%v), want Unavailable from a refused handshake", code, err)
	}
}

func TestOtherCARefused(t *testing.T) {
	dir, id, a := newCA(t)
	s := serve(t, dir, id, a)
	_, _, other := newCA(t)
	refusedAtHandshake(t, a, s.addr, issueAt(t, other, "acme", time.Now()))
}

func TestExpiredRefused(t *testing.T) {
	dir, id, a := newCA(t)
	s := serve(t, dir, id, a)
	cert := issueAt(t, a, "acme", time.Now().Add(-pki.DefaultClientValidity-time.Hour))
	if time.Now().Before(cert.Leaf.NotAfter) {
		t.Fatal("test certificate is not expired")
	}
	refusedAtHandshake(t, a, s.addr, cert)
}

func TestRevokedRefused(t *testing.T) {
	dir, id, a := newCA(t)
	s := serve(t, dir, id, a)
	creds := enrolTenant(t, a, s.addr, "acme")
	cert := tls.Certificate{Certificate: [][]byte{creds.Cert.Raw}, PrivateKey: creds.Key, Leaf: creds.Cert}
	// A connection opened before revocation...
	early := dial(t, a, s.addr, cert)
	if _, err := early.Poll(ctxT(t), &api.PollRequest{}); err != nil {
		t.Fatal(err)
	}
	// The CLI revokes through its own Registry handle on the same files.
	reg, err := pki.OpenRegistry(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Revoke("acme", time.Now()); err != nil {
		t.Fatal(err)
	}
	// ...is cut at its next call,
	_, err = early.Poll(ctxT(t), &api.PollRequest{})
	wantCode(t, err, codes.PermissionDenied, "revoked")
	// and a new one is refused at the handshake, with the reason reported.
	refusedAtHandshake(t, a, s.addr, cert)
	rej := s.rejects()
	if len(rej) == 0 || !errors.Is(rej[len(rej)-1], pki.ErrRevoked) || !strings.Contains(rej[len(rej)-1].Error(), `tenant "acme"`) {
		t.Fatalf("OnReject got %v", rej)
	}
	// Re-inviting reinstates the name but not the old certificate.
	enrolTenant(t, a, s.addr, "acme")
	refusedAtHandshake(t, a, s.addr, cert)
}

func TestUnknownCertificateRefused(t *testing.T) {
	dir, id, a := newCA(t)
	// A certificate signed by the right CA whose serial the registry never
	// recorded (as if the CA key had been used outside the registry).
	other := issueAt(t, a, "acme", time.Now())
	reg, _ := pki.OpenRegistry(dir)
	if err := reg.Check("acme", other.Leaf.SerialNumber.Text(16)); err != nil {
		t.Fatal(err)
	}
	if err := reg.Check("acme", "1234"); !errors.Is(err, pki.ErrUnknownCert) {
		t.Fatalf("unknown serial: %v", err)
	}
	if err := reg.Check("nobody", "1234"); !errors.Is(err, pki.ErrUnknownTenant) {
		t.Fatalf("unknown tenant: %v", err)
	}
	cfg, err := pki.ServerTLSConfig(pki.ServerConfig{Dir: dir, Identity: id})
	if err != nil {
		t.Fatal(err)
	}
	leaf := *other.Leaf
	leaf.SerialNumber = leaf.SerialNumber.Add(leaf.SerialNumber, leaf.SerialNumber)
	err = cfg.VerifyConnection(tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{&leaf}}})
	if !errors.Is(err, pki.ErrUnknownCert) {
		t.Fatalf("hook: %v", err)
	}

	// Over the network: a certificate made with the CA key outside the
	// registry, for a tenant never invited, is refused at the handshake.
	s := serve(t, dir, id, a)
	caKey, err := certs.LoadKey(filepath.Join(dir, "ca.key.age"), id)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "mallory"}, URIs: []*url.URL{certs.TenantURI("mallory")},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Certificate(), key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	refusedAtHandshake(t, a, s.addr, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key})
	if rej := s.rejects(); len(rej) != 1 || !errors.Is(rej[0], pki.ErrUnknownTenant) {
		t.Fatalf("OnReject got %v", rej)
	}
}

func TestTokenSingleUse(t *testing.T) {
	dir, id, a := newCA(t)
	s := serve(t, dir, id, a)
	inv, err := a.Registry().Invite("acme", time.Hour, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	enrolWith := func(invite string) error {
		rid, _ := age.GenerateX25519Identity()
		_, err := enroll.Enroll(context.Background(), enroll.Options{Coordinator: s.addr, Invite: invite, Dir: t.TempDir(), Recipient: rid.Recipient()})
		return err
	}
	if err := enrolWith(inv.String()); err != nil {
		t.Fatal(err)
	}
	err = enrolWith(inv.String())
	wantRefused(t, s, err, "already used")
	// A token presented under another tenant's name is refused, and the
	// attempt does not consume it.
	inv2, _ := a.Registry().Invite("globex", time.Hour, time.Now(), nil)
	forged := inv2
	forged.Tenant = "acme"
	wantRefused(t, s, enrolWith(forged.String()), "does not match")
	if err := enrolWith(inv2.String()); err != nil {
		t.Fatalf("genuine use after a forged attempt: %v", err)
	}
	// An expired invitation is refused.
	old, _ := a.Registry().Invite("initech", time.Minute, time.Now().Add(-time.Hour), nil)
	wantRefused(t, s, enrolWith(old.String()), "expired")
	// An invitation pinning another CA never reaches the service.
	pinned := inv2
	pinned.CAFingerprint[0] ^= 1
	if err := enrolWith(pinned.String()); err == nil || !strings.Contains(err.Error(), "fingerprint") {
		t.Fatalf("wrong pin: %v", err)
	}
}

func TestMalformedEnrolRequest(t *testing.T) {
	dir, id, a := newCA(t)
	s := serve(t, dir, id, a)
	inv, _ := a.Registry().Invite("acme", time.Hour, time.Now(), nil)
	conn, err := grpc.NewClient(s.addr, grpc.WithTransportCredentials(credentials.NewTLS(certs.EnrollTLSConfig(inv.CAFingerprint, "127.0.0.1", nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := enrollpb.NewEnrollmentClient(conn)
	c := func(ctx context.Context, tenant, token string, csr []byte) (*enrollpb.EnrollResponse, error) {
		return client.Enroll(ctx, &enrollpb.EnrollRequest{Tenant: tenant, Token: token, Csr: csr})
	}
	for _, tc := range []struct {
		tenant, token string
		csr           []byte
		want          string
	}{
		{"ACME", inv.Token(), []byte{1}, "tenant"},
		{"acme", "short", []byte{1}, "token"},
		{"acme", inv.Token(), nil, "csr"},
		{"acme", inv.Token(), []byte("not der"), "csr"},
	} {
		_, err := c(ctxT(t), tc.tenant, tc.token, tc.csr)
		wantRefused(t, s, err, tc.want)
	}
	// None of these consumed the token.
	st, _ := a.Registry().Tenants(time.Now())
	if len(st) != 1 || st[0].OpenInvites != 1 {
		t.Fatalf("registry after malformed requests: %+v", st)
	}
}
