package tier

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"slices"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
)

// RoundPlan is what the coordinator decides for one tiered round; the
// cohort itself (tenant IDs with identity keys) is passed alongside.
type RoundPlan struct {
	Round uint64
	// Context is the application's name for the session (fedb2b: the
	// task ID); group j's session uses GroupContext(Context, cohort, j).
	Context []byte
	// Dim d of the input vectors in uint32 words.
	Dim int
	// GroupSize g: the largest group (Partition).
	GroupSize int
	// Neighbours k inside each group; 0 or ≥ group size − 1 gives the
	// complete graph.
	Neighbours int
	// Policy is the tenants' assumption about corrupt members (its
	// CorruptFraction γ, applied to each group's own size): each group's
	// MaxCorrupt is Policy.Corrupt(size), as coordinator/secure.go does
	// for a whole cohort.
	Policy secagg.Policy
	// MinSurvivors is the fewest survivors a group's sum may have for the
	// coordinator to use it (Combiner.Add refuses fewer); 0 means the
	// protocol's own minimum, max(t+1, quorum). It caps the DDG noise
	// shares (GroupParams.NoiseShares).
	MinSurvivors int
}

// GroupParams are the SecAgg+ parameters of one group of Size tenants.
type GroupParams struct {
	Size, Neighbours, Threshold, MaxCorrupt int
	// MinSurvivors is RoundPlan.MinSurvivors (0: the protocol's minimum).
	MinSurvivors int
	// NoiseShares is the number of noise shares a group sum is calibrated
	// for (privacy/ddg Goal.Threshold): min(MinSurvivors,
	// secagg.MinHonestInSum(t, c)) — a sum the group's aggregator can
	// learn holds at least that many honest contributions, and each group
	// sum is released to the coordinator on its own, so each must carry
	// the whole target noise.
	NoiseShares int
}

// ForGroup returns the parameters of a group of the given size, with the
// defaults of coordinator/secure.go: c = Policy.Corrupt(size), t =
// max(⌊k/2⌋+1, c+1). It fails when no threshold satisfies c < t ≤ k.
func (rp RoundPlan) ForGroup(size int) (GroupParams, error) {
	k := rp.Neighbours
	if k <= 0 || k >= size-1 {
		k = size - 1
	} else if k%2 == 1 {
		k++
	}
	c := rp.Policy.Corrupt(size)
	t := max(k/2+1, c+1)
	if t > k {
		return GroupParams{}, fmt.Errorf("tier: a group of %d with %d neighbours cannot have a threshold above c = %d corrupt members (γ = %g): raise Neighbours to ≥ %d or lower the policy's CorruptFraction",
			size, k, c, rp.Policy.CorruptFraction, c+1)
	}
	h := secagg.MinHonestInSum(t, c)
	shares := h
	if rp.MinSurvivors > 0 {
		shares = min(rp.MinSurvivors, h)
	}
	return GroupParams{Size: size, Neighbours: k, Threshold: t, MaxCorrupt: c, MinSurvivors: rp.MinSurvivors, NoiseShares: shares}, nil
}

// Group is one group's session: its index, members (sorted IDs) and the
// validated SecAgg+ parameters every member and its aggregator rebuild.
type Group struct {
	Index   int
	Members []string
	// Config is the plan every member receives (it rebuilds Params).
	Config secagg.Config
	Params *secagg.Params
	GroupParams
}

// Plan partitions the cohort (Partition, on the IDs) and builds each
// group's session; graph seeds are drawn from seeds (nil: crypto/rand),
// fresh per group. The coordinator sends each aggregator its group and
// every tenant the cohort list and its group's Config.
func Plan(rp RoundPlan, cohort []secagg.Participant, seeds io.Reader) ([]*Group, error) {
	if seeds == nil {
		seeds = rand.Reader
	}
	byID := make(map[string]secagg.Participant, len(cohort))
	ids := make([]string, len(cohort))
	for i, p := range cohort {
		byID[p.ID] = p
		ids[i] = p.ID
	}
	parts, err := Partition(ids, rp.GroupSize, rp.Context, rp.Round)
	if err != nil {
		return nil, err
	}
	out := make([]*Group, len(parts))
	for j, members := range parts {
		gp, err := rp.ForGroup(len(members))
		if err != nil {
			return nil, err
		}
		cfg := secagg.Config{Round: rp.Round, Threshold: gp.Threshold, Neighbours: gp.Neighbours,
			Dim: rp.Dim, MaxCorrupt: gp.MaxCorrupt, Context: GroupContext(rp.Context, ids, j)}
		if _, err := io.ReadFull(seeds, cfg.GraphSeed[:]); err != nil {
			return nil, fmt.Errorf("tier: graph seed: %w", err)
		}
		for _, id := range members {
			cfg.Participants = append(cfg.Participants, byID[id])
		}
		p, err := secagg.NewParams(cfg)
		if err != nil {
			return nil, fmt.Errorf("tier: group %d: %w", j, err)
		}
		out[j] = &Group{Index: j, Members: members, Config: cfg, Params: p, GroupParams: gp}
	}
	return out, nil
}

// CheckGroup is a tenant's check of the session it is asked to join in a
// tiered round, before it advertises anything; it returns the session's
// Params. The session must be the one the public rule gives: its
// participants exactly the tenant's group j in Partition(cohort,
// groupSize, context, round), its round that round, its context
// GroupContext(context, cohort, j), and its parameters within the tenant's own
// policy (secagg.Policy.Check, applied to the group: set MinCohort to the
// smallest group the tenant accepts). Without it an aggregator could put a
// tenant in a "group" of its choosing — the tenant and two colluders, whose
// sum minus the colluders' inputs is the tenant's input
// (TestAttackAggregatorPicksGroup). The cohort list is the coordinator's
// word: one that fabricates it (the tenant and its sybils) is bounded only
// by the tenant's policy, as when it picks a cohort today.
func CheckGroup(cfg secagg.Config, me string, cohort []string, groupSize int, context []byte, round uint64, pol secagg.Policy) (*secagg.Params, error) {
	if cfg.Round != round {
		return nil, fmt.Errorf("tier: session is for round %d, the plan's round is %d", cfg.Round, round)
	}
	groups, err := Partition(cohort, groupSize, context, round)
	if err != nil {
		return nil, err
	}
	j := slices.IndexFunc(groups, func(g []string) bool { _, ok := slices.BinarySearch(g, me); return ok })
	if j < 0 {
		return nil, fmt.Errorf("tier: %q is not in the round's cohort", me)
	}
	if !bytes.Equal(cfg.Context, GroupContext(context, cohort, j)) {
		return nil, fmt.Errorf("tier: the session's context is not group %d's of this task and cohort list", j)
	}
	p, err := secagg.NewParams(cfg)
	if err != nil {
		return nil, err
	}
	want := groups[j]
	if p.N() != len(want) {
		return nil, fmt.Errorf("tier: the session has %d participants, %q's group under the public partition has %d", p.N(), me, len(want))
	}
	for i, id := range want {
		if got := p.Participant(uint32(i)).ID; got != id {
			return nil, fmt.Errorf("tier: the session's participant %d is %q, %q's group under the public partition has %q", i, got, me, id)
		}
	}
	if err := pol.Check(p); err != nil {
		return nil, fmt.Errorf("tier: group %d: %w", j, err)
	}
	return p, nil
}
