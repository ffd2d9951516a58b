package secagg

import (
	"maps"
	"slices"
	"testing"
)

// oldRuleReveal is what a client without the consistency check revealed
// for a survivor set (the pre-#14 Unmask, with all its checks): the
// self-mask share of every neighbour in its masks named alive, the
// mask-key share of every other one; ok is false where it refused.
func oldRuleReveal(c *Client, alive map[uint32]bool) (self, key map[uint32]share, ok bool) {
	if !alive[c.me] || len(alive) < c.p.Threshold() {
		return nil, nil, false
	}
	self, key = map[uint32]share{}, map[uint32]share{}
	nAlive := 0
	for _, v := range c.p.Neighbours(c.me) {
		pe := c.peers[v]
		if pe == nil || !pe.inMask {
			if alive[v] {
				return nil, nil, false // survivor whose shares never arrived
			}
			continue
		}
		if alive[v] {
			nAlive++
			self[v] = share{holder: c.me, y: pe.self}
		} else {
			key[v] = share{holder: c.me, y: pe.key}
		}
	}
	return self, key, nAlive >= c.p.Threshold()
}

// TestAttackDifferentStoriesRefused reproduces the adversarial review's
// attack on the shipped defaults (complete graph, t = ⌊k/2⌋+1, here n = 6,
// t = 3) by a malicious coordinator with no colluding client, and shows
// the consistency check refuses it. The coordinator withholds the shares
// of 4 and 5 from the target 0 (so 0 masks only with P = {1,2,3}, still t
// partners), then tells each client a different story: to p ∈ P "0, p, 4,
// 5 survived, the rest of P dropped"; to 4 "0,1,4,5 survived"; to 5
// "0,2,4,5 survived". Every story passes every check of the old client
// (first half: replaying the old rule on the clients' real state recovers
// x_0 exactly). With the consistency round each client signs only its own
// story, no story gathers the quorum of 4 signatures, and every client
// refuses to unmask (second half): the coordinator gets no share at all.
func TestAttackDifferentStoriesRefused(t *testing.T) {
	const n, target = 6, 0
	h := newHarness(t, n, 0, 3, 64, 1)
	ads := h.advertise(nil)
	h.shareKeys(ads, nil)
	for i, c := range h.cl {
		sh, err := h.srv.SharesFor(uint32(i))
		h.must(err)
		if i == target { // withhold 4's and 5's shares from the target
			sh = slices.DeleteFunc(sh, func(s *EncryptedShare) bool { return s.From >= 4 })
		}
		_, err = c.CheckShares(sh)
		h.must(err)
	}
	masked := make([][]uint32, n)
	for i, c := range h.cl {
		m, err := c.MaskInput(&MaskRequest{Session: h.p.Session()}, h.inputs[i])
		h.must(err)
		masked[i] = m.Vector
	}
	set := func(xs ...uint32) map[uint32]bool {
		m := map[uint32]bool{}
		for _, x := range xs {
			m[x] = true
		}
		return m
	}
	story := map[uint32]map[uint32]bool{
		0: set(0, 1, 2, 3),
		1: set(0, 1, 4, 5), 2: set(0, 2, 4, 5), 3: set(0, 3, 4, 5),
		4: set(0, 1, 4, 5), 5: set(0, 2, 4, 5),
	}

	// Without the consistency check: every story is answered and x_0 falls.
	selfSh, keySh := map[uint32][]share{}, map[uint32][]share{}
	for u := uint32(1); u < n; u++ {
		self, key, ok := oldRuleReveal(h.cl[u], story[u])
		if !ok {
			t.Fatalf("the old client %d would have refused its story; the attack setup is wrong", u)
		}
		for v, s := range self {
			selfSh[v] = append(selfSh[v], s)
		}
		for v, s := range key {
			keySh[v] = append(keySh[v], s)
		}
	}
	if got := recoverInput(t, h, ads, masked[target], target, []uint32{1, 2, 3}, selfSh, keySh); !slices.Equal(got, h.inputs[target]) {
		t.Fatal("the old-rule replay did not recover x_0: the test no longer demonstrates the attack")
	}

	// With it: each client signs only its own story...
	sigs := map[string][]SurvivorSignature{}
	key := func(m map[uint32]bool) string { return string(appendU32s(nil, slices.Sorted(maps.Keys(m)))) }
	for u, c := range h.cl {
		surv := slices.Sorted(maps.Keys(story[uint32(u)]))
		r, err := c.SignSurvivors(&ConsistencyRequest{Session: h.p.Session(), Survivors: surv})
		h.must(err)
		sigs[key(story[uint32(u)])] = append(sigs[key(story[uint32(u)])], SurvivorSignature{Signer: uint32(u), Signature: r.Signature})
	}
	var all []SurvivorSignature
	for _, s := range sigs {
		if len(s) >= h.p.Quorum() {
			t.Fatalf("a story gathered %d signatures, quorum %d", len(s), h.p.Quorum())
		}
		all = append(all, s...)
	}
	// ...and refuses to unmask for it, even given every signature made.
	for u, c := range h.cl {
		surv := slices.Sorted(maps.Keys(story[uint32(u)]))
		var dropped []uint32
		for v := range uint32(n) {
			if !story[uint32(u)][v] {
				dropped = append(dropped, v)
			}
		}
		resp, err := c.Unmask(&UnmaskRequest{Session: h.p.Session(), Survivors: surv, Dropped: dropped, Signatures: all})
		wantErr(t, err, ErrBadSignature, "unmask for a story without a quorum")
		if resp != nil || c.Stage() != StageUnmask {
			t.Fatalf("client %d revealed shares or changed stage", u)
		}
	}
}

// recoverInput is the attacker's computation: x_u = y_u − PRG(b_u) −
// Σ_p PRG(s_{u,p}) from t revealed shares of b_u and of each partner's
// mask key (u < every partner, so u added each pairwise mask).
func recoverInput(t *testing.T, h *harness, ads []*AdvertiseMsg, y []uint32, u uint32, partners []uint32, selfSh, keySh map[uint32][]share) []uint32 {
	t.Helper()
	th := h.p.Threshold()
	if len(selfSh[u]) < th {
		return nil
	}
	b, err := shamirCombine(selfSh[u][:th])
	h.must(err)
	seeds := []maskSeed{selfSeed(b[:], h.p.Session(), u)}
	for _, p := range partners {
		if len(keySh[p]) < th || p < u {
			return nil
		}
		sk, err := shamirCombine(keySh[p][:th])
		h.must(err)
		kp, err := privateKeyFromBytes(sk[:])
		h.must(err)
		shared, err := kp.agree(ads[u].MaskKey)
		h.must(err)
		seeds = append(seeds, pairwiseSeed(shared, h.p.Session(), u, p))
	}
	subs := make([]bool, len(seeds))
	for i := range subs {
		subs[i] = true
	}
	x := slices.Clone(y)
	newExpander().applyAll(x, seeds, subs)
	return x
}
