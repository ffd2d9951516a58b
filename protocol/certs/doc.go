// Package certs holds the identity formats that both the operator's CA
// (coordinator/pki) and the tenant's enrolment and client (client/enroll,
// client) read and write: tenant names and their URI SANs, the identity-key
// URI SAN that binds a tenant's ed25519 key into its certificate, the
// one-line invitation format, encrypted key files and PEM certificates
// (written atomically, never overwritten), and a tenant's TLS 1.3 client
// configuration (mutual TLS, or CA pinning by fingerprint during
// enrolment).
//
// It issues nothing: signing certificates, the registry of invitations and
// revocations, and the server's TLS and interceptors stay with the CA in
// coordinator/pki; generating a tenant's key and enrolling stay in
// client/enroll.
//
// # Threat model
//
// Parsers take hostile input (certificates relayed by the coordinator,
// invitations pasted by a user) and return errors, never panic.
// VerifyPeerCertificate lets a tenant that pinned the operator's CA take a
// peer's identity key from a relayed certificate without trusting the
// relay. Private keys are stored encrypted with filippo.io/age; errors
// name files, tenants and serials, never keys or secrets.
package certs
