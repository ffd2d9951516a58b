package market

import (
	mrand "math/rand/v2"
	"sort"
)

// Record is one order line of a tenant, reduced to what market statistics
// need. Customer is the privacy unit.
type Record struct {
	Customer string
	Segment  string  // the customer's segment (e.g. industry); "" if unknown
	Category string  // product category
	Order    string  // order (invoice) id: lines of one order share it
	Week     int     // week index in the shared calendar
	Value    float64 // line value in currency units (quantity × unit price)
	Quantity float64 // units
}

// Other is the partition that collects segments and categories outside the
// public lists.
const Other = "OTHER"

func public(v string, set map[string]bool) string {
	if set[v] {
		return v
	}
	return Other
}

// customerSegments returns each customer's segment: its most frequent
// public segment (ties to the smaller name), so a customer contributes to
// exactly one segment partition.
func customerSegments(rs []Record, segs map[string]bool) map[string]string {
	cnt := map[string]map[string]int{}
	for _, r := range rs {
		if cnt[r.Customer] == nil {
			cnt[r.Customer] = map[string]int{}
		}
		cnt[r.Customer][public(r.Segment, segs)]++
	}
	out := make(map[string]string, len(cnt))
	for c, m := range cnt {
		best, bn := "", -1
		for s, n := range m {
			if n > bn || (n == bn && s < best) {
				best, bn = s, n
			}
		}
		out[c] = best
	}
	return out
}

// orderValues returns, per customer, the values of its (order, category)
// pairs: the sum of the lines of one category in one order.
func orderValues(rs []Record, cats map[string]bool) map[string]map[string][]float64 {
	type key struct{ cust, order, cat string }
	sum := map[key]float64{}
	var keys []key
	for _, r := range rs {
		k := key{r.Customer, r.Order, public(r.Category, cats)}
		if _, ok := sum[k]; !ok {
			keys = append(keys, k)
		}
		sum[k] += r.Value
	}
	out := map[string]map[string][]float64{}
	for _, k := range keys {
		if out[k.cust] == nil {
			out[k.cust] = map[string][]float64{}
		}
		out[k.cust][k.cat] = append(out[k.cust][k.cat], sum[k])
	}
	return out
}

// weeklyQuantities returns, per customer, its summed quantity per
// (week, category) partition.
func weeklyQuantities(rs []Record, cats map[string]bool, weeks map[int]bool) map[string]map[WeekCategory]float64 {
	out := map[string]map[WeekCategory]float64{}
	for _, r := range rs {
		if !weeks[r.Week] || r.Quantity <= 0 {
			continue
		}
		k := WeekCategory{r.Week, public(r.Category, cats)}
		if out[r.Customer] == nil {
			out[r.Customer] = map[WeekCategory]float64{}
		}
		out[r.Customer][k] += r.Quantity
	}
	return out
}

// WeekCategory is a partition of the weekly-demand statistic.
type WeekCategory struct {
	Week     int
	Category string
}

// sampleKeys returns at most k of keys, chosen uniformly at random (all of
// them, sorted, if there are at most k): the contribution bound on the
// number of partitions one customer touches.
func sampleKeys[K any](keys []K, k int, less func(a, b K) bool, rng *mrand.Rand) []K {
	sort.Slice(keys, func(i, j int) bool { return less(keys[i], keys[j]) })
	if len(keys) <= k {
		return keys
	}
	rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	keys = keys[:k]
	sort.Slice(keys, func(i, j int) bool { return less(keys[i], keys[j]) })
	return keys
}
