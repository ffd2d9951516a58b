package secagg

import (
	"bytes"
	"encoding"
	"errors"
	"reflect"
	"runtime"
	"testing"
)

type wireMsg interface {
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

func sampleMessages() map[string][2]wireMsg {
	var s SessionID
	s[0], s[31] = 7, 9
	var v [fieldBytes]byte
	v[0], v[32] = 1, 2
	return map[string][2]wireMsg{
		"advertise": {&AdvertiseMsg{Session: s, From: 3, EncKey: [32]byte{1}, MaskKey: [32]byte{2}, SelfCommit: [32]byte{5}, Signature: [64]byte{3}}, new(AdvertiseMsg)},
		"share":     {&EncryptedShare{Session: s, From: 1, To: 2, Ciphertext: []byte("ciphertext"), Signature: [64]byte{4}}, new(EncryptedShare)},
		"receipt": {&ShareReceipt{Session: s, From: 2, Complaints: []Complaint{{Accused: 1, CipherHash: [32]byte{6}, Signature: [64]byte{7}}}},
			new(ShareReceipt)},
		"maskreq": {&MaskRequest{Session: s, Excluded: []uint32{1, 4}}, new(MaskRequest)},
		"consreq": {&ConsistencyRequest{Session: s, Survivors: []uint32{0, 2, 3}}, new(ConsistencyRequest)},
		"conssig": {&ConsistencyResponse{Session: s, From: 3, Signature: [64]byte{8}}, new(ConsistencyResponse)},
		"masked":  {&MaskedInput{Session: s, From: 4, Vector: []uint32{0, 1, 1 << 31, ^uint32(0)}}, new(MaskedInput)},
		"request": {&UnmaskRequest{Session: s, Survivors: []uint32{0, 2, 5}, Dropped: []uint32{1},
			Signatures: []SurvivorSignature{{Signer: 2, Signature: [64]byte{9}}}}, new(UnmaskRequest)},
		"response": {&UnmaskResponse{Session: s, From: 2, SelfShares: []RevealedShare{{Owner: 0, Value: v}}, KeyShares: []RevealedShare{{Owner: 1, Value: v}, {Owner: 3}}}, new(UnmaskResponse)},
		"abort":    {&AbortNotice{Session: s, Stage: StageUnmask, Reason: "too few survivors"}, new(AbortNotice)},
	}
}

func TestWireRoundTripAndTruncation(t *testing.T) {
	for name, pair := range sampleMessages() {
		b, err := pair[0].MarshalBinary()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := pair[1].UnmarshalBinary(b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Fatalf("%s: round trip changed the message:\n%+v\n%+v", name, pair[0], pair[1])
		}
		// Every strict prefix, and any trailing byte, is rejected.
		for i := range b {
			if err := pair[1].UnmarshalBinary(b[:i]); !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s: prefix of %d/%d bytes: got %v", name, i, len(b), err)
			}
		}
		if err := pair[1].UnmarshalBinary(append(bytes.Clone(b), 0)); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s: trailing byte accepted", name)
		}
		bad := bytes.Clone(b)
		bad[1] = wireVersion + 1
		if err := pair[1].UnmarshalBinary(bad); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s: unknown version accepted", name)
		}
	}
	// A message of one type never decodes as another.
	b, _ := (&MaskedInput{}).MarshalBinary()
	if err := new(UnmaskRequest).UnmarshalBinary(b); !errors.Is(err, ErrMalformed) {
		t.Fatal("masked input decoded as unmask request")
	}
}

func TestWireHugeCountsDoNotAllocate(t *testing.T) {
	var s SessionID
	b := appendHeader(nil, tagMaskedInput, s)
	b = append(b, 0, 0, 0, 1)             // From
	b = append(b, 0x0f, 0xff, 0xff, 0xff) // count 2^28−1, no data
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := new(MaskedInput).UnmarshalBinary(b); !errors.Is(err, ErrMalformed) {
		t.Fatal("huge count accepted")
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 64<<10 {
		t.Fatalf("%d bytes allocated for a hostile count", d)
	}
}

// fuzzDecoder checks that hostile bytes never panic and that whatever
// decodes re-encodes to the same bytes.
func fuzzDecoder[T any, P interface {
	*T
	wireMsg
}](f *testing.F, seed P) {
	b, _ := seed.MarshalBinary()
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		m := P(new(T))
		if err := m.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error without ErrMalformed: %v", err)
			}
			return
		}
		out, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("re-encoding differs")
		}
	})
}

func FuzzAdvertiseMsg(f *testing.F) {
	fuzzDecoder(f, sampleMessages()["advertise"][0].(*AdvertiseMsg))
}

func FuzzEncryptedShare(f *testing.F) {
	fuzzDecoder(f, sampleMessages()["share"][0].(*EncryptedShare))
}

func FuzzMaskedInput(f *testing.F) {
	fuzzDecoder(f, sampleMessages()["masked"][0].(*MaskedInput))
}

func FuzzUnmaskRequest(f *testing.F) {
	fuzzDecoder(f, sampleMessages()["request"][0].(*UnmaskRequest))
}

func FuzzUnmaskResponse(f *testing.F) {
	fuzzDecoder(f, sampleMessages()["response"][0].(*UnmaskResponse))
}

func FuzzShareReceipt(f *testing.F) {
	fuzzDecoder(f, sampleMessages()["receipt"][0].(*ShareReceipt))
}

func FuzzMaskRequest(f *testing.F) {
	fuzzDecoder(f, sampleMessages()["maskreq"][0].(*MaskRequest))
}

func FuzzConsistencyRequest(f *testing.F) {
	fuzzDecoder(f, sampleMessages()["consreq"][0].(*ConsistencyRequest))
}

func FuzzConsistencyResponse(f *testing.F) {
	fuzzDecoder(f, sampleMessages()["conssig"][0].(*ConsistencyResponse))
}

func FuzzAbortNotice(f *testing.F) {
	fuzzDecoder(f, sampleMessages()["abort"][0].(*AbortNotice))
}

// FuzzSharePlain: the decrypted share plaintext parser never panics.
func FuzzSharePlain(f *testing.F) {
	f.Add((&sharePlain{from: 1, to: 2}).marshal())
	f.Fuzz(func(t *testing.T, data []byte) {
		var p sharePlain
		if err := p.unmarshal(data); err == nil && !bytes.Equal(p.marshal(), data) {
			t.Fatal("share plaintext does not round-trip")
		}
	})
}
