package market

import (
	"fmt"
	"math"
	mrand "math/rand/v2"
	"sort"

	"github.com/google/differential-privacy/go/v3/dpagg"
)

// Release names, as charged to budgets.
const (
	ReleaseSegments  = "customers_per_segment"
	ReleaseQuantiles = "order_value_quantiles"
	ReleaseDemand    = "weekly_demand"
)

// Query says what to release and with which public partitions, privacy
// parameters and per-customer contribution bounds. A statistic whose ε is
// zero is not computed.
type Query struct {
	Segments   []string  // public segment list (others go to Other)
	Categories []string  // public category list (others go to Other)
	Weeks      []int     // public weeks of the weekly-demand statistic
	Ranks      []float64 // quantile ranks (default 0.1, 0.25, 0.5, 0.75, 0.9)

	EpsSegments  float64 // ε of customers per segment (Count)
	EpsQuantiles float64 // ε of order-value quantiles: half for the quantile tree, half for the count that weights tenants when combining
	EpsDemand    float64 // ε of weekly demand (BoundedSum)

	// MaxCategories bounds the categories one customer contributes order
	// values to; MaxOrdersPerCategory the values per category (default 1
	// and 1: the quantile tree's noise grows with their product, and with
	// tens to hundreds of customers per category a larger bound drowns the
	// signal).
	MaxCategories, MaxOrdersPerCategory int64
	ValueLower, ValueUpper              float64 // order values are clamped to this range (default 0, 500)
	// MaxWeekCategories bounds the (week, category) partitions one customer
	// contributes demand to; MaxWeeklyQuantity clamps its quantity in each
	// (default 4 and 100).
	MaxWeekCategories int64
	MaxWeeklyQuantity float64
}

func (q *Query) fill() error {
	if len(q.Ranks) == 0 {
		q.Ranks = []float64{0.1, 0.25, 0.5, 0.75, 0.9}
	}
	for _, r := range q.Ranks {
		if !(r >= 0 && r <= 1) {
			return fmt.Errorf("market: quantile rank %v outside [0, 1]", r)
		}
	}
	if q.MaxCategories == 0 {
		q.MaxCategories = 1
	}
	if q.MaxOrdersPerCategory == 0 {
		q.MaxOrdersPerCategory = 1
	}
	if q.ValueLower == 0 && q.ValueUpper == 0 {
		q.ValueUpper = 500
	}
	if q.MaxWeekCategories == 0 {
		q.MaxWeekCategories = 4
	}
	if q.MaxWeeklyQuantity == 0 {
		q.MaxWeeklyQuantity = 100
	}
	if q.MaxCategories < 1 || q.MaxOrdersPerCategory < 1 || q.MaxWeekCategories < 1 || !(q.ValueUpper > q.ValueLower) || !(q.MaxWeeklyQuantity > 0) {
		return fmt.Errorf("market: invalid contribution bounds in query")
	}
	for _, e := range []float64{q.EpsSegments, q.EpsQuantiles, q.EpsDemand} {
		if !(e >= 0) || math.IsInf(e, 0) {
			return fmt.Errorf("market: invalid ε %v", e)
		}
	}
	if q.EpsSegments+q.EpsQuantiles+q.EpsDemand == 0 {
		return fmt.Errorf("market: query releases nothing (every ε is 0)")
	}
	return nil
}

// Spends returns what the query charges one tenant: one Spend per computed
// statistic (Laplace noise: δ = 0), customer-level.
func (q Query) Spends() []Spend {
	var ss []Spend
	for _, s := range []struct {
		n string
		e float64
	}{{ReleaseSegments, q.EpsSegments}, {ReleaseQuantiles, q.EpsQuantiles}, {ReleaseDemand, q.EpsDemand}} {
		if s.e > 0 {
			ss = append(ss, Spend{Release: s.n, Unit: "customer", Epsilon: s.e})
		}
	}
	return ss
}

// TenantRelease is what one tenant sends: every number already carries its
// own DP noise.
type TenantRelease struct {
	Tenant    string
	Segments  map[string]float64       // noisy customers per segment
	Counts    map[string]float64       // noisy number of order values per category
	Quantiles map[string][]float64     // order-value quantiles per category at Query.Ranks
	Demand    map[WeekCategory]float64 // noisy summed quantity per (week, category)
	Spends    []Spend
}

