package tier

import (
	"slices"
	"testing"
)

func TestPartitionCoversBalancedAndOrderFree(t *testing.T) {
	ids := idsOf(testTenants(1003, 1, 1))
	groups, err := Partition(ids, 100, []byte("task"), 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 11 {
		t.Fatalf("%d groups for n = 1003, g = 100, want ⌈1003/100⌉ = 11", len(groups))
	}
	var all []string
	for _, g := range groups {
		if len(g) < 1003/11 || len(g) > 1003/11+1 || len(g) > 100 {
			t.Fatalf("group of %d: sizes must be ⌊n/m⌋ or ⌈n/m⌉ and ≤ g", len(g))
		}
		if !slices.IsSorted(g) {
			t.Fatal("group not sorted by ID")
		}
		all = append(all, g...)
	}
	slices.Sort(all)
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(all, want) {
		t.Fatal("groups are not a partition of the cohort")
	}
	rev := slices.Clone(ids)
	slices.Reverse(rev)
	again, _ := Partition(rev, 100, []byte("task"), 7)
	for j := range groups {
		if !slices.Equal(groups[j], again[j]) {
			t.Fatal("partition depends on the order of the cohort list")
		}
	}
	next, _ := Partition(ids, 100, []byte("task"), 8)
	other, _ := Partition(ids, 100, []byte("other-task"), 7)
	if slices.Equal(next[0], groups[0]) || slices.Equal(other[0], groups[0]) {
		t.Fatal("the partition must change with the round and the context")
	}
}

func TestPartitionRefusesBadInput(t *testing.T) {
	ids := idsOf(testTenants(10, 1, 1))
	for name, f := range map[string]func() error{
		"group too small":  func() error { _, err := Partition(ids, 2, nil, 1); return err },
		"cohort too small": func() error { _, err := Partition(ids[:2], 10, nil, 1); return err },
		"duplicate":        func() error { _, err := Partition(append(ids, ids[3]), 5, nil, 1); return err },
		"empty ID":         func() error { _, err := Partition(append(ids, ""), 5, nil, 1); return err },
	} {
		if f() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Small remainders never make a group below the minimum: n = 10, g = 9
	// gives two groups of 5, not 9 + 1.
	groups, err := Partition(ids, 9, nil, 1)
	if err != nil || len(groups) != 2 || len(groups[0]) != 5 || len(groups[1]) != 5 {
		t.Fatalf("n = 10, g = 9: %v groups of %v, %v", len(groups), len(groups[0]), err)
	}
}
