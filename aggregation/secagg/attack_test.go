package secagg

import (
	"slices"
	"testing"
)

// runRound1 completes a round and returns its messages for replay.
func runRound1(t *testing.T) (ads []*AdvertiseMsg, shares []*EncryptedShare, masked *MaskedInput, req *UnmaskRequest) {
	h := newHarness(t, 5, 0, 3, 4, 1)
	ads = h.advertise(nil)
	h.shareKeys(ads, nil)
	shares, _ = h.srv.SharesFor(0)
	h.checkShares(nil)
	mr, _ := h.srv.MaskRequestFor(0)
	m, err := h.cl[0].MaskInput(mr, h.inputs[0])
	h.must(err)
	h.must(h.srv.OnMaskedInput(0, m))
	h.maskInputs(nil)
	req, err = h.requestUnmask(nil)
	h.must(err)
	return ads, shares, m, req
}

func TestReplayFromPreviousRoundRejected(t *testing.T) {
	ads1, shares1, masked1, req1 := runRound1(t)
	h := newHarness(t, 5, 0, 3, 4, 2) // same tenants and identity keys, round 2
	if h.p.Session() == ads1[0].Session {
		t.Fatal("rounds share a session ID")
	}
	wantErr(t, h.srv.OnAdvertise(0, ads1[0]), ErrWrongSession, "replayed advert")
	forged := *ads1[0]
	forged.Session = h.p.Session()
	wantErr(t, h.srv.OnAdvertise(0, &forged), ErrBadSignature, "replayed advert with new session ID")

	ads := h.advertise(nil)
	_, err := h.cl[0].ShareKeys(append(slices.Clone(ads), ads1[1]))
	wantErr(t, err, ErrWrongSession, "client given a replayed advert")
	h.shareKeys(ads, nil)

	sh, _ := h.srv.SharesFor(0)
	_, err = h.cl[0].CheckShares(shares1)
	wantErr(t, err, ErrWrongSession, "replayed shares")
	// The old share relabelled with the new session is refused: its
	// signature covers the old session (and its ciphertext is encrypted to
	// last round's key).
	old := *shares1[0]
	old.Session = h.p.Session()
	swapped := slices.Clone(sh)
	for i, s := range swapped {
		if s.From == old.From {
			swapped[i] = &old
		}
	}
	_, err = h.cl[0].CheckShares(swapped)
	wantErr(t, err, ErrBadSignature, "replayed share ciphertext")

	h.maskInputs(nil)
	wantErr(t, h.srv.OnMaskedInput(0, masked1), ErrWrongSession, "replayed masked input")
	req, err := h.requestUnmask(nil)
	h.must(err)
	_, err = h.cl[1].Unmask(req1)
	wantErr(t, err, ErrWrongSession, "replayed unmask request")
	h.unmask(req, nil)
	sum, surv, err := h.srv.Result()
	h.must(err)
	h.checkSum(sum, surv)
}

