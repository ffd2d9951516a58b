// Package audit verifies privacy ledgers (package ledger) from records
// alone and renders the result for people (HTML) and tools (JSON).
//
// [Verify] takes the ledgers of any parties (each tenant's own, the
// coordinator's) and the public keys the auditor trusts, and checks, in
// order: that every line decodes to a canonical entry; that sequence
// numbers run 1, 2, … and each entry carries the hash of the previous one;
// that every entry is signed by a trusted key and all entries of a ledger
// by the same writer and party; that every recorded cumulative ε equals the
// ε recomputed by the project's accountant from the recorded mechanisms and
// parameters (relative tolerance ledger.EpsilonRelTol) and stays within its
// cap; that released entries complete an earlier intent once with the same
// artefact hash; and that, for every entry another party's ledger holds
// about a tenant whose own ledger is given, the tenant's ledger has an
// intent for the same task, round and unit with the same mechanism and
// parameters. The [Result] names the first failing entry (file, line, seq)
// and why, and summarises per ledger, tenant and unit the ε spent.
//
// What a pass means: the given ledgers are intact, were written by holders
// of the trusted keys, and every ε they state is what the accountant gives
// for what they say was run. It cannot show that a party ran what it
// recorded, nor detect entries a writer removed from the end of its own
// ledger unless another party's ledger records the same release (hence the
// cross-check). Intents without a released entry count as spent.
//
// ε is natural-log based, cumulative per (ledger, tenant, unit) at the δ
// recorded by each entry.
package audit
