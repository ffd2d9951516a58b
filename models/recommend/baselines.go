package recommend

import (
	"fmt"
	"time"

	"github.com/fedb2b/fedb2b/models/forecast"
)

// HoldoutCut returns the start of the last weeks of the transactions'
// calendar: purchases from then on are held back for evaluation.
func HoldoutCut(tx []forecast.Transaction, weeks int) (time.Time, error) {
	cal, err := forecast.CalendarOf(tx)
	if err != nil {
		return time.Time{}, fmt.Errorf("recommend: %w", err)
	}
	if weeks < 1 || weeks >= cal.Weeks {
		return time.Time{}, fmt.Errorf("recommend: hold-out of %d weeks does not fit %d weeks of data", weeks, cal.Weeks)
	}
	return cal.Start(cal.Weeks - weeks), nil
}

// Baselines are model-free rankings of the evaluated customers (those with
// purchases before and after the cut), pooled over tenants.
type Baselines struct {
	Popularity       Ranking // the tenant's own popularity (what a tenant can do alone)
	GlobalPopularity Ranking // popularity over all tenants (needs pooled data; a reference)
	Repeat           Ranking // the customer's earlier purchases first, then the tenant's popularity (a reference)
	// OwnOrders ranks by the customer's own order history only (days it
	// ordered each product; TenantData.OrderScores): no model, nothing from
	// other customers.
	OwnOrders Ranking
	// OwnRecent ranks by the customer's recency-weighted order history
	// only (TenantData.HistoryScores at the given half-life): the
	// history part of the task's ranking without any model.
	OwnRecent Ranking
}

// ComputeBaselines ranks every evaluated customer of tds over a catalog of
// n products, at k (OwnRecent with the given half-life in days).
func ComputeBaselines(tds []*TenantData, n, k int, halfLife float64) Baselines {
	b := Baselines{Popularity: Ranking{K: k}, GlobalPopularity: Ranking{K: k}, Repeat: Ranking{K: k}, OwnOrders: Ranking{K: k}, OwnRecent: Ranking{K: k}}
	pops := make([][]float64, len(tds))
	global := make([]float64, n)
	for i, td := range tds {
		pops[i] = td.Popularity(n)
		for p, v := range pops[i] {
			global[p] += v
		}
	}
	glob := TopK(global, k)
	for i, td := range tds {
		local := TopK(pops[i], k)
		for c, rel := range td.Test {
			if len(rel) == 0 {
				continue
			}
			b.Popularity.Add(local, rel)
			b.GlobalPopularity.Add(glob, rel)
			b.Repeat.Add(TopK(RepeatScores(td.Train[c], pops[i]), k), rel)
			b.OwnOrders.Add(TopK(td.OrderScores(c, n), k), rel)
			b.OwnRecent.Add(TopK(td.HistoryScores(c, n, halfLife), k), rel)
		}
	}
	return b
}
