package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"filippo.io/age"
	"github.com/fedb2b/fedb2b/protocol/certs"
)

// MaxCSRBytes bounds the DER size of a certificate signing request.
const MaxCSRBytes = 8 << 10

// Authority is the operator's CA with its private key loaded: it turns a
// valid invitation and CSR into a client certificate. Safe for concurrent
// use (the registry serialises redemptions).
type Authority struct {
	cert     *x509.Certificate
	key      crypto.Signer
	reg      *Registry
	validity time.Duration
}

// LoadAuthority opens the CA directory dir, decrypting the CA key with
// identity. Client certificates it issues are valid for validity
// (DefaultClientValidity if <= 0).
func LoadAuthority(dir string, identity age.Identity, validity time.Duration) (*Authority, error) {
	cert, err := ReadCA(dir)
	if err != nil {
		return nil, err
	}
	key, err := certs.LoadKey(filepath.Join(dir, caKeyName), identity)
	if err != nil {
		return nil, err
	}
	reg, err := OpenRegistry(dir)
	if err != nil {
		return nil, err
	}
	if validity <= 0 {
		validity = DefaultClientValidity
	}
	return &Authority{cert: cert, key: key, reg: reg, validity: validity}, nil
}

// Certificate returns the CA certificate.
func (a *Authority) Certificate() *x509.Certificate { return a.cert }

// Registry returns the CA's tenant registry.
func (a *Authority) Registry() *Registry { return a.reg }

// EnrollRequest is a decoded, checked enrolment request.
type EnrollRequest struct {
	Tenant string
	Secret [32]byte
	CSR    *x509.CertificateRequest
	// Identity is the tenant's ed25519 identity key, asked for by the
	// CSR's fedb2b://identity/ed25519/HEX URI SAN (nil if it has none).
	Identity ed25519.PublicKey
}

// CheckEnrollRequest validates an enrolment request without touching any
// state: the tenant name, the token's encoding, and the CSR (size, encoding,
// self-signature, key type ECDSA P-256 or Ed25519, at most one well-formed
// identity-key URI SAN). Errors name the field.
func CheckEnrollRequest(tenant, token string, csrDER []byte) (EnrollRequest, error) {
	var req EnrollRequest
	if err := certs.CheckName(tenant); err != nil {
		return req, fmt.Errorf("tenant: %w", err)
	}
	secret, err := certs.ParseToken(token)
	if err != nil {
		return req, err
	}
	csr, err := ParseCSR(csrDER)
	if err != nil {
		return req, err
	}
	id, err := certs.IdentityFromURIs(csr.URIs)
	if err != nil && !errors.Is(err, certs.ErrNoIdentityKey) {
		return req, fmt.Errorf("csr: %w", err)
	}
	return EnrollRequest{Tenant: tenant, Secret: secret, CSR: csr, Identity: id}, nil
}

// ParseCSR parses a DER PKCS #10 request and checks its size, its
// signature and its key type.
func ParseCSR(der []byte) (*x509.CertificateRequest, error) {
	if len(der) == 0 || len(der) > MaxCSRBytes {
		return nil, fmt.Errorf("csr: %d bytes, want 1 to %d", len(der), MaxCSRBytes)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("csr: %w", err)
	}
	if err := certs.CheckPublicKey(csr.PublicKey); err != nil {
		return nil, fmt.Errorf("csr: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("csr: bad self-signature: %w", err)
	}
	return csr, nil
}

// Enroll redeems req's invitation (once, unexpired, issued for req.Tenant)
// and returns the DER client certificate for the CSR's key. The subject and
// the URI SAN name the tenant whatever the CSR asked for; the certificate
// is for client authentication only, binds req.Identity (when set) with a
// second URI SAN ([IdentityURI]), and expires after the authority's
// validity (capped by the CA's own expiry). The token is consumed before
// signing: if signing then fails, the operator issues a new invitation.
func (a *Authority) Enroll(req EnrollRequest, now time.Time) ([]byte, *x509.Certificate, error) {
	if req.Identity != nil && len(req.Identity) != ed25519.PublicKeySize {
		return nil, nil, fmt.Errorf("identity key of tenant %q has %d bytes, want %d", req.Tenant, len(req.Identity), ed25519.PublicKeySize)
	}
	if err := a.reg.redeem(req.Tenant, req.Secret, now); err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: req.Tenant, Organization: []string{"fedb2b tenant"}},
		URIs:        []*url.URL{certs.TenantURI(req.Tenant)},
		NotBefore:   now.Add(-time.Minute),
		NotAfter:    minTime(now.Add(a.validity), a.cert.NotAfter),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if req.Identity != nil {
		tmpl.URIs = append(tmpl.URIs, certs.IdentityURI(req.Identity))
	}
	der, err := sign(tmpl, a.cert, req.CSR.PublicKey, a.key)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to sign certificate for tenant %q: %w", req.Tenant, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to parse issued certificate: %w", err)
	}
	if err := a.reg.addCert(req.Tenant, serialHex(cert), now, cert.NotAfter); err != nil {
		return nil, nil, err
	}
	return der, cert, nil
}

// serialHex is the registry's spelling of a certificate serial.
func serialHex(c *x509.Certificate) string { return c.SerialNumber.Text(16) }

// enrollmentCertificate mints, in memory, the server certificate of the
// enrolment service: the names of the coordinator's certificate srv, the
// [certs.EnrollmentURI] SAN, server authentication only, a fresh P-256 key
// that never touches disk, valid until srv expires. Tenants send their
// token only to a server presenting it ([certs.EnrollTLSConfig]).
func (a *Authority) enrollmentCertificate(srv *x509.Certificate, now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("enrolment certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "fedb2b enrolment", Organization: srv.Subject.Organization},
		DNSNames:    srv.DNSNames,
		IPAddresses: srv.IPAddresses,
		URIs:        []*url.URL{certs.EnrollmentURI()},
		NotBefore:   now.Add(-time.Minute),
		NotAfter:    minTime(srv.NotAfter, a.cert.NotAfter),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := sign(tmpl, a.cert, key.Public(), a.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("enrolment certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("enrolment certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der, a.cert.Raw}, PrivateKey: key, Leaf: leaf}, nil
}
