package recommend

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/privacy"
)

// TestRetailExperiment reproduces the figures of the report on the shared
// online_retail data when FEDB2B_RETAIL points to transactions.csv.
func TestRetailExperiment(t *testing.T) {
	path := os.Getenv("FEDB2B_RETAIL")
	if path == "" {
		t.Skip("FEDB2B_RETAIL not set")
	}
	tx, _, err := forecast.LoadTransactionsFile(path, forecast.OnlineRetailColumns())
	if err != nil {
		t.Fatal(err)
	}
	cfg := SimConfig{}
	if j := os.Getenv("FEDB2B_RECOMMEND_CONFIG"); j != "" {
		if err := json.Unmarshal([]byte(j), &cfg); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Rand = privacy.SeededReader(1)
	t.Logf("config %+v", cfg)
	res, err := Simulate(context.Background(), tx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range res.Tenants {
		t.Logf("tenant %-16s customers %4d evaluated %4d", ts.Name, ts.Customers, ts.Evaluated)
	}
	t.Logf("catalog %d; ε=%.3f δ=%g z=%.3f steps=%d", res.Catalog, res.Epsilon, res.Delta, res.NoiseMultiplier, res.Steps)
	for _, r := range []struct {
		n string
		e Ranking
	}{{"federated", res.Federated}, {"federated-noprior", res.FederatedNoPrior}, {"centralized", res.Centralized}, {"untrained", res.Untrained}, {"popularity", res.Popularity}, {"global-popularity", res.GlobalPopularity}, {"repeat", res.Repeat}} {
		t.Logf("%-18s recall@10 %.4f ndcg@10 %.4f (customers %d)", r.n, r.e.Recall(), r.e.NDCG(), r.e.Customers)
	}
}