func set(xs []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// Release computes one tenant's privatised statistics on its own records.
// It first charges q.Spends() to budget (and refuses if the budget would be
// exceeded), then bounds each customer's contributions (partitions sampled
// with rng, values clamped) and releases noisy aggregates with dpagg's
// Laplace mechanism. dpagg draws its noise from crypto/rand itself; rng is
// used only for contribution bounding.
func Release(tenant string, rs []Record, q Query, budget *Budget, rng *mrand.Rand) (*TenantRelease, error) {
	if err := q.fill(); err != nil {
		return nil, err
	}
	spends := q.Spends()
	if err := budget.Charge(spends...); err != nil {
		return nil, fmt.Errorf("market: tenant %s: %w", tenant, err)
	}
	out := &TenantRelease{Tenant: tenant, Spends: spends}
	segs, cats := set(q.Segments), set(q.Categories)
	segParts := append(append([]string(nil), q.Segments...), Other)
	catParts := append(append([]string(nil), q.Categories...), Other)
	if q.EpsSegments > 0 {
		out.Segments = map[string]float64{}
		cs := customerSegments(rs, segs)
		for _, s := range segParts {
			c, err := dpagg.NewCount(&dpagg.CountOptions{Epsilon: q.EpsSegments, MaxPartitionsContributed: 1})
			if err != nil {
				return nil, fmt.Errorf("market: %w", err)
			}
			for _, cs := range cs {
				if cs == s {
					c.Increment()
				}
			}
			v, err := c.Result()
			if err != nil {
				return nil, fmt.Errorf("market: %w", err)
			}
			out.Segments[s] = float64(v)
		}
	}
	if q.EpsQuantiles > 0 {
		if err := quantiles(out, rs, q, cats, catParts, rng); err != nil {
			return nil, err
		}
	}
	if q.EpsDemand > 0 {
		if err := demand(out, rs, q, cats, catParts, rng); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func quantiles(out *TenantRelease, rs []Record, q Query, cats map[string]bool, catParts []string, rng *mrand.Rand) error {
	eps := q.EpsQuantiles / 2
	trees := map[string]*dpagg.BoundedQuantiles{}
	counts := map[string]*dpagg.BoundedSumInt64{}
	for _, c := range catParts {
		t, err := dpagg.NewBoundedQuantiles(&dpagg.BoundedQuantilesOptions{Epsilon: eps, MaxPartitionsContributed: q.MaxCategories,
			MaxContributionsPerPartition: q.MaxOrdersPerCategory, Lower: logValue(q.ValueLower), Upper: logValue(q.ValueUpper),
			TreeHeight: quantileTreeHeight, BranchingFactor: quantileBranching})
		if err != nil {
			return fmt.Errorf("market: %w", err)
		}
		n, err := dpagg.NewBoundedSumInt64(&dpagg.BoundedSumInt64Options{Epsilon: eps, MaxPartitionsContributed: q.MaxCategories, Lower: 0, Upper: q.MaxOrdersPerCategory})
		if err != nil {
			return fmt.Errorf("market: %w", err)
		}
		trees[c], counts[c] = t, n
	}
	for _, byCat := range sortedCustomers(orderValues(rs, cats)) {
		keys := make([]string, 0, len(byCat))
		for c := range byCat {
			keys = append(keys, c)
		}
		for _, c := range sampleKeys(keys, int(q.MaxCategories), func(a, b string) bool { return a < b }, rng) {
			vals := byCat[c]
			if int64(len(vals)) > q.MaxOrdersPerCategory {
				rng.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
				vals = vals[:q.MaxOrdersPerCategory]
			}
			for _, v := range vals {
				trees[c].Add(logValue(min(q.ValueUpper, max(q.ValueLower, v))))
			}
			counts[c].Add(int64(len(vals)))
		}
	}
	out.Counts, out.Quantiles = map[string]float64{}, map[string][]float64{}
	for _, c := range catParts {
		n, err := counts[c].Result()
		if err != nil {
			return fmt.Errorf("market: %w", err)
		}
		out.Counts[c] = float64(n)
		for _, r := range q.Ranks {
			v, err := trees[c].Result(r)
			if err != nil {
				return fmt.Errorf("market: %w", err)
			}
			out.Quantiles[c] = append(out.Quantiles[c], expValue(v))
		}
	}
	return nil
}

// Order values are heavy-tailed, so the quantile tree works on
// sign(v)·log1p(|v|): its leaves then have a constant relative width.
// A shallow tree (100 leaves) keeps the noise of the empty nodes, which the
// tree clamps to ≥ 0 and so adds up to spurious mass, small when a category
// has only tens of customers per tenant.
const (
	quantileTreeHeight = 2
	quantileBranching  = 10
)

func logValue(v float64) float64 {
	if v < 0 {
		return -math.Log1p(-v)
	}
	return math.Log1p(v)
}

func expValue(v float64) float64 {
	if v < 0 {
		return -math.Expm1(-v)
	}
	return math.Expm1(v)
}

func demand(out *TenantRelease, rs []Record, q Query, cats map[string]bool, catParts []string, rng *mrand.Rand) error {
	sums := map[WeekCategory]*dpagg.BoundedSumFloat64{}
	for _, w := range q.Weeks {
		for _, c := range catParts {
			s, err := dpagg.NewBoundedSumFloat64(&dpagg.BoundedSumFloat64Options{Epsilon: q.EpsDemand, MaxPartitionsContributed: q.MaxWeekCategories,
				Lower: 0, Upper: q.MaxWeeklyQuantity})
			if err != nil {
				return fmt.Errorf("market: %w", err)
			}
			sums[WeekCategory{w, c}] = s
		}
	}
	weeks := map[int]bool{}
	for _, w := range q.Weeks {
		weeks[w] = true
	}
	less := func(a, b WeekCategory) bool {
		if a.Week != b.Week {
			return a.Week < b.Week
		}
		return a.Category < b.Category
	}
	for _, byKey := range sortedCustomers(weeklyQuantities(rs, cats, weeks)) {
		keys := make([]WeekCategory, 0, len(byKey))
		for k := range byKey {
			keys = append(keys, k)
		}
		for _, k := range sampleKeys(keys, int(q.MaxWeekCategories), less, rng) {
			sums[k].Add(byKey[k]) // clamped to [0, MaxWeeklyQuantity] by dpagg
		}
	}
	out.Demand = map[WeekCategory]float64{}
	for k, s := range sums {
		v, err := s.Result()
		if err != nil {
			return fmt.Errorf("market: %w", err)
		}
		out.Demand[k] = v
	}
	return nil
}

// sortedCustomers returns the map's values in customer order, so that the
// use of rng does not depend on map iteration order.
func sortedCustomers[V any](m map[string]V) []V {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	out := make([]V, len(ks))
	for i, k := range ks {
		out[i] = m[k]
	}
	return out
}
