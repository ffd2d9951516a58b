package simulate

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/audit"
	"github.com/fedb2b/fedb2b/privacy/keys"
)

// TestKilledTenantRoundStillCompletes is the foundation's integration test:
// 3 tenants × 3 rounds over real gRPC on loopback; tenant-2 vanishes after
// it receives the plan of round 2. The round completes with the other two at
// its deadline, and accuracy rises over the rounds. Secure aggregation needs
// at least 3 survivors, so this test runs the plain path; the secure path is
// TestSecureRoundsSurviveDrops.
func TestKilledTenantRoundStillCompletes(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	cfg := Config{
		Tenants: 3, Rounds: 3, MinClients: 2, SynthRecords: 3000, Seed: 7,
		LocalSteps: 40, SampleRate: 0.1, TargetEpsilon: 8, EvalEpsilon: 0.5, WeightEpsilon: 0.05,
		RoundTimeout: 1500 * time.Millisecond,
		KillTenant:   "tenant-2", KillRound: 2,
		Rand:                     privacy.SeededReader(99),
		InsecurePlainAggregation: true,
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

// TestSecureRoundsSurviveDrops runs 5 tenants × 3 rounds with secure
// aggregation over loopback gRPC; one tenant vanishes in a stage of a
// round (chosen by the seed). Every round still aggregates: with k = 4 and
// t = 3, one dropout leaves every survivor three live neighbours.
func TestSecureRoundsSurviveDrops(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	cfg := Config{
		Tenants: 5, Rounds: 3, MinClients: 3, SynthRecords: 2000, Seed: 3,
		LocalSteps: 30, SampleRate: 0.05, TargetEpsilon: 8, WeightEpsilon: 0.05, // exact evaluation: rounds compared
		RoundTimeout: 4 * time.Second, DropTenants: 1,
		Rand: privacy.SeededReader(5),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.SecureAggregation == nil || len(rep.SecureAggregation.Dropped) != 1 {
		t.Fatalf("secure report %+v", rep.SecureAggregation)
	}
	d := rep.SecureAggregation.Dropped[0]
	for _, r := range rep.Rounds {
		if r.Abandoned {
			t.Errorf("round %d abandoned: %s", r.Round, r.Reason)
		}
		if r.Round == d.Round && r.Participants == 5 && d.Stage != "unmask" && d.Stage != "consistency" {
			t.Errorf("round %d: the dropped tenant's input is in the sum (dropped at %s)", r.Round, d.Stage)
		}
	}
	if !(rep.Rounds[len(rep.Rounds)-1].Accuracy > rep.Rounds[0].Accuracy) {
		t.Errorf("accuracy did not rise: %+v", rep.Rounds)
	}
	t.Logf("dropped %+v; accuracy %.4f → %.4f", d, rep.Rounds[0].Accuracy, rep.Rounds[len(rep.Rounds)-1].Accuracy)
}

// TestWorkdirLedgersVerify runs a small secure federation with every
// party's files on disk and checks that the auditor's verification of the
// ledgers passes and recomputes the ε the simulation reported.
func TestWorkdirLedgersVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	dir := t.TempDir()
	cfg := Config{
		Tenants: 4, Rounds: 2, MinClients: 3, SynthRecords: 1200, Seed: 11,
		LocalSteps: 20, SampleRate: 0.05, TargetEpsilon: 6, EvalEpsilon: 0.5, WeightEpsilon: 0.05, RoundTimeout: 10 * time.Second,
		Workdir: dir, Rand: privacy.SeededReader(12),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Ledgers) != 5 {
		t.Fatalf("ledgers %+v", rep.Ledgers)
	}
	res := verifyReport(t, rep)
	seen := 0
	for _, b := range res.Budgets {
		if b.Party != b.Tenant {
			continue // the coordinator's view; the tenant's own ledger is authoritative
		}
		seen++
		if want := rep.Epsilon[b.Tenant]; math.Abs(float64(b.Epsilon)-want) > 1e-9*want {
			t.Errorf("%s: audit recomputed ε=%v, demo reported %v", b.Tenant, b.Epsilon, want)
		}
	}
	if seen != 4 {
		t.Errorf("audit has budgets for %d tenants, want 4", seen)
	}
	if !strings.Contains(rep.AuditCommand(), "fedb2b audit verify --pub coordinator=") {
		t.Errorf("audit command %q", rep.AuditCommand())
	}
}

// TestTenantLevelDPInsideSecureAggregation runs 5 tenants with tenant-level
// DP (distributed discrete Gaussian added by the clients inside secure
// aggregation) and checks that the rounds aggregate, each tenant's
// tenant-level ε stays within the target, and the ledgers (which now hold
// tenant-level entries too) verify.
func TestTenantLevelDPInsideSecureAggregation(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	dir := t.TempDir()
	cfg := Config{
		Tenants: 5, Rounds: 2, MinClients: 4, SynthRecords: 1500, Seed: 21,
		LocalSteps: 20, SampleRate: 0.05, TargetEpsilon: 8, TenantEpsilon: 8, UpdateClip: 5,
		RoundTimeout: 10 * time.Second, Workdir: dir, Rand: privacy.SeededReader(22),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Rounds {
		if r.Abandoned || r.Participants != 5 {
			t.Fatalf("round %d: %+v", r.Round, r)
		}
	}
	tl := rep.Privacy.TenantLevel
	if tl == nil || len(tl.EpsilonPerTenant) != 5 {
		t.Fatalf("tenant-level report %+v", tl)
	}
	for name, e := range tl.EpsilonPerTenant {
		if !(e > 0 && e <= 8*(1+1e-6)) {
			t.Errorf("%s: tenant-level ε %v, want in (0, 8]", name, e)
		}
	}
	res := verifyReport(t, rep)
	units := map[string]bool{}
	for _, b := range res.Budgets {
		units[string(b.Unit)] = true
		if b.Party == b.Tenant && b.Unit == "tenant" {
			if want := tl.EpsilonPerTenant[b.Tenant]; math.Abs(float64(b.Epsilon)-want) > 1e-9*want {
				t.Errorf("%s: audit recomputed tenant-level ε=%v, simulation %v", b.Tenant, b.Epsilon, want)
			}
		}
	}
	if !units["record"] || !units["tenant"] {
		t.Errorf("ledgers hold units %v, want record and tenant", units)
	}
	// Nothing about held-out data was released: no round was evaluated,
	// and the final figure is the simulation's own count.
	for _, r := range rep.Rounds {
		if r.Evaluated || r.Evaluators != 0 {
			t.Errorf("round %d was evaluated under tenant-level DP: %+v", r.Round, r)
		}
	}
	if rep.FinalExact == nil || rep.FinalExact.Examples == 0 {
		t.Fatalf("no exact final figure: %+v", rep.FinalExact)
	}
	for _, b := range res.Budgets {
		if b.Party == b.Tenant && b.Unit == "record" && b.Epsilon > 8*(1+1e-6) {
			t.Errorf("%s: record-level ε %v", b.Tenant, b.Epsilon)
		}
	}
	t.Logf("final accuracy %.4f (exact); tenant-level ε %v", rep.FinalExact.Accuracy, tl.EpsilonPerTenant)
}

// verifyReport runs the auditor's verification over a run's ledgers with
// their public keys and fails the test if it fails.
func verifyReport(t *testing.T, rep *Report) audit.Result {
	t.Helper()
	var paths []string
	var pubs []audit.TrustedKey
	for _, p := range rep.Ledgers {
		paths = append(paths, p.Ledger)
		pub, err := keys.ReadPublic(p.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, audit.TrustedKey{Party: p.Party, Key: pub})
	}
	res := audit.Verify(audit.Load(paths...), pubs)
	if !res.OK {
		f, _ := res.First()
		t.Fatalf("verify failed: %+v", f)
	}
	return res
}

// TestAdaptiveClippingMovesTheClip runs tenant-level DP with adaptive
// clipping: the clipped-or-not bits ride in the same noised sum, the clip
// moves between rounds, every round aggregates and the ledgers (which
// record the joint vector's parameters) verify.
func TestAdaptiveClippingMovesTheClip(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	cfg := Config{
		Tenants: 5, Rounds: 3, MinClients: 4, SynthRecords: 1500, Seed: 31,
		LocalSteps: 20, SampleRate: 0.05, TargetEpsilon: 8, TenantEpsilon: 8, UpdateClip: 50,
		AdaptiveQuantile: 0.5, RoundTimeout: 10 * time.Second, Workdir: t.TempDir(), Rand: privacy.SeededReader(32),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rounds) != 3 {
		t.Fatalf("rounds %+v", rep.Rounds)
	}
	clips := []float64{}
	for _, r := range rep.Rounds {
		if r.Abandoned || r.Participants != 5 {
			t.Fatalf("round %d: %+v", r.Round, r)
		}
		clips = append(clips, r.UpdateClip)
	}
	if clips[0] != 50 || clips[1] == clips[0] || clips[2] == clips[1] {
		t.Errorf("clip did not move between rounds: %v", clips)
	}
	verifyReport(t, rep)
	t.Logf("clip per round %v", clips)
}

// TestNoisedEvaluation runs rounds whose evaluation counts each tenant
// noises before release: training and evaluations together stay within
// the target ε, the ledgers hold both kinds of entry and verify.
func TestNoisedEvaluation(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	cfg := Config{
		Tenants: 4, Rounds: 2, MinClients: 3, SynthRecords: 1200, Seed: 41,
		LocalSteps: 20, SampleRate: 0.05, TargetEpsilon: 8, EvalEpsilon: 1, WeightEpsilon: 0.05,
		RoundTimeout: 10 * time.Second, Workdir: t.TempDir(), Rand: privacy.SeededReader(42),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Rounds {
		if r.Abandoned || r.Evaluators != 4 {
			t.Fatalf("round %d: %+v", r.Round, r)
		}
	}
	for name, e := range rep.Epsilon {
		if !(e > 7.9 && e <= 8*(1+1e-6)) {
			t.Errorf("%s: ε %v, want just under 8 (training and evaluations)", name, e)
		}
	}
	res := verifyReport(t, rep)
	for _, b := range res.Budgets {
		if b.Party == b.Tenant {
			if want := rep.Epsilon[b.Tenant]; math.Abs(float64(b.Epsilon)-want) > 1e-9*want {
				t.Errorf("%s: audit ε %v, simulation %v", b.Tenant, b.Epsilon, want)
			}
		}
	}
	// The counts are noised: their sum need not equal the held-out size.
	t.Logf("examples counted per round: %d, %d", rep.Rounds[0].Examples, rep.Rounds[1].Examples)
}
