package tier

import (
	"crypto/ed25519"
	"errors"
	"slices"
	"testing"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/privacy"
)

// An aggregator that runs a tenant in a "group" of its choosing — the
// victim and two colluders — learns the victim's input exactly: the group
// sum minus the colluders' inputs. secagg's own policy accepts such a
// session (3 participants, c = 0); CheckGroup, which recomputes the public
// partition of the cohort list the coordinator gave the tenant, refuses
// it, and refuses the right members under another group's context, another
// round, or another cohort list. A coordinator that fabricates the cohort
// list itself is stopped only by the tenant's own policy (MinCohort),
// as it is today when it picks a cohort.
func TestAttackAggregatorPicksGroup(t *testing.T) {
	ts := testTenants(40, testPlan.Dim, 7)
	ids := idsOf(ts)
	groups, err := Plan(testPlan, cohortOf(ts), privacy.SeededReader(8))
	if err != nil {
		t.Fatal(err)
	}
	victim := groups[0].Members[0]
	colluders := groups[1].Members[:2]
	byID := map[string]Tenant{}
	for _, x := range ts {
		byID[x.ID] = x
	}
	evil := secagg.Config{Round: testPlan.Round, Threshold: 2, Neighbours: 2, Dim: testPlan.Dim,
		Context: GroupContext(testPlan.Context, ids, 0)}
	for _, id := range slices.Sorted(slices.Values(append([]string{victim}, colluders...))) {
		evil.Participants = append(evil.Participants, secagg.Participant{ID: id, IdentityKey: byID[id].Identity.Public().(ed25519.PublicKey)})
	}
	p, err := secagg.NewParams(evil)
	if err != nil {
		t.Fatal(err)
	}
	// Without the group check: the tenant's secagg policy alone passes the
	// session, and the attack recovers the input.
	if err := (secagg.Policy{}).Check(p); err != nil {
		t.Fatalf("secagg.Policy refuses the 3-party session (%v): the attack below would not need CheckGroup", err)
	}
	var idents []ed25519.PrivateKey
	var inputs [][]uint32
	for i := range p.N() {
		x := byID[p.Participant(uint32(i)).ID]
		idents, inputs = append(idents, x.Identity), append(inputs, x.Input)
	}
	res, err := secagg.SimulateWith(p, idents, inputs, nil, privacy.SeededReader(9))
	if err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	got := slices.Clone(res.Sum)
	for _, c := range colluders {
		for i, w := range byID[c].Input {
			got[i] -= w
		}
	}
	if !slices.Equal(got, byID[victim].Input) {
		t.Fatal("the group-picking attack should recover the victim's input when nobody checks the group")
	}
	// With the check, the victim refuses before advertising.
	if _, err := CheckGroup(evil, victim, ids, testPlan.GroupSize, testPlan.Context, testPlan.Round, secagg.Policy{}); err == nil {
		t.Fatal("CheckGroup accepted a group that is not the public partition's")
	}
	// The right members, but group 1's context, or another round.
	right := groups[0].Config
	wrongCtx := right
	wrongCtx.Context = GroupContext(testPlan.Context, ids, 1)
	if _, err := CheckGroup(wrongCtx, victim, ids, testPlan.GroupSize, testPlan.Context, testPlan.Round, secagg.Policy{}); err == nil {
		t.Fatal("CheckGroup accepted another group's context")
	}
	if _, err := CheckGroup(right, victim, ids, testPlan.GroupSize, testPlan.Context, testPlan.Round+1, secagg.Policy{}); err == nil {
		t.Fatal("CheckGroup accepted a session for another round")
	}
	// A tenant whose policy assumes more corrupt members than the group's
	// MaxCorrupt withstands refuses too.
	if _, err := CheckGroup(right, victim, ids, testPlan.GroupSize, testPlan.Context, testPlan.Round, secagg.Policy{CorruptFraction: 0.5}); err == nil {
		t.Fatal("CheckGroup ignored the tenant's own policy")
	}
	// Members shown different cohort lists derive different sessions.
	other := append(slices.Clone(ids), "tenant-99999")
	if _, err := CheckGroup(right, victim, other, testPlan.GroupSize, testPlan.Context, testPlan.Round, secagg.Policy{}); err == nil {
		t.Fatal("CheckGroup accepted a session built for another cohort list")
	}
	// A coordinator that claims the cohort is the victim and two
	// colluders: the partition is then that one group. Only a tenant
	// policy with a minimum group size refuses it.
	fake := slices.Sorted(slices.Values(append([]string{victim}, colluders...)))
	fakeCfg := evil
	fakeCfg.Context = GroupContext(testPlan.Context, fake, 0)
	if _, err := CheckGroup(fakeCfg, victim, fake, testPlan.GroupSize, testPlan.Context, testPlan.Round, secagg.Policy{}); err != nil {
		t.Fatalf("a fabricated 3-tenant cohort is consistent with the public rule (%v): the limitation documented here changed", err)
	}
	if _, err := CheckGroup(fakeCfg, victim, fake, testPlan.GroupSize, testPlan.Context, testPlan.Round, secagg.Policy{MinCohort: 8}); err == nil {
		t.Fatal("a tenant requiring groups of 8 accepted a group of 3")
	}
	// The honest plan passes (the check does not refuse everything).
	if _, err := CheckGroup(right, victim, ids, testPlan.GroupSize, testPlan.Context, testPlan.Round, secagg.Policy{}); err != nil {
		t.Fatalf("CheckGroup refused the public partition's group: %v", err)
	}
}

