// Package embcache caches the vectors of a frozen encoder on the tenant's
// disk, so that each record is encoded once and later rounds and predict
// reuse it.
//
// Wrap returns an encoder with the same ID and dimension as the one it
// wraps. An entry is keyed by the encoder ID and the SHA-256 of the text;
// it lives in DIR/<encoder>/<xx>/<name>, where <encoder> is a hash of the
// encoder ID. Each file records the encoder ID, the text hash and the
// vector, and is checked on every read, so a renamed or stale file is an
// error, never a wrong vector. Writes are atomic (temporary file, fsync,
// rename): a crash leaves either the old state or the new entry.
//
// Threat model: cached vectors are derived from the tenant's private
// records and are as sensitive as they are. Entries live in a per-encoder
// directory created 0700 (an existing one that group or others can access
// is refused), in 0700 subdirectories, in 0600 files.
// With Options.Identity every entry is age-encrypted (X25519) to that
// identity, and file names become an HMAC of the key under a secret derived
// from the identity, so that someone who can list the directory cannot test
// whether a guessed text is in the cache. Without an identity, the file
// name is a plain hash and the vector is readable by anyone with access to
// the files.
package embcache
