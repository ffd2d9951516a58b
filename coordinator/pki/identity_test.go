package pki_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/coordinator/pki"
	"github.com/fedb2b/fedb2b/protocol/certs"
)

// issueIdentity enrols name with identity key idKey (none if nil) and
// returns the DER certificate.
func issueIdentity(t *testing.T, a *pki.Authority, name string, idKey ed25519.PublicKey, at time.Time) []byte {
	t.Helper()
	inv, err := a.Registry().Invite(name, time.Hour, at, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}
	if idKey != nil {
		tmpl.URIs = []*url.URL{certs.IdentityURI(idKey)}
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	req, err := pki.CheckEnrollRequest(name, inv.Token(), csr)
	if err != nil {
		t.Fatal(err)
	}
	der, _, err := a.Enroll(req, at)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// forge makes a self-signed client certificate naming tenant and binding
// idKey: what a coordinator without the CA's key could produce.
func forge(t *testing.T, tenant string, idKey ed25519.PublicKey) []byte {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: tenant},
		URIs:      []*url.URL{certs.TenantURI(tenant), certs.IdentityURI(idKey)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestIdentityBinding(t *testing.T) {
	_, _, a := newCA(t)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Now()
	der := issueIdentity(t, a, "acme", pub, now)
	cert, _ := x509.ParseCertificate(der)
	got, err := certs.IdentityFromCertificate(cert)
	if err != nil || !bytes.Equal(got, pub) {
		t.Fatalf("IdentityFromCertificate = %x, %v; want %x", got, err, pub)
	}
	if name, err := certs.TenantFromCertificate(cert); err != nil || name != "acme" {
		t.Fatalf("TenantFromCertificate = %q, %v", name, err)
	}
	// A certificate issued without an identity key says so.
	plain, _ := x509.ParseCertificate(issueIdentity(t, a, "globex", nil, now))
	if _, err := certs.IdentityFromCertificate(plain); !errors.Is(err, certs.ErrNoIdentityKey) {
		t.Fatalf("no identity: %v", err)
	}

	ca := a.Certificate()
	opts := x509.VerifyOptions{CurrentTime: now}
	if k, err := certs.VerifyPeerCertificate(ca, der, "acme", opts); err != nil || !bytes.Equal(k, pub) {
		t.Fatalf("VerifyPeerCertificate: %x, %v", k, err)
	}
	_, _, other := newCA(t)
	for name, tc := range map[string]struct {
		der    []byte
		tenant string
		opts   x509.VerifyOptions
		want   string
	}{
		"forged self-signed": {forge(t, "acme", pub), "acme", opts, "does not verify against the pinned CA"},
		"another CA":         {issueIdentity(t, other, "acme", pub, now), "acme", opts, "does not verify against the pinned CA"},
		"relayed as another": {der, "globex", opts, `names tenant "acme"`},
		"expired":            {der, "acme", x509.VerifyOptions{CurrentTime: now.Add(pki.DefaultClientValidity + time.Hour)}, "expired"},
		"no identity":        {plain.Raw, "globex", opts, "binds no identity key"},
		"garbage":            {[]byte{1, 2, 3}, "acme", opts, `certificate of "acme"`},
		"the CA itself":      {ca.Raw, "acme", opts, "tenant URIs"},
	} {
		_, err := certs.VerifyPeerCertificate(ca, tc.der, tc.tenant, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want error containing %q", name, err, tc.want)
		}
	}
}

// Malformed identity URIs in a CSR are refused before the token is spent.
func TestEnrollRequestIdentityURIs(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	token := strings.Repeat("A", 43)
	bad := func(s string) *url.URL { u, _ := url.Parse(s); return u }
	for name, tc := range map[string]struct {
		uris []*url.URL
		want string
	}{
		"short key":   {[]*url.URL{bad("fedb2b://identity/ed25519/abcd")}, "32-byte hex"},
		"not hex":     {[]*url.URL{bad("fedb2b://identity/ed25519/" + strings.Repeat("zz", 32))}, "32-byte hex"},
		"zero key":    {[]*url.URL{certs.IdentityURI(make(ed25519.PublicKey, 32))}, "all-zero"},
		"other alg":   {[]*url.URL{bad("fedb2b://identity/rsa/00")}, "malformed identity URI"},
		"two of them": {[]*url.URL{certs.IdentityURI(pub), certs.IdentityURI(pub)}, "2 identity URIs"},
	} {
		csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "acme"}, URIs: tc.uris}, key)
		if err != nil {
			t.Fatal(err)
		}
		_, err = pki.CheckEnrollRequest("acme", token, csr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want error containing %q", name, err, tc.want)
		}
	}
}
