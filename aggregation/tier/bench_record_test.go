package tier

import (
	"crypto/ed25519"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/privacy"
)

// recorded is one group session with every message recorded, so any
// party can be replayed.
type recorded struct {
	g        *Group
	idents   []ed25519.PrivateKey
	ads      []*secagg.AdvertiseMsg
	shares   [][]*secagg.EncryptedShare // sent, by sender
	inbox    [][]*secagg.EncryptedShare // received, by recipient
	receipts []*secagg.ShareReceipt
	mreq     []*secagg.MaskRequest
	wire     [][]byte // nil: dropped before its masked input
	cons     *secagg.ConsistencyRequest
	consResp []*secagg.ConsistencyResponse
	ureq     *secagg.UnmaskRequest
	uresp    []*secagg.UnmaskResponse
	input    []uint32
}

func record(tb testing.TB, bc benchCase, dropPct int) *recorded {
	ts := testTenants(bc.g, 1, 77)
	rp := RoundPlan{Round: 1, Context: []byte("bench"), Dim: benchDim, GroupSize: bc.g, Neighbours: bc.k,
		Policy: secagg.Policy{CorruptFraction: bc.gamma}}
	groups, err := Plan(rp, cohortOf(ts), privacy.SeededReader(1))
	if err != nil {
		tb.Fatal(err)
	}
	rc := &recorded{g: groups[0]}
	p := rc.g.Params
	n := p.N()
	byID := map[string]Tenant{}
	for _, x := range ts {
		byID[x.ID] = x
	}
	srv, _ := secagg.NewServer(p)
	cl := make([]*secagg.Client, n)
	rc.idents = make([]ed25519.PrivateKey, n)
	rc.ads = make([]*secagg.AdvertiseMsg, n)
	for i := range n {
		rc.idents[i] = byID[p.Participant(uint32(i)).ID].Identity
		cl[i], _ = secagg.NewClient(secagg.ClientConfig{Params: p, ID: p.Participant(uint32(i)).ID, Identity: rc.idents[i], Rand: privacy.SeededReader(uint64(1000 + i))})
		rc.ads[i], _ = cl[i].Advertise()
		if err := srv.OnAdvertise(uint32(i), rc.ads[i]); err != nil {
			tb.Fatal(err)
		}
	}
	ads, _ := srv.Adverts()
	rc.shares = make([][]*secagg.EncryptedShare, n)
	for i, c := range cl {
		if rc.shares[i], err = c.ShareKeys(ads); err == nil {
			err = srv.OnShares(uint32(i), rc.shares[i])
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	rc.inbox = make([][]*secagg.EncryptedShare, n)
	rc.receipts = make([]*secagg.ShareReceipt, n)
	for i, c := range cl {
		rc.inbox[i], _ = srv.SharesFor(uint32(i))
		if rc.receipts[i], err = c.CheckShares(rc.inbox[i]); err == nil {
			err = srv.OnReceipt(uint32(i), rc.receipts[i])
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	drop := dropSet(tb, p, n*dropPct/100)
	rc.input = make([]uint32, benchDim)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range rc.input {
		rc.input[i] = uint32(int32(r.IntN(2001) - 1000))
	}
	rc.mreq = make([]*secagg.MaskRequest, n)
	rc.wire = make([][]byte, n)
	for i, c := range cl {
		rc.mreq[i], _ = srv.MaskRequestFor(uint32(i))
		if drop[i] {
			continue
		}
		if rc.wire[i], err = c.AppendMaskedInput(nil, rc.mreq[i], rc.input); err == nil {
			err = srv.OnMaskedInputWire(uint32(i), rc.wire[i])
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	if rc.cons, err = srv.ConsistencyRequest(); err != nil {
		tb.Fatal(err)
	}
	rc.consResp = make([]*secagg.ConsistencyResponse, n)
	for _, u := range rc.cons.Survivors {
		if rc.consResp[u], err = cl[u].SignSurvivors(rc.cons); err == nil {
			err = srv.OnConsistency(u, rc.consResp[u])
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	if rc.ureq, err = srv.UnmaskRequest(); err != nil {
		tb.Fatal(err)
	}
	rc.uresp = make([]*secagg.UnmaskResponse, n)
	for _, u := range rc.ureq.Survivors {
		if rc.uresp[u], err = cl[u].Unmask(rc.ureq); err != nil {
			tb.Fatal(err)
		}
	}
	return rc
}

// dropSet picks m members (never member 0, the benchmarked client) such
// that every member keeps at least t surviving neighbours.
func dropSet(tb testing.TB, p *secagg.Params, m int) map[int]bool {
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		drop := map[int]bool{}
		for _, i := range r.Perm(p.N() - 1)[:m] {
			drop[i+1] = true
		}
		ok := true
		for u := range p.N() {
			alive := 0
			for _, v := range p.Neighbours(uint32(u)) {
				if !drop[int(v)] {
					alive++
				}
			}
			ok = ok && alive >= p.Threshold()
		}
		if ok {
			return drop
		}
	}
	tb.Fatalf("no drop-out pattern of %d members within the threshold", m)
	return nil
}

// client replays member 0's whole session into wire (reused buffer).
func (rc *recorded) client(tb testing.TB, wire []byte) {
	p := rc.g.Params
	c, err := secagg.NewClient(secagg.ClientConfig{Params: p, ID: p.Participant(0).ID, Identity: rc.idents[0], Rand: privacy.SeededReader(1000)})
	if err != nil {
		tb.Fatal(err)
	}
	c.Advertise()
	if _, err := c.ShareKeys(rc.ads); err != nil {
		tb.Fatal(err)
	}
	if _, err := c.CheckShares(rc.inbox[0]); err != nil {
		tb.Fatal(err)
	}
	if _, err := c.AppendMaskedInput(wire[:0], rc.mreq[0], rc.input); err != nil {
		tb.Fatal(err)
	}
	if _, err := c.SignSurvivors(rc.cons); err != nil {
		tb.Fatal(err)
	}
	if _, err := c.Unmask(rc.ureq); err != nil {
		tb.Fatal(err)
	}
}

// clientBytes is member 0's traffic in the session's wire encodings:
// what it sends (advert, k shares, receipt, masked input, survivor
// signature, unmask response) and receives (its neighbours' adverts and
// shares, mask request, survivor set, unmask request with its
// signatures).
func (rc *recorded) clientBytes(tb testing.TB) (up, down int) {
	size := func(m interface{ MarshalBinary() ([]byte, error) }) int {
		b, err := m.MarshalBinary()
		if err != nil {
			tb.Fatal(err)
		}
		return len(b)
	}
	p := rc.g.Params
	up = size(rc.ads[0]) + size(rc.receipts[0]) + len(rc.wire[0]) + size(rc.consResp[0]) + size(rc.uresp[0])
	for _, s := range rc.shares[0] {
		up += size(s)
	}
	for _, v := range p.Neighbours(0) {
		down += size(rc.ads[v])
	}
	for _, s := range rc.inbox[0] {
		down += size(s)
	}
	down += size(rc.mreq[0]) + size(rc.cons) + size(rc.ureq)
	return up, down
}

// aggregator replays every message into a fresh server and returns the
// time of the key stages (advertise to check-shares: signature checks
// and relaying) and of the sum of masked inputs.
func (rc *recorded) aggregator(tb testing.TB) (keys, sum time.Duration) {
	p := rc.g.Params
	srv, _ := secagg.NewServer(p)
	t0 := time.Now()
	for i, a := range rc.ads {
		if err := srv.OnAdvertise(uint32(i), a); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := srv.Adverts(); err != nil {
		tb.Fatal(err)
	}
	for i, s := range rc.shares {
		if err := srv.OnShares(uint32(i), s); err != nil {
			tb.Fatal(err)
		}
	}
	for i, r := range rc.receipts {
		if _, err := srv.SharesFor(uint32(i)); err != nil {
			tb.Fatal(err)
		}
		if err := srv.OnReceipt(uint32(i), r); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range rc.receipts {
		if _, err := srv.MaskRequestFor(uint32(i)); err != nil {
			tb.Fatal(err)
		}
	}
	keys = time.Since(t0)
	t1 := time.Now()
	for i, w := range rc.wire {
		if w == nil {
			continue
		}
		if err := srv.OnMaskedInputWire(uint32(i), w); err != nil {
			tb.Fatal(err)
		}
	}
	sum = time.Since(t1)
	if _, err := srv.ConsistencyRequest(); err != nil {
		tb.Fatal(err)
	}
	for _, u := range rc.cons.Survivors {
		if err := srv.OnConsistency(u, rc.consResp[u]); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := srv.UnmaskRequest(); err != nil {
		tb.Fatal(err)
	}
	for _, u := range rc.ureq.Survivors {
		if err := srv.OnUnmask(u, rc.uresp[u]); err != nil {
			tb.Fatal(err)
		}
	}
	if _, _, err := srv.Result(); err != nil {
		tb.Fatal(err)
	}
	return keys, sum
}
