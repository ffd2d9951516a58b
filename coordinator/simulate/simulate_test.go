package simulate

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/privacy"
)

// TestKilledTenantRoundStillCompletes is the foundation's integration test:
// 3 tenants × 3 rounds over real gRPC on loopback; tenant-2 vanishes after
// it receives the plan of round 2. The round completes with the other two at
// its deadline, and accuracy rises over the rounds.
func TestKilledTenantRoundStillCompletes(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	cfg := Config{
		Tenants: 3, Rounds: 3, MinClients: 2, SynthRecords: 1500, Seed: 7,
		LocalSteps: 40, SampleRate: 0.05, TargetEpsilon: 8,
		RoundTimeout: 1500 * time.Millisecond,
		KillTenant:   "tenant-2", KillRound: 2,
		Rand: privacy.SeededReader(99),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rounds) != 3 {
		t.Fatalf("got %d rounds: %+v", len(rep.Rounds), rep.Rounds)
	}
	r1, r2, r3 := rep.Rounds[0], rep.Rounds[1], rep.Rounds[2]
	if r1.Participants != 3 {
		t.Errorf("round 1 participants %v", r1.Tenants)
	}
	if r2.Abandoned || !slices.Equal(r2.Dropped, []string{"tenant-2"}) || r2.Participants != 2 {
		t.Errorf("round 2: abandoned=%v dropped=%v participants=%v", r2.Abandoned, r2.Dropped, r2.Tenants)
	}
	if slices.Contains(r3.Tenants, "tenant-2") {
		t.Errorf("round 3 invited the dead tenant: %v", r3.Tenants)
	}
	if !(r3.Accuracy > r1.Accuracy) {
		t.Errorf("accuracy did not rise: round 1 %.4f, round 3 %.4f", r1.Accuracy, r3.Accuracy)
	}
	// The killed tenant spent only round 1; the others all three rounds.
	if !(rep.Epsilon["tenant-2"] < rep.Epsilon["tenant-1"]) {
		t.Errorf("ε: tenant-2 %.3f, tenant-1 %.3f", rep.Epsilon["tenant-2"], rep.Epsilon["tenant-1"])
	}
	if e := rep.Epsilon["tenant-1"]; e > 8+1e-9 {
		t.Errorf("tenant-1 spent ε=%v above its cap 8", e)
	}
	t.Logf("accuracy by round: %.4f %.4f %.4f", r1.Accuracy, r2.Accuracy, r3.Accuracy)
}

func TestMetricsFromConfusion(t *testing.T) {
	// 3 classes; class 2 never occurs and is never predicted.
	// true 0: 3 right, 1 predicted as 1; true 1: 2 right.
	conf := []int64{3, 1, 0, 0, 2, 0, 0, 0, 0}
	m := MetricsFromConfusion(conf, 3)
	if m.Accuracy != 5.0/6 {
		t.Errorf("accuracy %v", m.Accuracy)
	}
	// F1(0) = 2·3/(4+3) = 6/7; F1(1) = 2·2/(2+3) = 4/5; macro over 2 classes.
	want := (6.0/7 + 4.0/5) / 2
	if d := m.MacroF1 - want; d > 1e-12 || d < -1e-12 {
		t.Errorf("macro-F1 %v want %v", m.MacroF1, want)
	}
}
