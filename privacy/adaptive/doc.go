// Package adaptive implements adaptive clipping for tenant-level
// DP-FedAvg (Andrew, Thakkar, McMahan and Ramaswamy, NeurIPS 2021,
// "Differentially Private Learning with Adaptive Clipping"): the clip norm
// C follows a target quantile γ of the clients' update norms, estimated
// from privatised clipped-or-not bits.
//
// Each round every client reports b = [‖Δ‖₂ ≤ C], centred as b − 1/2
// (sensitivity 1/2 under replacing one tenant's contribution by zero); the
// server receives the noised sum and updates
//
//	b̄ = (noised Σ(b − 1/2))/m + 1/2,   C ← C·exp(−η_C·(b̄ − γ))
//
// (geometric update, m = number of summed clients, public in secure
// aggregation).
//
// # Privacy of the bits
//
// The bits are aggregated the same way as the updates: JointClipNorm,
// BitCoordinate and DecodeBitSum append one coordinate w·(b − 1/2) to the
// clipped update, so the distributed discrete Gaussian of privacy/ddg
// noises both at once, and ddg's accountant covers both with
// Params.ClipNorm = JointClipNorm(C, w) (no separate budget line). In
// noise-multiplier terms, with total noise std σ_tot on the sum, the
// update sees z_Δ = σ_tot/C and the bit sum sees σ_b = σ_tot/w, and the
// pair is exactly as private as one Gaussian mechanism with multiplier z,
//
//	z_Δ = (z^{−2} − (2σ_b)^{−2})^{−1/2}   (EffectiveNoise),
//
// the paper's formula. The paper suggests σ_b ≈ m/20; choose w = C·z_Δ/σ_b
// (BitWeight). Units: C is in update units; b̄ and γ are fractions.
package adaptive
