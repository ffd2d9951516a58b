package simulate

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/privacy"
)

// The linear adapter over the real coordinator and clients (secure
// aggregation, DP-Adam, noised counts and evaluation), with the honest
// baselines: pooled and each tenant alone without DP, and the same-DP
// local baseline labelled as such.
func TestLinearAdapterWithHonestBaselines(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: 2048})
	if err != nil {
		t.Fatal(err)
	}
	cfg := LinearDefaults()
	cfg.Tenants, cfg.Rounds, cfg.LocalSteps, cfg.SynthRecords, cfg.Seed = 3, 3, 60, 2400, 5
	counted := &countingEncoder{Encoder: enc}
	cfg.Encoder, cfg.Rand, cfg.RoundTimeout = counted, privacy.SeededReader(17), 20*time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Spec.NumParams != 2048*rep.Config.Labels+rep.Config.Labels {
		t.Fatalf("task has %d parameters, want the full linear head's %d", rep.Spec.NumParams, 2048*rep.Config.Labels+rep.Config.Labels)
	}
	pooled, okP := rep.Baselines[BaselinePooled]
	alone, okA := rep.Baselines[BaselineAlone]
	best, okB := rep.Baselines[BaselineAloneBest]
	local, okL := rep.Baselines[BaselineLocalDP]
	if !okP || !okA || !okB || !okL {
		t.Fatalf("baselines %v: want %s, %s, %s and %s", baselineNames(rep.Baselines), BaselinePooled, BaselineAlone, BaselineAloneBest, BaselineLocalDP)
	}
	// Memory (#18): the baselines share the rows the tenants' learners
	// encoded; each record is encoded once, not once more per baseline.
	if n := counted.texts.Load(); n != int64(cfg.SynthRecords) {
		t.Errorf("%d texts encoded for %d records: the baselines encoded the data again", n, cfg.SynthRecords)
	}
	if len(alone.PerTenant) != 3 || len(local.PerTenant) != 3 || len(best.PerTenant) != 1 {
		t.Fatalf("per-tenant baselines: alone %d, local %d, best %d", len(alone.PerTenant), len(local.PerTenant), len(best.PerTenant))
	}
	for name, m := range alone.PerTenant {
		if m.Accuracy > best.Accuracy {
			t.Errorf("%s alone %.4f beats the reported best %.4f", name, m.Accuracy, best.Accuracy)
		}
	}
	fed := rep.FinalExact
	if fed == nil {
		t.Fatal("no exact final figure")
	}
	t.Logf("federated %.4f; pooled no DP %.4f; alone no DP best %.4f mean %.4f; local same DP %.4f",
		fed.Accuracy, pooled.Accuracy, best.Accuracy, alone.Accuracy, local.Accuracy)
	// Label skew: pooling beats the average tenant alone, and a tenant
	// alone without noise beats itself with noise.
	if !(pooled.Accuracy > alone.Accuracy && alone.Accuracy > local.Accuracy) {
		t.Errorf("want pooled > alone (no DP) > local (same DP)")
	}
	if fed.Accuracy < 0.4 {
		t.Errorf("federated linear head reached only %.4f", fed.Accuracy)
	}
	if rep.SecureAggregation == nil || rep.SecureAggregation.ClippedUpdates != 0 {
		t.Errorf("secure aggregation report %+v: want every update within the linear default S", rep.SecureAggregation)
	}
}

// countingEncoder counts the texts it encodes.
type countingEncoder struct {
	models.Encoder
	texts atomic.Int64
}

func (c *countingEncoder) Encode(ctx context.Context, texts []string) ([][]float64, error) {
	c.texts.Add(int64(len(texts)))
	return c.Encoder.Encode(ctx, texts)
}

func baselineNames(m map[string]Baseline) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
