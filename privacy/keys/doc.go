// Package keys generates, stores and loads the ed25519 signing keys with
// which tenants and the coordinator sign their privacy ledgers.
//
// A party generates its key locally ([Generate]); the private key never
// leaves its server and is stored encrypted at rest with filippo.io/age
// ([Save]), either to a passphrase (age scrypt recipient) or to an age X25519
// identity kept elsewhere (an HSM-backed file, a secrets manager mount). The
// public key is written in clear ([WritePublic]); it is all an auditor needs.
//
// # Formats
//
// The encrypted file (signing.key.age) holds, inside the age payload, one
// line "fedb2b-ed25519-seed <base64 of the 32-byte RFC 8032 seed>". The public
// key file (signing.pub) holds comment lines starting with '#' and one line
// with the 32-byte public key in standard base64 (hex is accepted on input).
//
// A key id ([ID]) is the lowercase hex of the first 8 bytes of SHA-256 of the
// public key; ledgers name their writer by it. It identifies, it does not
// authenticate: verification always uses the full public key.
//
// # Threat model
//
// Someone who copies signing.key.age learns nothing without the passphrase
// or identity (age's guarantees; scrypt work factor 2^18 by default). Anyone
// with the private key can forge that party's ledger entries, so the key is
// never logged or printed; errors never include key material.
package keys
