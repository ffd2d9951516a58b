package market

import (
	"math"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

func TestBudgetCharges(t *testing.T) {
	b, err := NewBudget(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Charge(Spend{Release: "a", Epsilon: 0.4}, Spend{Release: "b", Epsilon: 0.4}); err != nil {
		t.Fatal(err)
	}
	err = b.Charge(Spend{Release: "c", Epsilon: 0.1}, Spend{Release: "d", Epsilon: 0.2})
	if err == nil || !strings.Contains(err.Error(), "budget exceeded") {
		t.Fatalf("over-budget charge: %v", err)
	}
	if eps, _ := b.Spent(); math.Abs(eps-0.8) > 1e-12 || len(b.Spends()) != 2 {
		t.Fatalf("after refusal: ε=%v spends %v (nothing of the refused charge may be recorded)", eps, b.Spends())
	}
	if err := b.Charge(Spend{Epsilon: 0.2}); err != nil {
		t.Fatalf("exactly exhausting the budget: %v", err)
	}
	if err := b.Charge(Spend{Epsilon: -1}); err == nil {
		t.Fatal("negative ε accepted")
	}
	if _, err := NewBudget(0, 0); err == nil {
		t.Fatal("zero budget accepted")
	}
}

func TestContributionBounding(t *testing.T) {
	rs := []Record{
		{Customer: "a", Segment: "retail", Category: "MUG", Order: "1", Value: 10, Week: 1, Quantity: 5},
		{Customer: "a", Segment: "retail", Category: "MUG", Order: "1", Value: 5, Week: 1, Quantity: 3},
		{Customer: "a", Segment: "hotel", Category: "BAG", Order: "2", Value: 7, Week: 2, Quantity: 1},
		{Customer: "a", Segment: "retail", Category: "LAMP", Order: "2", Value: 1, Week: 2, Quantity: -4},
		{Customer: "b", Segment: "zoo", Category: "MUG", Order: "3", Value: 2, Week: 1, Quantity: 2},
	}
	segs := customerSegments(rs, set([]string{"retail", "hotel"}))
	if segs["a"] != "retail" || segs["b"] != Other {
		t.Fatalf("segments %v", segs)
	}
	ov := orderValues(rs, set([]string{"MUG", "BAG"}))
	if v := ov["a"]["MUG"]; len(v) != 1 || v[0] != 15 {
		t.Fatalf("order values of a: %v", ov["a"])
	}
	if v := ov["a"][Other]; len(v) != 1 || v[0] != 1 {
		t.Fatalf("LAMP goes to Other: %v", ov["a"])
	}
	wq := weeklyQuantities(rs, set([]string{"MUG"}), map[int]bool{1: true, 2: true})
	if wq["a"][WeekCategory{1, "MUG"}] != 8 || wq["a"][WeekCategory{2, Other}] != 1 || len(wq["a"]) != 2 {
		t.Fatalf("weekly quantities %v (returns are not demand)", wq["a"])
	}
	rng, _ := privacy.NewRand(privacy.SeededReader(1))
	keys := sampleKeys([]int{5, 3, 9, 1, 7}, 2, func(a, b int) bool { return a < b }, rng)
	if len(keys) != 2 || keys[0] > keys[1] {
		t.Fatalf("sampled keys %v", keys)
	}
	if all := sampleKeys([]int{3, 1}, 5, func(a, b int) bool { return a < b }, rng); all[0] != 1 || all[1] != 3 {
		t.Fatalf("keys under the bound must all be kept, sorted: %v", all)
	}
}

func TestMixtureQuantileHandComputed(t *testing.T) {
	// A: median 20 on [0,100]; B: median 80. F_A(50) = 0.5+0.5·30/80,
	// F_B(50) = 0.5·50/80: their mean is exactly 0.5, so the mixture median
	// is 50.
	a := newCDF([]float64{0.5}, []float64{20}, 0, 100, 1)
	b := newCDF([]float64{0.5}, []float64{80}, 0, 100, 1)
	if m := mixtureQuantile([]cdf{a, b}, 0.5, 0, 100); math.Abs(m-50) > 1e-6 {
		t.Fatalf("mixture median %v, want 50", m)
	}
	u1 := newCDF([]float64{0.5}, []float64{50}, 0, 100, 1)
	u3 := newCDF([]float64{0.5}, []float64{50}, 0, 100, 3)
	if m := mixtureQuantile([]cdf{u1, u3}, 0.25, 0, 100); math.Abs(m-25) > 1e-6 {
		t.Fatalf("uniform mixture 0.25-quantile %v, want 25", m)
	}
	// Out-of-order noisy quantiles are made monotone.
	c := newCDF([]float64{0.25, 0.75}, []float64{60, 40}, 0, 100, 1)
	if math.Abs(c.at(30)-0.125) > 1e-12 || c.at(60) != 0.75 || c.at(100) != 1 || c.at(-1) != 0 {
		t.Fatalf("monotone cdf: %v %v", c.x, c.p)
	}
}

func records() []Record {
	var rs []Record
	cats := []string{"MUG", "BAG", "LAMP"}
	for c := 0; c < 300; c++ {
		cust := string(rune('a'+c%26)) + string(rune('a'+c/26))
		seg := []string{"retail", "hotel"}[c%2]
		for o := 0; o < 3; o++ {
			cat := cats[(c+o)%3]
			rs = append(rs, Record{Customer: cust, Segment: seg, Category: cat, Order: cust + string(rune('0'+o)),
				Week: o, Value: float64(10 * (1 + c%3)), Quantity: 2})
		}
	}
	return rs
}

func TestReleaseAndCombine(t *testing.T) {
	q := Query{Segments: []string{"retail", "hotel"}, Categories: []string{"MUG", "BAG", "LAMP"}, Weeks: []int{0, 1, 2},
		Ranks: []float64{0.5}, EpsSegments: 1e4, EpsQuantiles: 1e4, EpsDemand: 1e4, ValueUpper: 40,
		MaxCategories: 3, MaxOrdersPerCategory: 5, MaxWeekCategories: 10, MaxWeeklyQuantity: 500}
	rs := records()
	var rels []*TenantRelease
	for i := 0; i < 2; i++ {
		b, _ := NewBudget(3e4, 0)
		rng, _ := privacy.NewRand(privacy.SeededReader(uint64(i)))
		rel, err := Release("t", rs[i*450:(i+1)*450], q, b, rng)
		if err != nil {
			t.Fatal(err)
		}
		if eps, delta := b.Spent(); math.Abs(eps-3e4) > 1e-6 || delta != 0 || len(rel.Spends) != 3 {
			t.Fatalf("spent ε=%v δ=%v spends %v", eps, delta, rel.Spends)
		}
		rels = append(rels, rel)
		if _, err := Release("t", rs, q, b, rng); err == nil {
			t.Fatal("release beyond the budget was computed")
		}
	}
	res, err := Combine(q, rels)
	if err != nil {
		t.Fatal(err)
	}
	// 300 customers, half per segment; with ε = 1e4 the Laplace noise is
	// negligible.
	if math.Abs(res.CustomersPerSegment["retail"]-150) > 1 || math.Abs(res.CustomersPerSegment["hotel"]-150) > 1 || res.CustomersPerSegment[Other] > 1 {
		t.Fatalf("segments %v", res.CustomersPerSegment)
	}
	// Each customer buys 2 units in each of weeks 0..2, one category per
	// week; 100 customers per (week, category). Laplace scale per tenant:
	// L0·L∞/ε = 10·500/1e4 = 0.5.
	for _, c := range q.Categories {
		for i, v := range res.WeeklyDemand[c] {
			if math.Abs(v-200) > 6 {
				t.Fatalf("weekly demand %s week %d = %v, want 200", c, i, v)
			}
		}
	}
	// MUG order values are 10, 20, 30 in equal shares: median 20 (within
	// the quantile tree's resolution).
	if m := res.OrderValueQuantiles["MUG"][0]; math.Abs(m-20) > 2 {
		t.Fatalf("MUG median %v, want ≈ 20", m)
	}
	if _, err := Release("t", rs, Query{}, &Budget{Epsilon: 1}, nil); err == nil {
		t.Fatal("query with no statistic accepted")
	}
}
