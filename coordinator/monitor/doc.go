// Package monitor is what the operator watches while a federation runs: it
// follows the coordinator's events (coordinator.Event) and serves a
// dashboard page, Prometheus metrics (names prefixed fedb2b_, each with a
// task label) and a health endpoint.
//
// The dashboard shows rounds (who was invited, who is in the sum, who
// dropped or declined), the metrics of every evaluated version as charts
// over rounds, each tenant's record-level ε against the cap it announced,
// and the mean duration of every round stage (train, the secure-aggregation
// stages, evaluate).
//
// # What it shows, and what it cannot
//
// Everything here is the coordinator's own view. Metrics come from the sum
// of the tenants' noised evaluation statistics, never from a tenant's data.
// A tenant's ε is the coordinator's lower bound (the DP-SGD rounds
// aggregated with it, or what it announced at joining, whichever is
// larger); the tenant's signed ledger is the authority, checked with
// `fedb2b audit`. No key, mask, share or update reaches this package.
//
// Units: durations in seconds in the metrics (histogram
// fedb2b_stage_duration_seconds), ε record-level at each tenant's δ.
package monitor
