// Package ddg implements the distributed discrete Gaussian mechanism of
// Kairouz, Liu and Steinke (ICML 2021, "The Distributed Discrete Gaussian
// Mechanism for Federated Learning with Secure Aggregation") for
// tenant-level differential privacy: every client adds its own share of
// integer noise before secure aggregation, so nobody — the coordinator
// included — ever sees an unnoised aggregate.
//
// # Pipeline
//
// Client (Codec.Encode): clip the update to ‖x‖₂ ≤ S; rotate it with a
// randomized Hadamard transform whose signs come from a per-round seed
// (RoundSeed; pad d to D = PaddedDim(d)); scale by 1/γ; round each
// coordinate stochastically, redrawing until the rounded norm is at most
// Δ₂ (conditional randomized rounding, the paper's β); add N_Z(0, (σ/γ)²)
// per coordinate; reduce mod 2^b. The words go to aggregation/secagg
// (b = 32 = secagg.Bits).
//
// Coordinator (Codec.Decode): the modular sum of the survivors' words →
// signed integers → times γ → inverse rotation → Σ clip(x_i) + noise.
//
// # Calibration to the minimum number of survivors
//
// Each client's σ is chosen so that Threshold noise shares — the minimum
// number of survivors a round accepts — already give the planned privacy
// (Params.Threshold). Rounds with more survivors carry more noise, which
// only helps (post-processing). Calibrating to the expected cohort instead
// would leave the sum under-noised whenever tenants drop. If c clients may
// collude with the coordinator (they know their own noise), set Threshold
// to the minimum survivors minus c.
//
// # Accounting
//
// Params.RDP is Theorem 1 / Proposition 14 of the paper (without the
// optional L1 term): RDP(α) = min{α·s²/2 + τ·D, (α/2)(s + √D·τ)²} with
// s = Δ₂/(√n·σ/γ), n = Threshold, τ = 10·Σ_{k<n} exp(−2π²(σ/γ)²k/(k+1)).
// Epsilon composes it over rounds (every round counts in full: no
// subsampling amplification is claimed, because the cohort is chosen by the
// coordinator, not by a secret Poisson sample) and converts to (ε, δ).
// The adjacency is one tenant's update replaced by zero (its
// contribution to the sum removed; secure aggregation reveals which
// tenants took part, so participation itself is not hidden): the sums of
// neighbouring inputs differ by at most Δ₂. Replace-one — one tenant's
// update replaced by an arbitrary other one — moves the sum by up to 2Δ₂
// and is not covered by Epsilon; EpsilonReplaceOne gives its ε (for the
// demo's tenant-level configuration about 18.9 where Epsilon gives 8).
// Units: ε and δ are tenant-level, for the whole run of the given number
// of rounds.
//
// # Noise sampling
//
// ExactSampler is Canonne, Kamath and Steinke 2020 (Algorithms 1–3) in
// exact integer arithmetic (math/big). Sampler is the fast path: a 128-bit
// fixed-point inverse CDF built at 256-bit precision with a guide table
// (about 10 ns per coordinate, ≈ 1.3× math/rand/v2's NormFloat64 in
// BenchmarkNoiseRatio), whose law is within total variation 2^-100 of
// N_Z(0, σ²) per sample; above MaxTableSigma it falls back to the exact
// sampler. All randomness comes from a *math/rand/v2.Rand built by
// privacy.NewRand (ChaCha8 keyed from crypto/rand).
//
// # Choosing parameters
//
// Plan follows the paper's guidance: σ from the target ε for Threshold
// shares, γ as fine as the ring allows for Cohort clients (and no finer
// than σ/DefaultIntSigma, beyond which nothing is gained), refusing
// parameters that make wrap-around likely (Params.WrapProb, a
// sub-Gaussian union bound over the D coordinates). Params.BitsNeeded
// reports the ring width the sum actually needs.
//
// # Record-level distributed mode (Record)
//
// Record applies the same machinery to record-level DP-SGD (FedSGD, issue
// #16): each client's vector is the sum of its clipped per-example
// gradients over a Poisson sample (no noise, no division), and the shares
// of Threshold honest clients give the sum the noise of one pooled DP-SGD
// step. Its sensitivity is one record's clip in integer units plus 2√D for
// rounding (each side's rounding moves a coordinate by less than one),
// C/γ + 2√D; sampling is amplified by Zhu and Wang's general
// Poisson bound; RecordEpsilon composes rounds. RecordGoal.Extra (for
// example GaussianRDP of noised evaluations) reserves room for the
// tenant's other releases in the same run: σ is calibrated so that the
// rounds and they compose within the target, as the ledger composes
// them. PlanRecord aims σ/γ at
// 0.95·MaxTableSigma so the rounding term stays small (the sampler's
// table then takes seconds to build once; codecs share it). The guarantee
// holds against the coordinator only while secure aggregation holds and
// Threshold survivors of every unmasked sum are honest: a trust model the
// tenant opts into (client.Policy.DPMode), recorded in its ledger.
//
// Threat model: clients are honest in adding their noise (a client that
// skips its share weakens everyone's guarantee by one share); the
// coordinator is honest-but-curious and sees only the noised sum.
package ddg
