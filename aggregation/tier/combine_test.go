package tier

import (
	"crypto/ed25519"
	"math"
	"slices"
	"testing"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/privacy"
)

// honestReports runs every group of a round honestly (tenant drops as
// given) and returns the groups and their aggregators' reports.
func honestReports(t *testing.T, rp RoundPlan, ts []Tenant, drop map[string]secagg.Stage, seed uint64) ([]*Group, []*Report) {
	t.Helper()
	groups, err := Plan(rp, cohortOf(ts), privacy.SeededReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Tenant{}
	for _, x := range ts {
		byID[x.ID] = x
	}
	reps := make([]*Report, len(groups))
	for j, g := range groups {
		var idents []ed25519.PrivateKey
		var inputs [][]uint32
		drops := map[int]secagg.Stage{}
		for i, id := range g.Members {
			idents, inputs = append(idents, byID[id].Identity), append(inputs, byID[id].Input)
			if st, ok := drop[id]; ok {
				drops[i] = st
			}
		}
		res, err := secagg.SimulateWith(g.Params, idents, inputs, drops, privacy.SeededReader(seed+uint64(j)))
		if err != nil || res.Err != nil {
			t.Fatal(err, res.Err)
		}
		r := &Report{Group: j, Sum: res.Sum, Signatures: res.Signatures}
		for _, u := range res.Survivors {
			r.Survivors = append(r.Survivors, uint32(u))
		}
		reps[j] = r
	}
	return groups, reps
}

// sumCheck is the coordinator's bound on a group sum: inputs are words
// in [−1000, 1000], i.e. vectors of norm ≤ √d·1000 at scale 1000.
func sumCheck(g *Group, m int, sum []uint32) error {
	q := secagg.Quantizer{ClipNorm: math.Sqrt(float64(len(sum))), Scale: 1000}
	f := make([]float64, len(sum))
	q.Decode(f, sum)
	return secagg.SumBounds{Clients: m, ClipNorm: q.ClipNorm, Step: 1 / q.Scale, WeightIndex: -1}.Check(f)
}

// A malicious aggregator's reports to the coordinator: survivors the
// tenants did not sign for (one added: its tenant would be charged in the
// coordinator's books and its absent input taken as present; one
// removed: an input in the sum uncounted), too few signatures, another
// group's or another round's report, a second report, a poisoned sum. Each
// is refused without changing the combiner, and the honest reports then
// combine to the plain sum.
func TestAttackAggregatorMisreports(t *testing.T) {
	ts := testTenants(30, testPlan.Dim, 21)
	dropped := map[string]secagg.Stage{}
	groups, _ := Plan(testPlan, cohortOf(ts), privacy.SeededReader(22))
	dropped[groups[0].Members[4]] = secagg.StageMaskedInput
	groups, reps := honestReports(t, testPlan, ts, dropped, 22)
	comb, err := NewCombiner(groups)
	if err != nil {
		t.Fatal(err)
	}
	comb.Check = sumCheck
	r0 := reps[0]
	clone := func(r *Report) *Report {
		c := *r
		c.Sum, c.Survivors, c.Signatures = slices.Clone(r.Sum), slices.Clone(r.Survivors), slices.Clone(r.Signatures)
		return &c
	}
	added := clone(r0)
	added.Survivors = append(added.Survivors, 4)
	slices.Sort(added.Survivors)
	removed := clone(r0)
	removed.Survivors = removed.Survivors[1:]
	fewSigs := clone(r0)
	fewSigs.Signatures = fewSigs.Signatures[:groups[0].Params.Quorum()-1]
	swapped := clone(reps[1])
	swapped.Group = 0
	flood := clone(r0)
	for range 3 * groups[0].Params.N() {
		flood.Signatures = append([]secagg.SurvivorSignature{{Signer: 0}}, flood.Signatures...)
	}
	poisoned := clone(r0)
	poisoned.Sum[3] += 1 << 24
	_, oldReps := honestReports(t, RoundPlan{Round: testPlan.Round - 1, Context: testPlan.Context, Dim: testPlan.Dim, GroupSize: testPlan.GroupSize}, ts, nil, 23)
	for name, r := range map[string]*Report{
		"survivor added": added, "survivor removed": removed, "signatures below quorum": fewSigs,
		"another group's report": swapped, "signature flood": flood, "another round's report": oldReps[0], "poisoned sum": poisoned,
		"unknown group": {Group: 7, Sum: r0.Sum}, "short sum": {Group: 0, Sum: r0.Sum[:3]},
	} {
		if err := comb.Add(r); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// The plan's survivor floor: group 0 lost a member, group 1 did not.
	strict := make([]*Group, len(groups))
	for j, g := range groups {
		c := *g
		c.MinSurvivors = g.Size
		strict[j] = &c
	}
	sc, _ := NewCombiner(strict)
	if err := sc.Add(reps[0]); err == nil {
		t.Error("a group sum below the plan's MinSurvivors accepted")
	}
	if err := sc.Add(reps[1]); err != nil {
		t.Errorf("a full group refused under MinSurvivors: %v", err)
	}
	for _, r := range reps {
		if err := comb.Add(r); err != nil {
			t.Fatalf("honest report of group %d refused: %v", r.Group, err)
		}
	}
	if err := comb.Add(reps[1]); err == nil {
		t.Error("second report for a group accepted")
	}
	out, err := comb.Result(len(groups))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, id := range idsOf(ts) {
		if _, gone := dropped[id]; !gone {
			want = append(want, id)
		}
	}
	sum, wide := plainSums(t, ts, want)
	if !slices.Equal(out.Survivors, want) || !slices.Equal(out.Sum, sum) || !slices.Equal(out.Wide, wide) {
		t.Fatal("after the refused reports the honest ones do not combine to the plain sum")
	}
}

// Group sums are revealed to the coordinator, so each group's sum must
// carry the whole tenant-level noise: the plan's noise shares are those of
// one group, which each tenant's own check accepts. A coordinator that
// calibrates the noise to the whole cohort's survivors (as if only the
// total were revealed) is refused by every tenant's check on its group.
func TestGroupNoiseCalibration(t *testing.T) {
	ts := testTenants(600, 1, 31)
	rp := RoundPlan{Round: 1, Context: []byte("dp"), Dim: 1, GroupSize: 100, Neighbours: 40}
	groups, err := Plan(rp, cohortOf(ts), privacy.SeededReader(32))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := RoundPlan{Neighbours: 40}.ForGroup(len(ts))
	if err == nil {
		t.Fatalf("k = 40 for 600 tenants at γ = 1/3 should be refused (c = 199), got %+v", whole)
	}
	whole, err = RoundPlan{}.ForGroup(len(ts)) // full graph over the cohort
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		pol := secagg.Policy{}
		if err := pol.CheckNoiseShares(g.NoiseShares, g.Params); err != nil {
			t.Fatalf("group %d: the plan's own noise shares refused: %v", g.Index, err)
		}
		if err := pol.CheckNoiseShares(whole.NoiseShares, g.Params); err == nil {
			t.Fatalf("group %d: noise split into %d shares (whole cohort) accepted for a group of %d whose sum is revealed", g.Index, whole.NoiseShares, g.Size)
		}
	}
	// t − c + 1 is what a dense graph buys: with k = 40 in a group of
	// 100 (t = 34, c = 33) a learnable sum may hold only 2 honest inputs,
	// with the full graph (t = 50) 18; the survivor floor caps the shares.
	if g := groups[0]; g.NoiseShares != 2 {
		t.Fatalf("k = 40, g = 100: %d noise shares, want t − c + 1 = 2", g.NoiseShares)
	}
	full := RoundPlan{}
	if gp, _ := full.ForGroup(100); gp.NoiseShares != 18 || gp.Threshold != 50 || gp.MaxCorrupt != 33 {
		t.Fatalf("full graph, g = 100: %+v, want t = 50, c = 33, 18 shares", gp)
	}
	full.MinSurvivors = 10
	if gp, _ := full.ForGroup(100); gp.NoiseShares != 10 {
		t.Fatalf("noise shares %d with MinSurvivors 10", gp.NoiseShares)
	}
}
