// Package empirical audits fedb2b's record-level releases empirically: it
// runs the client's own training and release code on neighbouring data
// sets D and D′ many times and bounds ε from below with
// privacy/empirical (a best-threshold distinguisher and Clopper–Pearson
// bounds), next to the ε the accountant claims for the same release.
//
// Each Scenario is one release of one task kind:
//
//   - update: one round of local DP-SGD as the client runs it (the task's
//     learner, client.TrainConfigOf for the configuration), D′ = D with one
//     training unit removed (a text, a message, a customer for the
//     forecast and recommendation kinds); the score is ‖Δθ‖², the
//     update's squared norm, which is the statistic that exposed issue
//     #13's finding 2 (a noise scale ∝ 1/N reveals N). Claimed: the RDP
//     accountant's ε of that round.
//   - eval: the task's evaluation statistics noised by client.NoiseStats,
//     D′ = D with one held-out unit removed; the score is the projection of
//     the release on exact(D) − exact(D′) (the likelihood-ratio direction
//     for Gaussian noise). Claimed: the evaluation ε.
//   - weight: the example count as client.ReleaseWeight sends it, n vs
//     n − 1. Claimed: the weight ε.
//
// The data are small synthetic tenants built here, so an audit needs no
// files (encoder-LoRA needs a BERT directory). A Broken option rebuilds
// the update scenarios with the former normalisation (q·N with the
// tenant's own N) as the regression the audit must catch; Exact runs the
// eval and weight releases at ε = 0, which leak the exact value (ε = ∞).
//
// TenantScenarios audits the tenant-level release: a cohort whose
// federations D and D′ differ in one tenant's update replaced by zero,
// every tenant encoding a real update through the client's tenant-level
// path (client.EncodeTenantLevel), the words summed mod 2^32 as secure
// aggregation unmasks them (the masks cancel; the masking itself is
// tested in aggregation/secagg) and decoded as the coordinator decodes
// them; claimed: ddg.Epsilon of the round's plan. With Rounds, the same
// release over R rounds, the scores summed, against the composed claim.
// CompositionScenarios does the same for the record-level update and
// evaluation releases against the accountant's composition of the
// recorded spends. The Broken variants of the composition claim one
// round's ε for R rounds; the audit must refute them, which shows it has
// the power to see composition at the trials used.
//
// What is not audited here: the masked inputs themselves (one tenant's
// masked words are uniform given the others' masks; see aggregation/
// secagg), subsampling of tenants, and adaptive clipping's extra
// coordinate. The scores are the simple ones named above, so a lower
// bound below the claim shows only that these tests find no violation.
//
// Randomness: every run draws from the Rand reader given (crypto/rand
// when nil), as the client does.
package empirical
