package market

import (
	"sort"
)

// Exact computes the statistics of q on pooled records without noise and
// without contribution bounds (value clamping aside), for evaluating a
// release in a simulation. It is not private: never release its output.
func Exact(rs []Record, q Query) (*Result, error) {
	if err := q.fill(); err != nil {
		return nil, err
	}
	segs, cats := set(q.Segments), set(q.Categories)
	res := &Result{Ranks: q.Ranks, Weeks: q.Weeks, CustomersPerSegment: map[string]float64{},
		OrderValueQuantiles: map[string][]float64{}, WeeklyDemand: map[string][]float64{}}
	for _, s := range customerSegments(rs, segs) {
		res.CustomersPerSegment[s]++
	}
	vals := map[string][]float64{}
	for _, byCat := range orderValues(rs, cats) {
		for c, vs := range byCat {
			for _, v := range vs {
				vals[c] = append(vals[c], min(q.ValueUpper, max(q.ValueLower, v)))
			}
		}
	}
	for c, vs := range vals {
		sort.Float64s(vs)
		for _, r := range q.Ranks {
			i := int(r * float64(len(vs)-1))
			res.OrderValueQuantiles[c] = append(res.OrderValueQuantiles[c], vs[i])
		}
	}
	idx, weeks := map[int]int{}, map[int]bool{}
	for i, w := range q.Weeks {
		idx[w], weeks[w] = i, true
	}
	for _, byKey := range weeklyQuantities(rs, cats, weeks) {
		for k, v := range byKey {
			d := res.WeeklyDemand[k.Category]
			if d == nil {
				d = make([]float64, len(q.Weeks))
				res.WeeklyDemand[k.Category] = d
			}
			d[idx[k.Week]] += v
		}
	}
	return res, nil
}
