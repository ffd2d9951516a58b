package simulate

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/privacy"
)

// Run reports each long step, in order, to Config.Progress.
func TestRunReportsProgress(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	var steps []string
	cfg := Config{
		Tenants: 3, Rounds: 1, SynthRecords: 900, Seed: 5, LocalSteps: 5, SampleRate: 0.1, TargetEpsilon: 8,
		EvalEpsilon: 0.5, WeightEpsilon: 0.05, RoundTimeout: 10 * time.Second, Baselines: true,
		Rand: privacy.SeededReader(5), Progress: func(s string) { steps = append(steps, s) },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := Run(ctx, cfg, nil); err != nil {
		t.Fatal(err)
	}
	var first []string
	for _, s := range steps {
		first = append(first, strings.Fields(s)[0])
	}
	want := []string{"splitting", "federated", "counting", "baselines:"}
	if len(first) < len(want) || !slices.Equal(first[:len(want)], want) {
		t.Fatalf("progress steps %q", steps)
	}
}
