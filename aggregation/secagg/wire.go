package secagg

import (
	"encoding/binary"
	"fmt"
)

// Wire format shared by every message: one type byte, one version byte
// (wireVersion), the 32-byte session ID, then the fields in order, all
// integers big-endian, lists as a uint32 count followed by the items. A
// decoder checks every length against the bytes left and the package
// limits before allocating, and rejects trailing bytes.
const wireVersion = 2

// Message type bytes.
const (
	tagAdvertise      = 0xA1
	tagEncryptedShare = 0xA2
	tagMaskedInput    = 0xA3
	tagUnmaskRequest  = 0xA4
	tagUnmaskResponse = 0xA5
	tagAbort          = 0xA6
	tagShareReceipt   = 0xA7
	tagMaskRequest    = 0xA8
	tagConsistencyReq = 0xA9
	tagConsistencySig = 0xAA
)

func appendHeader(b []byte, tag byte, s SessionID) []byte {
	b = append(b, tag, wireVersion)
	return append(b, s[:]...)
}

// reader decodes fields and remembers the first error.
type reader struct {
	b    []byte
	what string
	err  error
}

func newReader(b []byte, tag byte, what string) (*reader, SessionID) {
	r := &reader{b: b, what: what}
	var s SessionID
	if len(b) < 2 {
		r.fail("too short")
		return r, s
	}
	if b[0] != tag {
		r.fail(fmt.Sprintf("type byte 0x%02x, want 0x%02x", b[0], tag))
		return r, s
	}
	if b[1] != wireVersion {
		r.fail(fmt.Sprintf("unsupported version %d", b[1]))
		return r, s
	}
	r.b = b[2:]
	r.fixed(s[:])
	return r, s
}

func (r *reader) fail(msg string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s: %s", ErrMalformed, r.what, msg)
	}
	r.b = nil
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail(fmt.Sprintf("truncated: need %d bytes, have %d", n, len(r.b)))
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) fixed(dst []byte) { copy(dst, r.take(len(dst))) }

func (r *reader) u8() byte {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) u32() uint32 {
	if v := r.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

// count reads a list length and checks that max items of itemSize bytes
// each can still be present.
func (r *reader) count(max, itemSize int, field string) int {
	n := r.u32()
	if r.err != nil {
		return 0
	}
	if uint64(n) > uint64(max) {
		r.fail(fmt.Sprintf("%s: %d items exceed the limit %d", field, n, max))
		return 0
	}
	if uint64(n)*uint64(itemSize) > uint64(len(r.b)) {
		r.fail(fmt.Sprintf("%s: %d items do not fit in %d bytes", field, n, len(r.b)))
		return 0
	}
	return int(n)
}

func (r *reader) u32s(max int, field string) []uint32 {
	n := r.count(max, 4, field)
	if r.err != nil {
		return nil
	}
	b := r.take(4 * n)
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.BigEndian.Uint32(b[4*i:])
	}
	return out
}

func (r *reader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail(fmt.Sprintf("%d trailing bytes", len(r.b)))
	}
	return r.err
}

func appendU32s(b []byte, v []uint32) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	for _, x := range v {
		b = binary.BigEndian.AppendUint32(b, x)
	}
	return b
}
