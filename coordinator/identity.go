package coordinator

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/fedb2b/fedb2b/protocol/certs"
)

// ErrIdentityMismatch is returned when a tenant's Join announces an
// identity key other than the one its CA-signed certificate binds, or when
// a secure-aggregation federation receives a certificate that binds none.
var ErrIdentityMismatch = errors.New("identity key does not match the client certificate")

// checkJoinCertificate is the pure check of a joining tenant's identity
// against its verified client certificate (nil on a coordinator without
// TLS, where nothing can be checked). Peers take identity keys from the
// certificates the coordinator relays, so a tenant whose announced key
// differs would only make every session it is in fail: refuse it at Join,
// with a message that says what to do.
func checkJoinCertificate(tenant string, cert *x509.Certificate, claimed []byte, secure bool) error {
	if cert == nil {
		return nil
	}
	key, err := certs.IdentityFromCertificate(cert)
	switch {
	case errors.Is(err, certs.ErrNoIdentityKey):
		if secure {
			return fmt.Errorf("%w: the certificate of tenant %q binds no identity key, which secure aggregation needs: enrol again with 'fedb2b client enroll --identity-pub WORKDIR/signing.pub'", ErrIdentityMismatch, tenant)
		}
		return nil
	case err != nil:
		return fmt.Errorf("%w: tenant %q: %v", ErrIdentityMismatch, tenant, err)
	case !bytes.Equal(key, claimed):
		return fmt.Errorf("%w: tenant %q announced identity key %x…, its certificate (serial %s) binds %x… (is --key the signing key it enrolled with?)",
			ErrIdentityMismatch, tenant, prefix(claimed), cert.SerialNumber.Text(16), prefix(key))
	}
	return nil
}

// prefix is the first bytes of a public key, enough to tell keys apart in
// an error message.
func prefix(b []byte) []byte { return b[:min(len(b), 4)] }
