package task

import (
	"context"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/protocol"
)

// A tenant with more held-out customers than the announced bound allows
// starts, evaluates exactly the cap (MaxEvalUnits) and keeps every
// statistic inside the bound the coordinator enforces; adding or removing
// any one customer at the cap changes at most L0 entries by at most LInf
// (a swap of one evaluated customer for another, or one customer more or
// less), the bounds the kind's noise is calibrated to. Before, a tenant
// with more than 10⁶ held-out rows failed to start (its size decided
// whether it took part) and the learner ignored the announced bound.
func TestForecastEvalCapAtBoundary(t *testing.T) {
	ctx := context.Background()
	epoch := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	sale := func(week int, cust, prod string, q float64) forecast.Transaction {
		return forecast.Transaction{Time: epoch.AddDate(0, 0, 7*week+1), Customer: cust, Product: prod, Description: "p " + prod, Quantity: q, UnitPrice: 1}
	}
	var tx []forecast.Transaction
	for c := range 12 {
		for w := range 6 {
			tx = append(tx, sale(w, fmt.Sprintf("c%02d", c), fmt.Sprintf("1%04d", c%4), float64(1+(c*w)%7)))
		}
	}
	cal, err := forecast.CalendarOf(tx)
	if err != nil {
		t.Fatal(err)
	}
	spec, _, err := ForecastSpec("cap", nil, forecast.Setup{Calendar: cal, Holdout: 2, TextDim: -1}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := SetEvalBound(&spec, 6); err != nil {
		t.Fatal(err)
	}
	capUnits, err := MaxEvalUnits(spec)
	if err != nil || capUnits != 5 {
		t.Fatalf("cap %d, %v; want 5 (nine tenths of 6)", capUnits, err)
	}
	bound, _ := protocol.EvalBound(spec)
	stats := func(tx []forecast.Transaction) []int64 {
		t.Helper()
		l, err := NewForecast(nil, tx, nil)(ctx, spec)
		if err != nil {
			t.Fatalf("a tenant of %d order lines does not start: %v", len(tx), err)
		}
		s, err := l.EvalStats()
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range s {
			if v < 0 || v > bound {
				t.Fatalf("statistic %d = %d outside the announced bound %d", i, v, bound)
			}
		}
		return s
	}
	full := stats(tx)
	if full[0] != capUnits*ForecastUnit {
		t.Fatalf("%d customers evaluated, want the cap %d", full[0]/ForecastUnit, capUnits)
	}
	k, _ := Lookup(KindForecast)
	check := func(what string, a, b []int64) {
		t.Helper()
		changed := 0
		for i := range a {
			d := a[i] - b[i]
			if d != 0 {
				changed++
			}
			if d > k.LInf || d < -k.LInf {
				t.Errorf("%s: statistic %d changes by %d > LInf %d", what, i, d, k.LInf)
			}
		}
		if int64(changed) > k.L0 {
			t.Errorf("%s: %d statistics change, L0 is %d", what, changed, k.L0)
		}
	}
	swaps := 0
	for c := range 12 {
		id := fmt.Sprintf("c%02d", c)
		without := slices.DeleteFunc(slices.Clone(tx), func(x forecast.Transaction) bool { return x.Customer == id })
		s := stats(without)
		if s[0] == full[0] && !slices.Equal(s, full) {
			swaps++
		}
		check("without "+id, full, s)
	}
	if swaps == 0 {
		t.Error("no removal swapped an evaluated customer: the test does not reach the cap's boundary")
	}
	extra := append(slices.Clone(tx), sale(3, "new", "19999", 50), sale(4, "new", "19999", 60), sale(5, "new", "19999", 70))
	check("with one more customer", full, stats(extra))
	// Below the cap every held-out customer is evaluated.
	if s := stats(tx[:3*6]); s[0] != 3*ForecastUnit {
		t.Errorf("3 customers: %d evaluated", s[0]/ForecastUnit)
	}
}

// One customer's contribution, whatever its rows, counts exactly one
// customer and adds at most ForecastUnit to every other entry: removing
// or adding it changes at most L0 = 4 entries by at most LInf.
func TestForecastCustomerStatsBounds(t *testing.T) {
	r := mrand.New(mrand.NewPCG(7, 8))
	special := []float64{0, -0.0, -5, 1e308, math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat64}
	pick := func() float64 {
		if r.IntN(4) == 0 {
			return special[r.IntN(len(special))]
		}
		return (r.Float64() - 0.2) * math.Pow(10, float64(r.IntN(6)))
	}
	for i := range 5000 {
		clip := []float64{1e-3, 1, 500, 1e4}[i%4]
		n := r.IntN(200)
		pred, y := make([]float64, n), make([]float64, n)
		for j := range n {
			pred[j], y[j] = pick(), pick()
		}
		c, err := ForecastCustomerStats(pred, y, clip)
		if err != nil {
			t.Fatal(err)
		}
		if c[0] != ForecastUnit {
			t.Fatalf("customer of %d rows counts %d", n, c[0])
		}
		for j, v := range c {
			if v < 0 || v > ForecastUnit {
				t.Fatalf("entry %d = %d outside [0, %d] (B=%v, %d rows)", j, v, ForecastUnit, clip, n)
			}
		}
	}
	// Many rows reach the clamp together: 100 rows of error and demand 10
	// at B = 500 are 1000 units, clamped to one ForecastUnit each; Σe² =
	// 10⁴ is 0.04 B².
	pred, y := make([]float64, 100), make([]float64, 100)
	for i := range y {
		y[i] = 10
	}
	if c, _ := ForecastCustomerStats(pred, y, 500); c != [4]int64{ForecastUnit, ForecastUnit, 40_000, ForecastUnit} {
		t.Fatalf("clamped customer %v", c)
	}
	if _, err := ForecastCustomerStats([]float64{1}, nil, 500); err == nil {
		t.Error("length mismatch accepted")
	}
}
