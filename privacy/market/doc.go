// Package market computes cross-tenant market statistics with the Google
// differential-privacy library's aggregations (dpagg): customers per
// segment (Count), order-value quantiles per product category
// (BoundedQuantiles, weighted by a BoundedSumInt64 count) and weekly
// demand per category (BoundedSumFloat64).
//
// # Design: each tenant privatises its own contribution
//
// Every tenant runs Release on its own records and sends only dpagg's
// noised results; Combine adds them up (counts, sums) or mixes them
// (quantiles), which is post-processing. We chose local privatisation per
// tenant over "secure aggregation of raw sums, noised once" because
//   - it needs no trusted party and no interactive protocol: the platform
//     and the other tenants only ever see DP outputs, even if secure
//     aggregation or the noise-adding party were compromised;
//   - quantiles do not add up, so secure summation could not carry them
//     anyway (a quantile tree could be summed, but dpagg does not expose its
//     raw counts);
//   - each tenant can check and charge its own budget before anything
//     leaves, which is what the ledger needs.
//
// The price is utility: the noise of n tenants adds up (n times the variance
// of a single central release) — acceptable for market-level aggregates over
// tens of customers per partition, and the reason partitions are coarse.
//
// # Privacy unit and bounds
//
// The unit is a customer of a tenant. A customer counts in exactly one
// segment (its most frequent one); contributes order values to at most
// MaxCategories categories and at most MaxOrdersPerCategory values per
// category, clamped to [ValueLower, ValueUpper]; and demand to at most
// MaxWeekCategories (week, category) partitions, each clamped to
// [0, MaxWeeklyQuantity]. Partitions beyond the bounds are dropped at random
// (rng). Partition lists (segments, categories, weeks) are public inputs of
// the query; anything outside them is counted in the Other partition, so
// no partition key is derived from private data.
//
// # Budget
//
// Each statistic is pure ε-DP (Laplace noise, δ = 0) per tenant; Release
// charges Query.Spends() to the tenant's Budget (basic composition) before
// computing anything and refuses if the cap would be exceeded. The returned
// Spends are what a privacy ledger records for the tenant.
//
// dpagg draws its noise from crypto/rand internally; it cannot be seeded, so
// tests check results within the noise scale, never exact values.
package market
