package market

import (
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/privacy"
)

// TestRetailExperiment measures the error of the combined DP statistics
// against the exact ones when FEDB2B_RETAIL points to the shared
// online_retail transactions.csv (5 tenants by customer hash).
func TestRetailExperiment(t *testing.T) {
	path := os.Getenv("FEDB2B_RETAIL")
	if path == "" {
		t.Skip("FEDB2B_RETAIL not set")
	}
	tx, _, err := forecast.LoadTransactionsFile(path, forecast.OnlineRetailColumns())
	if err != nil {
		t.Fatal(err)
	}
	cal, _ := forecast.CalendarOf(tx)
	cats := strings.Split("BAG,BOX,CANDLE,CARD,CASES,HOLDER,LIGHTS,MUG,SIGN,BOTTLE,BOWL,DECORATION,CLOCK,CUSHION,BUNTING", ",")
	q := Query{Segments: strings.Split("United Kingdom,Germany,France,EIRE,Spain,Netherlands,Belgium,Switzerland,Portugal,Australia", ","),
		Categories: cats, EpsSegments: 0.5, EpsQuantiles: 0.5, EpsDemand: 1}
	for w := cal.Weeks - 8; w < cal.Weeks; w++ {
		q.Weeks = append(q.Weeks, w)
	}
	const tenants = 5
	parts := make([][]Record, tenants)
	var all []Record
	for _, x := range tx {
		h := fnv.New64a()
		h.Write([]byte(x.Customer))
		cat := Other
		for _, c := range cats {
			if strings.Contains(" "+x.Description+" ", " "+c+" ") {
				cat = c
				break
			}
		}
		r := Record{Customer: x.Customer, Segment: x.Country, Category: cat, Order: x.Customer + x.Time.String(), Week: cal.Index(x.Time), Value: x.Quantity * x.UnitPrice, Quantity: x.Quantity}
		parts[h.Sum64()%tenants] = append(parts[h.Sum64()%tenants], r)
		all = append(all, r)
	}
	var rels []*TenantRelease
	for i, p := range parts {
		b, _ := NewBudget(2, 0)
		rng, _ := privacy.NewRand(privacy.SeededReader(uint64(i)))
		rel, err := Release(fmt.Sprint(i), p, q, b, rng)
		if err != nil {
			t.Fatal(err)
		}
		rels = append(rels, rel)
	}
	got, _ := Combine(q, rels)
	want, _ := Exact(all, q)
	var segErr, segTot float64
	for s, v := range want.CustomersPerSegment {
		segErr += math.Abs(got.CustomersPerSegment[s] - v)
		segTot += v
	}
	t.Logf("customers per segment: Σ|err|/Σ = %.3f (Σ = %.0f)", segErr/segTot, segTot)
	var qErr float64
	n := 0
	for c, w := range want.OrderValueQuantiles {
		t.Logf("  %-10s exact %v dp %v", c, fmtv(w), fmtv(got.OrderValueQuantiles[c]))
		for i := range w {
			qErr += math.Abs(got.OrderValueQuantiles[c][i] - w[i])
			n++
		}
	}
	t.Logf("order-value quantiles: mean |err| = %.2f GBP", qErr/float64(n))
	var dErr, dTot float64
	for c, w := range want.WeeklyDemand {
		for i := range w {
			dErr += math.Abs(got.WeeklyDemand[c][i] - w[i])
			dTot += w[i]
		}
	}
	t.Logf("weekly demand: Σ|err|/Σ = %.3f (Σ = %.0f units)", dErr/dTot, dTot)
}

func fmtv(v []float64) string {
	var b strings.Builder
	for _, x := range v {
		fmt.Fprintf(&b, " %6.1f", x)
	}
	return b.String()
}
