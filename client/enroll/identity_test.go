package enroll

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/fedb2b/fedb2b/coordinator/pki"
	"github.com/fedb2b/fedb2b/protocol/certs"
)

// The identity key sent at enrolment is bound into the certificate, comes
// back from Load, and a certificate binding another key is refused.
func TestEnrollBindsIdentityKey(t *testing.T) {
	e := setup(t)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	inv, _ := e.auth.Registry().Invite("acme", time.Hour, time.Now(), nil)
	id, _ := age.GenerateX25519Identity()
	dir := filepath.Join(t.TempDir(), "creds")
	c, err := Enroll(context.Background(), Options{Coordinator: e.addr, Invite: inv.String(), Dir: dir, Recipient: id.Recipient(), IdentityKey: pub})
	if err != nil {
		t.Fatal(err)
	}
	got, err := certs.IdentityFromCertificate(c.Cert)
	if err != nil || !bytes.Equal(got, pub) || !bytes.Equal(c.Identity, pub) {
		t.Fatalf("certificate binds %x (%v), credentials %x, want %x", got, err, c.Identity, pub)
	}
	if name, err := certs.TenantFromCertificate(c.Cert); err != nil || name != "acme" {
		t.Fatalf("tenant with an identity URI beside it: %q %v", name, err)
	}
	loaded, err := Load(dir, id)
	if err != nil || !bytes.Equal(loaded.Identity, pub) {
		t.Fatalf("Load: identity %x, %v", loaded.Identity, err)
	}

	// checkResponse refuses a certificate whose identity differs from the
	// one sent, or that binds none when one was sent.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	issue := func(idKey ed25519.PublicKey) []byte {
		inv, _ := e.auth.Registry().Invite("acme", time.Hour, time.Now(), nil)
		tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: "acme"}}
		if idKey != nil {
			tmpl.URIs = append(tmpl.URIs, certs.IdentityURI(idKey))
		}
		csr, _ := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
		req, err := pki.CheckEnrollRequest("acme", inv.Token(), csr)
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
	pinv := certs.Invite{Tenant: "acme", CAFingerprint: certs.Fingerprint(ca)}
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := checkResponse(pinv, key, pub, issue(pub), ca.Raw); err != nil {
		t.Fatalf("matching identity: %v", err)
	}
	if _, err := checkResponse(pinv, key, pub, issue(other), ca.Raw); err == nil || !strings.Contains(err.Error(), "other than the one sent") {
		t.Fatalf("other identity: %v", err)
	}
	if _, err := checkResponse(pinv, key, pub, issue(nil), ca.Raw); err == nil || !strings.Contains(err.Error(), "binds no identity key") {
		t.Fatalf("no identity: %v", err)
	}
	if _, err := Enroll(context.Background(), Options{Coordinator: e.addr, Invite: inv.String(), Dir: t.TempDir(), Recipient: id.Recipient(), IdentityKey: pub[:5]}); err == nil || !strings.Contains(err.Error(), "5 bytes") {
		t.Fatalf("short identity key: %v", err)
	}
}
