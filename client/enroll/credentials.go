package enroll

import (
	"crypto"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"filippo.io/age"
	"github.com/fedb2b/fedb2b/protocol/certs"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// Credentials are a tenant's enrolled identity.
type Credentials struct {
	Tenant string
	CA     *x509.Certificate
	Cert   *x509.Certificate
	Key    crypto.Signer
	// Identity is the ed25519 identity key the certificate binds (nil if
	// the tenant enrolled without one).
	Identity ed25519.PublicKey
}

// Load reads the credentials stored by [Enroll] in dir, decrypting the key
// with identity, and checks that they belong together.
func Load(dir string, identity age.Identity) (*Credentials, error) {
	ca, err := certs.ReadCertificate(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	cert, err := certs.ReadCertificate(filepath.Join(dir, CertFile))
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	key, err := certs.LoadKey(filepath.Join(dir, KeyFile), identity)
	if err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	inv := certs.Invite{CAFingerprint: certs.Fingerprint(ca)}
	name, err := certs.TenantFromCertificate(cert)
	if err != nil {
		return nil, fmt.Errorf("enroll: %s: %w", filepath.Join(dir, CertFile), err)
	}
	inv.Tenant = name
	id, err := certs.IdentityFromCertificate(cert)
	if err != nil && !errors.Is(err, certs.ErrNoIdentityKey) {
		return nil, fmt.Errorf("enroll: %s: %w", filepath.Join(dir, CertFile), err)
	}
	c, err := checkResponse(inv, key, id, cert.Raw, ca.Raw)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, dir)
	}
	return c, nil
}

// save writes the credentials; the certificate last, so that its presence
// means the directory is complete.
func (c *Credentials) save(dir string, recipient age.Recipient) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	if err := certs.SaveKey(filepath.Join(dir, KeyFile), c.Key, recipient); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	if err := certs.WriteCertificate(filepath.Join(dir, CAFile), c.CA.Raw); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	if err := certs.WriteCertificate(filepath.Join(dir, CertFile), c.Cert.Raw); err != nil {
		return fmt.Errorf("enroll: %w", err)
	}
	return nil
}

// TLSConfig returns the mutual-TLS configuration for connecting to the
// coordinator at serverName (see certs.ClientTLSConfig).
func (c *Credentials) TLSConfig(serverName string) (*tls.Config, error) {
	return certs.ClientTLSConfig(certs.ClientConfig{
		CA:          c.CA,
		Certificate: tls.Certificate{Certificate: [][]byte{c.Cert.Raw}, PrivateKey: c.Key, Leaf: c.Cert},
		ServerName:  serverName,
	})
}

// DialOption returns the grpc.DialOption carrying [Credentials.TLSConfig].
func (c *Credentials) DialOption(serverName string) (grpc.DialOption, error) {
	cfg, err := c.TLSConfig(serverName)
	if err != nil {
		return nil, err
	}
	return grpc.WithTransportCredentials(credentials.NewTLS(cfg)), nil
}
