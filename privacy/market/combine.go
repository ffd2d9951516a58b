package market

import (
	"fmt"
	"math"
	"sort"
)

// Result is the cross-tenant market view assembled from the tenants'
// privatised releases (post-processing only: no further privacy cost).
type Result struct {
	Tenants             int
	CustomersPerSegment map[string]float64   // Σ of tenants' noisy counts, clamped at 0
	Ranks               []float64            // quantile ranks
	OrderValueQuantiles map[string][]float64 // per category, at Ranks
	Weeks               []int
	WeeklyDemand        map[string][]float64 // per category, one value per week of Weeks, clamped at 0
}

// Combine merges tenant releases for query q: counts and sums add up;
// quantiles are those of the mixture of the tenants' distributions, each
// tenant's CDF interpolated linearly through its released quantiles and
// weighted by its noisy value count. A customer of two tenants counts
// twice: the statistics are over (tenant, customer) relationships.
func Combine(q Query, rels []*TenantRelease) (*Result, error) {
	if err := q.fill(); err != nil {
		return nil, err
	}
	res := &Result{Tenants: len(rels), Ranks: q.Ranks, Weeks: q.Weeks,
		CustomersPerSegment: map[string]float64{}, OrderValueQuantiles: map[string][]float64{}, WeeklyDemand: map[string][]float64{}}
	cats := append(append([]string(nil), q.Categories...), Other)
	for _, r := range rels {
		for s, v := range r.Segments {
			res.CustomersPerSegment[s] += v
		}
		for k, v := range r.Demand {
			d := res.WeeklyDemand[k.Category]
			if d == nil {
				d = make([]float64, len(q.Weeks))
				res.WeeklyDemand[k.Category] = d
			}
			for i, w := range q.Weeks {
				if w == k.Week {
					d[i] += v
				}
			}
		}
	}
	for s, v := range res.CustomersPerSegment {
		res.CustomersPerSegment[s] = math.Max(0, v)
	}
	for _, d := range res.WeeklyDemand {
		for i, v := range d {
			d[i] = math.Max(0, v)
		}
	}
	if q.EpsQuantiles > 0 {
		for _, c := range cats {
			var cdfs []cdf
			for _, r := range rels {
				qs, ok := r.Quantiles[c]
				if !ok {
					continue
				}
				if len(qs) != len(q.Ranks) {
					return nil, fmt.Errorf("market: tenant %s sent %d quantiles for %q, want %d", r.Tenant, len(qs), c, len(q.Ranks))
				}
				if w := r.Counts[c]; w > 0 {
					cdfs = append(cdfs, newCDF(q.Ranks, qs, q.ValueLower, q.ValueUpper, w))
				}
			}
			if len(cdfs) == 0 {
				continue
			}
			for _, rank := range q.Ranks {
				res.OrderValueQuantiles[c] = append(res.OrderValueQuantiles[c], mixtureQuantile(cdfs, rank, q.ValueLower, q.ValueUpper))
			}
		}
	}
	return res, nil
}

// cdf is a piecewise-linear CDF through (lower, 0), (x_i, p_i), (upper, 1).
type cdf struct {
	x, p   []float64
	weight float64
}

func newCDF(ranks, qs []float64, lower, upper, w float64) cdf {
	type pt struct{ p, x float64 }
	pts := []pt{{0, lower}}
	for i, r := range ranks {
		pts = append(pts, pt{r, math.Min(upper, math.Max(lower, qs[i]))})
	}
	pts = append(pts, pt{1, upper})
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].p < pts[j].p })
	c := cdf{weight: w}
	for i, q := range pts {
		x := q.x
		if i > 0 && x < c.x[i-1] {
			x = c.x[i-1] // noisy quantiles may be out of order
		}
		c.x, c.p = append(c.x, x), append(c.p, q.p)
	}
	return c
}

// at evaluates the CDF at v.
func (c cdf) at(v float64) float64 {
	if v < c.x[0] {
		return 0
	}
	for i := 1; i < len(c.x); i++ {
		if v < c.x[i] {
			return c.p[i-1] + (c.p[i]-c.p[i-1])*(v-c.x[i-1])/(c.x[i]-c.x[i-1])
		}
	}
	return 1
}

// mixtureQuantile returns the smallest v (to 1e-9 of the range) with
// Σ w_t F_t(v) / Σ w_t ≥ rank, by bisection.
func mixtureQuantile(cs []cdf, rank, lower, upper float64) float64 {
	var tw float64
	for _, c := range cs {
		tw += c.weight
	}
	f := func(v float64) float64 {
		var s float64
		for _, c := range cs {
			s += c.weight * c.at(v)
		}
		return s / tw
	}
	lo, hi := lower, upper
	for i := 0; i < 100 && hi-lo > 1e-9*(upper-lower); i++ {
		m := (lo + hi) / 2
		if f(m) >= rank {
			hi = m
		} else {
			lo = m
		}
	}
	return hi
}
