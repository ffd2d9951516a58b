package certs

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// ClientConfig configures a tenant's side of TLS.
type ClientConfig struct {
	// CA is the operator's CA certificate (from enrolment).
	CA *x509.Certificate
	// Certificate is the tenant's certificate and private key.
	Certificate tls.Certificate
	// ServerName is the name the coordinator's certificate must carry
	// (the host part of its address).
	ServerName string
}

// ClientTLSConfig returns a tenant's TLS configuration: TLS 1.3 only, the
// coordinator verified against the operator's CA for ServerName, and the
// tenant's certificate presented.
func ClientTLSConfig(c ClientConfig) (*tls.Config, error) {
	if c.CA == nil {
		return nil, errors.New("pki: client TLS: no CA certificate")
	}
	if len(c.Certificate.Certificate) == 0 || c.Certificate.PrivateKey == nil {
		return nil, errors.New("pki: client TLS: no client certificate and key")
	}
	if c.ServerName == "" {
		return nil, errors.New("pki: client TLS: no server name")
	}
	pool := x509.NewCertPool()
	pool.AddCert(c.CA)
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		RootCAs:      pool,
		Certificates: []tls.Certificate{c.Certificate},
		ServerName:   c.ServerName,
		NextProtos:   []string{"h2"},
	}, nil
}

// EnrollTLSConfig returns the TLS configuration of a client that holds no
// certificate yet: TLS 1.3, no client certificate, and the coordinator
// authenticated by pinning: one certificate the server sends must be a CA
// whose SHA-256 fingerprint is caFingerprint (from the invitation), and the
// server's leaf must chain to it, be valid for serverName and carry the
// [EnrollmentURI] SAN: the token goes only to a holder of the CA key, not
// to a coordinator serving its own certificate (which chains to the same
// CA and names the same hosts). The pinned CA is reported through gotCA
// (if not nil) on success.
func EnrollTLSConfig(caFingerprint [32]byte, serverName string, gotCA func(*x509.Certificate)) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		ServerName: serverName,
		NextProtos: []string{"h2"},
		// Verification is done in VerifyConnection against the pinned CA.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			var ca *x509.Certificate
			for _, c := range cs.PeerCertificates {
				fp := Fingerprint(c)
				if subtle.ConstantTimeCompare(fp[:], caFingerprint[:]) == 1 && c.IsCA {
					ca = c
				}
			}
			if ca == nil || len(cs.PeerCertificates) == 0 {
				return errors.New("pki: coordinator did not present the CA named by the invitation's fingerprint")
			}
			pool := x509.NewCertPool()
			pool.AddCert(ca)
			if _, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, DNSName: serverName}); err != nil {
				return fmt.Errorf("pki: coordinator certificate does not verify against the pinned CA: %w", err)
			}
			if !IsEnrollmentService(cs.PeerCertificates[0]) {
				return errors.New("pki: the server is not the enrolment service (its certificate lacks the fedb2b://enrollment name only the CA's holder issues; a coordinator's own certificate does not carry it): enrol at the address of 'fedb2b ca serve' (or of an all-in-one 'coordinator --ca-dir')")
			}
			if gotCA != nil {
				gotCA(ca)
			}
			return nil
		},
	}
}

// Fingerprint returns the SHA-256 of a certificate's DER encoding.
func Fingerprint(cert *x509.Certificate) [32]byte { return sha256.Sum256(cert.Raw) }
