package forecast

import (
	"context"
	"os"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

// TestRetailExperiment reproduces the figures of the report on the shared
// online_retail data when FEDB2B_RETAIL points to transactions.csv.
func TestRetailExperiment(t *testing.T) {
	path := os.Getenv("FEDB2B_RETAIL")
	if path == "" {
		t.Skip("FEDB2B_RETAIL not set")
	}
	tx, rep, err := LoadTransactionsFile(path, OnlineRetailColumns())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("load: %v", rep)
	res, err := Simulate(context.Background(), tx, SimConfig{Rand: privacy.SeededReader(1)})
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range res.Tenants {
		t.Logf("tenant %-16s series %5d train %6d test %5d", ts.Name, ts.Series, ts.TrainRows, ts.TestRows)
	}
	t.Logf("ε=%.3f δ=%g z=%.3f steps=%d", res.Epsilon, res.Delta, res.NoiseMultiplier, res.Steps)
	for _, r := range []struct {
		n string
		e Errors
	}{{"federated", res.Federated}, {"local", res.Local}, {"centralized", res.Centralized}, {"seasonal-naive", res.SeasonalNaive}, {"moving-average", res.MovingAverage}, {"zero", res.Zero}} {
		t.Logf("%-15s MAE %.3f RMSE %.3f WAPE %.4f (n=%d)", r.n, r.e.MAE(), r.e.RMSE(), r.e.WAPE(), r.e.N)
	}
}
