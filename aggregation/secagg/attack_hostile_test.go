package secagg

import (
	"crypto/sha256"
	"slices"
	"testing"
)

// TestAttackRelayForgedShareRefused: the relay encrypts a share of its
// choosing "from" neighbour 1 to client 0 (age encryption is anonymous:
// anyone can encrypt to 0's advertised key). The forged share opens and is
// bound correctly — a client without sender authentication accepts it —
// but it carries no signature of 1's identity key, so both the server and
// the client refuse it.
func TestAttackRelayForgedShareRefused(t *testing.T) {
	h := newHarness(t, 5, 0, 3, 8, 1)
	ads := h.advertise(nil)
	h.shareKeys(ads, nil)
	sh, err := h.srv.SharesFor(0)
	h.must(err)
	pt := sharePlain{session: h.p.Session(), from: 1, to: 0} // attacker-chosen share values (zero)
	ct, err := sealShare(ads[0].EncKey, pt.marshal())
	h.must(err)
	forged := &EncryptedShare{Session: h.p.Session(), From: 1, To: 0, Ciphertext: ct}
	if _, ok := h.cl[0].openShare(forged); !ok {
		t.Fatal("the forged share does not even open: the test does not exercise authentication")
	}
	for _, sig := range [][64]byte{{}, sh[0].Signature} { // no signature; a real signature of another share
		forged.Signature = sig
		list := slices.Clone(sh)
		for i, s := range list {
			if s.From == 1 {
				list[i] = forged
			}
		}
		_, err = h.cl[0].CheckShares(list)
		wantErr(t, err, ErrBadSignature, "forged share")
		if h.cl[0].Stage() != StageCheckShares {
			t.Fatal("a refused share changed the client's stage")
		}
	}
	// The server refuses to relay it too (a fresh session: 1's set is in).
	h2 := newHarness(t, 5, 0, 3, 8, 2)
	ads2 := h2.advertise(nil)
	out, err := h2.cl[1].ShareKeys(ads2)
	h2.must(err)
	ct2, _ := sealShare(ads2[0].EncKey, (&sharePlain{session: h2.p.Session(), from: 1, to: 0}).marshal())
	for i, s := range out {
		if s.To == 0 {
			c := *s
			c.Ciphertext = ct2
			out[i] = &c
		}
	}
	wantErr(t, h2.srv.OnShares(1, out), ErrBadSignature, "server relaying a forged share")
}

// garbage replaces the shares from u to the given recipients with bytes
// that do not decrypt, correctly signed by u (a hostile tenant, not the
// relay: the server must accept and relay them).
func (h *harness) garbage(u uint32, shares []*EncryptedShare, to func(uint32) bool) {
	for i, s := range shares {
		if to(s.To) {
			c := *s
			c.Ciphertext = []byte("not an age file")
			c.Signature = sign(h.keys[u], shareSigMessage(&c))
			shares[i] = &c
		}
	}
}

// runHostile runs a whole session of n clients in which client bad sends
// garbage shares to the recipients chosen by to and, if lie, falsely
// complains about every neighbour. It returns the sum and survivors.
func runHostile(t *testing.T, h *harness, bad uint32, to func(uint32) bool, lie bool) ([]uint32, []uint32) {
	t.Helper()
	ads := h.advertise(nil)
	for i, c := range h.cl {
		out, err := c.ShareKeys(ads)
		h.must(err)
		if uint32(i) == bad {
			h.garbage(bad, out, to)
		}
		h.must(h.srv.OnShares(uint32(i), out))
	}
	h.must(h.srv.CloseStage(StageShareKeys))
	for i, c := range h.cl {
		sh, err := h.srv.SharesFor(uint32(i))
		h.must(err)
		r, err := c.CheckShares(sh) // never fails because of a peer
		h.must(err)
		if uint32(i) == bad && lie {
			r.Complaints = nil
			for _, s := range sh {
				hash := sha256.Sum256(s.Ciphertext)
				r.Complaints = append(r.Complaints, Complaint{Accused: s.From, CipherHash: hash,
					Signature: sign(h.keys[bad], complaintSigMessage(h.p.Session(), bad, s.From, hash))})
			}
		}
		h.must(h.srv.OnReceipt(uint32(i), r))
	}
	h.must(h.srv.CloseStage(StageCheckShares))
	for i, c := range h.cl {
		mr, err := h.srv.MaskRequestFor(uint32(i))
		h.must(err)
		m, err := c.MaskInput(mr, h.inputs[i])
		if uint32(i) == bad && err != nil {
			wantErr(t, err, ErrBlamed, "hostile client's own mask request")
			continue
		}
		h.must(err) // every honest client finishes
		h.must(h.srv.OnMaskedInput(uint32(i), m))
	}
	req, err := h.requestUnmask(nil)
	h.must(err)
	h.unmask(req, nil)
	sum, surv, err := h.srv.Result()
	h.must(err)
	h.checkSum(sum, surv)
	return sum, surv
}

