package dataset

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// ErrSplit is wrapped by the errors of SplitDirichlet for invalid arguments.
var ErrSplit = errors.New("invalid split")

// Stream constants separate the random streams of the split functions, so
// the same seed used for Synthesize and a split gives unrelated draws.
const (
	streamDirichlet = 0x6469726963686c74 // "dirichlt"
)

// SplitOptions tunes SplitDirichlet.
type SplitOptions struct {
	// MinPerTenant is the least number of examples every tenant receives;
	// 0 means 1 (no tenant is empty). See SplitDirichlet for how it is met.
	MinPerTenant int
}

// SplitDirichlet partitions ex among tenants with label skew, the standard
// non-IID benchmark split (Hsu, Qi and Brown 2019, "Measuring the effects
// of non-identical data distribution for federated visual classification"):
// for each label, in sorted label order, it draws proportions
// p ~ Dirichlet(alpha, ..., alpha) over the tenants and hands that label's
// examples (shuffled) to the tenants in those proportions (largest-remainder
// rounding). Small alpha (0.1) gives each tenant few labels and very unequal
// sizes; large alpha (100) approaches an IID split.
//
// The minimum is then enforced by moving examples, one at a time, to each
// tenant below opt.MinPerTenant from the currently largest tenant, taking
// from that tenant's most frequent label; this changes the drawn label
// mixes as little as a deterministic rule can, and always ends because
// tenants*MinPerTenant <= len(ex) is checked first.
//
// Every example ends up in exactly one part; each part keeps input order.
// The result depends only on (ex, tenants, alpha, seed, opt). The seed is
// not a privacy parameter: this is for simulations.
func SplitDirichlet(ex []Example, tenants int, alpha float64, seed uint64, opt SplitOptions) ([][]Example, error) {
	minPer := opt.MinPerTenant
	if minPer == 0 {
		minPer = 1
	}
	switch {
	case tenants < 1:
		return nil, fmt.Errorf("dataset: %d tenants, need at least 1: %w", tenants, ErrSplit)
	case !(alpha > 0) || math.IsInf(alpha, 1):
		return nil, fmt.Errorf("dataset: Dirichlet alpha %v must be positive and finite: %w", alpha, ErrSplit)
	case minPer < 0:
		return nil, fmt.Errorf("dataset: negative minimum per tenant %d: %w", minPer, ErrSplit)
	case tenants > len(ex)/minPer:
		return nil, fmt.Errorf("dataset: %d examples cannot give %d tenants at least %d each: %w",
			len(ex), tenants, minPer, ErrSplit)
	}
	r := rand.New(rand.NewPCG(seed, streamDirichlet))
	labels, groups := groupByLabel(ex)
	// members[t][l] lists the indexes of label l held by tenant t.
	members := make([][][]int, tenants)
	for t := range members {
		members[t] = make([][]int, len(labels))
	}
	size := make([]int, tenants)
	for l, g := range groups {
		g = slices.Clone(g)
		r.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
		counts := apportion(dirichlet(r, alpha, tenants), len(g))
		for t, c := range counts {
			members[t][l] = append(members[t][l], g[:c]...)
			size[t] += c
			g = g[c:]
		}
	}
	for t := range tenants {
		for size[t] < minPer {
			donor := 0
			for u := range size {
				if size[u] > size[donor] {
					donor = u
				}
			}
			l := 0
			for k := range members[donor] {
				if len(members[donor][k]) > len(members[donor][l]) {
					l = k
				}
			}
			from := members[donor][l]
			members[t][l] = append(members[t][l], from[len(from)-1])
			members[donor][l] = from[:len(from)-1]
			size[donor]--
			size[t]++
		}
	}
	parts := make([][]Example, tenants)
	for t := range parts {
		idx := slices.Concat(members[t]...)
		slices.Sort(idx)
		parts[t] = make([]Example, len(idx))
		for i, j := range idx {
			parts[t][i] = ex[j]
		}
	}
	return parts, nil
}

// apportion splits n items in proportions p (summing to 1) by largest
// remainder; ties go to the lower index.
func apportion(p []float64, n int) []int {
	counts := make([]int, len(p))
	type rem struct {
		frac float64
		i    int
	}
	rems := make([]rem, len(p))
	given := 0
	for i, pi := range p {
		x := pi * float64(n)
		counts[i] = int(math.Floor(x))
		given += counts[i]
		rems[i] = rem{x - math.Floor(x), i}
	}
	slices.SortFunc(rems, func(a, b rem) int {
		if c := cmp.Compare(b.frac, a.frac); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	for given > n { // only if rounding pushed the floors past n
		i := slices.Index(counts, slices.Max(counts))
		counts[i]--
		given--
	}
	for k := 0; given < n; k++ {
		counts[rems[k%len(rems)].i]++
		given++
	}
	return counts
}

// LabelSkew measures how non-IID a split is: the size-weighted mean, over
// parts, of the total variation distance between the part's label
// distribution and that of all parts together. 0 means every part has the
// pooled label mix; values near 1 mean parts hold disjoint labels. Empty
// parts are ignored; it returns 0 when there are no examples.
func LabelSkew(parts [][]Example) float64 {
	pooled := map[string]float64{}
	total := 0
	for _, p := range parts {
		for _, e := range p {
			pooled[e.Label]++
		}
		total += len(p)
	}
	if total == 0 {
		return 0
	}
	var skew float64
	for _, p := range parts {
		if len(p) == 0 {
			continue
		}
		local := map[string]float64{}
		for _, e := range p {
			local[e.Label]++
		}
		var tv float64
		for l, c := range pooled {
			tv += math.Abs(local[l]/float64(len(p)) - c/float64(total))
		}
		skew += float64(len(p)) / float64(total) * tv / 2
	}
	return skew
}
