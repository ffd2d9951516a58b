// Package enroll is the tenant's side of enrolment: it turns a one-time
// invitation from the operator into a client certificate, and loads the
// resulting credentials for mutual TLS.
//
// [Enroll] generates the tenant's ECDSA P-256 key on the tenant's own
// server (the private key never leaves it), sends a certificate signing
// request with the invitation's token to the coordinator's enrolment
// service, checks what comes back, and stores in a directory:
//
//	tenant.key.age  the private key, PKCS #8, encrypted with filippo.io/age
//	ca.crt          the operator's CA certificate (PEM)
//	tenant.crt      the tenant's client certificate (PEM); written last,
//	                so its presence means enrolment completed
//
// With [Options.IdentityKey] the CSR also asks the CA to bind the
// tenant's ed25519 identity public key into the certificate, and the
// returned certificate is checked to bind exactly that key
// ([Credentials.Identity]); peers in secure aggregation then take the key
// from the certificate rather than from the coordinator.
//
// [Load] reads them back and [Credentials.TLSConfig] gives the TLS 1.3
// configuration for every later connection.
//
// # Threat model
//
// Before enrolment the tenant trusts nothing but the invitation, received
// out of band. The invitation carries the SHA-256 fingerprint of the CA
// certificate, so the coordinator is authenticated by pinning during
// enrolment: a man in the middle without the CA's key cannot obtain the
// token. The returned certificate is checked to chain to that CA, to carry
// the tenant's name and the key just generated. Someone who copies the
// directory learns nothing of the key without the age passphrase or
// identity; keys and tokens are never logged or put in errors.
package enroll
