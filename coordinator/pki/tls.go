package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"filippo.io/age"
	"github.com/fedb2b/fedb2b/protocol/certs"
)

// ServerConfig configures the coordinator's side of TLS.
type ServerConfig struct {
	// Dir is the CA directory made by [Init].
	Dir string
	// Identity decrypts server.key.age.
	Identity age.Identity
	// Registry is the tenant registry checked on every handshake and call
	// (opened from Dir if nil).
	Registry *Registry
	// AllowEnrollment lets clients without a certificate complete the
	// handshake so that they can call the enrolment service on the same
	// port. The [Guard] then refuses every other method to them with
	// codes.Unauthenticated. A certificate, when presented, is verified
	// exactly as without this option. Enrolment is served only with the
	// CA key (Authority, or ca.key.age in Dir decrypted with Identity):
	// the server then presents an enrolment certificate it mints in
	// memory (see [certs.EnrollmentURI]) instead of server.crt, so that a
	// coordinator holding only server.crt cannot pose as it.
	AllowEnrollment bool
	// Authority is the loaded CA, used with AllowEnrollment (its key is
	// loaded from Dir if nil).
	Authority *Authority
	// OnReject, if set, is called with the reason whenever a presented client
	// certificate is refused by the registry (revoked, unknown tenant or
	// serial), so the coordinator can log it. Chain and validity failures are
	// reported by crypto/tls itself.
	OnReject func(error)
	// Now is the clock for certificate validity (time.Now if nil).
	Now func() time.Time
	// PublicMethods are full gRPC method names any client that completed
	// the handshake may call without a tenant check (the health service).
	PublicMethods []string
}

// ServerTLSConfig returns the coordinator's TLS configuration: TLS 1.3 only,
// the server certificate (sent with the CA certificate, so that enrolling
// clients can pin the CA by fingerprint), client certificates required and
// verified against the CA (or verified if given, with AllowEnrollment), and
// a VerifyConnection hook that refuses certificates whose tenant or serial
// the registry does not know or has revoked.
func ServerTLSConfig(c ServerConfig) (*tls.Config, error) {
	ca, err := ReadCA(c.Dir)
	if err != nil {
		return nil, err
	}
	srv, err := certs.ReadCertificate(filepath.Join(c.Dir, serverCertName))
	if err != nil {
		return nil, err
	}
	var leaf tls.Certificate
	if c.AllowEnrollment {
		auth := c.Authority
		if auth == nil {
			if auth, err = LoadAuthority(c.Dir, c.Identity, 0); err != nil {
				return nil, fmt.Errorf("pki: serving enrolment needs the CA key: %w", err)
			}
		}
		now := time.Now()
		if c.Now != nil {
			now = c.Now()
		}
		if leaf, err = auth.enrollmentCertificate(srv, now); err != nil {
			return nil, err
		}
	} else {
		key, err := certs.LoadKey(filepath.Join(c.Dir, serverKeyName), c.Identity)
		if err != nil {
			return nil, err
		}
		leaf = tls.Certificate{Certificate: [][]byte{srv.Raw, ca.Raw}, PrivateKey: key, Leaf: srv}
	}
	reg := c.Registry
	if reg == nil {
		if reg, err = OpenRegistry(c.Dir); err != nil {
			return nil, err
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{leaf},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		Time:         c.Now,
		NextProtos:   []string{"h2"},
	}
	if c.AllowEnrollment {
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.VerifiedChains) == 0 {
			if c.AllowEnrollment {
				return nil
			}
			return errors.New("pki: no verified client certificate")
		}
		_, err := checkLeaf(reg, cs.VerifiedChains[0][0])
		if err != nil && c.OnReject != nil {
			c.OnReject(err)
		}
		return err
	}
	return cfg, nil
}

// checkLeaf returns the tenant named by a verified client certificate if
// the registry accepts it.
func checkLeaf(reg *Registry, leaf *x509.Certificate) (string, error) {
	tenant, err := certs.TenantFromCertificate(leaf)
	if err != nil {
		return "", fmt.Errorf("pki: refused client certificate: %w", err)
	}
	if err := reg.Check(tenant, serialHex(leaf)); err != nil {
		return "", fmt.Errorf("pki: refused client certificate of tenant %q: %w", tenant, err)
	}
	return tenant, nil
}
