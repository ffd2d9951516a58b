package simulate

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/privacy"
)

// TestIntentSharedExperiment reproduces the report's figures when FEDB2B_INTENT
// points to one of the shared intent CSVs (text,label columns);
// FEDB2B_INTENT_CONFIG may hold a JSON IntentConfig (without it the
// evaluations are exact, ε = ∞: the demo, `fedb2b demo --task intent`,
// noises them).
func TestIntentSharedExperiment(t *testing.T) {
	path := os.Getenv("FEDB2B_INTENT")
	if path == "" {
		t.Skip("FEDB2B_INTENT not set")
	}
	ex, rep, err := dataset.LoadFile(path, dataset.LoadOptions{LabelCol: "label"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("load: %v", rep)
	var cfg IntentConfig
	if j := os.Getenv("FEDB2B_INTENT_CONFIG"); j != "" {
		if err := json.Unmarshal([]byte(j), &cfg); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Rand = privacy.SeededReader(1)
	res, err := RunIntent(context.Background(), ex, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range res.Tenants {
		t.Logf("%+v", ts)
	}
	t.Logf("intents %d ε=%.3f δ=%g z=%.3f steps=%d", res.Intents, res.Epsilon, res.Delta, res.NoiseMultiplier, res.Steps)
	t.Logf("adapter %s, score %+v, global threshold %.4f: %v", res.Adapter, res.Score, res.GlobalThreshold, res.Global.Map())
	t.Logf("federated   argmax acc %.4f %v", res.FederatedAcc, res.Federated.Map())
	if res.FederatedMSP.InScope > 0 {
		t.Logf("federated, max softmax, own thresholds %v", res.FederatedMSP.Map())
		t.Logf("centralized, max softmax %v", res.CentralizedMSP.Map())
	}
	t.Logf("local       argmax acc %.4f %v", res.LocalAcc, res.Local.Map())
	t.Logf("centralized argmax acc %.4f %v", res.CentralizedAcc, res.Centralized.Map())
	t.Logf("operator's noised view %v", res.Federation)
}
