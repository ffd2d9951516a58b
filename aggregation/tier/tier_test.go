package tier

import (
	"slices"
	"testing"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/privacy"
)

var testPlan = RoundPlan{Round: 3, Context: []byte("task-A"), Dim: 64, GroupSize: 10}

// The combined sum is exactly the plain sum of the survivors' inputs,
// with tenants dropping inside groups at every stage: before advertising
// or sharing (not in the sum), before the masked input (not in the sum,
// masks recovered), after it (in the sum although it never signs or
// unmasks).
func TestTierSumIsPlainSumOfSurvivors(t *testing.T) {
	ts := testTenants(40, testPlan.Dim, 1)
	groups, err := Plan(testPlan, cohortOf(ts), privacy.SeededReader(2))
	if err != nil {
		t.Fatal(err)
	}
	// One drop per group at a different stage.
	stages := []secagg.Stage{secagg.StageAdvertise, secagg.StageMaskedInput, secagg.StageConsistency, secagg.StageUnmask}
	drop := map[string]secagg.Stage{}
	var inSum []string
	for j, g := range groups {
		drop[g.Members[1]] = stages[j%len(stages)]
		for _, id := range g.Members {
			if st, ok := drop[id]; !ok || st > secagg.StageMaskedInput {
				inSum = append(inSum, id)
			}
		}
	}
	comb, outs, err := Simulate(testPlan, ts, SimOptions{DropAt: drop, MinGroups: len(groups)}, privacy.SeededReader(2))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Err != nil {
			t.Fatalf("group %d: %v", o.Group.Index, o.Err)
		}
	}
	slices.Sort(inSum)
	if !slices.Equal(comb.Survivors, inSum) {
		t.Fatalf("survivors %v, want %v", comb.Survivors, inSum)
	}
	sum, wide := plainSums(t, ts, inSum)
	if !slices.Equal(comb.Sum, sum) || !slices.Equal(comb.Wide, wide) {
		t.Fatal("combined sum differs from the plain sum of the survivors")
	}
	// A wrong survivor set would give another sum: the comparison can fail.
	other, _ := plainSums(t, ts, inSum[1:])
	if slices.Equal(other, sum) {
		t.Fatal("reference sums do not distinguish survivor sets")
	}
}

// A group whose aggregator dies, and a group whose session aborts (too
// many of its tenants drop), are left out; the others' sum is exact; the
// failed groups' tenants that advertised are charged; with MinGroups above
// the groups left the round is abandoned.
func TestTierDroppedGroups(t *testing.T) {
	ts := testTenants(40, testPlan.Dim, 3)
	groups, _ := Plan(testPlan, cohortOf(ts), privacy.SeededReader(4))
	drop := map[string]secagg.Stage{}
	for _, id := range groups[2].Members[:6] { // 6 of 10 gone: below quorum
		drop[id] = secagg.StageMaskedInput
	}
	opt := SimOptions{DropAt: drop, FailGroups: map[int]bool{0: true}, MinGroups: 2}
	comb, outs, err := Simulate(testPlan, ts, opt, privacy.SeededReader(4))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(comb.Failed, []int{0, 2}) || !slices.Equal(comb.Groups, []int{1, 3}) {
		t.Fatalf("failed %v, combined %v; want [0 2], [1 3]", comb.Failed, comb.Groups)
	}
	if outs[0].Err == nil || outs[2].Err == nil || outs[2].Report != nil {
		t.Fatal("failed groups must report why")
	}
	for _, j := range []int{0, 2} {
		if !slices.Equal(outs[j].Advertised, groups[j].Members) {
			t.Fatalf("group %d: charged %v, want every member (all advertised)", j, outs[j].Advertised)
		}
	}
	want := slices.Concat(groups[1].Members, groups[3].Members)
	slices.Sort(want)
	sum, wide := plainSums(t, ts, want)
	if !slices.Equal(comb.Survivors, want) || !slices.Equal(comb.Sum, sum) || !slices.Equal(comb.Wide, wide) {
		t.Fatal("sum of the surviving groups is not the plain sum of their members")
	}
	opt.MinGroups = 3
	if _, _, err := Simulate(testPlan, ts, opt, privacy.SeededReader(4)); err == nil {
		t.Fatal("2 of 4 groups with MinGroups 3: the round must be abandoned")
	}
}

// Wide is exact where the modular sum wraps: per-group range suffices.
func TestTierWideSumBeyondOneRing(t *testing.T) {
	ts := testTenants(30, 4, 5)
	neg := int32(-1 << 27) // 10 of them (a group) fit in int32, 30 do not
	big := uint32(neg)
	for i := range ts {
		ts[i].Input[0] = big
	}
	rp := testPlan
	rp.Dim = 4
	comb, _, err := Simulate(rp, ts, SimOptions{}, privacy.SeededReader(6))
	if err != nil {
		t.Fatal(err)
	}
	if comb.Wide[0] != -30<<27 {
		t.Fatalf("wide sum %d, want %d", comb.Wide[0], int64(-30<<27))
	}
	if int64(int32(comb.Sum[0])) == comb.Wide[0] {
		t.Fatal("the modular sum should have wrapped here")
	}
}

// A larger round: 200 tenants in sparse groups of 100 (k = 16, tenants
// assuming c = 7 corrupt members per group), 5 % of them dropping before
// their masked input; the total is the plain sum of the rest.
func TestTierLargerCohort(t *testing.T) {
	if testing.Short() {
		t.Skip("200 tenants")
	}
	ts := testTenants(200, 8, 41)
	rp := RoundPlan{Round: 1, Context: []byte("big"), Dim: 8, GroupSize: 100, Neighbours: 16,
		Policy: secagg.Policy{CorruptFraction: 7.5 / 100}}
	drop := map[string]secagg.Stage{}
	var want []string
	for i, x := range ts {
		if i%20 == 7 {
			drop[x.ID] = secagg.StageMaskedInput
		} else {
			want = append(want, x.ID)
		}
	}
	comb, outs, err := Simulate(rp, ts, SimOptions{DropAt: drop, MinGroups: 2}, privacy.SeededReader(42))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Err != nil || o.Group.Neighbours != 16 || o.Group.MaxCorrupt != 7 {
			t.Fatalf("group %d: %v (k = %d, c = %d)", o.Group.Index, o.Err, o.Group.Neighbours, o.Group.MaxCorrupt)
		}
	}
	sum, wide := plainSums(t, ts, want)
	if !slices.Equal(comb.Survivors, want) || !slices.Equal(comb.Sum, sum) || !slices.Equal(comb.Wide, wide) {
		t.Fatal("combined sum differs from the plain sum of the survivors")
	}
}
