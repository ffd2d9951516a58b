package simulate

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/ledger"
	"github.com/fedb2b/fedb2b/protocol"
)

// distributedTestConfig is a small record-level distributed run: the
// linear head over 512 hashing buckets, synthetic data. (The coordinator
// builds the noise sampler's table when it starts, before any deadline.)
func distributedTestConfig(t *testing.T, tenants, rounds int, seed uint64) Config {
	t.Helper()
	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: 512})
	if err != nil {
		t.Fatal(err)
	}
	c := DistributedDefaults()
	c.Tenants, c.Rounds, c.SynthRecords, c.Seed, c.Encoder = tenants, rounds, 300*tenants, seed, enc
	c.RoundTimeout, c.Workdir, c.Rand, c.InsecureNoTLS = 10*time.Second, t.TempDir(), privacy.SeededReader(seed+1), true
	c.Baselines = false
	return c
}

// TestDistributedModeEndToEnd runs the record-level distributed mode over
// the real coordinator: every round aggregates all five tenants, each
// tenant's record-level ε stays within the target, every tenant's ledger
// records the mode (ledger.MechDDGRecord) with the honest tenants assumed
// (4: t = 4, c = 1), the coordinator records the masked inputs under the
// same mechanism, and the auditor recomputes each ε from the ledgers.
func TestDistributedModeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	cfg := distributedTestConfig(t, 5, 3, 51)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rounds) != 3 {
		t.Fatalf("%d rounds reported, want 3", len(rep.Rounds))
	}
	for _, r := range rep.Rounds {
		if r.Abandoned || r.Participants != 5 || r.Evaluated {
			t.Fatalf("round %d: %+v", r.Round, r)
		}
	}
	if p := rep.Privacy; p.Mode != DPModeDistributed || p.HonestTenants != 4 || !(p.NoiseMultiplier > 0) || p.StepsPerRound != 1 {
		t.Errorf("privacy report %+v", p)
	}
	for name, e := range rep.Epsilon {
		if !(e > 0 && e <= cfg.TargetEpsilon) {
			t.Errorf("%s: record-level ε %v, want in (0, %g]", name, e, cfg.TargetEpsilon)
		}
	}
	if rep.FinalExact == nil || rep.FinalExact.Examples == 0 {
		t.Fatalf("no exact final figure: %+v", rep.FinalExact)
	}
	res := verifyReport(t, rep)
	seen := 0
	for _, b := range res.Budgets {
		if b.Party == b.Tenant && b.Unit == ledger.UnitRecord {
			seen++
			if want := rep.Epsilon[b.Tenant]; math.Abs(float64(b.Epsilon)-want) > 1e-9*want {
				t.Errorf("%s: audit recomputed ε=%v, simulation %v", b.Tenant, b.Epsilon, want)
			}
		}
	}
	if seen != 5 {
		t.Errorf("audit budgets for %d tenants, want 5", seen)
	}
	for _, party := range []string{"tenant-1", "tenant-5", coordinator.LedgerParty} {
		es, err := ledger.ReadFile(filepath.Join(cfg.Workdir, party, "ledger.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range es {
			if e.Mechanism == ledger.MechDPSGD {
				t.Errorf("%s: round %d recorded as local DP-SGD", party, e.Round)
			}
			if e.Mechanism != ledger.MechDDGRecord {
				continue
			}
			n++
			if e.Params.Shares != 4 || e.Params.SamplingRate != cfg.SampleRate || e.Params.ClipNorm != cfg.ClipNorm || e.Unit != ledger.UnitRecord {
				t.Errorf("%s: entry %d params %+v", party, e.Seq, e.Params)
			}
		}
		want := 3 // one intent per round
		if party == coordinator.LedgerParty {
			want = 15 // one received masked input per tenant and round
		}
		if n != want {
			t.Errorf("%s: %d distributed-mode entries, want %d", party, n, want)
		}
	}
	t.Logf("3 rounds, exact accuracy %.4f, ε %v, z on the sum %.3f", rep.FinalExact.Accuracy, rep.Epsilon, rep.Privacy.NoiseMultiplier)
}

// TestDistributedModeIsOptIn: tenants whose policy keeps local DP-SGD
// (the default) decline every round of a distributed plan, so nothing is
// spent or released.
func TestDistributedModeIsOptIn(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	cfg := distributedTestConfig(t, 3, 1, 61)
	cfg.TenantDPMode = "local"
	stopAfterFirstRound(t, cfg, func(r RoundReport) {
		if !r.Abandoned || len(r.Declined) != 3 {
			t.Fatalf("round %d: %+v; want every tenant to decline", r.Round, r)
		}
		for name, why := range r.Declined {
			if !strings.Contains(why, "local DP-SGD") {
				t.Errorf("%s declined for %q", name, why)
			}
		}
	})
	for i := 1; i <= 3; i++ {
		es, err := ledger.ReadFile(filepath.Join(cfg.Workdir, fmt.Sprintf("tenant-%d", i), "ledger.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Status == ledger.StatusIntent {
				t.Errorf("tenant-%d spent in a declined round: %+v", i, e)
			}
		}
	}
}

