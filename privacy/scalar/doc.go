// Package scalar releases single numbers — federated evaluation metrics,
// counts shown to the operator — with the secure noise of Google's
// differential privacy library (github.com/google/differential-privacy/go/v3,
// package noise: Laplace and Gaussian noise that is safe against
// floating-point attacks, drawn from crypto/rand inside the library), and
// returns with each noised value a Record of what it cost, for the ledger.
//
// Units: Sensitivity is the largest change of the value when one privacy
// unit (a record or a tenant, as the caller's ledger entry says) changes;
// it is an L1 bound for Laplace and an L2 bound for Gaussian, which
// coincide for a scalar. Epsilon and Delta are per release; compose
// releases in the ledger's accountant.
//
// Gaussian caveat: the library samples its Gaussian noise through a
// binomial approximation on a grid (the library's
// Secure_Noise_Generation.pdf), which is robust against floating-point
// attacks but is not exactly the Gaussian the (ε, δ) of a Record is
// computed for; its distance from it is of the order of 1e-18 per
// release. fedb2b does not add that to the δ it records: with at most
// 10⁴ releases per tenant the sum stays below 1e-14, far below the δ = 1e-5
// of the defaults, but the recorded δ does not include it.
//
// Cost: the library's noise takes about 10 µs per value here: use this
// package for scalars and short vectors, never for model updates (see
// privacy/ddg and privacy.AddGaussian).
package scalar
