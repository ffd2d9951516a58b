package secagg

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
)

// Bits is the width b of the aggregation ring Z_{2^b}: inputs, masks and the
// sum are uint32 words added modulo 2^32. It is fixed (rather than a
// parameter in 16..62) so that vectors are plain []uint32 with no packing;
// Quantizer.CheckRange refuses parameters whose sum could wrap.
const Bits = 32

// Limits that bound memory and work for any decoded message.
const (
	// MaxParticipants bounds n.
	MaxParticipants = 1 << 14
	// MaxDim bounds the vector length d (2^28 words = 1 GiB).
	MaxDim = 1 << 28
)

// SessionID identifies one secure-aggregation session: SHA-256 over the
// round, the parameters, the sorted participant set with identity keys,
// the graph seed and the application context (Config.Context). It salts
// every key derivation and is signed with every advertised key, so
// messages cannot be replayed across sessions — provided no client takes
// part in two sessions with the same Config, which only the context (a
// value the client dedupes, not the coordinator) can guarantee.
type SessionID [32]byte

// String returns the hex form (safe to log: it is public).
func (s SessionID) String() string { return hex.EncodeToString(s[:]) }

// Participant is one tenant of the session: its stable ID and its long-term
// ed25519 identity public key (from enrolment).
type Participant struct {
	ID          string
	IdentityKey ed25519.PublicKey
}

// Config is the plan of one session, as agreed between coordinator and
// clients. Every party builds Params from the same Config and so derives
// the same session ID and neighbour graph.
type Config struct {
	// Round is the federated round number.
	Round uint64
	// Participants is the cohort invited to the round (any order; it is
	// sorted by ID, and a participant's index is its position in that order).
	Participants []Participant
	// Threshold t: shares needed to reconstruct a secret; k/2 < t ≤ k.
	Threshold int
	// Neighbours k: degree of the neighbour graph. 0 or ≥ n−1 gives the
	// complete graph (plain SecAgg); odd k < n−1 is rounded up to k+1.
	Neighbours int
	// Dim d: length of the input vectors in uint32 words.
	Dim int
	// GraphSeed selects the random neighbour graph (public, chosen by the
	// coordinator fresh each round).
	GraphSeed [32]byte
	// MaxCorrupt c: the number of clients that may collude with a malicious
	// coordinator, which the consistency check must withstand. It sets the
	// quorum q = ⌊(n+c)/2⌋+1 of survivor-set signatures a client needs
	// before it unmasks (any two quorums then share an honest signer, who
	// signs one set only). 0 ≤ c < t. See doc.go, "Malicious model".
	MaxCorrupt int
	// Context binds the session to the application's own name for it (in
	// fedb2b the task ID). Every other field is chosen by the coordinator,
	// so a malicious one could repeat them (round 1 of two tasks, a reused
	// graph seed) and replay survivor-set signatures from one session into
	// the other; a client that never takes part twice in the same
	// (context, round) — fedb2b's spend ledger refuses it — never signs in
	// two sessions with one ID. At most 1024 bytes.
	Context []byte
}

// Params is a validated Config with its derived session ID and graph.
// It is immutable and safe to share between goroutines.
type Params struct {
	cfg     Config
	byID    map[string]uint32
	graph   *Graph
	session SessionID
}

