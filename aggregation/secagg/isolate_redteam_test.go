package secagg

import (
	"slices"
	"testing"
)

// TestRedteamIsolationStopsAtBound: the doc's t − c + 1 bound, attacked.
// n = 8 (complete graph), t = 4, c = 2 colluders (6, 7; the default
// policy's c for n = 8). The coordinator invents pair separations (the
// clients cannot check them) that cut the target 0 and two honest
// partners 1, 2 off from the other honest clients 3, 4, 5, everyone
// survives, and it gets every self-mask seed. It then learns
// x_0 + x_1 + x_2 exactly — a sum of t − c + 1 = 3 honest inputs, the
// bound is tight and reached (first half). Cutting 0 off from one more
// honest partner leaves it t − 1 partners, and it refuses to mask
// (second half): no smaller sum is reachable this way.
func TestRedteamIsolationStopsAtBound(t *testing.T) {
	const n, th, c = 8, 4, 2
	colluders := []uint32{6, 7}
	group, others := []uint32{0, 1, 2}, []uint32{3, 4, 5}
	if MinHonestInSum(th, c) != len(group) {
		t.Fatal("setup: the group is not t − c + 1 clients")
	}
	h := newHarnessC(t, n, 0, th, c, 8, 1)
	ads := h.advertise(nil)
	h.shareKeys(ads, nil)
	h.checkShares(nil)
	sess := h.p.Session()
	masked := map[uint32][]uint32{}
	for i, cl := range h.cl {
		u := uint32(i)
		var excl []uint32
		switch {
		case slices.Contains(group, u):
			excl = others
		case slices.Contains(others, u):
			excl = group
		}
		m, err := cl.MaskInput(&MaskRequest{Session: sess, Excluded: excl}, h.inputs[i])
		h.must(err)
		masked[u] = m.Vector
	}
	// The colluders' mask keys (their own state) and every self-mask seed.
	colKeys := map[uint32]keyPair{}
	for _, v := range colluders {
		colKeys[v] = h.cl[v].mask
	}
	all := make([]uint32, n)
	for i := range all {
		all[i] = uint32(i)
	}
	var sigs []SurvivorSignature
	for i, cl := range h.cl {
		r, err := cl.SignSurvivors(&ConsistencyRequest{Session: sess, Survivors: all})
		h.must(err)
		sigs = append(sigs, SurvivorSignature{Signer: uint32(i), Signature: r.Signature})
	}
	selfSh := map[uint32][]share{}
	for i, cl := range h.cl {
		r, err := cl.Unmask(&UnmaskRequest{Session: sess, Survivors: all, Signatures: sigs})
		h.must(err)
		for _, s := range r.SelfShares {
			selfSh[s.Owner] = append(selfSh[s.Owner], share{holder: uint32(i), y: s.Value})
		}
		if len(r.KeyShares) != 0 {
			t.Fatal("a client revealed a mask-key share of a survivor")
		}
	}
	sum := make([]uint32, h.p.Dim())
	var seeds []maskSeed
	for _, u := range group {
		for j, v := range masked[u] {
			sum[j] += v
		}
		b, err := shamirCombine(selfSh[u][:th])
		h.must(err)
		seeds = append(seeds, selfSeed(b[:], sess, u))
		for _, v := range colluders { // u < v: u added PRG(s_{u,v})
			shared, err := colKeys[v].agree(ads[u].MaskKey)
			h.must(err)
			seeds = append(seeds, pairwiseSeed(shared, sess, u, v))
		}
	}
	subs := make([]bool, len(seeds))
	for i := range subs {
		subs[i] = true
	}
	newExpander().applyAll(sum, seeds, subs)
	want := make([]uint32, h.p.Dim())
	for _, u := range group {
		for j, x := range h.inputs[u] {
			want[j] += x
		}
	}
	if !slices.Equal(sum, want) {
		t.Fatal("the separated group's sum was not recovered: the test no longer shows the bound is reached")
	}

	// One more separation: 0 keeps 1, 6, 7 only (t − 1 partners).
	h2 := newHarnessC(t, n, 0, th, c, 8, 2)
	ads2 := h2.advertise(nil)
	h2.shareKeys(ads2, nil)
	h2.checkShares(nil)
	_, err := h2.cl[0].MaskInput(&MaskRequest{Session: h2.p.Session(), Excluded: []uint32{2, 3, 4, 5}}, h2.inputs[0])
	wantErr(t, err, ErrBelowThreshold, "target separated from all but t − 1 partners")
}
