package pki_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/fedb2b/fedb2b/api/enrollpb"
	"github.com/fedb2b/fedb2b/client/enroll"
	"github.com/fedb2b/fedb2b/coordinator/pki"
	"github.com/fedb2b/fedb2b/protocol/certs"
)

// phishingEnrolment is what a coordinator holding only its exported TLS
// directory (no CA key) can serve: an "enrolment service" that keeps the
// tokens tenants send it.
type phishingEnrolment struct {
	enrollpb.UnimplementedEnrollmentServer
	mu  sync.Mutex
	got []*enrollpb.EnrollRequest
}

func (p *phishingEnrolment) Enroll(_ context.Context, req *enrollpb.EnrollRequest) (*enrollpb.EnrollResponse, error) {
	p.mu.Lock()
	p.got = append(p.got, req)
	p.mu.Unlock()
	return nil, status.Error(codes.Unavailable, "try again later")
}

// TestRedteamCoordinatorCannotPoseAsEnrolmentService attacks claim 1 of
// #15 (the CA apart: "the coordinator cannot mint tenant identities").
// The coordinator runs from the directory 'ca export' made: ca.crt,
// server.crt, server.key.age, registry.json, no CA key. The enrolling
// tenant authenticates the enrolment service only by "a leaf chaining to
// the pinned CA, valid for the host name" — which the coordinator's own
// server certificate is. So a coordinator that gets a tenant to enrol
// against it (its own address, DNS, a port it grabbed on the shared host)
// receives the invitation token, redeems it at the real CA with a CSR
// binding an identity key of its choice, and holds a CA-signed
// certificate naming that tenant with the coordinator's identity key: the
// key substitution in secure aggregation the CA split was meant to stop.
func TestRedteamCoordinatorCannotPoseAsEnrolmentService(t *testing.T) {
	caDir, id, auth := newCA(t)
	coordDir := filepath.Join(t.TempDir(), "coord-tls")
	if err := pki.ExportServer(caDir, coordDir); err != nil {
		t.Fatal(err)
	}
	// The coordinator's process builds a TLS server from its exported
	// directory alone (whatever pki's own helpers allow).
	cfg := handMadeServerTLS(t, coordDir, id)
	phish := &phishingEnrolment{}
	g := grpc.NewServer(grpc.Creds(credentials.NewTLS(cfg)))
	enrollpb.RegisterEnrollmentServer(g, phish)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	addr := lis.Addr().String()

	inv, err := auth.Registry().Invite("tenant-a", time.Hour, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tenantID, _, _ := ed25519.GenerateKey(rand.Reader)
	_, err = enroll.Enroll(context.Background(), enroll.Options{Coordinator: addr, Invite: inv.String(), Dir: t.TempDir(),
		Recipient: mustIdentity(t).Recipient(), IdentityKey: tenantID, Timeout: 3 * time.Second})
	if err == nil {
		t.Fatal("enrolment against the phishing service succeeded")
	}
	phish.mu.Lock()
	got := append([]*enrollpb.EnrollRequest(nil), phish.got...)
	phish.mu.Unlock()
	if len(got) == 0 {
		return // the tenant did not talk to the coordinator: holds
	}
	// The coordinator has the token: redeem it for its own identity key.
	evilID, _, _ := ed25519.GenerateKey(rand.Reader)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "tenant-a"},
		URIs: []*url.URL{certs.IdentityURI(evilID)}}, key)
	req, err := pki.CheckEnrollRequest(got[0].GetTenant(), got[0].GetToken(), csr)
	if err != nil {
		t.Fatalf("the tenant sent its token to a server without the CA key (%v)", err)
	}
	der, _, err := auth.Enroll(req, time.Now())
	if err != nil {
		t.Fatalf("the tenant sent its token to a server without the CA key (redeeming it failed: %v)", err)
	}
	if _, err := certs.VerifyPeerCertificate(auth.Certificate(), der, "tenant-a", x509.VerifyOptions{}); err != nil {
		t.Fatalf("the tenant sent its token to a server without the CA key (certificate: %v)", err)
	}
	t.Fatalf("a coordinator without the CA key received tenant-a's invitation token over a TLS session the tenant accepted, and redeemed it for a CA-signed certificate of tenant-a binding the coordinator's identity key %x… (the tenant's is %x…)", evilID[:4], tenantID[:4])
}

// handMadeServerTLS is the TLS server a coordinator can build from its
// exported directory: server.crt with ca.crt as the chain, and the key in
// server.key.age.
func handMadeServerTLS(t *testing.T, dir string, id age.Identity) *tls.Config {
	t.Helper()
	ca, err := certs.ReadCertificate(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := certs.ReadCertificate(filepath.Join(dir, "server.crt"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := certs.LoadKey(filepath.Join(dir, "server.key.age"), id)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, NextProtos: []string{"h2"},
		Certificates: []tls.Certificate{{Certificate: [][]byte{srv.Raw, ca.Raw}, PrivateKey: key, Leaf: srv}}}
}
