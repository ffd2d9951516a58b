// Package ledger is fedb2b's privacy ledger: an append-only, hash-chained,
// signed record of every privacy spend, from which an auditor can recompute
// each tenant's ε (package audit does).
//
// Every party keeps its own ledger: each tenant (authoritative for its own
// data) and the coordinator (which records what each tenant announced).
// One entry is one line of JSON (see [Entry]): who spent, on which task and
// round, in which privacy unit (record or tenant), through which mechanism
// with every parameter needed to recompute ε, the cumulative ε the
// accountant computed at the tenant's δ, the cap in force, the SHA-256 of
// the released artefact, the hash of the previous line and an ed25519
// signature by the writer over everything else.
//
// # Write-ahead
//
// A release takes two entries. [Ledger.Append] writes an intent and syncs
// it to disk before returning; only then may the caller release the
// artefact; afterwards [Ledger.Release] writes a released entry naming the
// intent. An intent counts as spent whether or not a released entry
// follows: after a crash between the two, the spend is on record and
// [Ledger.Pending] lists it so a restarted client does not release that
// round again. Append refuses an intent that would take the cumulative ε
// above its cap ([ErrBudgetExceeded]); [CheckBudget] and [Ledger.Check]
// answer "would this round exceed the cap?" without writing. One
// (tenant, unit) composes at one δ: Append (and the auditor's replay)
// refuses an intent whose δ differs from that of the earlier entries, since
// reporting the whole composition at a larger δ would show a smaller ε than
// was spent at the first one.
//
// # Storage: a plain append-only file, not an embedded database
//
// The ledger is a text file written with O_APPEND, one line per entry,
// fsync after every append and of the directory when the file is created.
// An embedded database (bbolt, SQLite) would add a dependency and a binary
// format for what is a single sequential writer appending a few entries
// per round; its transactions buy nothing the hash chain and fsync do not
// already give, and they would hide the records from the auditor's
// ordinary tools. A line-oriented file can be read with less, diffed,
// archived and handed to an auditor as is; the hash chain makes any edit,
// deletion or reordering detectable, and canonical encoding (a line must
// be exactly what re-encoding its entry gives) makes byte-level tampering
// visible too. Crash safety: an append interrupted by a crash leaves at
// most a partial last line (no newline); it was never acknowledged, so
// nothing it describes was released. [Open] for writing removes it and
// reports it ([Ledger.TornBytes]); a damaged line anywhere else is an
// error naming the line, never skipped. flock(2) on the file refuses a
// second writer ([ErrLocked]); the kernel drops the lock if the writer
// dies.
//
// # Received entries
//
// A party that receives releases from tenants (the coordinator) records
// them with [Ledger.Receive] as StatusReceived entries: what arrived from
// which tenant in which task and round, its hash, and the parameters the
// plan asked for; and each tenant's signed ledger head ([Ledger.Head],
// [VerifyHead]). They carry no δ or ε and compose nothing; package audit
// holds each tenant's own ledger to them.
//
// One ledger has one party and one writer key: [Open] for writing checks
// every entry against the signer, and Append refuses another party. Key
// rotation is not supported yet: a new file would restart the composition
// from zero, so a party must keep its key for the life of its budget (a
// future carry-over entry naming the previous ledger's last hash and ε is
// the intended way).
//
// # Recomputing ε
//
// An entry names a registered [Mechanism] (how its parameters become
// accountant events) and a registered accountant ("rdp":
// privacy.RDPAccountant over dp_accounting's default orders). [Replay]
// composes, per (tenant, unit), every intent of a ledger in order and
// gives the ε each entry must record. Other mechanisms and accountants
// (a PLD accountant; the distributed discrete Gaussian for tenant-level
// DP) plug in with [RegisterMechanism] and [RegisterAccountant]; a ledger
// naming an unregistered one fails to verify rather than being guessed at.
// Composing costs milliseconds per entry (RDP fractional orders), so
// composed states are memoised by a hash of their event sequence: a
// coordinator's record of a tenant and the tenant's own ledger share them.
//
// # Threat model
//
// The writer is trusted to have run the mechanism it recorded; the ledger
// proves what it declared and when, not what it computed. Against anyone
// else who can write the file, the chain and signatures make edits,
// deletions, insertions and reorderings detectable by whoever holds the
// writer's public key. What a signature cannot show: the writer itself
// rewriting its whole ledger with its own key, or deleting entries from
// the end. Both are caught by cross-checking against another party's
// ledger: the coordinator's received entries and the signed heads it
// recorded (package audit does), or an earlier copy. Signing keys are
// handled by package keys and never logged.
//
// # Units
//
// ε is natural-log based and cumulative (everything this ledger recorded
// for the tenant and unit so far, pending intents included), never
// per round; +Inf after an exact release of the tenant ([MechExact]),
// encoded as null with epsilon_infinite true; δ is a probability in (0, 1); noise_multiplier is the noise
// standard deviation divided by the L2 sensitivity clip_norm.
package ledger
