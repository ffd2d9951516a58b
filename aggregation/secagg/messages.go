package secagg

import (
	"encoding"
	"encoding/binary"
	"fmt"
)

// AdvertiseMsg is a client's round-0 message (Bonawitz et al. 2017 Fig. 4,
// AdvertiseKeys): its two fresh X25519 public keys signed with its
// long-term identity key. The server relays it to the client's neighbours.
type AdvertiseMsg struct {
	Session SessionID
	From    uint32
	// EncKey is c^PK, the age recipient key for shares sent to From.
	EncKey [32]byte
	// MaskKey is s^PK, the key agreed with neighbours for pairwise masks.
	MaskKey [32]byte
	// SelfCommit commits to the self-mask seed b_u (selfCommitment): the
	// server uses a reconstructed seed only if it matches.
	SelfCommit [32]byte
	// Signature is ed25519 over label ‖ Session ‖ From ‖ EncKey ‖ MaskKey
	// ‖ SelfCommit.
	Signature [64]byte
}

// EncryptedShare carries, from From to To, the age ciphertext of From's
// Shamir shares of its self-mask seed and of its mask secret key, signed
// by From's identity key (over the session, To and SHA-256 of the
// ciphertext), so only From can produce a share To accepts.
type EncryptedShare struct {
	Session    SessionID
	From, To   uint32
	Ciphertext []byte
	Signature  [64]byte
}

// MaskedInput is a client's masked vector y_u = x_u + PRG(b_u) ±
// Σ_v PRG(s_{u,v}) mod 2^32.
type MaskedInput struct {
	Session SessionID
	From    uint32
	Vector  []uint32
}

// UnmaskRequest is the server's survivor set U3 (clients whose masked
// input is in the sum), the dropped set (clients that shared keys but
// whose masked input is not in the sum) and at least Params.Quorum
// signatures of distinct participants on exactly that survivor set (Fig. 4
// round 4). Each client checks it against its own view before answering.
type UnmaskRequest struct {
	Session    SessionID
	Survivors  []uint32
	Dropped    []uint32
	Signatures []SurvivorSignature
}

// SurvivorSignature is one participant's signature on a survivor set.
type SurvivorSignature struct {
	Signer    uint32
	Signature [64]byte
}

// RevealedShare is one Shamir share revealed in unmasking: Owner is the
// participant whose secret it shares.
type RevealedShare struct {
	Owner uint32
	Value [fieldBytes]byte
}

// UnmaskResponse carries, for each neighbour, exactly one share: of its
// self-mask seed if it survived (SelfShares), of its mask secret key if it
// dropped (KeyShares).
type UnmaskResponse struct {
	Session    SessionID
	From       uint32
	SelfShares []RevealedShare
	KeyShares  []RevealedShare
}

// AbortNotice tells clients why the session ended without a result.
type AbortNotice struct {
	Session SessionID
	// Stage is the server stage in which the abort happened.
	Stage Stage
	// Reason is a human-readable explanation (no secrets).
	Reason string
}

var (
	_ encoding.BinaryMarshaler   = (*AdvertiseMsg)(nil)
	_ encoding.BinaryUnmarshaler = (*AdvertiseMsg)(nil)
	_ encoding.BinaryMarshaler   = (*EncryptedShare)(nil)
	_ encoding.BinaryUnmarshaler = (*EncryptedShare)(nil)
	_ encoding.BinaryMarshaler   = (*MaskedInput)(nil)
	_ encoding.BinaryUnmarshaler = (*MaskedInput)(nil)
	_ encoding.BinaryMarshaler   = (*UnmaskRequest)(nil)
	_ encoding.BinaryUnmarshaler = (*UnmaskRequest)(nil)
	_ encoding.BinaryMarshaler   = (*UnmaskResponse)(nil)
	_ encoding.BinaryUnmarshaler = (*UnmaskResponse)(nil)
	_ encoding.BinaryMarshaler   = (*AbortNotice)(nil)
	_ encoding.BinaryUnmarshaler = (*AbortNotice)(nil)
)

