// Package pki is the operator's side of fedb2b's identity layer: the certificate
// authority, one-time tenant invitations, enrolment, revocation, and the
// mutual-TLS configuration and gRPC interceptors that make every call name
// its tenant. The formats both sides read (names, invitations, key and
// certificate files, the client's TLS configuration) are in protocol/certs.
//
// # Flow
//
//  1. `fedb2b ca init` ([Init]) creates, in a CA directory, an ECDSA P-256
//     CA, a server certificate for the coordinator (SANs localhost,
//     127.0.0.1, ::1 and the configured names) and an empty registry.
//     Private keys are stored encrypted with filippo.io/age (passphrase via
//     scrypt, or an X25519 identity file).
//  2. `fedb2b tenant invite NAME` ([Registry.Invite]) draws a 256-bit secret
//     and stores only its SHA-256, with an expiry (72 h by default). The
//     operator hands the tenant one string ([certs.Invite]) carrying the name, the
//     secret and the CA certificate's fingerprint.
//  3. On the tenant's server, package client/enroll generates the key
//     locally and calls the Enrollment service ([EnrollmentService],
//     protocol in api/enrollpb) over TLS 1.3 authenticated by the pinned CA
//     fingerprint ([certs.EnrollTLSConfig]). The CA redeems the token (exists,
//     unused, unexpired, for this tenant; marked used before signing) and
//     issues a client certificate whose subject common name and single URI
//     SAN fedb2b://tenant/NAME name the tenant, valid 30 days by default.
//     If the CSR asks for it with a URI SAN
//     fedb2b://identity/ed25519/<64 hex digits> ([certs.IdentityURI]), the
//     certificate binds the tenant's long-term ed25519 identity key (the
//     key that signs its privacy ledger and its secure-aggregation keys)
//     with the same URI SAN ([certs.IdentityFromCertificate]).
//  4. Every other call uses mutual TLS 1.3 ([ServerTLSConfig],
//     [certs.ClientTLSConfig]). The server's VerifyConnection hook refuses a
//     certificate the registry does not know, or whose tenant or serial is
//     revoked (`fedb2b tenant revoke`, [Registry.Revoke]); crypto/tls
//     refuses other CAs and expired certificates. The [Guard] interceptors
//     re-check on every call (so revocation also cuts open connections),
//     map refusals to codes.Unauthenticated or codes.PermissionDenied, and
//     put the tenant in the context ([TenantFromContext], [CheckTenant]).
//
// # Identity keys for secure aggregation
//
// The coordinator keeps each tenant's verified certificate
// ([CertificateFromContext]), refuses a Join whose announced identity key
// is not the certified one, and relays the cohort's certificates in every
// secure plan. Clients pin the CA at enrolment and check each relayed
// certificate with [certs.VerifyPeerCertificate] (chains to the pinned CA alone,
// client authentication, valid now, names that cohort member), then use
// the identity key it binds, so the coordinator cannot substitute identity
// keys without the CA key. Whoever holds the CA key can: keep the CA
// directory off the coordinator (serve enrolment from another process or
// host) where the operator itself is not trusted with identities.
// The enrolment service presents a certificate the CA key holder mints in
// memory with the fedb2b://enrollment URI SAN ([certs.EnrollmentURI]);
// enrolling tenants send their token to no other server. Without this a
// coordinator would pose as the enrolment service with its own
// server.crt (same CA, same names), take a tenant's token and redeem it
// for a certificate binding an identity key of its choice.
// Peers do not see revocations; a revoked tenant is refused by the
// coordinator, and a coordinator that relays a revoked certificate still
// needs that tenant's identity private key to speak for it.
//
// # Why a gRPC enrolment service on the same port
//
// The enrolment RPC is a separate, tiny gRPC service (fedb2b.enroll.v1) so
// tenants need to reach one address only and the coordinator one listener.
// With [ServerConfig.AllowEnrollment] the handshake accepts clients without
// a certificate (a presented certificate is still fully verified) and the
// [Guard] lets them call only the enrolment method. An operator who prefers
// a hard TLS-level requirement on the federation port runs the enrolment
// service on a second listener without AllowEnrollment on the first.
//
// # Threat model
//
// The CA key signs identities: it is only decrypted by the process that
// serves enrolment. Invitation secrets are 256-bit random values handed
// over out of band; the registry holds only their hashes, so a copy of the
// registry does not let anyone enrol. A token is redeemed at most once,
// under a file lock shared by the CLI and the coordinator. Certificates
// carry no secrets; the tenant's private key is generated on its server and
// never sent. Errors name tenants, serials and times, never keys or tokens.
// Not covered: the CA directory's host being compromised, rate limiting of
// enrolment attempts (a 256-bit token cannot be guessed), and OCSP/CRL
// distribution (revocation is checked against the coordinator's own
// registry, the only relying party).
//
// # Files
//
// A CA directory holds ca.crt, ca.key.age, server.crt, server.key.age,
// registry.json (format version 1; hashed invitations, issued serials,
// revocations) and registry.json.lock. The registry is rewritten atomically
// (temporary file, fsync, rename) under an flock, so it is Unix-only.
package pki
