package secagg

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
)

// Every signature here is ed25519 by a participant's long-term identity
// key (Bonawitz et al. 2017 §3.5, §3.6 assume the PKI that here is the
// tenant enrolment) over a distinct label, the session ID, the signer's
// index and the signed content, so no signature can be replayed into
// another round, attributed to another participant or read as another
// kind of statement.

// signed builds label ‖ session ‖ from ‖ parts.
func signed(label string, session SessionID, from uint32, parts ...[]byte) []byte {
	n := len(label) + 32 + 4
	for _, p := range parts {
		n += len(p)
	}
	m := make([]byte, 0, n)
	m = append(m, label...)
	m = append(m, session[:]...)
	m = binary.BigEndian.AppendUint32(m, from)
	for _, p := range parts {
		m = append(m, p...)
	}
	return m
}

func sign(key ed25519.PrivateKey, msg []byte) [64]byte {
	var sig [64]byte
	copy(sig[:], ed25519.Sign(key, msg))
	return sig
}

// advertSigMessage: Fig. 4 round 0, σ_u over c_u^PK ‖ s_u^PK, here also
// over the commitment to the self-mask seed b_u.
func advertSigMessage(m *AdvertiseMsg) []byte {
	return signed(labelAdvertSig, m.Session, m.From, m.EncKey[:], m.MaskKey[:], m.SelfCommit[:])
}

func signAdvert(key ed25519.PrivateKey, m *AdvertiseMsg) {
	m.Signature = sign(key, advertSigMessage(m))
}

func verifyAdvert(pub ed25519.PublicKey, m *AdvertiseMsg) bool {
	return ed25519.Verify(pub, advertSigMessage(m), m.Signature[:])
}

// shareSigMessage binds a share ciphertext to its sender, recipient and
// session: the relay cannot forge or alter a share (age encryption alone
// is anonymous: anyone can encrypt to a public key).
func shareSigMessage(m *EncryptedShare) []byte {
	h := sha256.Sum256(m.Ciphertext)
	var to [4]byte
	binary.BigEndian.PutUint32(to[:], m.To)
	return signed(labelShareSig, m.Session, m.From, to[:], h[:])
}

func verifyShare(pub ed25519.PublicKey, m *EncryptedShare) bool {
	return ed25519.Verify(pub, shareSigMessage(m), m.Signature[:])
}

// complaintSigMessage: accuser says "the share from accused whose
// ciphertext hashes to h does not open to a valid share for me".
func complaintSigMessage(session SessionID, accuser, accused uint32, h [32]byte) []byte {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], accused)
	return signed(labelComplaint, session, accuser, a[:], h[:])
}

// survivorSigMessage: Fig. 4 round 3, σ'_u over U3 (sorted, with its
// length, so two different sets never give the same message).
func survivorSigMessage(session SessionID, signer uint32, survivors []uint32) []byte {
	return signed(labelSurvivors, session, signer, appendU32s(nil, survivors))
}

// selfCommitment is the hiding, binding commitment to the self-mask seed
// b_u published (signed) in the advert: SHA-256 over a label, the session,
// the owner and b_u. b_u is 32 uniformly random bytes, so the commitment
// reveals nothing useful about it; a reconstructed seed is used only if it
// matches.
func selfCommitment(session SessionID, owner uint32, b [32]byte) [32]byte {
	return sha256.Sum256(signed(labelSelfCommit, session, owner, b[:]))
}

func verifySig(pub ed25519.PublicKey, msg []byte, sig [64]byte) bool {
	return ed25519.Verify(pub, msg, sig[:])
}

// Sign sets m.Signature: the sender's identity-key signature over the
// session, recipient and SHA-256 of the ciphertext (Client.ShareKeys signs
// every share it makes; exported for drivers and tests that play a hostile
// tenant, whose own key signs whatever it sends).
func (m *EncryptedShare) Sign(key ed25519.PrivateKey) { m.Signature = sign(key, shareSigMessage(m)) }
