// Package client is the tenant runtime: it runs on the tenant's own server,
// next to its private data, and takes part in a federation.
//
// For each round the coordinator offers, the client checks the plan against
// the tenant's policy (minimum noise, minimum cohort counted from the
// cohort list the plan gives) and its record-level privacy budget, computed
// by its own RDP accountant from its own spend log. It declines a plan
// with secure aggregation off unless Config.AllowInsecurePlainAggregation
// (--insecure-allow-plain-aggregation) says otherwise, and a secure plan
// whose threshold, corruption quorum or noise split fails Config.SecAgg
// (aggregation/secagg.Policy): the coordinator cannot talk it out of
// either. A peer's bad share or a refused survivor set ends that round's
// session for this client, never the client.
// It declines with a reason, or records the spend durably (write-ahead)
// before it releases anything, trains the adapter locally with DP-SGD on a
// frozen base encoder, and sends only the update.
//
// Threat model: the tenant trusts its own server. It trusts neither the
// coordinator nor other tenants with its records: what leaves is the output
// of DP-SGD (record-level (ε, δ)-DP for every record, accounted over every
// step of every round), its example count (the FedAvg weight) and the
// task's evaluation statistics of its held-out split, both noised with the
// Google DP library's Gaussian at the plan's ε and charged to the same
// budget. A tenant with RequireNoisedCounts (the command's default)
// declines exact ones; one that allows them writes each exact release to
// its ledger (ledger.MechExact) before it leaves, and has ε = ∞ from then
// on, in every unit and after a restart (Result.Epsilon is +Inf), so its
// finite caps decline every later round. DP-SGD divides by the task's public
// expected batch (TrainConfigOf), never by anything computed from the
// tenant's own data, and the train/held-out split puts each record on a
// side by a keyed hash of that record alone, so add/remove-one neighbours
// stay neighbours. In tenant-level rounds the client helps unmask only a
// sum of at least as many inputs as the noise shares its plan assumes, and
// declines rounds beyond Policy.TenantEpsilon. Keys and raw data never
// leave the process.
//
// Units: ε and δ are record-level (add-or-remove one record of this tenant),
// composed over all rounds this tenant trained in.
package client
