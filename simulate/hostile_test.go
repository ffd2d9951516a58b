package simulate

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/privacy"
)

// TestHostileTenantHonestFinish runs 10 tenants × 3 rounds of secure
// aggregation over loopback gRPC with mutual TLS; tenant-3 sends, every
// round, share ciphertexts that do not decrypt (signed with its own key,
// so the coordinator relays them). Before #14 each honest neighbour's
// MaskInput failed on the first such share and its client exited. Now the
// nine honest tenants complain, the coordinator separates the pairs and
// excludes the hostile tenant (it keeps no partner), and every round
// aggregates exactly the nine honest updates.
func TestHostileTenantHonestFinish(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	const hostile = "tenant-3"
	cfg := Config{
		Tenants: 10, Rounds: 3, MinClients: 3, SynthRecords: 3000, Seed: 4,
		LocalSteps: 20, SampleRate: 0.05, TargetEpsilon: 8,
		RoundTimeout: 10 * time.Second, HostileTenant: hostile,
		Rand: privacy.SeededReader(6),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rounds) != cfg.Rounds {
		t.Fatalf("%d rounds reported, want %d", len(rep.Rounds), cfg.Rounds)
	}
	for _, r := range rep.Rounds {
		if r.Abandoned {
			t.Fatalf("round %d abandoned: %s", r.Round, r.Reason)
		}
		if r.Participants != 9 || slices.Contains(r.Tenants, hostile) {
			t.Fatalf("round %d: participants %v, want the nine honest tenants", r.Round, r.Tenants)
		}
		if len(r.Blamed) != 9 {
			t.Fatalf("round %d: blames %v, want one complaint from each honest tenant", r.Round, r.Blamed)
		}
		for _, b := range r.Blamed {
			if !strings.HasPrefix(b, hostile+": ") {
				t.Fatalf("round %d: blame %q does not accuse %s", r.Round, b, hostile)
			}
		}
	}
	t.Logf("accuracy %.4f → %.4f", rep.Rounds[0].Accuracy, rep.Rounds[len(rep.Rounds)-1].Accuracy)
}

// TestDowngradeRefusedOverTLS: a coordinator configured for plain
// aggregation (the downgrade of issue #14) faces tenants with the default
// policy over loopback gRPC with mutual TLS: every tenant declines every
// round, so no plain update or example count ever reaches it and no round
// aggregates.
func TestDowngradeRefusedOverTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	cfg := Config{
		Tenants: 3, Rounds: 2, MinClients: 2, SynthRecords: 1000, Seed: 5,
		LocalSteps: 5, SampleRate: 0.05, TargetEpsilon: 8,
		RoundTimeout: 2 * time.Second, InsecurePlainAggregation: true, TenantsRequireSecure: true,
		Rand: privacy.SeededReader(7),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg, nil)
	if rep == nil {
		t.Fatalf("no report: %v", err)
	}
	t.Logf("run: %v", err)
	if len(rep.Rounds) == 0 {
		t.Fatal("no round reported")
	}
	for _, r := range rep.Rounds {
		if !r.Abandoned || r.Participants != 0 {
			t.Fatalf("round %d: abandoned %v with %d participants: a plain update was accepted", r.Round, r.Abandoned, r.Participants)
		}
		if len(r.Declined) != cfg.Tenants {
			t.Fatalf("round %d: declined %v, want every tenant", r.Round, r.Declined)
		}
		for name, why := range r.Declined {
			if !strings.Contains(why, "secure aggregation off") {
				t.Fatalf("round %d: %s declined for %q", r.Round, name, why)
			}
		}
	}
}