// MarshalBinary encodes m.
func (m *AdvertiseMsg) MarshalBinary() ([]byte, error) {
	b := appendHeader(make([]byte, 0, 2+32+4+3*32+64), tagAdvertise, m.Session)
	b = binary.BigEndian.AppendUint32(b, m.From)
	b = append(b, m.EncKey[:]...)
	b = append(b, m.MaskKey[:]...)
	b = append(b, m.SelfCommit[:]...)
	return append(b, m.Signature[:]...), nil
}

// UnmarshalBinary decodes data into m; hostile input gives ErrMalformed.
func (m *AdvertiseMsg) UnmarshalBinary(data []byte) error {
	r, s := newReader(data, tagAdvertise, "advertise message")
	var v AdvertiseMsg
	v.Session = s
	v.From = r.u32()
	r.fixed(v.EncKey[:])
	r.fixed(v.MaskKey[:])
	r.fixed(v.SelfCommit[:])
	r.fixed(v.Signature[:])
	if err := r.done(); err != nil {
		return err
	}
	*m = v
	return nil
}

// MarshalBinary encodes m.
func (m *EncryptedShare) MarshalBinary() ([]byte, error) {
	if len(m.Ciphertext) > maxShareCiphertext {
		return nil, fmt.Errorf("%w: share ciphertext of %d bytes exceeds %d", ErrMalformed, len(m.Ciphertext), maxShareCiphertext)
	}
	b := appendHeader(make([]byte, 0, 2+32+12+len(m.Ciphertext)+64), tagEncryptedShare, m.Session)
	b = binary.BigEndian.AppendUint32(b, m.From)
	b = binary.BigEndian.AppendUint32(b, m.To)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Ciphertext)))
	b = append(b, m.Ciphertext...)
	return append(b, m.Signature[:]...), nil
}

// UnmarshalBinary decodes data into m; hostile input gives ErrMalformed.
func (m *EncryptedShare) UnmarshalBinary(data []byte) error {
	r, s := newReader(data, tagEncryptedShare, "encrypted share")
	var v EncryptedShare
	v.Session = s
	v.From = r.u32()
	v.To = r.u32()
	n := r.count(maxShareCiphertext, 1, "ciphertext")
	if ct := r.take(n); ct != nil {
		v.Ciphertext = append([]byte(nil), ct...)
	}
	r.fixed(v.Signature[:])
	if err := r.done(); err != nil {
		return err
	}
	*m = v
	return nil
}

// MarshalBinary encodes m.
func (m *MaskedInput) MarshalBinary() ([]byte, error) {
	if len(m.Vector) > MaxDim {
		return nil, fmt.Errorf("%w: vector of %d words exceeds %d", ErrMalformed, len(m.Vector), MaxDim)
	}
	b := appendHeader(make([]byte, 0, 2+32+8+4*len(m.Vector)), tagMaskedInput, m.Session)
	b = binary.BigEndian.AppendUint32(b, m.From)
	return appendU32s(b, m.Vector), nil
}

// UnmarshalBinary decodes data into m; hostile input gives ErrMalformed.
func (m *MaskedInput) UnmarshalBinary(data []byte) error {
	r, s := newReader(data, tagMaskedInput, "masked input")
	var v MaskedInput
	v.Session = s
	v.From = r.u32()
	v.Vector = r.u32s(MaxDim, "vector")
	if err := r.done(); err != nil {
		return err
	}
	*m = v
	return nil
}

// MarshalBinary encodes m.
func (m *UnmaskRequest) MarshalBinary() ([]byte, error) {
	if len(m.Survivors) > MaxParticipants || len(m.Dropped) > MaxParticipants || len(m.Signatures) > MaxParticipants {
		return nil, fmt.Errorf("%w: unmask request lists more than %d participants", ErrMalformed, MaxParticipants)
	}
	b := appendHeader(make([]byte, 0, 2+32+12+4*(len(m.Survivors)+len(m.Dropped))+68*len(m.Signatures)), tagUnmaskRequest, m.Session)
	b = appendU32s(b, m.Survivors)
	b = appendU32s(b, m.Dropped)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Signatures)))
	for _, s := range m.Signatures {
		b = binary.BigEndian.AppendUint32(b, s.Signer)
		b = append(b, s.Signature[:]...)
	}
	return b, nil
}