// groupRun drives one group's real clients through the masked-input stage
// with the aggregator's real server, and returns what a malicious
// aggregator holds then: the clients (to send forged requests to) and the
// honest survivor set.
func groupRun(t *testing.T, g *Group, ts []Tenant) ([]*secagg.Client, []uint32) {
	t.Helper()
	byID := map[string]Tenant{}
	for _, x := range ts {
		byID[x.ID] = x
	}
	p := g.Params
	srv, _ := secagg.NewServer(p)
	cl := make([]*secagg.Client, p.N())
	for i := range cl {
		x := byID[p.Participant(uint32(i)).ID]
		var err error
		if cl[i], err = secagg.NewClient(secagg.ClientConfig{Params: p, ID: x.ID, Identity: x.Identity, Rand: privacy.SeededReader(uint64(50 + i))}); err != nil {
			t.Fatal(err)
		}
		m, _ := cl[i].Advertise()
		if err := srv.OnAdvertise(uint32(i), m); err != nil {
			t.Fatal(err)
		}
	}
	ads, _ := srv.Adverts()
	for i, c := range cl {
		out, err := c.ShareKeys(ads)
		if err == nil {
			err = srv.OnShares(uint32(i), out)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cl {
		sh, _ := srv.SharesFor(uint32(i))
		r, err := c.CheckShares(sh)
		if err == nil {
			err = srv.OnReceipt(uint32(i), r)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cl {
		mr, err := srv.MaskRequestFor(uint32(i))
		var m *secagg.MaskedInput
		if err == nil {
			m, err = c.MaskInput(mr, byID[p.Participant(uint32(i)).ID].Input)
		}
		if err == nil {
			err = srv.OnMaskedInput(uint32(i), m)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	cons, err := srv.ConsistencyRequest()
	if err != nil {
		t.Fatal(err)
	}
	return cl, cons.Survivors
}

// A malicious aggregator that has the victim's masked input y_v and wants
// x_v needs both the victim's self-mask seed b_v (revealed only for a
// survivor) and its mask key s_v (revealed only for a dropped client). It
// tells every other member the victim dropped after all: they sign that
// story and reveal s_v's shares, but then refuse to reveal b_v's for the
// true survivor set, so y_v stays masked by PRG(b_v). Telling half the
// group one story and half the other gets neither story a quorum, so
// nobody reveals anything. (In the group, t = 5 of 10, quorum 7.)
func TestAttackAggregatorTellsVictimDropped(t *testing.T) {
	ts := testTenants(40, testPlan.Dim, 11)
	groups, _ := Plan(testPlan, cohortOf(ts), privacy.SeededReader(12))
	g := groups[0]
	p := g.Params
	const v = 0

	cl, u3 := groupRun(t, g, ts)
	story := slices.DeleteFunc(slices.Clone(u3), func(u uint32) bool { return u == v })
	var sigs []secagg.SurvivorSignature
	for _, u := range story {
		r, err := cl[u].SignSurvivors(&secagg.ConsistencyRequest{Session: p.Session(), Survivors: story})
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, secagg.SurvivorSignature{Signer: u, Signature: r.Signature})
	}
	selfOfV, keyOfV := 0, 0
	count := func(r *secagg.UnmaskResponse) {
		for _, s := range r.SelfShares {
			if s.Owner == v {
				selfOfV++
			}
		}
		for _, s := range r.KeyShares {
			if s.Owner == v {
				keyOfV++
			}
		}
	}
	lie := &secagg.UnmaskRequest{Session: p.Session(), Survivors: story, Dropped: []uint32{v}, Signatures: sigs}
	for _, u := range story {
		if r, err := cl[u].Unmask(lie); err == nil {
			count(r)
		}
	}
	truth := &secagg.UnmaskRequest{Session: p.Session(), Survivors: u3, Signatures: sigs}
	for _, u := range story {
		if r, err := cl[u].Unmask(truth); err == nil {
			count(r)
		}
	}
	if keyOfV < p.Threshold() {
		t.Fatalf("the consistent lie should reveal s_v (%d shares, t = %d): the test no longer exercises the attack", keyOfV, p.Threshold())
	}
	if selfOfV >= p.Threshold() {
		t.Fatalf("the aggregator got %d shares of the victim's self-mask seed and %d of its mask key (t = %d): x_v is exposed", selfOfV, keyOfV, p.Threshold())
	}

	// Split stories: half are told the victim dropped, half that it survived.
	cl, u3 = groupRun(t, g, ts)
	sets := [][]uint32{story, u3}
	var sigsFor [2][]secagg.SurvivorSignature
	for i, u := range u3 {
		side := i % 2
		if u == v {
			side = 1 // the victim is told the truth
		}
		if side == 0 && !slices.Contains(story, u) {
			continue
		}
		r, err := cl[u].SignSurvivors(&secagg.ConsistencyRequest{Session: p.Session(), Survivors: sets[side]})
		if err != nil {
			t.Fatal(err)
		}
		sigsFor[side] = append(sigsFor[side], secagg.SurvivorSignature{Signer: u, Signature: r.Signature})
	}
	all := slices.Concat(sigsFor[0], sigsFor[1])
	revealed := 0
	for side, dropped := range [][]uint32{{v}, nil} {
		req := &secagg.UnmaskRequest{Session: p.Session(), Survivors: sets[side], Dropped: dropped, Signatures: all}
		for _, u := range u3 {
			r, err := cl[u].Unmask(req)
			if err == nil {
				revealed += len(r.SelfShares) + len(r.KeyShares)
			} else if !errors.Is(err, secagg.ErrBadSignature) && !errors.Is(err, secagg.ErrInconsistent) {
				t.Fatalf("client %d: unexpected refusal %v", u, err)
			}
		}
	}
	if revealed != 0 {
		t.Fatalf("split stories got %d shares revealed; neither story has a quorum of %d", revealed, p.Quorum())
	}
}
