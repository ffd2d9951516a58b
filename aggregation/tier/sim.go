package tier

import (
	"crypto/ed25519"
	"fmt"
	"io"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
)

// Tenant is one simulated tenant: its ID, identity key and input vector.
type Tenant struct {
	ID       string
	Identity ed25519.PrivateKey
	Input    []uint32
}

// SimOptions are the faults of a simulated tiered round.
type SimOptions struct {
	// DropAt makes a tenant vanish before its message of that stage
	// inside its group's session (secagg.Simulate's dropAt).
	DropAt map[string]secagg.Stage
	// FailGroups: these groups' aggregators die after their session ran
	// and before reporting (the worst case: the tenants released their
	// masked inputs, the coordinator gets nothing).
	FailGroups map[int]bool
	// MinGroups is passed to Combiner.Result.
	MinGroups int
	// Check is the Combiner's sum check.
	Check func(g *Group, survivors int, sum []uint32) error
}

// GroupOutcome is what happened in one group.
type GroupOutcome struct {
	Group *Group
	// Report is what the aggregator sent (nil: it failed, or its session
	// aborted).
	Report *Report
	// Err is why the group has no report or its report was refused.
	Err error
	// Advertised are the members that advertised keys: each recorded its
	// spend before releasing anything (client/secure.go), so each is
	// charged for the round whether or not its group is combined.
	Advertised []string
}

// Simulate runs one tiered round in memory: Plan, then one SecAgg+
// session per group with the real secagg state machines (every message
// through its binary encoding, secagg.SimulateWith), one report per
// surviving aggregator into a Combiner, and Result. The returned error is
// a setup problem or Result's (too few groups); per-group failures are in
// the outcomes.
func Simulate(rp RoundPlan, tenants []Tenant, opt SimOptions, rand io.Reader) (*Combined, []GroupOutcome, error) {
	cohort := make([]secagg.Participant, len(tenants))
	byID := make(map[string]Tenant, len(tenants))
	for i, t := range tenants {
		cohort[i] = secagg.Participant{ID: t.ID, IdentityKey: t.Identity.Public().(ed25519.PublicKey)}
		byID[t.ID] = t
	}
	groups, err := Plan(rp, cohort, rand)
	if err != nil {
		return nil, nil, err
	}
	comb, err := NewCombiner(groups)
	if err != nil {
		return nil, nil, err
	}
	comb.Check = opt.Check
	outs := make([]GroupOutcome, len(groups))
	for j, g := range groups {
		outs[j].Group = g
		idents := make([]ed25519.PrivateKey, len(g.Members))
		inputs := make([][]uint32, len(g.Members))
		drops := make(map[int]secagg.Stage)
		for i, id := range g.Members {
			idents[i], inputs[i] = byID[id].Identity, byID[id].Input
			if st, ok := opt.DropAt[id]; ok {
				drops[i] = st
			}
		}
		res, err := secagg.SimulateWith(g.Params, idents, inputs, drops, rand)
		if err != nil {
			return nil, nil, fmt.Errorf("tier: group %d: %w", j, err)
		}
		for i, id := range g.Members {
			if res.Dropouts[uint32(i)] != secagg.StageAdvertise {
				outs[j].Advertised = append(outs[j].Advertised, id)
			}
		}
		switch {
		case res.Err != nil:
			outs[j].Err = res.Err
		case opt.FailGroups[j]:
			outs[j].Err = fmt.Errorf("tier: group %d's aggregator failed before reporting", j)
		default:
			r := &Report{Group: j, Sum: res.Sum, Signatures: res.Signatures}
			for _, u := range res.Survivors {
				r.Survivors = append(r.Survivors, uint32(u))
			}
			outs[j].Report = r
			outs[j].Err = comb.Add(r)
		}
	}
	out, err := comb.Result(opt.MinGroups)
	return out, outs, err
}
