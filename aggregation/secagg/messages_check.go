package secagg

import (
	"encoding"
	"encoding/binary"
	"fmt"
)

// Complaint is a receiver's signed statement that the share an accused
// neighbour sent it (identified by SHA-256 of the relayed ciphertext, which
// the accused signed) does not open to a valid share. The server checks the
// signature and the hash against the share it relayed, then excludes the
// accused from the session (Server.Blamed).
type Complaint struct {
	Accused    uint32
	CipherHash [32]byte
	// Signature is ed25519 by the complainer over label ‖ Session ‖
	// complainer ‖ Accused ‖ CipherHash.
	Signature [64]byte
}

const complaintSize = 4 + 32 + 64

// ShareReceipt is a client's answer in StageCheckShares: one complaint per
// share that failed (usually none).
type ShareReceipt struct {
	Session    SessionID
	From       uint32
	Complaints []Complaint
}

// MaskRequest opens StageMaskedInput: Excluded lists every participant that
// sent shares but is out of the session (blamed by a complaint, or sent no
// receipt); clients leave them out of their pairwise masks.
type MaskRequest struct {
	Session  SessionID
	Excluded []uint32
}

// ConsistencyRequest opens StageConsistency: the survivor set U3 that
// each client is asked to sign (Bonawitz et al. 2017 Fig. 4 round 3).
type ConsistencyRequest struct {
	Session   SessionID
	Survivors []uint32
}

// ConsistencyResponse is a client's signature on the survivor set.
type ConsistencyResponse struct {
	Session   SessionID
	From      uint32
	Signature [64]byte
}

var (
	_ encoding.BinaryMarshaler   = (*ShareReceipt)(nil)
	_ encoding.BinaryUnmarshaler = (*ShareReceipt)(nil)
	_ encoding.BinaryMarshaler   = (*MaskRequest)(nil)
	_ encoding.BinaryUnmarshaler = (*MaskRequest)(nil)
	_ encoding.BinaryMarshaler   = (*ConsistencyRequest)(nil)
	_ encoding.BinaryUnmarshaler = (*ConsistencyRequest)(nil)
	_ encoding.BinaryMarshaler   = (*ConsistencyResponse)(nil)
	_ encoding.BinaryUnmarshaler = (*ConsistencyResponse)(nil)
)

// MarshalBinary encodes m.
func (m *ShareReceipt) MarshalBinary() ([]byte, error) {
	if len(m.Complaints) > MaxParticipants {
		return nil, fmt.Errorf("%w: receipt holds more than %d complaints", ErrMalformed, MaxParticipants)
	}
	b := appendHeader(make([]byte, 0, 2+32+8+complaintSize*len(m.Complaints)), tagShareReceipt, m.Session)
	b = binary.BigEndian.AppendUint32(b, m.From)
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Complaints)))
	for _, c := range m.Complaints {
		b = binary.BigEndian.AppendUint32(b, c.Accused)
		b = append(b, c.CipherHash[:]...)
		b = append(b, c.Signature[:]...)
	}
	return b, nil
}

// UnmarshalBinary decodes data into m; hostile input gives ErrMalformed.
func (m *ShareReceipt) UnmarshalBinary(data []byte) error {
	r, s := newReader(data, tagShareReceipt, "share receipt")
	var v ShareReceipt
	v.Session = s
	v.From = r.u32()
	if n := r.count(MaxParticipants, complaintSize, "complaints"); n > 0 {
		v.Complaints = make([]Complaint, n)
		for i := range v.Complaints {
			c := &v.Complaints[i]
			c.Accused = r.u32()
			r.fixed(c.CipherHash[:])
			r.fixed(c.Signature[:])
		}
	}
	if err := r.done(); err != nil {
		return err
	}
	*m = v
	return nil
}

// MarshalBinary encodes m.
func (m *MaskRequest) MarshalBinary() ([]byte, error) {
	if len(m.Excluded) > MaxParticipants {
		return nil, fmt.Errorf("%w: mask request lists more than %d participants", ErrMalformed, MaxParticipants)
	}
	return appendU32s(appendHeader(make([]byte, 0, 2+32+4+4*len(m.Excluded)), tagMaskRequest, m.Session), m.Excluded), nil
}

// UnmarshalBinary decodes data into m; hostile input gives ErrMalformed.
func (m *MaskRequest) UnmarshalBinary(data []byte) error {
	r, s := newReader(data, tagMaskRequest, "mask request")
	v := MaskRequest{Session: s, Excluded: r.u32s(MaxParticipants, "excluded")}
	if err := r.done(); err != nil {
		return err
	}
	*m = v
	return nil
}

// MarshalBinary encodes m.
func (m *ConsistencyRequest) MarshalBinary() ([]byte, error) {
	if len(m.Survivors) > MaxParticipants {
		return nil, fmt.Errorf("%w: consistency request lists more than %d participants", ErrMalformed, MaxParticipants)
	}
	return appendU32s(appendHeader(make([]byte, 0, 2+32+4+4*len(m.Survivors)), tagConsistencyReq, m.Session), m.Survivors), nil
}

// UnmarshalBinary decodes data into m; hostile input gives ErrMalformed.
func (m *ConsistencyRequest) UnmarshalBinary(data []byte) error {
	r, s := newReader(data, tagConsistencyReq, "consistency request")
	v := ConsistencyRequest{Session: s, Survivors: r.u32s(MaxParticipants, "survivors")}
	if err := r.done(); err != nil {
		return err
	}
	*m = v
	return nil
}

// MarshalBinary encodes m.
func (m *ConsistencyResponse) MarshalBinary() ([]byte, error) {
	b := appendHeader(make([]byte, 0, 2+32+4+64), tagConsistencySig, m.Session)
	b = binary.BigEndian.AppendUint32(b, m.From)
	return append(b, m.Signature[:]...), nil
}

// UnmarshalBinary decodes data into m; hostile input gives ErrMalformed.
func (m *ConsistencyResponse) UnmarshalBinary(data []byte) error {
	r, s := newReader(data, tagConsistencySig, "consistency response")
	v := ConsistencyResponse{Session: s}
	v.From = r.u32()
	r.fixed(v.Signature[:])
	if err := r.done(); err != nil {
		return err
	}
	*m = v
	return nil
}
