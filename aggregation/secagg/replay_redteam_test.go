package secagg

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

// harnessCtx is newHarnessC with an explicit application context and its
// own key-material seed (two runs of one Config still draw fresh keys).
func harnessCtx(t *testing.T, context string, randSeed uint64) *harness {
	t.Helper()
	const n, th, c, d, round = 6, 3, 1, 16, 1
	ps, keys := testParticipants(n, 11)
	var seed [32]byte // the coordinator reuses the round number and graph seed
	p, err := NewParams(Config{Round: round, Participants: ps, Threshold: th, Dim: d, GraphSeed: seed, MaxCorrupt: c,
		Context: []byte(context)})
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := NewServer(p)
	h := &harness{t: t, p: p, srv: srv, keys: keys, inputs: randomInputs(rand.New(rand.NewPCG(round, 5)), n, d)}
	rd := privacy.SeededReader(randSeed)
	for i := range n {
		cl, err := NewClient(ClientConfig{Params: p, ID: ps[i].ID, Identity: keys[i], Rand: rd})
		if err != nil {
			t.Fatal(err)
		}
		h.cl = append(h.cl, cl)
	}
	return h
}

// replayAttack is a malicious coordinator with one colluding client (5)
// that runs two sessions with the same round, cohort, parameters and
// graph seed — in fedb2b, round 1 of two tasks it announces to the same
// tenants (a tenant dedupes spends per (task, round), and the coordinator
// chooses the task at every Join). In the first session it gets honest
// client 1 to sign B = {1,3,4,5}; in the second, 0,1,2 sign A = {0,1,2,5}
// and 3,4 sign B. Both sets then carry q = 4 signatures (B with 1's
// signature replayed from the first session), so 1,2 reveal their shares
// of 0's self-mask seed and 3,4 their shares of 0's mask key; with the
// colluder's two shares the coordinator holds t = 3 of each and removes
// every mask from y_0. It returns what the coordinator computes for x_0
// (nil if the clients refused) and the true x_0.
func replayAttack(t *testing.T, ctx1, ctx2 string) (got, want []uint32) {
	const target, colluder = 0, 5
	set := func(xs ...uint32) []uint32 { return xs }
	A, B := set(0, 1, 2, 5), set(1, 3, 4, 5)

	// Session 1: run to the consistency round, collect 1's signature on B.
	h1 := harnessCtx(t, ctx1, 101)
	ads1 := h1.advertise(nil)
	h1.shareKeys(ads1, nil)
	h1.checkShares(nil)
	h1.maskInputs(nil)
	r1, err := h1.cl[1].SignSurvivors(&ConsistencyRequest{Session: h1.p.Session(), Survivors: B})
	h1.must(err)
	replayed := SurvivorSignature{Signer: 1, Signature: r1.Signature}

	// Session 2: an honest run up to the masked inputs.
	h := harnessCtx(t, ctx2, 202)
	ads := h.advertise(nil)
	h.shareKeys(ads, nil)
	h.checkShares(nil)
	masked := make([][]uint32, len(h.cl))
	for i, c := range h.cl {
		m, err := c.MaskInput(&MaskRequest{Session: h.p.Session()}, h.inputs[i])
		h.must(err)
		masked[i] = m.Vector
	}
	coll := h.cl[colluder].peers[target] // the colluder's own shares of 0
	sess := h.p.Session()
	sigs := map[string][]SurvivorSignature{}
	story := map[uint32][]uint32{0: A, 1: A, 2: A, 3: B, 4: B}
	for u, s := range story {
		r, err := h.cl[u].SignSurvivors(&ConsistencyRequest{Session: sess, Survivors: s})
		h.must(err)
		sigs[string(appendU32s(nil, s))] = append(sigs[string(appendU32s(nil, s))], SurvivorSignature{Signer: u, Signature: r.Signature})
	}
	for _, s := range [][]uint32{A, B} {
		k := string(appendU32s(nil, s))
		sigs[k] = append(sigs[k], SurvivorSignature{Signer: colluder, Signature: sign(h.keys[colluder], survivorSigMessage(sess, colluder, s))})
	}
	kB := string(appendU32s(nil, B))
	sigs[kB] = append(sigs[kB], replayed)

	selfSh := []share{{holder: colluder, y: coll.self}}
	keySh := []share{{holder: colluder, y: coll.key}}
	for _, u := range []uint32{1, 2, 3, 4} {
		s := story[u]
		var dropped []uint32
		for v := range uint32(len(h.cl)) {
			if !slices.Contains(s, v) {
				dropped = append(dropped, v)
			}
		}
		resp, err := h.cl[u].Unmask(&UnmaskRequest{Session: sess, Survivors: s, Dropped: dropped, Signatures: sigs[string(appendU32s(nil, s))]})
		if err != nil {
			continue // refused: nothing revealed
		}
		for _, r := range resp.SelfShares {
			if r.Owner == target {
				selfSh = append(selfSh, share{holder: u, y: r.Value})
			}
		}
		for _, r := range resp.KeyShares {
			if r.Owner == target {
				keySh = append(keySh, share{holder: u, y: r.Value})
			}
		}
	}
	th := h.p.Threshold()
	if len(selfSh) < th || len(keySh) < th {
		return nil, h.inputs[target]
	}
	b, err := shamirCombine(selfSh[:th])
	h.must(err)
	sk, err := shamirCombine(keySh[:th])
	h.must(err)
	kp, err := privateKeyFromBytes(sk[:])
	h.must(err)
	seeds := []maskSeed{selfSeed(b[:], sess, target)}
	for _, v := range h.p.Neighbours(target) { // target 0 < v: it added each mask
		shared, err := kp.agree(ads[v].MaskKey)
		h.must(err)
		seeds = append(seeds, pairwiseSeed(shared, sess, target, v))
	}
	subs := make([]bool, len(seeds))
	for i := range subs {
		subs[i] = true
	}
	x := slices.Clone(masked[target])
	newExpander().applyAll(x, seeds, subs)
	return x, h.inputs[target]
}

// TestRedteamSurvivorSignatureReplayAcrossSessions: the consistency
// check's "one set per session" holds only if a session ID is never used
// twice, and the session ID was a function of coordinator-chosen values
// only (round, parameters, cohort, graph seed). Two tasks run by the same
// coordinator with round 1, the same cohort and a reused seed gave the
// same session ID, so a survivor-set signature from one replays into the
// other and the target's exact input falls (first half: with one context
// the attack still works, which is why the caller must bind the session
// to something it never repeats). Binding the task (Config.Context) makes
// the replayed signature useless: every client refuses to unmask.
func TestRedteamSurvivorSignatureReplayAcrossSessions(t *testing.T) {
	got, want := replayAttack(t, "task-a", "task-a")
	if !slices.Equal(got, want) {
		t.Fatal("with one session ID the replay did not recover x_0: the test no longer demonstrates the attack")
	}
	got, _ = replayAttack(t, "task-a", "task-b")
	if got != nil {
		t.Fatalf("a survivor-set signature from another task's session let the coordinator recover an input (exact: %v)", slices.Equal(got, want))
	}
}
