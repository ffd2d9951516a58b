package certs

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrNoIdentityKey is returned by [IdentityFromCertificate] for a
// certificate that binds no ed25519 identity key (one enrolled without it).
var ErrNoIdentityKey = errors.New("certificate binds no identity key")

// identityPrefix is the path of an identity URI before the key's hex.
const identityPrefix = "/ed25519/"

// IdentityURI returns the URI SAN that binds a tenant's long-term ed25519
// identity key (the key that signs its ledger and its secure-aggregation
// keys) to its certificate: fedb2b://identity/ed25519/<64 hex digits>.
func IdentityURI(pub ed25519.PublicKey) *url.URL {
	return &url.URL{Scheme: URIScheme, Host: "identity", Path: identityPrefix + hex.EncodeToString(pub)}
}

// IdentityFromCertificate returns the ed25519 identity key bound to a
// client certificate by its single fedb2b://identity/ed25519/HEX URI SAN,
// or an error wrapping [ErrNoIdentityKey] if it has none. Like
// [TenantFromCertificate] it does not verify the certificate.
func IdentityFromCertificate(cert *x509.Certificate) (ed25519.PublicKey, error) {
	key, err := IdentityFromURIs(cert.URIs)
	if err != nil {
		return nil, fmt.Errorf("certificate serial %s: %w", cert.SerialNumber, err)
	}
	return key, nil
}

// IdentityFromURIs finds the identity key among a certificate's or a
// CSR's URIs: none (ErrNoIdentityKey) or exactly one well-formed one.
func IdentityFromURIs(uris []*url.URL) (ed25519.PublicKey, error) {
	var key ed25519.PublicKey
	n := 0
	for _, u := range uris {
		if u.Scheme != URIScheme || u.Host != "identity" {
			continue
		}
		n++
		h, ok := strings.CutPrefix(u.Path, identityPrefix)
		if !ok || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("malformed identity URI %q (want fedb2b://identity/ed25519/<64 hex digits>)", u.String())
		}
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("identity URI %q does not hold a %d-byte hex ed25519 key", u.String(), ed25519.PublicKeySize)
		}
		if bytes.Equal(b, make([]byte, ed25519.PublicKeySize)) {
			return nil, fmt.Errorf("identity URI %q holds the all-zero key", u.String())
		}
		key = ed25519.PublicKey(b)
	}
	switch n {
	case 0:
		return nil, ErrNoIdentityKey
	case 1:
		return key, nil
	}
	return nil, fmt.Errorf("%d identity URIs, want at most 1", n)
}

// VerifyPeerCertificate checks, for a client that pins the operator's CA,
// a certificate the coordinator relayed as tenant's: it parses, chains to
// ca alone for client authentication at the time the options give (now if
// zero), names tenant, and binds an identity key, which it returns. This is
// what lets peers use each other's identity keys without trusting the
// coordinator that relays them.
func VerifyPeerCertificate(ca *x509.Certificate, der []byte, tenant string, opts x509.VerifyOptions) (ed25519.PublicKey, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certificate of %q: %w", tenant, err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	opts.Roots, opts.Intermediates = pool, nil
	opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if _, err := cert.Verify(opts); err != nil {
		return nil, fmt.Errorf("certificate of %q does not verify against the pinned CA: %w", tenant, err)
	}
	name, err := TenantFromCertificate(cert)
	if err != nil {
		return nil, fmt.Errorf("certificate relayed for %q: %w", tenant, err)
	}
	if name != tenant {
		return nil, fmt.Errorf("certificate relayed for %q names tenant %q", tenant, name)
	}
	key, err := IdentityFromCertificate(cert)
	if err != nil {
		return nil, fmt.Errorf("certificate of %q: %w", tenant, err)
	}
	return key, nil
}