func TestKeySubstitutionRefused(t *testing.T) {
	h := newHarness(t, 5, 0, 3, 4, 1)
	ads := h.advertise(nil)
	attacker, _ := newKeyPair(zeroReader{})
	for _, field := range []string{"enc", "mask"} {
		bad := slices.Clone(ads)
		sub := *bad[1]
		if field == "enc" {
			sub.EncKey = attacker.public()
		} else {
			sub.MaskKey = attacker.public()
		}
		bad[1] = &sub
		c := h.cl[0]
		if field == "mask" {
			c = h.cl[2]
		}
		out, err := c.ShareKeys(bad)
		wantErr(t, err, ErrBadSignature, "substituted "+field+" key")
		if out != nil || c.Stage() != StageAborted || c.Err() == nil {
			t.Fatalf("substituted %s key: client did not abort (stage %s)", field, c.Stage())
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); p[0] = 9; return len(p), nil }

func TestHostileUnmaskRequests(t *testing.T) {
	h := newHarness(t, 7, 4, 3, 4, 1)
	ads := h.advertise(nil)
	h.shareKeys(ads, nil)
	h.maskInputs(map[int]bool{6: true})
	req, err := h.requestUnmask(nil)
	h.must(err)
	c := h.cl[0]
	nb := h.p.Neighbours(0)
	// A neighbour named both alive and dropped.
	both := &UnmaskRequest{Session: req.Session, Survivors: req.Survivors, Dropped: append(slices.Clone(req.Dropped), nb[0])}
	_, err = c.Unmask(both)
	wantErr(t, err, ErrInconsistent, "alive and dropped")
	// Another survivor set than the one the client signed: refused, even
	// with the real quorum of signatures attached.
	few := &UnmaskRequest{Session: req.Session, Survivors: []uint32{0, nb[0], nb[1]}, Signatures: req.Signatures}
	for u := range uint32(7) {
		if u != 0 && u != nb[0] && u != nb[1] {
			few.Dropped = append(few.Dropped, u)
		}
	}
	resp, err := c.Unmask(few)
	wantErr(t, err, ErrInconsistent, "a set the client did not sign")
	if resp != nil || c.Stage() != StageUnmask {
		t.Fatal("client revealed shares or changed stage on a set it did not sign")
	}
	// Malformed requests to another client are refused without changing
	// its state.
	c1 := h.cl[nb[0]]
	bogus := &UnmaskRequest{Session: req.Session, Survivors: append(slices.Clone(req.Survivors), 99)}
	_, err = c1.Unmask(bogus)
	wantErr(t, err, ErrUnknownParticipant, "survivor out of range")
	dup := &UnmaskRequest{Session: req.Session, Survivors: append(slices.Clone(req.Survivors), req.Survivors[0])}
	_, err = c1.Unmask(dup)
	wantErr(t, err, ErrDuplicate, "survivor listed twice")
	// The honest request still works for the other clients.
	if c1.Stage() != StageUnmask {
		t.Fatalf("refused request changed the client's stage to %s", c1.Stage())
	}
	resp, err = c1.Unmask(req)
	h.must(err)
	// A malicious client revealing both shares of a neighbour is refused.
	evil := *resp
	evil.KeyShares = append(slices.Clone(resp.KeyShares), RevealedShare{Owner: resp.SelfShares[0].Owner})
	wantErr(t, h.srv.OnUnmask(nb[0], &evil), ErrInconsistent, "both shares of one neighbour")
	h.must(h.srv.OnUnmask(nb[0], resp))
}

func TestSurvivorWithoutSharesRefused(t *testing.T) {
	h := newHarness(t, 6, 0, 4, 4, 1)
	ads := h.advertise(nil)
	h.shareKeys(ads, map[int]bool{5: true}) // 5 never sends shares
	h.maskInputs(nil)
	cons, err := h.srv.ConsistencyRequest()
	h.must(err)
	lie := &ConsistencyRequest{Session: cons.Session, Survivors: append(slices.Clone(cons.Survivors), 5)}
	_, err = h.cl[0].SignSurvivors(lie)
	wantErr(t, err, ErrInconsistent, "survivor whose shares never arrived")
}

func TestServerRejectsBadShares(t *testing.T) {
	h := newHarness(t, 9, 2, 2, 4, 1)
	ads := h.advertise(nil)
	out, err := h.cl[0].ShareKeys(ads)
	h.must(err)
	var nonNb uint32
	for v := uint32(1); v < 9; v++ {
		if !slices.Contains(h.p.Neighbours(0), v) {
			nonNb = v
			break
		}
	}
	redirected := *out[0]
	redirected.To = nonNb
	wantErr(t, h.srv.OnShares(0, []*EncryptedShare{&redirected, out[1]}), ErrUnknownParticipant, "share to a non-neighbour")
	wantErr(t, h.srv.OnShares(0, out[:1]), ErrInconsistent, "missing share")
	wantErr(t, h.srv.OnShares(0, []*EncryptedShare{out[0], out[0]}), ErrDuplicate, "two shares to one neighbour")
	wantErr(t, h.srv.OnShares(1, out), ErrInconsistent, "shares relabelled as from 1")
	h.must(h.srv.OnShares(0, out))
	wantErr(t, h.srv.OnShares(0, out), ErrDuplicate, "second share set")
}

func TestRedirectedShareRefused(t *testing.T) {
	h := newHarness(t, 5, 0, 3, 4, 1)
	h.shareKeys(h.advertise(nil), nil)
	to1, _ := h.srv.SharesFor(1)
	to2, _ := h.srv.SharesFor(2)
	find := func(list []*EncryptedShare, from uint32) int {
		for i, s := range list {
			if s.From == from {
				return i
			}
		}
		t.Fatalf("no share from %d", from)
		return -1
	}
	bad := slices.Clone(to1)
	moved := *bad[find(bad, 0)]
	moved.Ciphertext = to2[find(to2, 0)].Ciphertext // 0's share for 2, sent to 1
	bad[find(bad, 0)] = &moved
	_, err := h.cl[1].CheckShares(bad)
	wantErr(t, err, ErrBadSignature, "share signed for another client")
	if h.cl[1].Stage() != StageCheckShares {
		t.Fatal("refused shares changed the client's stage")
	}
}
