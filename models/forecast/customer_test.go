package forecast

import (
	"context"
	"math"
	mrand "math/rand/v2"
	"slices"
	"testing"
	"time"
)

func customerTx() (tx []Transaction, cal Calendar) {
	epoch := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(w int) time.Time { return epoch.AddDate(0, 0, 7*w+2) }
	for w := range 8 {
		tx = append(tx,
			Transaction{Time: at(w), Customer: "a", Product: "10001", Quantity: float64(1 + w%3), UnitPrice: 2},
			Transaction{Time: at(w), Customer: "b", Product: "10001", Quantity: float64(5 * (w % 2)), UnitPrice: 2})
		if w%3 == 0 {
			tx = append(tx, Transaction{Time: at(w), Customer: "c", Product: "10002", Quantity: 900, UnitPrice: 1},
				Transaction{Time: at(w), Customer: "c", Product: "10001", Quantity: 400, UnitPrice: 1})
		}
	}
	return tx, Calendar{Epoch: epoch, Weeks: 8}
}

// Removing a customer removes exactly its units and leaves every other
// customer's rows bit for bit as they were: no row mixes customers (the
// product-level series, which do, are not used for training or released
// evaluation).
func TestCustomerUnitsIndependent(t *testing.T) {
	tx, cal := customerTx()
	f, err := NewFeaturizer(nil, 0, 1, cal)
	if err != nil {
		t.Fatal(err)
	}
	prep := func(tx []Transaction) *CustomerData {
		cd, err := PrepareCustomers(context.Background(), f, "t", ByCustomer(tx, cal, false), 2)
		if err != nil {
			t.Fatal(err)
		}
		return cd
	}
	all := prep(tx)
	if all.Customers != 3 || all.Train.Len() != 3 || all.Test.Len() != 3 {
		t.Fatalf("%d customers, %d training and %d held-out units", all.Customers, all.Train.Len(), all.Test.Len())
	}
	noC := slices.DeleteFunc(slices.Clone(tx), func(x Transaction) bool { return x.Customer == "c" })
	without := prep(noC)
	if without.Train.Len() != 2 || without.Test.Len() != 2 {
		t.Fatalf("without c: %d and %d units", without.Train.Len(), without.Test.Len())
	}
	for _, u := range []struct{ a, b *Units }{{&all.Train, &without.Train}, {&all.Test, &without.Test}} {
		for i, id := range u.b.IDs {
			j := slices.Index(u.a.IDs, id)
			xa, ya := u.a.Unit(j)
			xb, yb := u.b.Unit(i)
			if !slices.Equal(ya, yb) || len(xa) != len(xb) {
				t.Fatalf("customer %s's rows change when c is removed", id)
			}
			for r := range xa {
				if !slices.Equal(xa[r], xb[r]) {
					t.Fatalf("customer %s's row %d changes when c is removed", id, r)
				}
			}
		}
	}
	// The aggregated series would have changed: c is most of 10001's demand.
	pa, pb := WeeklySeries(tx, cal, false), WeeklySeries(noC, cal, false)
	if slices.Equal(pa[0].Qty, pb[0].Qty) {
		t.Fatal("test data: removing c does not change the product series")
	}
}

// A unit of many aligned rows moves the parameters by at most C in one
// step of lr 1 over an expected batch of 1 (noise negligible): the clip
// applies to the customer's summed gradient, not to each row (row-level
// clipping would let it move them by rows × C).
func TestTrainUnitsClipsTheUnit(t *testing.T) {
	h := NewHead(numBase)
	h.Tau = 0.5
	var u Units
	row := make([]float64, numBase)
	for i := range row {
		row[i] = 0.5
	}
	x := make([][]float64, 1000)
	y := make([]float64, 1000)
	for i := range x {
		x[i], y[i] = row, 3 // target far above the prediction: every gradient alike
	}
	u.add("big", x, y)
	w0 := slices.Clone(h.W)
	st, err := TrainUnits(h, &u, TrainConfig{Steps: 1, LearningRate: 1, Private: true, SampleRate: 1, ClipNorm: 0.7, NoiseMultiplier: 1e-12, ExpectedBatch: 1}, mrand.New(mrand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	var n2 float64
	for i, v := range h.W {
		n2 += (v - w0[i]) * (v - w0[i])
	}
	if n := math.Sqrt(n2); n > 0.7*(1+1e-6) || n < 0.69 || st.ClippedFraction != 1 || st.Examples != 1000 {
		t.Fatalf("one unit of 1000 rows moved the weights by %v (clip 0.7), stats %+v", n, st)
	}
	// No units at all: the step is noise only, never skipped.
	var empty Units
	w0 = slices.Clone(h.W)
	if _, err := TrainUnits(h, &empty, TrainConfig{Steps: 1, LearningRate: 1, Private: true, SampleRate: 0.5, ClipNorm: 1, NoiseMultiplier: 1, ExpectedBatch: 1}, mrand.New(mrand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	if slices.Equal(w0, h.W) {
		t.Fatal("a tenant without units sent an exactly unchanged model")
	}
	bad := Units{IDs: []string{"a"}, X: x[:2], Y: y[:2], Start: []int{0, 3}}
	if _, err := TrainUnits(h, &bad, TrainConfig{Steps: 1, LearningRate: 1, BatchSize: 1}, mrand.New(mrand.NewPCG(1, 2))); err == nil {
		t.Error("offsets past the rows accepted")
	}
}