// TestAttackHostileTenantBlamedHonestFinish: one hostile tenant in a
// cohort of 10 (complete graph and k = 4) sends shares that do not
// decrypt — to every neighbour, or to two of them — or files false
// complaints about every neighbour. Before #14 the first share that did
// not decrypt made MaskInput fail and the honest client's round end. Now
// every honest client finishes, the sum is exactly the survivors' plain
// sum, the complaints are on record, and a tenant that every neighbour
// complains about (or that complains about everyone) is out of the sum.
func TestAttackHostileTenantBlamedHonestFinish(t *testing.T) {
	const n, bad = 10, 3
	for _, tc := range []struct {
		name    string
		k, th   int
		to      func(uint32) bool
		lie     bool
		inSum   bool
		blamesU bool // complaints accuse the hostile tenant
	}{
		{"garbage-to-all/full", 0, 5, func(uint32) bool { return true }, false, false, true},
		{"garbage-to-two/full", 0, 5, func(v uint32) bool { return v == 0 || v == 9 }, false, true, true},
		{"false-complaints/full", 0, 5, func(uint32) bool { return false }, true, false, false},
		{"garbage-to-all/k=4", 4, 3, func(uint32) bool { return true }, false, false, true},
		{"false-complaints/k=4", 4, 3, func(uint32) bool { return false }, true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, n, tc.k, tc.th, 32, 1)
			_, surv := runHostile(t, h, bad, tc.to, tc.lie)
			if slices.Contains(surv, bad) != tc.inSum {
				t.Fatalf("survivors %v: hostile tenant in the sum = %v, want %v", surv, !tc.inSum, tc.inSum)
			}
			if want := n - 1; !tc.inSum && len(surv) != want || tc.inSum && len(surv) != n {
				t.Fatalf("survivors %v: honest tenants were dropped", surv)
			}
			blames := h.srv.Blamed()
			if len(blames) == 0 {
				t.Fatal("no blame recorded")
			}
			for _, b := range blames {
				if tc.blamesU && (b.Accused != bad || b.Stage != StageCheckShares) {
					t.Fatalf("blame %+v does not accuse the hostile tenant", b)
				}
				if !tc.blamesU && b.Complainer != bad {
					t.Fatalf("blame %+v is not a complaint by the hostile tenant", b)
				}
			}
			if !tc.inSum && h.srv.Dropouts()[bad] != StageCheckShares {
				t.Fatalf("hostile tenant's dropout stage %v", h.srv.Dropouts()[bad])
			}
		})
	}
}

// TestServerRefusesBadComplaints: a complaint must be signed by the
// receiver and name the exact ciphertext the server relayed.
func TestServerRefusesBadComplaints(t *testing.T) {
	h := newHarness(t, 5, 0, 3, 8, 1)
	h.shareKeys(h.advertise(nil), nil)
	sh, err := h.srv.SharesFor(0)
	h.must(err)
	r, err := h.cl[0].CheckShares(sh)
	h.must(err)
	if len(r.Complaints) != 0 {
		t.Fatal("honest shares drew a complaint")
	}
	hash := sha256.Sum256(sh[0].Ciphertext)
	forged := *r
	forged.Complaints = []Complaint{{Accused: sh[0].From, CipherHash: hash,
		Signature: sign(h.keys[2], complaintSigMessage(h.p.Session(), 0, sh[0].From, hash))}} // signed by 2, not 0
	wantErr(t, h.srv.OnReceipt(0, &forged), ErrBadSignature, "complaint signed by another tenant")
	other := hash
	other[0] ^= 1
	forged.Complaints = []Complaint{{Accused: sh[0].From, CipherHash: other,
		Signature: sign(h.keys[0], complaintSigMessage(h.p.Session(), 0, sh[0].From, other))}}
	wantErr(t, h.srv.OnReceipt(0, &forged), ErrInconsistent, "complaint about a ciphertext never relayed")
	if len(h.srv.Blamed()) != 0 {
		t.Fatal("a refused complaint was recorded")
	}
	h.must(h.srv.OnReceipt(0, r))
}

// TestAttackBadRevealedShareDetected: a hostile survivor reveals a wrong
// share of another survivor's self-mask seed (or of a dropped client's
// mask key) in unmasking. Before #14 the server combined the first t
// shares unchecked and returned a wrong sum. Now every reconstruction is
// checked against its commitment; with more than t shares the bad one is
// excluded, the sum is exact and the holder is blamed; with exactly t
// shares the round fails with an error naming the holders (no sum).
func TestAttackBadRevealedShareDetected(t *testing.T) {
	for _, kind := range []string{"self", "key"} {
		h := newHarness(t, 7, 0, 4, 16, 1)
		h.shareKeys(h.advertise(nil), nil)
		drop := map[int]bool{}
		if kind == "key" {
			drop[6] = true
		}
		h.maskInputs(drop)
		req, err := h.requestUnmask(nil)
		h.must(err)
		liar := req.Survivors[0] // lowest index: its share is among the first t tried
		for _, u := range req.Survivors {
			resp, err := h.cl[u].Unmask(req)
			h.must(err)
			if u == liar {
				list := resp.SelfShares
				if kind == "key" {
					list = resp.KeyShares
				}
				list[0].Value[fieldBytes-1] ^= 1
			}
			h.must(h.srv.OnUnmask(u, resp))
		}
		sum, surv, err := h.srv.Result()
		h.must(err)
		h.checkSum(sum, surv)
		bl := h.srv.Blamed()
		if len(bl) != 1 || bl[0].Accused != liar || bl[0].Complainer != -1 {
			t.Fatalf("%s: blames %+v, want one naming holder %d", kind, bl, liar)
		}
	}
	// Exactly t shares: detected, no sum.
	h := newHarness(t, 6, 0, 4, 16, 1)
	h.shareKeys(h.advertise(nil), nil)
	h.maskInputs(nil)
	req, err := h.requestUnmask(nil)
	h.must(err)
	for i, u := range req.Survivors {
		if i == len(req.Survivors)-1 {
			break // one survivor does not answer: t = 4 shares of 1's seed remain
		}
		resp, err := h.cl[u].Unmask(req)
		h.must(err)
		if i == 0 {
			resp.SelfShares[0].Value[fieldBytes-1] ^= 1
		}
		h.must(h.srv.OnUnmask(u, resp))
	}
	sum, _, err := h.srv.Result()
	wantErr(t, err, ErrInconsistent, "bad share with no spare")
	if sum != nil {
		t.Fatal("a sum was returned from a bad share")
	}
}
