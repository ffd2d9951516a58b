package secagg

import (
	"crypto/ed25519"
	"encoding/binary"
)

// Advertised keys are signed with the participant's long-term ed25519
// identity key (Bonawitz et al. 2017 §3.5 and Fig. 4 round 0, the signature
// σ_u over c_u^PK ‖ s_u^PK; §3.6 assumes the PKI that here is the tenant
// enrolment). The signed message also carries a label, the session ID and
// the signer's index, so an advert cannot be replayed into another round
// or attributed to another participant.
func advertSigMessage(session SessionID, from uint32, encPub, maskPub [32]byte) []byte {
	m := make([]byte, 0, len(labelAdvertSig)+32+4+64)
	m = append(m, labelAdvertSig...)
	m = append(m, session[:]...)
	m = binary.BigEndian.AppendUint32(m, from)
	m = append(m, encPub[:]...)
	m = append(m, maskPub[:]...)
	return m
}

func signAdvert(key ed25519.PrivateKey, session SessionID, from uint32, encPub, maskPub [32]byte) [64]byte {
	var sig [64]byte
	copy(sig[:], ed25519.Sign(key, advertSigMessage(session, from, encPub, maskPub)))
	return sig
}

func verifyAdvert(pub ed25519.PublicKey, session SessionID, from uint32, encPub, maskPub [32]byte, sig [64]byte) bool {
	return ed25519.Verify(pub, advertSigMessage(session, from, encPub, maskPub), sig[:])
}
