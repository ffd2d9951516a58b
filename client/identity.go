package client

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/protocol/certs"
)

// cohortIdentities returns the ed25519 identity key of each cohort member
// of a secure plan, the keys that verify the members' advertised
// secure-aggregation keys.
//
// With the operator's CA pinned (ca != nil), the coordinator is not trusted
// with them: every cohort member must come with a certificate that chains
// to ca alone for client authentication, is valid at now, names that
// member, and binds an identity key; the key is taken from it, and must
// equal the plan's cohort_keys entry (a difference means the coordinator
// tampered with one of them, and the session is refused). Without a pinned
// CA (no TLS) the plan's cohort_keys are used as sent.
func cohortIdentities(p *api.TrainPlan, ca *x509.Certificate, now time.Time) ([]ed25519.PublicKey, error) {
	cohort, keys := p.GetCohort(), p.GetCohortKeys()
	if len(cohort) != len(keys) {
		return nil, fmt.Errorf("plan names %d tenants but %d identity keys", len(cohort), len(keys))
	}
	out := make([]ed25519.PublicKey, len(cohort))
	for i, id := range cohort {
		if len(keys[i]) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("identity key of %q has %d bytes", id, len(keys[i]))
		}
		out[i] = ed25519.PublicKey(keys[i])
	}
	if ca == nil {
		return out, nil
	}
	peerCerts := p.GetCohortCerts()
	if len(peerCerts) != len(cohort) {
		return nil, fmt.Errorf("refusing the session: this client pins the operator's CA, but the plan carries %d certificates for %d cohort members (a coordinator without TLS, or one withholding them)", len(peerCerts), len(cohort))
	}
	for i, id := range cohort {
		key, err := certs.VerifyPeerCertificate(ca, peerCerts[i], id, x509.VerifyOptions{CurrentTime: now})
		if err != nil {
			return nil, fmt.Errorf("refusing the session: %w", err)
		}
		if !bytes.Equal(key, out[i]) {
			return nil, fmt.Errorf("refusing the session: the coordinator sent identity key %x… for %q, but its CA-signed certificate binds %x… (keys substituted)", out[i][:4], id, key[:4])
		}
		out[i] = key
	}
	return out, nil
}
