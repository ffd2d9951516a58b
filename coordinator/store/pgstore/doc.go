// Package pgstore keeps the coordinator's durable state in PostgreSQL
// (github.com/jackc/pgx/v5), behind the same [store.Backend] interface and
// invariants as the embedded bbolt store, so that several coordinator
// processes on different machines can share it: one leader runs rounds,
// the others wait as standbys and take over when it dies.
//
// # Consistency
//
// Every state change is one transaction, as in bbolt: a round's result and
// its model version (the blob in a bytea column, re-hashed on every read)
// commit together or not at all. Write transactions are serialised: each
// first locks the lease row, which also fences them (below).
//
// # Schema
//
// The schema is versioned in the repository (migrations/NNNN_*.sql,
// embedded) and recorded in the schema_version table; [Open] applies the
// missing migrations in order, each in its own transaction under an
// advisory lock (so coordinators starting together do not race), and
// refuses a database whose schema is newer than the binary.
//
// # Leader lease and fencing
//
// The lease table holds one row: the leader's epoch (fencing token),
// holder, address for redirects and expiry, all judged by the database's
// clock. [Store.TryAcquire] takes an expired lease and raises the epoch;
// [Store.Renew] extends it only for the same epoch and only before it
// expired. Every write transaction locks the row and commits only if the
// epoch is still this store's and the lease has not expired; otherwise it
// fails with [ErrNotLeader]. So a leader that was paused (GC, SIGSTOP, a
// network partition) past its expiry cannot write once a standby has
// taken over, even if it does not know yet: its transactions see the new
// epoch. A write holds the row's lock until it commits, so a takeover
// waits for it: a write that began under a valid lease commits before any
// takeover, one that begins after it fails. A leader frozen inside a write
// (SIGSTOP between two statements) would hold that lock until it woke and
// keep every standby out; with [Options.HoldLimit] (the coordinator sets
// the lease TTL) the server ends such a session after that long idle in
// its transaction, which frees the lock and rolls the write back. (A write that takes longer
// than the lease's lifetime blocks the leader's own renewal too, and the
// coordinator then steps down: keep model blobs well within what the
// database writes in a lease period.) Reads need no lease.
//
// # Threat model
//
// As for package store: no secrets are stored (no keys, masks, shares or
// individual updates), only aggregates and public identifiers. Whoever
// can write the database can change the model and the round records;
// integrity against the operator is the job of the signed ledgers. The
// DSN may carry a password: it is never logged by this package.
package pgstore
