package forecast

import (
	"context"
	"math"
	mrand "math/rand/v2"
	"slices"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
	pe "github.com/fedb2b/fedb2b/privacy/empirical"
)

// TestRedteamForecastNaNCustomerAborts attacks TrainUnits' clip under a
// hostile coordinator: it announces the Huber head (option quantile -1)
// and finite but extreme weights, +MaxFloat64 on the 4-week mean and
// −MaxFloat64 on the 8-week mean. For a customer with large orders both
// terms overflow and w·x = +Inf − Inf = NaN; Huber's gradient of a NaN
// residual is NaN, the unit's norm is NaN, "norm > C" is false, so the
// NaN went into the step unclipped and TrainUnits failed with "training
// diverged" whenever that customer was sampled — and never for small
// customers. Whether the tenant's update arrives then tells whether the
// big customer is in the data, whatever the noise. The release scored is
// "training failed"; the claim is the accountant's ε of the round.
func TestRedteamForecastNaNCustomerAborts(t *testing.T) {
	tx, cal := customerTx() // customers a, b (small) and c (900 and 400 units)
	f, err := NewFeaturizer(nil, 0, 1, cal)
	if err != nil {
		t.Fatal(err)
	}
	prep := func(tx []Transaction) *Units {
		cd, err := PrepareCustomers(context.Background(), f, "t", ByCustomer(tx, cal, false), 2)
		if err != nil {
			t.Fatal(err)
		}
		return &cd.Train
	}
	noC := slices.DeleteFunc(slices.Clone(tx), func(x Transaction) bool { return x.Customer == "c" })
	worlds := [2]*Units{prep(noC), prep(tx)} // D′ adds customer c

	hostile := NewHead(f.Dim()).W
	hostile[5], hostile[6] = math.MaxFloat64, -math.MaxFloat64
	const q, z, steps = 0.5, 20.0, 8
	cfg := TrainConfig{Steps: steps, LearningRate: 0.1, Private: true, SampleRate: q, ClipNorm: 1, NoiseMultiplier: z, ExpectedBatch: 2}
	claimed, err := privacy.RDPEpsilon(q, z, steps, 1e-5)
	if err != nil {
		t.Fatal(err)
	}
	rng := mrand.New(mrand.NewPCG(3, 4))
	var scores [2][]float64
	for range 400 {
		for w := range 2 {
			h := NewHead(f.Dim())
			h.Tau = 0 // Huber
			copy(h.W, hostile)
			s := 0.0
			if _, err := TrainUnits(h, worlds[w], cfg, rng); err != nil {
				s = 1
			}
			scores[w] = append(scores[w], s)
		}
	}
	est, err := pe.LowerBound(scores[0], scores[1], 1e-5, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("claimed ε %.3f, empirical lower bound %.3f (FP %d/%d, FN %d/%d)", claimed, est.Epsilon, est.FP, est.N0, est.FN, est.N1)
	if est.Epsilon > claimed {
		t.Errorf("whether training fails distinguishes one customer: empirical ε ≥ %.3f > claimed %.3f", est.Epsilon, claimed)
	}
}