// UnmarshalBinary decodes data into m; hostile input gives ErrMalformed.
func (m *UnmaskRequest) UnmarshalBinary(data []byte) error {
	r, s := newReader(data, tagUnmaskRequest, "unmask request")
	var v UnmaskRequest
	v.Session = s
	v.Survivors = r.u32s(MaxParticipants, "survivors")
	v.Dropped = r.u32s(MaxParticipants, "dropped")
	if n := r.count(MaxParticipants, 68, "signatures"); n > 0 {
		v.Signatures = make([]SurvivorSignature, n)
		for i := range v.Signatures {
			v.Signatures[i].Signer = r.u32()
			r.fixed(v.Signatures[i].Signature[:])
		}
	}
	if err := r.done(); err != nil {
		return err
	}
	*m = v
	return nil
}

const revealedShareSize = 4 + fieldBytes

func appendShares(b []byte, v []RevealedShare) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	for _, s := range v {
		b = binary.BigEndian.AppendUint32(b, s.Owner)
		b = append(b, s.Value[:]...)
	}
	return b
}

func (r *reader) shares(field string) []RevealedShare {
	n := r.count(MaxParticipants, revealedShareSize, field)
	if r.err != nil {
		return nil
	}
	out := make([]RevealedShare, n)
	for i := range out {
		out[i].Owner = r.u32()
		r.fixed(out[i].Value[:])
	}
	return out
}

// MarshalBinary encodes m.
func (m *UnmaskResponse) MarshalBinary() ([]byte, error) {
	if len(m.SelfShares) > MaxParticipants || len(m.KeyShares) > MaxParticipants {
		return nil, fmt.Errorf("%w: unmask response holds more than %d shares of a kind", ErrMalformed, MaxParticipants)
	}
	size := 2 + 32 + 12 + revealedShareSize*(len(m.SelfShares)+len(m.KeyShares))
	b := appendHeader(make([]byte, 0, size), tagUnmaskResponse, m.Session)
	b = binary.BigEndian.AppendUint32(b, m.From)
	b = appendShares(b, m.SelfShares)
	return appendShares(b, m.KeyShares), nil
}

// UnmarshalBinary decodes data into m; hostile input gives ErrMalformed.
func (m *UnmaskResponse) UnmarshalBinary(data []byte) error {
	r, s := newReader(data, tagUnmaskResponse, "unmask response")
	var v UnmaskResponse
	v.Session = s
	v.From = r.u32()
	v.SelfShares = r.shares("self shares")
	v.KeyShares = r.shares("key shares")
	if err := r.done(); err != nil {
		return err
	}
	*m = v
	return nil
}

// maxReason bounds AbortNotice.Reason.
const maxReason = 1024

// MarshalBinary encodes m (a reason longer than 1024 bytes is truncated).
func (m *AbortNotice) MarshalBinary() ([]byte, error) {
	reason := m.Reason
	if len(reason) > maxReason {
		reason = reason[:maxReason]
	}
	b := appendHeader(make([]byte, 0, 2+32+5+len(reason)), tagAbort, m.Session)
	b = append(b, byte(m.Stage))
	b = binary.BigEndian.AppendUint32(b, uint32(len(reason)))
	return append(b, reason...), nil
}

// UnmarshalBinary decodes data into m; hostile input gives ErrMalformed.
func (m *AbortNotice) UnmarshalBinary(data []byte) error {
	r, s := newReader(data, tagAbort, "abort notice")
	var v AbortNotice
	v.Session = s
	v.Stage = Stage(r.u8())
	n := r.count(maxReason, 1, "reason")
	v.Reason = string(r.take(n))
	if err := r.done(); err != nil {
		return err
	}
	*m = v
	return nil
}
