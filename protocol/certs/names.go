package certs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
)

// URIScheme is the scheme of the URI SAN that names a tenant in its client
// certificate: fedb2b://tenant/NAME.
const URIScheme = "fedb2b"

// MaxNameLen bounds a tenant name.
const MaxNameLen = 63

// ErrBadName is returned for a tenant name that is not a valid one.
var ErrBadName = errors.New("invalid tenant name")

// CheckName reports whether name is a valid tenant name: 1 to 63 bytes of
// lowercase ASCII letters, digits, '-', '_' and '.', starting with a letter
// or a digit. Names are used verbatim in certificates, file names and logs,
// so nothing else is allowed.
func CheckName(name string) error {
	if len(name) == 0 || len(name) > MaxNameLen {
		return fmt.Errorf("%w: length %d is not in [1, %d]", ErrBadName, len(name), MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '-' || c == '_' || c == '.')
		if !ok {
			return fmt.Errorf("%w: %q: byte %d (%q) is not allowed (use a-z, 0-9, '-', '_', '.')", ErrBadName, name, i, c)
		}
	}
	return nil
}

// TenantURI returns the URI SAN that names tenant in its certificate.
func TenantURI(tenant string) *url.URL {
	return &url.URL{Scheme: URIScheme, Host: "tenant", Path: "/" + tenant}
}

// TenantFromCertificate returns the tenant named by a client certificate: the
// single fedb2b://tenant/NAME URI SAN, which must agree with the subject
// common name. It does not verify the certificate; callers pass a leaf from a
// verified chain.
func TenantFromCertificate(cert *x509.Certificate) (string, error) {
	var name string
	n := 0
	for _, u := range cert.URIs {
		if u.Scheme != URIScheme || u.Host == "identity" {
			continue // the identity key's URI: see IdentityFromCertificate
		}
		n++
		if u.Host != "tenant" || len(u.Path) < 2 || u.Path[0] != '/' {
			return "", fmt.Errorf("certificate serial %s: malformed tenant URI %q", cert.SerialNumber, u.String())
		}
		name = u.Path[1:]
	}
	if n != 1 {
		return "", fmt.Errorf("certificate serial %s: has %d tenant URIs, want exactly 1", cert.SerialNumber, n)
	}
	if err := CheckName(name); err != nil {
		return "", fmt.Errorf("certificate serial %s: %w", cert.SerialNumber, err)
	}
	if cert.Subject.CommonName != name {
		return "", fmt.Errorf("certificate serial %s: common name %q does not match tenant URI %q", cert.SerialNumber, cert.Subject.CommonName, name)
	}
	return name, nil
}

// EnrollmentURI returns the URI SAN that marks the enrolment service's
// server certificate: fedb2b://enrollment. Only a holder of the CA key
// issues it (package pki mints it in memory when it serves enrolment); the
// coordinator's server certificate does not carry it, so an enrolling
// tenant does not hand its invitation token to a coordinator that has no
// CA key ([EnrollTLSConfig]).
func EnrollmentURI() *url.URL { return &url.URL{Scheme: URIScheme, Host: "enrollment"} }

// IsEnrollmentService reports whether cert carries the [EnrollmentURI] SAN.
// It does not verify the certificate.
func IsEnrollmentService(cert *x509.Certificate) bool {
	want := EnrollmentURI().String()
	for _, u := range cert.URIs {
		if u.String() == want {
			return true
		}
	}
	return false
}
