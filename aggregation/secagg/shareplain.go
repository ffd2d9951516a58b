package secagg

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// sharePlain is the plaintext inside an EncryptedShare: the sender's share
// for the recipient of its self-mask seed b_u and of its mask secret key
// s_u^SK (Bonawitz et al. 2017 Fig. 4 round 1: e_{u,v} =
// AE.enc(KA.agree(c_u^SK, c_v^PK), u ‖ v ‖ s^SK_{u,v} ‖ b_{u,v}); here the
// encryption is age to c_v^PK and the binding fields are checked by hand).
type sharePlain struct {
	session  SessionID
	from, to uint32
	self     [fieldBytes]byte
	key      [fieldBytes]byte
}

const sharePlainSize = len(labelSharePlain) + 32 + 8 + 2*fieldBytes

func (p *sharePlain) marshal() []byte {
	b := make([]byte, 0, sharePlainSize)
	b = append(b, labelSharePlain...)
	b = append(b, p.session[:]...)
	b = binary.BigEndian.AppendUint32(b, p.from)
	b = binary.BigEndian.AppendUint32(b, p.to)
	b = append(b, p.self[:]...)
	return append(b, p.key[:]...)
}

func (p *sharePlain) unmarshal(b []byte) error {
	if len(b) != sharePlainSize || !bytes.HasPrefix(b, []byte(labelSharePlain)) {
		return fmt.Errorf("%w: share plaintext has the wrong size or label", ErrMalformed)
	}
	b = b[len(labelSharePlain):]
	copy(p.session[:], b[:32])
	p.from = binary.BigEndian.Uint32(b[32:])
	p.to = binary.BigEndian.Uint32(b[36:])
	copy(p.self[:], b[40:40+fieldBytes])
	copy(p.key[:], b[40+fieldBytes:])
	return nil
}
