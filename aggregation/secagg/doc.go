// Package secagg implements secure aggregation with dropout recovery: the
// coordinator learns the sum of the surviving clients' integer vectors
// modulo 2^32 and nothing else about any individual vector.
//
// The protocol is SecAgg+ (Bell, Bonawitz, Gascón, Lepoint, Raykova,
// "Secure Single-Server Aggregation with (Poly)Logarithmic Overhead", CCS
// 2020): SecAgg (Bonawitz et al., "Practical Secure Aggregation for
// Privacy-Preserving Machine Learning", CCS 2017, Fig. 4, including the
// active-adversary ConsistencyCheck round) run on a random k-regular
// neighbour graph (Graph); with k = n−1 it is plain SecAgg. Shares are
// sender-signed, bad shares draw signed complaints instead of aborting,
// and every reconstructed secret is checked against a commitment.
//
// # Protocol
//
// Every party builds the same Params from the round plan (Config): the
// session ID is SHA-256 over the round, parameters (t, k, d, MaxCorrupt),
// sorted participant set with identity keys, graph seed and the
// application context (fedb2b: the task ID). Then, per
// round, with fresh keys (every signature below is ed25519 by the
// sender's long-term identity key over a distinct label, the session ID
// and the sender's index):
//
//  1. Advertise: each client makes two X25519 key pairs — c (age recipient
//     for the shares it receives) and s (agrees pairwise mask seeds) —
//     draws its self-mask seed b_u, and signs both public keys and a
//     commitment H(b_u) (SHA-256, labelled, bound to session and owner).
//     An advert with a low-order X25519 key is refused (server) or
//     ignored (client): it would make every neighbour's agreement fail.
//  2. ShareKeys: each client Shamir-shares (threshold t) b_u and s_u^SK
//     among its advertised neighbours; each share is age-encrypted to the
//     neighbour's c key, bound to session, sender and recipient, and the
//     ciphertext is signed by the sender. The server verifies the
//     signatures and relays.
//  3. CheckShares: each client verifies the signatures (a share the relay
//     forged or altered is refused) and opens its shares; for a signed
//     share that does not open to a valid share it answers with a signed
//     Complaint naming the accused and the ciphertext hash. The server
//     checks each complaint against the share it relayed, separates the
//     pair (neither masks with the other nor uses the other's share) and
//     excludes, repeatedly, every client left with fewer than t partners.
//  4. MaskedInput: y_u = x_u + PRG(b_u) + Σ ±PRG(s_{u,v}) mod 2^32 over the
//     partners v (neighbours whose shares u accepted, minus those the
//     server's MaskRequest excludes; + if u < v). The coordinator adds
//     y_u into one running sum (O(d) memory).
//  5. Consistency (Bonawitz et al. 2017 Fig. 4 round 3, ConsistencyCheck):
//     the server sends the survivor set U3; each survivor checks it
//     against its own view and signs (session, U3). A client signs one set
//     per session.
//  6. Unmask: the server sends U3 with at least q = ⌊(n+c)/2⌋+1 signatures
//     of distinct participants on it. A client answers only for the set
//     it signed, with a quorum of valid signatures; for every partner it
//     reveals the share of b_v (v ∈ U3) or of s_v^SK (v dropped), never
//     both, once. The server reconstructs each secret and uses it only if
//     it matches its commitment (H(b_u), or the advertised s_u^PK); with
//     more than t shares it tries subsets and blames the holders whose
//     shares disagree (Server.Blamed), then removes the self masks of
//     survivors and the pairwise masks between survivors and dropped
//     clients.
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
// implicitly through Adverts, SharesFor, MaskRequestFor,
// ConsistencyRequest, UnmaskRequest, Result) when all messages arrived or
// its deadline passed; a message for a closed stage is rejected as late
// (ErrWrongStage). Client methods, in order: Advertise, ShareKeys,
// CheckShares, MaskInput (or AppendMaskedInput, which writes the wire
// encoding directly), SignSurvivors, Unmask. Server.OnMaskedInputWire
// takes a masked input's wire bytes and decodes them straight into the
// running sum (on every core for large d), as does the unmasking. Errors wrap the exported
// sentinels (errors.Is). Simulate runs a whole session in memory
// (SimulateWith on Params the caller built). VerifySurvivorQuorum is the
// clients' check of a survivor set's quorum signatures, for a party that
// is handed a session's result by its server (aggregation/tier).
//
// The wire format is version 2 (signed shares, commitments, the two new
// stages): a version-1 peer's messages are refused as malformed, so
// coordinator and tenants upgrade together.
//
// # Arithmetic
//
// Quantizer clips updates to L2 ≤ ClipNorm (reported in QuantStats, never
// silent), scales, stochastically rounds to integers (32 bits of
// AES-128-CTR keystream per coordinate, keyed from the caller's generator;
// E[round(s)] − s ∈ [0, 2^-32) steps), and decodes the sum exactly; Quantizer.CheckRange refuses, before the round, a cohort and
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
// to c < t clients: it learns nothing about the honest clients' inputs
// beyond the sum of the survivors' inputs (and who survived). Masked
// inputs are uniformly random words to it; shares are encrypted to
// clients' per-round keys it never holds; it sees at most c < t shares of
// any secret through colluders.
//
// # Malicious model
//
// Actively malicious coordinator colluding with at most c = MaxCorrupt
// clients (which may deviate arbitrarily), with the conditions
//
//	(1) c < t                     (NewParams; Shamir privacy)
//	(2) q = ⌊(n+c)/2⌋ + 1, 2q > n+c (Params.Quorum; one survivor set)
//
// Guarantee: the coordinator learns the honest inputs only through sums,
// each over at least t − c + 1 honest clients (MinHonestInSum).
// Argument (for a client that never joins two sessions with one session
// ID: every field but the context is the coordinator's choice, so fedb2b
// binds the task ID and its spend ledger refuses a second (task, round);
// TestRedteamSurvivorSignatureReplayAcrossSessions recovers an input by
// replaying a signature between two tasks' round 1 without that):
// an honest client signs one survivor set and unmasks only for a
// set carrying q valid signatures of distinct participants; two different
// sets with q signers each share 2q − n > c signers, so one of them is
// honest and signed both — impossible. Hence every honest client that
// reveals anything does so for the same set U*, and reveals, for each
// partner v, the share of b_v iff v ∈ U* and of s_v^SK iff v ∉ U*. For an
// honest u ∈ U*, s_u^SK is revealed by at most c < t corrupt holders and
// stays secret; b_u is reconstructed only from t partners of u in U*, of
// which at least t − c are honest, and the pairwise mask between u and each
// such honest partner w stays (neither s_u^SK nor s_w^SK reaches t shares).
// So x_u is only ever exposed in a sum with at least t − c honest partners,
// whatever graph, drop-outs and exclusions the coordinator chose. Without
// the check, with the old defaults (complete graph, t = ⌊k/2⌋+1), a
// coordinator with no colluder recovered one tenant's exact input by
// telling different clients different survivor sets
// (TestAttackDifferentStoriesRefused replays it).
//
// Bonawitz et al. (CCS 2017, §6, the active-adversary variant with
// ConsistencyCheck) use one threshold for both the Shamir shares and the
// signature quorum, which needs t > (n+c)/2, i.e. t > 2n/3 for c < n/3.
// Here the roles are separate: the quorum is q (2), the Shamir threshold
// only needs (1), so sparse SecAgg+ graphs (Bell et al., CCS 2020) keep
// k ≪ n — but, since the coordinator chooses the graph seed, these
// conditions do not assume the random-graph properties of Bell et al.'s
// malicious analysis (their bounds on corrupt neighbours per
// neighbourhood): (1) bounds the corrupt holders of any neighbourhood by c
// in the worst case, so sparse graphs help only when c is small. Liveness
// needs q survivors to sign, i.e. fewer than (n−c)/2 drop-outs.
//
// A tenant refuses parameters outside these bounds with Policy.Check
// (assumed c = ⌈γn⌉−1 with γ = 1/3 by default, counted from the cohort it
// was actually given; MaxCorrupt ≥ c; t − c + 1 ≥ MinHonestInSum) and
// distributed noise split into more shares than a learnable sum holds
// honest contributions with Policy.CheckNoiseShares (shares ≤ t − c + 1:
// each client adds 1/shares of the target variance).
//
// # Blame
//
// Shares are authenticated: only the true sender's signature makes a
// share acceptable, so the relay cannot forge one, and a signed share that
// does not open is evidence against its sender. The receiver's complaint
// is signed and names the ciphertext hash; the server cannot tell whether
// the share or the complaint lies (there is no dispute round), so it
// separates the pair instead of excluding the accused: a false complaint
// costs the honest accused one partner (and the liar one), never its
// place in the round; a tenant that sends bad shares to (or complains
// about) so many neighbours that it keeps fewer than t partners is
// excluded before masking; an honest client is excluded only if more
// than k − t of its neighbours dropped or complained. No MaskInput fails
// because of a peer, and with one hostile tenant among 10 the honest ones
// finish (TestAttackHostileTenantBlamedHonestFinish). Complaints and
// shares that disagree with a commitment are recorded with the accused,
// the complainer and the reason (Server.Blamed).
//
// # What is not defended
//
//   - Input validity: a client can put any vector in Z_{2^32} into the sum
//     (no range proofs). SumBounds lets the coordinator refuse decoded sums
//     that m honest clipped inputs cannot produce (norm, total weight above
//     m·cap or below a public floor, a weighted mean longer than the update
//     clip — a negative weight cannot amplify the mean), but a malicious
//     input inside those bounds is undetected, and one outside them makes
//     the coordinator refuse the whole round (it cannot tell whose input it
//     was): a hostile tenant can still stop rounds that way. Verifiable input
//     validation is out of scope:
//     see ACORN (Bell et al., USENIX Security 2023), RoFL (Lycklama et al.,
//     IEEE S&P 2023) and EIFFeL (Roy Chowdhury et al., CCS 2022).
//   - The coordinator can drop honest clients, choose the graph seed and
//     separate pairs (clients do not verify the exclusions in a
//     MaskRequest), down to the t − c + 1 bound above; it can abort any
//     round and report any sum to others (no verifiable aggregation).
//   - A client that lies in a complaint is not identified (the pair is
//     separated; operators see both names in Server.Blamed).
//   - The consistency quorum is global: each client verifies q ≈ (n+c)/2
//     signatures, so its cost grows with n while masking grows with k
//     (README, benchmarks).
//   - More than c corrupt clients, or a compromised CA key (see above).
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
