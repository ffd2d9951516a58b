package secagg

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
)

// Domain-separation labels. Each derivation, hash and signature uses its
// own label so that no output of one can be mistaken for another.
const (
	labelSession    = "fedb2b/secagg/v1/session-id"
	labelGraph      = "fedb2b/secagg/v1/neighbour-graph"
	labelPairwise   = "fedb2b/secagg/v1/pairwise-mask"
	labelSelfMask   = "fedb2b/secagg/v1/self-mask"
	labelAdvertSig  = "fedb2b/secagg/v1/advertise-signature"
	labelSharePlain = "fedb2b/secagg/v1/share-plaintext"
	labelShareSig   = "fedb2b/secagg/v2/share-signature"
	labelComplaint  = "fedb2b/secagg/v2/complaint-signature"
	labelSurvivors  = "fedb2b/secagg/v2/survivor-set-signature"
	labelSelfCommit = "fedb2b/secagg/v2/self-mask-commitment"
)

// maskSeed keys one AES-128-CTR mask stream.
type maskSeed struct {
	key [16]byte
	iv  [16]byte
}

// deriveMaskSeed is HKDF-SHA256 (RFC 5869) with the session ID as salt and
// info = label ‖ a ‖ b: the PRG seed of Bonawitz et al. 2017 §3.4 (the
// pairwise seed s_{u,v} = KA.agree(...) and the self-mask seed b_u are
// never used directly as AES keys).
func deriveMaskSeed(secret []byte, session SessionID, label string, a, b uint32) maskSeed {
	info := make([]byte, 0, len(label)+8)
	info = append(info, label...)
	info = binary.BigEndian.AppendUint32(info, a)
	info = binary.BigEndian.AppendUint32(info, b)
	out, err := hkdf.Key(sha256.New, secret, session[:], string(info), 32)
	if err != nil {
		panic("secagg: hkdf: " + err.Error()) // only on length > 255·32
	}
	var s maskSeed
	copy(s.key[:], out[:16])
	copy(s.iv[:], out[16:])
	return s
}

// pairwiseSeed derives the seed of the mask shared by u and v from their
// X25519 shared secret; symmetric in (u, v).
func pairwiseSeed(shared []byte, session SessionID, u, v uint32) maskSeed {
	lo, hi := min(u, v), max(u, v)
	return deriveMaskSeed(shared, session, labelPairwise, lo, hi)
}

// selfSeed derives the self-mask seed of client u from its secret b_u.
func selfSeed(b []byte, session SessionID, u uint32) maskSeed {
	return deriveMaskSeed(b, session, labelSelfMask, u, u)
}
