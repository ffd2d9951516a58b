package tier

import (
	"fmt"
	"slices"

	"github.com/fedb2b/fedb2b/aggregation/secagg"
)

// Report is what an aggregator hands the coordinator at the end of its
// group's session: the unmasked group sum, the survivor set U3 (sorted
// indices into the group's Params) and the survivors' signatures on U3
// that its unmask request carried.
type Report struct {
	Group      int
	Sum        []uint32
	Survivors  []uint32
	Signatures []secagg.SurvivorSignature
}

// Combiner is the coordinator's side of a tiered round: it checks each
// group's report and adds the group sums. It holds two O(d) sums and no
// per-group vector. Not safe for concurrent use.
type Combiner struct {
	groups []*Group
	// Check, if set, is applied to a report's group sum before it is
	// added (the coordinator's secagg.SumBounds on the decoded sum of
	// survivors inputs); an error refuses the report.
	Check func(g *Group, survivors int, sum []uint32) error

	sum       []uint32
	wide      []int64
	done      []bool
	survivors []string
}

// NewCombiner starts combining the groups of one round (from Plan).
func NewCombiner(groups []*Group) (*Combiner, error) {
	if len(groups) == 0 {
		return nil, fmt.Errorf("tier: no groups")
	}
	d := groups[0].Params.Dim()
	for j, g := range groups {
		if g.Index != j || g.Params.Dim() != d {
			return nil, fmt.Errorf("tier: group %d: index %d, dimension %d (want %d)", j, g.Index, g.Params.Dim(), d)
		}
	}
	return &Combiner{groups: groups, sum: make([]uint32, d), wide: make([]int64, d), done: make([]bool, len(groups))}, nil
}

// Add checks a group report and adds its sum. It refuses (and changes
// nothing) a report for an unknown or already combined group; a sum of
// the wrong length; a survivor set below the protocol's minimum
// (max(t+1, quorum)) or the plan's MinSurvivors; a report with more
// signatures than members; a survivor set without a quorum of valid
// survivor signatures on exactly that set in that group's session — so
// an aggregator cannot claim survivors the tenants did not sign for, nor
// pass off another group's or round's result; and a sum that Check
// refuses. It cannot tell a wrong sum over the right survivors from the
// true one: there is no verifiable aggregation (docs/scale-out.md).
func (c *Combiner) Add(r *Report) error {
	if r == nil || r.Group < 0 || r.Group >= len(c.groups) {
		return fmt.Errorf("tier: report for an unknown group")
	}
	g := c.groups[r.Group]
	if c.done[r.Group] {
		return fmt.Errorf("tier: second report for group %d", r.Group)
	}
	if len(r.Sum) != len(c.sum) {
		return fmt.Errorf("tier: group %d's sum has %d words, the round's dimension is %d", r.Group, len(r.Sum), len(c.sum))
	}
	p := g.Params
	if !slices.IsSorted(r.Survivors) || len(slices.Compact(slices.Clone(r.Survivors))) != len(r.Survivors) {
		return fmt.Errorf("tier: group %d's survivor set is not sorted and distinct", r.Group)
	}
	if len(r.Survivors) > 0 && int(r.Survivors[len(r.Survivors)-1]) >= p.N() {
		return fmt.Errorf("tier: group %d's survivor set names an index outside the group", r.Group)
	}
	if need := max(p.Threshold()+1, p.Quorum(), g.MinSurvivors); len(r.Survivors) < need {
		return fmt.Errorf("tier: group %d reports %d survivors, a session needs at least %d", r.Group, len(r.Survivors), need)
	}
	if len(r.Signatures) > p.N() {
		// Each invalid signature costs a verification: bound the work.
		return fmt.Errorf("tier: group %d's report carries %d signatures for %d members", r.Group, len(r.Signatures), p.N())
	}
	if err := secagg.VerifySurvivorQuorum(p, r.Survivors, r.Signatures); err != nil {
		return fmt.Errorf("tier: group %d: %w", r.Group, err)
	}
	if c.Check != nil {
		if err := c.Check(g, len(r.Survivors), r.Sum); err != nil {
			return fmt.Errorf("tier: group %d's sum refused: %w", r.Group, err)
		}
	}
	for i, w := range r.Sum {
		c.sum[i] += w
		c.wide[i] += int64(int32(w))
	}
	for _, u := range r.Survivors {
		c.survivors = append(c.survivors, p.Participant(u).ID)
	}
	c.done[r.Group] = true
	return nil
}

// Combined is the outcome of a tiered round.
type Combined struct {
	// Sum is Σ over combined groups of their sums mod 2^32: the modular
	// sum of every survivor's input (exact in Z_{2^32}; it decodes without
	// wrap-around only if the whole round's range allows, e.g.
	// Quantizer.CheckRange(n) or a DDG plan for cohort n).
	Sum []uint32
	// Wide is Σ over combined groups of each group sum read as a signed
	// 32-bit integer: the exact integer sum of the survivors' signed
	// inputs whenever no single group's sum wraps
	// (Quantizer.CheckRange(group size)), however many groups there are.
	Wide []int64
	// Survivors are the tenants whose inputs are in the sums, sorted.
	Survivors []string
	// Groups lists the combined groups, Failed the others (no report or a
	// refused one): their tenants' inputs are not in the sums.
	Groups, Failed []int
}

// Result ends the round: it fails if fewer than minGroups groups were
// combined (the coordinator then abandons the round), and otherwise
// returns the sums. The Combiner must not be used afterwards.
func (c *Combiner) Result(minGroups int) (*Combined, error) {
	out := &Combined{Sum: c.sum, Wide: c.wide, Survivors: slices.Sorted(slices.Values(c.survivors))}
	for j, ok := range c.done {
		if ok {
			out.Groups = append(out.Groups, j)
		} else {
			out.Failed = append(out.Failed, j)
		}
	}
	if len(out.Groups) < max(minGroups, 1) {
		return nil, fmt.Errorf("tier: %d of %d groups reported, the round needs %d", len(out.Groups), len(c.groups), max(minGroups, 1))
	}
	c.sum, c.wide, c.survivors = nil, nil, nil
	return out, nil
}
