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
// cap (after an exact release, whose ε is ∞ for its tenant in every unit,
// the ε of the noised releases alone; the exact intent itself is the
// tenant's waiver and is reported, with a note, as ε = ∞); that released entries complete an earlier intent once with the same
// artefact hash; and that, for every entry another party's ledger holds
// about a tenant whose own ledger is given, the tenant's ledger has an
// intent for the same task, round and unit with the same mechanism and
// parameters. The [Result] names the first failing entry (file, line, seq)
// and why, and summarises per tenant and unit the ε its own ledger spent.
//
// # Holding a tenant to what the coordinator received
//
// A writer can rewrite its own ledger with its own key: drop the intent
// and release of an evaluation, re-chain, re-sign, and the ledger verifies
// on its own at a lower ε. Two kinds of "received" entries
// (ledger.StatusReceived) in the coordinator's ledger stop that:
//
//   - every release the coordinator receives (an update or masked input,
//     with the DP-SGD and tenant-level parameters the plan asked for; a
//     noised example count; noised evaluation statistics) is recorded on
//     arrival with its hash, whether or not the round later aggregates.
//     [Verify] requires, for each, an intent in the tenant's own ledger for
//     the same task, round and unit — same mechanism and parameters where
//     recorded, scalar-gaussian for noised counts and statistics (for
//     statistics whose receipt records the plan's eval ε, an intent
//     charging at least the Gaussian at that ε and the tenant's δ: a
//     noise multiplier no larger), exact for
//     exact statistics (ledger.MechExact: a tenant cannot hide its ∞) —
//     released with
//     the same hash (or still pending), one intent per receipt. A removed
//     release fails there, named by kind, task and round.
//     A receipt carries no signature of the tenant, so this failure alone
//     does not say who lied — a tenant that dropped the release, or a
//     coordinator that invented the receipt — and its text says both; a
//     removal that a signed head covers also fails on the head, which
//     only the tenant can sign.
//   - with every submission the tenant sends its ledger head (newest seq and
//     that line's hash, signed with its ledger key); the coordinator records
//     each new one. The hash chain makes a head commit to the whole prefix,
//     so a tenant ledger that ends before a recorded head was truncated and
//     one whose entry at that seq hashes differently was rewritten; both
//     fail, naming the seq. The tenant's signature (checked against the
//     tenant ledger's key when keys are trusted) keeps the coordinator from
//     inventing a head to frame a tenant.
//
// Why heads go into the coordinator's ledger rather than coordinator-signed
// heads into the tenants': evidence a tenant keeps is evidence it can drop
// together with the entries it hides, so a coordinator-signed checkpoint in
// the tenant's own file proves nothing about the entries after it or about
// a file cut before it. The coordinator's ledger is out of the tenant's
// reach, and the tenant already talks to the coordinator at every release.
//
// Received entries are evidence, never a budget: the coordinator does not
// know a tenant's δ, its other tasks, or releases it never saw, so its view
// would understate ε. [Result].Received lists them per tenant apart from
// the budgets, which come only from intents (an older coordinator ledger's
// intents still show, labelled as that party's view).
//
// What a pass means: the given ledgers are intact, were written by holders
// of the trusted keys, every ε they state is what the accountant gives for
// what they say was run, and every tenant ledger given holds every release
// the coordinator's ledger says it received and every head it signed. It
// cannot show that a party ran what it recorded, nor see releases after
// the last recorded head that the coordinator never received (a tenant's
// spends towards other parties). Intents without a released entry count as
// spent.
//
// ε is natural-log based, cumulative per (ledger, tenant, unit) at the δ
// recorded by each entry.
package audit
