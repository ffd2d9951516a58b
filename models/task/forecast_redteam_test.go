package task

import (
	"context"
	"math"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/forecast"
)

// TestRedteamForecastLearnerHostileHuber runs the forecast learner as a
// client does, on a task a hostile coordinator announces: the Huber head
// (option quantile -1) and a global model with +MaxFloat64 on the 4-week
// mean and −MaxFloat64 on the 8-week mean. For a customer with large
// orders w·x = +Inf − Inf = NaN. Before the fix the NaN gradient passed
// TrainUnits' clip and Train failed ("training diverged") iff the big
// customer was in the data; a failed Train stops the tenant's round, so
// the missing update identified the customer (forecast.TrainUnits now
// drops a non-finite unit gradient, privacy.ClipL2). Here: the learner
// with and without the big customer must both train without error.
func TestRedteamForecastLearnerHostileHuber(t *testing.T) {
	ctx := context.Background()
	epoch := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	sale := func(week int, cust, prod string, q float64) forecast.Transaction {
		return forecast.Transaction{Time: epoch.AddDate(0, 0, 7*week+1), Customer: cust, Product: prod, Description: "p " + prod, Quantity: q, UnitPrice: 1}
	}
	var small []forecast.Transaction
	for w := range 8 {
		small = append(small, sale(w, "a", "10001", float64(1+w%3)), sale(w, "b", "10002", float64(2*(w%2))))
	}
	big := append([]forecast.Transaction(nil), small...)
	for w := range 8 {
		big = append(big, sale(w, "big", "10003", 5000))
	}
	cal, err := forecast.CalendarOf(big)
	if err != nil {
		t.Fatal(err)
	}
	spec, initial, err := ForecastSpec("hostile", nil, forecast.Setup{Calendar: cal, Holdout: 2, TextDim: -1, Quantile: -1}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := SetExpectedBatch(&spec, 2); err != nil {
		t.Fatal(err)
	}
	hostile := append([]float64(nil), initial...)
	hostile[5], hostile[6] = math.MaxFloat64, -math.MaxFloat64
	cfg := models.TrainConfig{Steps: 4, LearningRate: 0.1, Private: true, SampleRate: 1, ClipNorm: 1, NoiseMultiplier: 1, ExpectedBatch: 2}
	rng := mrand.New(mrand.NewPCG(5, 6))
	for _, d := range []struct {
		name string
		tx   []forecast.Transaction
	}{{"without the big customer", small}, {"with the big customer", big}} {
		l, err := NewForecast(nil, d.tx, nil)(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.SetParams(hostile); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Train(cfg, rng); err != nil {
			t.Errorf("%s: training fails (%v): whether the update is sent depends on one customer", d.name, err)
		}
	}
}
