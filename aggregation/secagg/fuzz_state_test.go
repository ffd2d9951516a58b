package secagg

import (
	"errors"
	"testing"
)

// stateAt returns a 5-client session advanced so that client 0 is in
// StageUnmask and the server in StageUnmask.
func stateAt(t testing.TB) (*harness, *UnmaskRequest) {
	h := newHarness(t, 5, 0, 3, 4, 1)
	h.shareKeys(h.advertise(nil), nil)
	h.maskInputs(nil)
	req, err := h.requestUnmask(nil)
	h.must(err)
	return h, req
}

// FuzzClientUnmask: any bytes given to a client as an unmask request either
// fail to decode, are refused with a sentinel error, or produce a response
// that never holds both shares of one neighbour.
func FuzzClientUnmask(f *testing.F) {
	h, req := stateAt(f)
	good, _ := req.MarshalBinary()
	f.Add(good)
	both := *req
	both.Dropped = append(both.Dropped, req.Survivors[1])
	b, _ := both.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var r UnmaskRequest
		if r.UnmarshalBinary(data) != nil {
			return
		}
		c := *h.cl[0]
		resp, err := c.Unmask(&r)
		if err != nil {
			for _, s := range []error{ErrWrongSession, ErrInconsistent, ErrBelowThreshold, ErrUnknownParticipant, ErrDuplicate, ErrBadSignature} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("unexpected error %v", err)
		}
		seen := map[uint32]bool{}
		for _, s := range append(append([]RevealedShare(nil), resp.SelfShares...), resp.KeyShares...) {
			if seen[s.Owner] {
				t.Fatalf("both shares of %d revealed", s.Owner)
			}
			seen[s.Owner] = true
		}
	})
}

// FuzzServerOnUnmask: hostile unmask responses never panic the server.
func FuzzServerOnUnmask(f *testing.F) {
	h, req := stateAt(f)
	resp, err := h.cl[1].Unmask(req)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := resp.MarshalBinary()
	f.Add(uint32(1), good)
	f.Fuzz(func(t *testing.T, from uint32, data []byte) {
		var r UnmaskResponse
		if r.UnmarshalBinary(data) != nil {
			return
		}
		s := *h.srv
		s.replied = append([]bool(nil), h.srv.replied...)
		s.selfSh = make([][]share, len(h.srv.selfSh))
		s.keySh = make([][]share, len(h.srv.keySh))
		_ = s.OnUnmask(from, &r)
	})
}

// FuzzClientCheckShares: hostile share messages never panic a client, and
// a share claiming another sender is never accepted.
func FuzzClientCheckShares(f *testing.F) {
	h := newHarness(f, 4, 0, 2, 3, 1)
	h.shareKeys(h.advertise(nil), nil)
	sh, err := h.srv.SharesFor(0)
	if err != nil {
		f.Fatal(err)
	}
	b, _ := sh[0].MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var s EncryptedShare
		if s.UnmarshalBinary(data) != nil {
			return
		}
		c := *h.cl[0]
		list := append([]*EncryptedShare{&s}, sh[1:]...)
		if _, err := c.CheckShares(list); err == nil && s.From != sh[0].From {
			t.Fatal("accepted a share from an unexpected sender")
		}
	})
}

// FuzzServerOnReceipt: hostile share receipts never panic the server, and
// one that is refused records no blame.
func FuzzServerOnReceipt(f *testing.F) {
	h := newHarness(f, 5, 0, 3, 4, 1)
	h.shareKeys(h.advertise(nil), nil)
	sh, err := h.srv.SharesFor(1)
	if err != nil {
		f.Fatal(err)
	}
	r, err := h.cl[1].CheckShares(sh)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := r.MarshalBinary()
	f.Add(uint32(1), good)
	f.Fuzz(func(t *testing.T, from uint32, data []byte) {
		var m ShareReceipt
		if m.UnmarshalBinary(data) != nil {
			return
		}
		s := *h.srv
		s.receipt = append([]bool(nil), h.srv.receipt...)
		s.cut = map[[2]uint32]bool{}
		s.blamed = nil
		if err := s.OnReceipt(from, &m); err != nil && len(s.blamed) != 0 {
			t.Fatal("a refused receipt recorded a blame")
		}
	})
}
