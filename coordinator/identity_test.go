package coordinator

import (
	"bytes"
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
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/coordinator/pki"
	"github.com/fedb2b/fedb2b/protocol"
	"github.com/fedb2b/fedb2b/protocol/certs"
)

// issueCert enrols tenant with identity key idKey (none if nil) at a fresh
// CA-signed certificate.
func issueCert(t *testing.T, a *pki.Authority, tenant string, idKey ed25519.PublicKey) *x509.Certificate {
	t.Helper()
	inv, err := a.Registry().Invite(tenant, time.Hour, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: tenant}}
	if idKey != nil {
		tmpl.URIs = []*url.URL{certs.IdentityURI(idKey)}
	}
	csr, _ := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	req, err := pki.CheckEnrollRequest(tenant, inv.Token(), csr)
	if err != nil {
		t.Fatal(err)
	}
	_, cert, err := a.Enroll(req, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// tlsContext is the context of a call over mutual TLS with cert verified.
func tlsContext(cert *x509.Certificate) context.Context {
	st := tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{cert}}}
	return peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, AuthInfo: credentials.TLSInfo{State: st}})
}

func TestJoinChecksIdentityAgainstCertificate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	id, _ := age.GenerateX25519Identity()
	if err := pki.Init(dir, pki.InitOptions{Recipient: id.Recipient()}); err != nil {
		t.Fatal(err)
	}
	auth, err := pki.LoadAuthority(dir, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.InsecurePlainAggregation, cfg.Secure, cfg.MinClients = false, &SecureConfig{ClipNorm: 1}, 3
	fed, err := New(cfg, []float64{0, 0})
	if err != nil {
		t.Fatal(err)
	}
	svc := NewService(fed, protocol.EncodeParams, nil, nil)
	join := func(ctx context.Context, tenant string, key ed25519.PublicKey) error {
		_, err := svc.Join(ctx, &api.JoinRequest{Tenant: tenant, EncoderId: "enc", EpsilonCap: 8, Delta: 1e-5, IdentityKey: key})
		return err
	}
	names := []string{"a", "b", "c"}
	pubs := map[string]ed25519.PublicKey{}
	certs := map[string]*x509.Certificate{}
	for _, n := range names {
		pubs[n], _, _ = ed25519.GenerateKey(rand.Reader)
		certs[n] = issueCert(t, auth, n, pubs[n])
	}
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	for name, tc := range map[string]struct {
		ctx  context.Context
		key  ed25519.PublicKey
		want string
	}{
		"key other than the certificate's": {tlsContext(certs["a"]), other, "announced identity key"},
		"certificate binds no key":         {tlsContext(issueCert(t, auth, "a", nil)), pubs["a"], "binds no identity key"},
	} {
		err := join(tc.ctx, "a", tc.key)
		if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want PermissionDenied containing %q", name, err, tc.want)
		}
	}
	for _, n := range names {
		if err := join(tlsContext(certs[n]), n, pubs[n]); err != nil {
			t.Fatalf("join %s: %v", n, err)
		}
	}
	// The plan relays each cohort member's certificate next to its key.
	var plan *api.TrainPlan
	for _, n := range names {
		r, err := svc.Poll(context.Background(), &api.PollRequest{Tenant: n})
		if err != nil {
			t.Fatal(err)
		}
		if tp := r.GetTrain(); tp != nil {
			plan = tp
		}
	}
	if plan == nil || len(plan.GetCohortCerts()) != len(plan.GetCohort()) || len(plan.GetCohort()) < 2 {
		t.Fatalf("plan %v: want one certificate per cohort member", plan)
	}
	for i, n := range plan.GetCohort() {
		if !bytes.Equal(plan.GetCohortCerts()[i], certs[n].Raw) || !bytes.Equal(plan.GetCohortKeys()[i], pubs[n]) {
			t.Errorf("cohort[%d] = %s: certificate or key is not its own", i, n)
		}
	}

	// Plain aggregation does not use identity keys: a certificate without
	// one is accepted there, and so is any call without TLS.
	cfg = testConfig()
	fed, _ = New(cfg, []float64{0, 0})
	svc = NewService(fed, protocol.EncodeParams, nil, nil)
	if err := join(tlsContext(issueCert(t, auth, "a", nil)), "a", nil); err != nil {
		t.Fatalf("plain aggregation, no identity key: %v", err)
	}
	if err := join(context.Background(), "b", other); err != nil {
		t.Fatalf("no TLS: %v", err)
	}
}
