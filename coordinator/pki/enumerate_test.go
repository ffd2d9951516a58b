package pki_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/fedb2b/fedb2b/api/enrollpb"
	"github.com/fedb2b/fedb2b/coordinator/pki"
	"github.com/fedb2b/fedb2b/protocol/certs"
)

// enrolClient dials the enrolment service at addr pinning the CA of inv.
func enrolClient(t *testing.T, addr string, inv certs.Invite) enrollpb.EnrollmentClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(certs.EnrollTLSConfig(inv.CAFingerprint, "127.0.0.1", nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return enrollpb.NewEnrollmentClient(conn)
}

// An attacker probing tenant names learns nothing from the answers: an
// invited tenant with a wrong token, a used invitation, an expired one and
// a name the operator never invited all get the same code and text.
func TestEnrolmentDoesNotRevealTenants(t *testing.T) {
	dir, id, a := newCA(t)
	s := serve(t, dir, id, a)
	inv, _ := a.Registry().Invite("acme", time.Hour, time.Now(), nil)
	a.Registry().Invite("oldco", time.Minute, time.Now().Add(-time.Hour), nil)
	cl := enrolClient(t, s.addr, inv)
	csr := newCSR(t)
	wrong := inv
	wrong.Secret[0] ^= 1
	var answers []string
	for _, tenant := range []string{"acme", "oldco", "never-invited", "zz-unknown"} {
		_, err := cl.Enroll(ctxT(t), &enrollpb.EnrollRequest{Tenant: tenant, Token: wrong.Token(), Csr: csr})
		st, _ := status.FromError(err)
		answers = append(answers, st.Code().String()+": "+st.Message())
	}
	for i, got := range answers {
		if got != answers[0] || got != codes.PermissionDenied.String()+": "+pki.RefusedMessage {
			t.Fatalf("answer %d %q differs from %q: the service reveals which tenants exist", i, got, answers[0])
		}
	}
	// The operator's log still has the real reasons.
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.refusals) != 4 {
		t.Fatalf("refusals logged: %v", s.refusals)
	}
}

// Attempts from one address beyond the burst are refused without reaching
// the registry, and another address is not affected.
func TestEnrolmentRateLimited(t *testing.T) {
	dir, id, a := newCA(t)
	inv, _ := a.Registry().Invite("acme", time.Hour, time.Now(), nil)
	opts, err := pki.GRPCServerOptions(pki.ServerConfig{Dir: dir, Identity: id, Registry: a.Registry(), AllowEnrollment: true})
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(opts...)
	svc := pki.NewEnrollmentService(a, nil)
	svc.Burst, svc.Every = 3, time.Hour
	reached := 0
	svc.OnRefuse = func(_ string, err error) {
		if err.Error() != "rate limited" {
			reached++
		}
	}
	svc.Register(g)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	cl := enrolClient(t, lis.Addr().String(), inv)
	wrong := inv
	wrong.Secret[0] ^= 1
	for i := range 6 {
		_, err := cl.Enroll(ctxT(t), &enrollpb.EnrollRequest{Tenant: "acme", Token: wrong.Token(), Csr: newCSR(t)})
		want, msg := codes.PermissionDenied, pki.RefusedMessage
		if i >= 3 {
			want, msg = codes.ResourceExhausted, pki.RateLimitedMessage
		}
		wantCode(t, err, want, msg)
	}
	if reached != 3 {
		t.Fatalf("%d attempts reached the registry, want 3", reached)
	}
	// The genuine token from the same address is also held back until
	// the bucket refills: the limit is per source, not per tenant.
	_, err = cl.Enroll(ctxT(t), &enrollpb.EnrollRequest{Tenant: "acme", Token: inv.Token(), Csr: newCSR(t)})
	wantCode(t, err, codes.ResourceExhausted, pki.RateLimitedMessage)
}

// newCSR is a well-formed certificate request with a fresh P-256 key.
func newCSR(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return csr
}
