package pki

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"testing"

	"github.com/fedb2b/fedb2b/protocol/certs"
)

// FuzzParseInvite checks that ParseInvite never panics and that what it
// accepts re-encodes to an equivalent invitation.
func FuzzParseInvite(f *testing.F) {
	var v certs.Invite
	v.Tenant = "acme"
	f.Add(v.String())
	v.Tenant = "a.b.c"
	v.Secret[0] = 7
	f.Add(v.String())
	f.Add("fedb2b-invite-v1....")
	f.Add("fedb2b-invite-v1.x.=.=")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := certs.ParseInvite(s)
		if err != nil {
			return
		}
		again, err := certs.ParseInvite(got.String())
		if err != nil || again != got {
			t.Fatalf("re-parse of %q: %+v, %v", got.String(), again, err)
		}
		if _, err := certs.ParseToken(got.Token()); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzCheckEnrollRequest feeds arbitrary enrolment requests to the
// validator that runs before any state changes.
func FuzzCheckEnrollRequest(f *testing.F) {
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edk, _ := ed25519.GenerateKey(rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	tok := certs.Invite{}.Token()
	for _, k := range []any{ek, edk, p384} {
		csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "acme"}}, k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add("acme", tok, csr)
	}
	f.Add("acme", "", []byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, tenant, token string, csr []byte) {
		req, err := CheckEnrollRequest(tenant, token, csr)
		if err != nil {
			return
		}
		if certs.CheckName(req.Tenant) != nil || req.CSR == nil || certs.CheckPublicKey(req.CSR.PublicKey) != nil {
			t.Fatalf("accepted an invalid request: %+v", req)
		}
	})
}

// FuzzDecodeRegistry checks that a corrupt registry.json is an error, and
// that what decodes survives a re-encoding.
func FuzzDecodeRegistry(f *testing.F) {
	f.Add(newRegistryFile())
	f.Add([]byte(`{"version":1,"tenants":{"acme":{"invites":[{"sha256":"00","created":"2026-01-01T00:00:00Z","expires":"2026-01-02T00:00:00Z"}],"certs":[{"serial":"ab","issued":"2026-01-01T00:00:00Z","not_after":"2026-02-01T00:00:00Z"}],"revoked":true}}}`))
	f.Add([]byte(`{"version":1,"tenants":{"acme":null}}`))
	f.Add([]byte(`{"version":1,"tenants":{"BAD":{}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRegistry(b)
		if err != nil {
			return
		}
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeRegistry(out); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

// FuzzTenantFromCertificate parses arbitrary DER as a certificate and
// checks the tenant extraction never panics and returns valid names only.
func FuzzTenantFromCertificate(f *testing.F) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: bigOne(), Subject: pkix.Name{CommonName: "acme"}, URIs: []*urlURL{certs.TenantURI("acme")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(der)
	f.Fuzz(func(t *testing.T, der []byte) {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		name, err := certs.TenantFromCertificate(c)
		if err == nil && certs.CheckName(name) != nil {
			t.Fatalf("returned invalid name %q", name)
		}
	})
}