// TestDistributedFewerInputsThanHonestSharesNeverUnmasked: 3 tenants (c =
// 0, so the tenants' policy allows 3 honest shares with t = 2), one
// vanishes before sending its masked input. The 2 remaining inputs hold
// 2/3 of the noise every tenant's ε assumes; the round must stop before
// the consistency and unmask stages. The coordinator's record-level check
// fires first and names the honest shares; secure aggregation's own
// minimum of t + 1 = 3 inputs would stop this round too (a plan whose
// shares exceed t − c + 1 is refused by the tenants'
// secagg.Policy.CheckNoiseShares), so the check is defence in depth, and
// the clients' own check is attacked below.
func TestDistributedFewerInputsThanHonestSharesNeverUnmasked(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	cfg := distributedTestConfig(t, 3, 1, 71)
	cfg.HonestTenants, cfg.Threshold = 3, 2
	cfg.DropAt = map[string]DropPoint{"tenant-2": {1, "masked_input"}}
	var mu sync.Mutex
	var stages []string
	cfg.Observe = func(_ protocol.TaskSpec, _ *coordinator.Federation, e coordinator.Event) {
		if e.Kind == coordinator.EvStage && e.Round == 1 {
			mu.Lock()
			stages = append(stages, e.Stage)
			mu.Unlock()
		}
	}
	stopAfterFirstRound(t, cfg, func(r RoundReport) {
		if !r.Abandoned || !strings.Contains(r.Reason, "before unmasking") || !strings.Contains(r.Reason, "3 honest shares") {
			t.Fatalf("round 1: %+v; want it stopped before unmasking for want of honest shares", r)
		}
	})
	mu.Lock()
	defer mu.Unlock()
	for _, s := range stages {
		if s == "consistency" || s == "unmask" {
			t.Errorf("round 1 reached stage %s with 2 masked inputs", s)
		}
	}
}

// TestDistributedClientsRefuseUnmaskingBelowTheirAssumption attacks the
// clients' side: with t = 3 and c = 1 the plan's noise is split into 3
// honest shares and secure aggregation unmasks any 4 inputs; every tenant
// assumes two colluders besides, so it helps unmask only sums of 5. One of
// five vanishes before its masked input; the coordinator (4 inputs ≥ 3
// shares, ≥ t + 1) goes on to unmask, and the tenants refuse: the round is
// abandoned with no aggregate.
func TestDistributedClientsRefuseUnmaskingBelowTheirAssumption(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	cfg := distributedTestConfig(t, 5, 1, 81)
	cfg.Threshold, cfg.AssumeColluders = 3, 2
	cfg.DropAt = map[string]DropPoint{"tenant-3": {1, "masked_input"}}
	var mu sync.Mutex
	var stages []string
	cfg.Observe = func(_ protocol.TaskSpec, _ *coordinator.Federation, e coordinator.Event) {
		if e.Kind == coordinator.EvStage && e.Round == 1 {
			mu.Lock()
			stages = append(stages, e.Stage)
			mu.Unlock()
		}
	}
	stopAfterFirstRound(t, cfg, func(r RoundReport) {
		if !r.Abandoned || !strings.Contains(r.Reason, "unmask") || r.Participants != 0 {
			t.Fatalf("round 1: %+v; want it abandoned at unmasking", r)
		}
	})
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(stages, "unmask") {
		t.Errorf("round 1 stages %v: the coordinator never asked to unmask, so the clients' check was not exercised", stages)
	}
}

// stopAfterFirstRound runs cfg until its first round report, checks it,
// and stops.
func stopAfterFirstRound(t *testing.T, cfg Config, check func(RoundReport)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var first *RoundReport
	_, err := Run(ctx, cfg, func(r RoundReport) {
		if first == nil {
			first = &r
			cancel()
		}
	})
	if first == nil {
		t.Fatalf("no round reported (%v)", err)
	}
	check(*first)
}

// TestDistributedColludersAssumptionHoldsWhenOtherTenantsAssumeFewer
// attacks one tenant's --assume-colluders against its peers' choices:
// tenant-1 assumes two colluders beside the plan's 3 honest shares (it
// helps unmask only sums of 5), the others keep the default 0, and t = 3.
// tenant-3 vanishes before its masked input; if tenant-2 is honest and
// tenants 4 and 5 collude with the coordinator, a sum of the remaining 4
// holds only 2 honest noise shares. tenant-1 refuses to unmask it, but
// its own self-mask is reconstructed from t = 3 shares held by the other
// survivors, so its refusal protects nothing: its input must never enter
// an unmasked sum of fewer than 5 inputs (it must decline the plan
// instead, since t − c + 1 = 2 < 3 shares).
func TestDistributedColludersAssumptionHoldsWhenOtherTenantsAssumeFewer(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	cfg := distributedTestConfig(t, 5, 1, 83)
	cfg.Threshold, cfg.HonestTenants = 3, 3
	cfg.AssumeColludersOf = map[string]int{"tenant-1": 2}
	cfg.DropAt = map[string]DropPoint{"tenant-3": {1, "masked_input"}}
	stopAfterFirstRound(t, cfg, func(r RoundReport) {
		t.Logf("round 1: abandoned=%v participants=%v declined=%v reason=%q", r.Abandoned, r.Tenants, r.Declined, r.Reason)
		if !r.Abandoned && slices.Contains(r.Tenants, "tenant-1") && r.Participants < 5 {
			t.Fatalf("tenant-1 (2 colluders assumed beside 3 honest shares) was aggregated in a sum of %d inputs %v", r.Participants, r.Tenants)
		}
	})
}
