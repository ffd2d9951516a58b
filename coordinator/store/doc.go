// Package store keeps the coordinator's durable state: tenants, tasks,
// rounds (number, attempt, stage, cohort, outcome), the global model
// versions, and the secure-aggregation sessions already used, so that after
// a crash (kill -9, power loss) the coordinator resumes without losing a
// finished round, applying one twice, or reusing the secrets of an aborted
// one.
//
// # Why bbolt
//
// The state is small and written by one process: a few records per round
// stage and one model version per round. go.etcd.io/bbolt is a pure-Go,
// single-file, copy-on-write B+tree with serialisable read-write
// transactions that are fsynced on commit, no background compaction, and
// no cgo. It is what etcd uses for the same job. A SQL engine
// (modernc.org/sqlite) would add a large transpiled dependency and a query
// language for what are key lookups and ordered scans. bbolt holds an
// exclusive file lock, so a second coordinator on the same directory fails
// to open instead of corrupting it.
//
// # Backends
//
// [Backend] is what the coordinator uses; [*Store] (bbolt) implements it
// and stays the default. Package pgstore implements it on PostgreSQL for
// operators who run several coordinators on one database (active/standby,
// with a lease and fencing). Both keep the invariants below and share
// their checks ([Admit], [CheckNextVersion], [CheckBlob], the record
// checks and [VerifyBackend]); the package's behaviour tests run against
// both.
//
// # Layout and invariants
//
// A store directory holds state.db (bbolt) and blobs/, where each model
// version is a file named by the lowercase hex SHA-256 of its bytes. A blob
// is written to a temporary file, fsynced, renamed and the directory fsynced
// before the transaction that names it commits, so a committed version
// always refers to a complete file; [Store.Model] re-hashes it on read.
// Temporary files and blobs no committed version names (a crash between
// the two steps) are removed by [Open].
//
//   - Model versions are contiguous from the first one stored; a version
//     is written once (the same bytes again is a no-op, other bytes fail).
//   - A round has attempts 0, 1, 2...; at most one is running. A new
//     attempt needs every earlier attempt closed (aborted). A finished
//     attempt closes the round: nothing is recorded for it again
//     ([ErrRoundClosed]), which is what makes applying a round twice
//     impossible. [Store.FinishRound] commits the round's outcome and its
//     model version in one transaction.
//   - Every attempt names its secure-aggregation session by a public
//     identifier (e.g. SHA-256 of the session seed, never the seed): an
//     identifier is accepted once in the store's life ([ErrSessionReused]).
//     After a crash, [Store.AbortInterrupted] aborts the running attempt, so
//     its re-run must use a fresh session.
//
// Records are JSON with a format version, checked on decode; a record that
// fails its checks is reported as corrupt with its bucket and key.
//
// # Threat model
//
// The store holds no secrets: no keys, masks, shares or individual updates,
// only aggregates (model versions) and public identifiers. Whoever can
// write the directory can change the model; integrity against the operator
// is the job of the signed ledgers, not of this package.
package store
