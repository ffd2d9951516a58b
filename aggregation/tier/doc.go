// Package tier is the aggregator tier for large cohorts (issue #20, item
// 3; design and costs in docs/scale-out.md): a round's n tenants are split
// into groups of at most g by a public rule (Partition), each group runs
// its own SecAgg+ session (package aggregation/secagg, unchanged) with an
// aggregator in the server's role, and the coordinator receives only the
// m = ⌈n/g⌉ group sums and adds them (Combiner).
//
// What is built: the partition, the per-group plan (Plan, RoundPlan.
// ForGroup), the tenant's check of its group (CheckGroup), the
// coordinator's combiner with its checks of each report, and an in-memory
// round (Simulate) using the real secagg state machines per group. What is
// not: aggregator processes and their gRPC wiring into coordinator/ and
// client/ (docs/scale-out.md, "What is built").
//
// # What each party learns
//
// An aggregator is the SecAgg+ server of its group: it learns the sum of
// its group's surviving inputs and who survived, and, if malicious and
// colluding with at most c = MaxCorrupt members of its group, honest inputs
// only in sums of at least t − c + 1 honest members (secagg doc.go,
// "Malicious model", applied per group). The coordinator learns every
// group's sum (they are not masked a second time: whoever runs a group's
// session learns its sum anyway, so each group sum must be acceptable to
// release on its own), the survivor sets, and their total. Tenant-level
// distributed noise (privacy/ddg) is therefore calibrated per group:
// GroupParams.NoiseShares ≤ t − c + 1 of the group, and every group sum
// carries the whole target noise; the total carries m times the variance
// of a single-coordinator round. Record-level DP-SGD is unaffected.
//
// # Threat model
//
// Trusted: each tenant's machine, the enrolment CA (identity keys),
// crypto/rand. An aggregator may be malicious like the coordinator is for
// a whole cohort today; the guarantee above holds per group provided each
// group holds at most c corrupt members and the tenant checks its group
// against the public rule (CheckGroup: without it an aggregator could run
// a victim with colluders only). The cohort list the rule applies to is
// the coordinator's word, as the cohort is today: a coordinator that
// fabricates it is bounded only by the tenant's policy (MinCohort). The coordinator refuses a report whose
// survivor set lacks a quorum of valid survivor signatures in that group's
// session (an aggregator cannot add or remove survivors or replay another
// group's or round's report) and any sum its Check refuses (SumBounds);
// it cannot detect a wrong sum over the right survivors (no verifiable
// aggregation, as with secagg today). A failed group (no report, a
// refused one, or an aborted session) is left out of the round; its
// tenants that advertised keys are charged (they recorded the spend before
// releasing anything).
//
// # Units
//
// Vectors are []uint32 words in Z_{2^32} as in secagg; Combined.Wide is
// the int64 sum of each group sum read as a signed 32-bit integer.
package tier
