package tier

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
)

const (
	labelPartition = "fedb2b/tier/partition/v1"
	labelCohort    = "fedb2b/tier/cohort/v1"
)

// MinGroupSize is the smallest group a partition may produce: a SecAgg+
// session needs at least three participants (secagg.NewParams).
const MinGroupSize = 3

// Partition splits a round's cohort into m = ⌈n/groupSize⌉ groups whose
// sizes differ by at most one (so every group has at most groupSize and at
// least ⌊n/m⌋ members). The rule uses public data only: each tenant ID is
// ranked by SHA-256 over a label, the context (fedb2b: the task ID), the
// round and the ID, and the ranked list is cut into m consecutive runs.
// Every party that knows the cohort list recomputes the same groups, so a
// tenant can check the group it is given (CheckGroup); the order of cohort
// does not matter. Each group is returned sorted by ID (secagg's order).
// A new round reshuffles the groups.
func Partition(cohort []string, groupSize int, context []byte, round uint64) ([][]string, error) {
	n := len(cohort)
	if groupSize < MinGroupSize {
		return nil, fmt.Errorf("tier: group size %d is below %d", groupSize, MinGroupSize)
	}
	if n < MinGroupSize {
		return nil, fmt.Errorf("tier: a cohort of %d tenants cannot form a group of at least %d", n, MinGroupSize)
	}
	type ranked struct {
		key [32]byte
		id  string
	}
	rs := make([]ranked, n)
	seen := make(map[string]bool, n)
	for i, id := range cohort {
		if id == "" || len(id) > 255 {
			return nil, fmt.Errorf("tier: cohort entry %d: ID must be 1..255 bytes", i)
		}
		if seen[id] {
			return nil, fmt.Errorf("tier: tenant %q listed twice in the cohort", id)
		}
		seen[id] = true
		rs[i] = ranked{key: partitionKey(context, round, id), id: id}
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		if c := bytes.Compare(a.key[:], b.key[:]); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	m := (n + groupSize - 1) / groupSize
	groups := make([][]string, m)
	for j := range m {
		lo, hi := j*n/m, (j+1)*n/m
		g := make([]string, 0, hi-lo)
		for _, r := range rs[lo:hi] {
			g = append(g, r.id)
		}
		slices.Sort(g)
		groups[j] = g
	}
	return groups, nil
}

func partitionKey(context []byte, round uint64, id string) [32]byte {
	h := sha256.New()
	var b [8]byte
	h.Write([]byte(labelPartition))
	binary.BigEndian.PutUint64(b[:], uint64(len(context)))
	h.Write(b[:])
	h.Write(context)
	binary.BigEndian.PutUint64(b[:], round)
	h.Write(b[:])
	binary.BigEndian.PutUint64(b[:], uint64(len(id)))
	h.Write(b[:])
	h.Write([]byte(id))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// GroupContext is the secagg.Config.Context of group j's session: the
// round's context, SHA-256 of the sorted cohort list, and the group index.
// Every group's session ID is then distinct and names its group, and two
// members of one group derive the same session only if they were given
// the same cohort list (a member shown another list computes another
// session ID, and its messages are refused as for another session).
func GroupContext(context []byte, cohort []string, group int) []byte {
	sorted := slices.Sorted(slices.Values(cohort))
	h := sha256.New()
	h.Write([]byte(labelCohort))
	var b [8]byte
	for _, id := range sorted {
		binary.BigEndian.PutUint64(b[:], uint64(len(id)))
		h.Write(b[:])
		h.Write([]byte(id))
	}
	out := slices.Clone(context)
	out = append(out, "/tier-group/"...)
	out = h.Sum(out)
	return binary.BigEndian.AppendUint32(out, uint32(group))
}