// NewParams validates c (copying its slices) and derives the session.
func NewParams(c Config) (*Params, error) {
	n := len(c.Participants)
	if n < 3 || n > MaxParticipants {
		return nil, fmt.Errorf("%w: need 3..%d participants, got %d", ErrParams, MaxParticipants, n)
	}
	if c.Dim < 1 || c.Dim > MaxDim {
		return nil, fmt.Errorf("%w: Dim must be in 1..%d, got %d", ErrParams, MaxDim, c.Dim)
	}
	ps := make([]Participant, n)
	for i, p := range c.Participants {
		if p.ID == "" || len(p.ID) > 255 {
			return nil, fmt.Errorf("%w: participant %d: ID must be 1..255 bytes", ErrParams, i)
		}
		if len(p.IdentityKey) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: participant %q: identity key must be %d bytes", ErrParams, p.ID, ed25519.PublicKeySize)
		}
		ps[i] = Participant{ID: p.ID, IdentityKey: bytes.Clone(p.IdentityKey)}
	}
	slices.SortFunc(ps, func(a, b Participant) int { return cmp.Compare(a.ID, b.ID) })
	byID := make(map[string]uint32, n)
	for i, p := range ps {
		if _, dup := byID[p.ID]; dup {
			return nil, fmt.Errorf("%w: participant %q listed twice", ErrParams, p.ID)
		}
		byID[p.ID] = uint32(i)
	}
	k := c.Neighbours
	if k <= 0 || k >= n-1 {
		k = n - 1
	} else if k%2 == 1 {
		k++
	}
	if c.Threshold <= k/2 || c.Threshold > k {
		return nil, fmt.Errorf("%w: Threshold must satisfy k/2 < t ≤ k with k=%d neighbours, got t=%d (change Threshold or Neighbours)", ErrParams, k, c.Threshold)
	}
	if c.MaxCorrupt < 0 || c.MaxCorrupt >= c.Threshold {
		return nil, fmt.Errorf("%w: MaxCorrupt must satisfy 0 ≤ c < t = %d, got c=%d (t−1 corrupt holders plus the coordinator must not reach t shares)", ErrParams, c.Threshold, c.MaxCorrupt)
	}
	if len(c.Context) > 1024 {
		return nil, fmt.Errorf("%w: Context has %d bytes, at most 1024", ErrParams, len(c.Context))
	}
	cfg := c
	cfg.Context = bytes.Clone(c.Context)
	cfg.Participants = ps
	cfg.Neighbours = k
	p := &Params{cfg: cfg, byID: byID}
	p.graph = NewGraph(n, k, c.GraphSeed)
	p.session = sessionID(&cfg)
	return p, nil
}

// sessionID hashes everything that defines the session (Bonawitz et al.
// 2017 §3.6/Fig. 4 bind messages to the session; here by hashing).
func sessionID(c *Config) SessionID {
	h := sha256.New()
	h.Write([]byte(labelSession))
	var b [8]byte
	put := func(v uint64) { binary.BigEndian.PutUint64(b[:], v); h.Write(b[:]) }
	put(c.Round)
	put(Bits)
	put(uint64(c.Threshold))
	put(uint64(c.Neighbours))
	put(uint64(c.Dim))
	put(uint64(c.MaxCorrupt))
	h.Write(c.GraphSeed[:])
	put(uint64(len(c.Participants)))
	for _, p := range c.Participants {
		put(uint64(len(p.ID)))
		h.Write([]byte(p.ID))
		h.Write(p.IdentityKey)
	}
	put(uint64(len(c.Context)))
	h.Write(c.Context)
	var s SessionID
	h.Sum(s[:0])
	return s
}

// Session returns the session ID.
func (p *Params) Session() SessionID { return p.session }

// Round returns the round number.
func (p *Params) Round() uint64 { return p.cfg.Round }

// N returns the number of participants.
func (p *Params) N() int { return len(p.cfg.Participants) }

// Threshold returns t.
func (p *Params) Threshold() int { return p.cfg.Threshold }

// Degree returns the effective neighbour count k (after rounding).
func (p *Params) Degree() int { return p.cfg.Neighbours }

// MaxCorrupt returns c, the number of corrupt clients the session's
// consistency quorum withstands.
func (p *Params) MaxCorrupt() int { return p.cfg.MaxCorrupt }

// Quorum returns q = ⌊(n+c)/2⌋+1: the number of distinct participants'
// signatures on one survivor set a client requires before it unmasks.
// Since 2q > n+c, two different sets cannot both gather q signatures when
// at most c signers are corrupt and honest signers sign once.
func (p *Params) Quorum() int { return (p.N()+p.cfg.MaxCorrupt)/2 + 1 }

// Dim returns the vector length d.
func (p *Params) Dim() int { return p.cfg.Dim }

// FullGraph reports whether every pair of participants are neighbours
// (plain SecAgg rather than SecAgg+).
func (p *Params) FullGraph() bool { return p.cfg.Neighbours == p.N()-1 }

// Participant returns participant i (in sorted order). It panics if i is
// out of range (programmer error).
func (p *Params) Participant(i uint32) Participant { return p.cfg.Participants[i] }

// Index returns the index of the participant with the given ID.
func (p *Params) Index(id string) (uint32, bool) {
	i, ok := p.byID[id]
	return i, ok
}

// Neighbours returns the sorted neighbours of participant i (shared slice:
// do not modify).
func (p *Params) Neighbours(i uint32) []uint32 { return p.graph.Neighbours(i) }

func (p *Params) checkIndex(i uint32) error {
	if int(i) >= p.N() {
		return fmt.Errorf("%w: index %d not in 0..%d", ErrUnknownParticipant, i, p.N()-1)
	}
	return nil
}
