// Package secagg implements secure aggregation with dropout recovery: the
// coordinator learns the sum of the surviving clients' integer vectors
// modulo 2^32 and nothing else about any individual vector.
//
// The protocol is SecAgg+ (Bell, Bonawitz, Gascón, Lepoint, Raykova,
// "Secure Single-Server Aggregation with (Poly)Logarithmic Overhead", CCS
// 2020): SecAgg (Bonawitz et al., "Practical Secure Aggregation for
// Privacy-Preserving Machine Learning", CCS 2017, Fig. 4) run on a random
// k-regular neighbour graph (Graph); with k = n−1 it is plain SecAgg.
//
// # Protocol
//
// Every party builds the same Params from the round plan (Config): the
// session ID is SHA-256 over the round, parameters, sorted participant set
// with identity keys, and graph seed. Then, per round, with fresh keys:
//
//  1. Advertise: each client makes two X25519 key pairs — c (age recipient
//     for the shares it receives) and s (agrees pairwise mask seeds) — and
//     signs both public keys, the session ID and its index with its
//     long-term ed25519 tenant key. Peers verify, so the coordinator cannot
//     substitute keys.
//  2. ShareKeys: each client draws a self-mask seed b_u and Shamir-shares
//     (threshold t) both b_u and its secret s_u^SK among its advertised
//     neighbours, each share age-encrypted to the neighbour's c key and
//     bound to the session, sender and recipient; the coordinator relays
//     the ciphertexts.
//  3. MaskedInput: y_u = x_u + PRG(b_u) + Σ ±PRG(s_{u,v}) mod 2^32 over the
//     neighbours v whose shares arrived (+ if u < v). The coordinator adds
//     y_u into one running sum (O(d) memory).
//  4. Unmask: for every neighbour, a survivor reveals either the share of
//     b_v (v survived) or of s_v^SK (v dropped), never both; the
//     coordinator reconstructs and removes the self masks of survivors and
//     the pairwise masks between survivors and dropped clients.
//
// PRG is AES-128-CTR keyed through HKDF-SHA256 (salt = session ID, info =
// a domain-separation label and the indices); Shamir sharing is over the
// prime field F_p, p = 2^256 + 297.
//
// # Driving the state machines
//
// Client and Server do no I/O and read no clock. Each message type has
// MarshalBinary/UnmarshalBinary (versioned, length-checked; hostile bytes
// give ErrMalformed, never a panic), so a transport carries them as opaque
// bytes. The server driver closes each stage (Server.CloseStage, or
// implicitly through Adverts, SharesFor, UnmaskRequest, Result) when all
// messages arrived or its deadline passed; a message for a closed stage is
// rejected as late (ErrWrongStage). Errors wrap the exported sentinels
// (errors.Is). Simulate runs a whole session in memory.
//
// # Arithmetic
//
// Quantizer clips updates to L2 ≤ ClipNorm (reported in QuantStats, never
// silent), scales, stochastically rounds to integers, and decodes the sum
// exactly; Quantizer.CheckRange refuses, before the round, a cohort and
// scale whose sum could wrap modulo 2^32, naming the parameter to change.
//
// # Threat model
//
// Trusted: each client's own machine; the enrolment directory mapping
// tenant IDs to ed25519 identity keys (the PKI of Bonawitz et al. §3.6);
// crypto/rand.
//
// In fedb2b that directory is the operator's CA (coordinator/pki): at
// enrolment the CA binds each tenant's identity key into its client
// certificate, the coordinator relays the cohort's certificates in every
// plan, and a client that pinned the CA takes each peer's identity key from
// a certificate that chains to that CA, is valid and names that peer
// (client.Config.CA). So a coordinator that does not hold the CA key cannot
// substitute a tenant's identity key and advertised keys together: a forged
// certificate does not verify and a key that differs from the certified one
// is refused. The binding is only as strong as the CA key: whoever can sign
// with it (by default the coordinator process that serves enrolment) can
// mint a certificate with a key of its choice, so an operator who must not
// be trusted with identities runs enrolment elsewhere, and tenants can
// compare key IDs (`fedb2b keys id`) out of band. Peers do not see the
// coordinator's revocation list. Without TLS (--insecure-no-tls) there is
// no CA to pin and the coordinator is trusted with the identity keys.
//
// Semi-honest (honest-but-curious) coordinator, possibly colluding with up
// to t−1 clients: it learns nothing about the honest clients' inputs
// beyond the sum of the survivors' inputs (and who survived). Masked
// inputs are uniformly random words to it; shares are encrypted to
// clients' per-round keys it never holds; it sees at most t−1 shares of
// any secret through colluders. Thresholds satisfy k/2 < t ≤ k.
//
// Actively malicious coordinator: it cannot substitute advertised keys
// (signatures by identity keys certified as above), replay messages into another session (session ID in every
// message, signature and share plaintext), or make a client reveal both
// shares of one neighbour or answer two unmask requests. A client refuses
// an unmask request that names a neighbour both alive and dropped, that
// names a survivor whose shares never reached it, or in which fewer than t
// of its neighbours survived. What it can still do:
//   - drop honest clients at will (exclude their input, stall the round) and
//     choose the graph seed;
//   - tell different clients different stories about who dropped. This
//     package omits the ConsistencyCheck round of Bonawitz et al. (Fig. 4
//     round 3, signed survivor lists); without it a coordinator that
//     controls the relaying can, when the graph lets it, collect the
//     self-mask shares of a target u from some neighbours while claiming to
//     others that u's neighbours dropped, and learn x_u. The client checks
//     above narrow but do not close this; the guarantee against an active
//     coordinator is therefore weaker than against a semi-honest one;
//   - nothing here validates inputs: a client can send any vector (no
//     range proofs), and the coordinator can report any sum to others.
//
// Keys are fresh every round (the mask key of a dropped client is revealed
// by design). No method logs or formats keys, masks, shares or inputs into
// errors.
//
// # Units
//
// Vectors are []uint32 words in Z_{2^32} (Bits = 32); Quantizer.Scale is
// integer steps per unit of the update.
package secagg
