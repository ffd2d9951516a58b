package aggregation

import (
	"errors"
	"math"
	"testing"
)

func TestFedAvgIsWeightedMean(t *testing.T) {
	global := []float64{1, 2}
	// client a: w=1, Δ=(2,0); client b: w=3, Δ=(−2,4) → mean Δ = (−1, 3).
	agg := Aggregate{WeightedSum: []float64{1*2 + 3*-2, 1*0 + 3*4}, TotalWeight: 4, Clients: 2}
	got, err := (&FedAvg{}).AggregateFit(1, global, agg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 5}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if global[0] != 1 || global[1] != 2 {
		t.Fatal("AggregateFit modified global")
	}
}

func TestFedAdamFirstStep(t *testing.T) {
	f := &FedAdam{Eta: 0.1, Beta1: 0.9, Beta2: 0.99, Tau: 1e-3}
	global := []float64{0, 0}
	agg := Aggregate{WeightedSum: []float64{2, -4}, TotalWeight: 2, Clients: 1}
	got, err := f.AggregateFit(1, global, agg, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Δ = (1, −2): m = 0.1Δ, v = 0.01Δ², step = 0.1·0.1Δ/(0.1|Δ|+1e-3).
	for i, d := range []float64{1, -2} {
		want := 0.1 * 0.1 * d / (0.1*math.Abs(d) + 1e-3)
		if math.Abs(got[i]-want) > 1e-12 {
			t.Fatalf("coordinate %d: got %v want %v", i, got[i], want)
		}
	}
	// Second identical step moves further in the same direction.
	got2, _ := f.AggregateFit(2, got, agg, nil)
	if !(got2[0] > got[0] && got2[1] < got[1]) {
		t.Fatalf("second step did not continue: %v -> %v", got, got2)
	}
}

func TestAggregateRejectsBadInput(t *testing.T) {
	cases := []struct {
		name string
		agg  Aggregate
	}{
		{"empty", Aggregate{WeightedSum: []float64{0}, TotalWeight: 0, Clients: 0}},
		{"length", Aggregate{WeightedSum: []float64{1, 2, 3}, TotalWeight: 1, Clients: 1}},
		{"nan", Aggregate{WeightedSum: []float64{math.NaN(), 0}, TotalWeight: 1, Clients: 1}},
		{"inf weight", Aggregate{WeightedSum: []float64{0, 0}, TotalWeight: math.Inf(1), Clients: 1}},
	}
	for _, c := range cases {
		for _, s := range []Strategy{&FedAvg{}, &FedAdam{}} {
			if _, err := s.AggregateFit(1, []float64{0, 0}, c.agg, nil); err == nil {
				t.Errorf("%s/%s: no error", s.Name(), c.name)
			}
		}
	}
	if _, err := (&FedAvg{}).AggregateFit(1, []float64{0}, Aggregate{WeightedSum: []float64{0}}, nil); !errors.Is(err, ErrEmptyRound) {
		t.Errorf("empty round: got %v", err)
	}
}
