package simulate

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/privacy/ledger"
	"github.com/fedb2b/fedb2b/protocol"
)

// TestDistributedPublishesIterateAverageAtNoCost runs the distributed
// mode over the real coordinator twice, with the iterate average
// (DistributedDefaults) and without: the published model of the first is
// the moving average of the versions its rounds produced (taken from the
// coordinator's events, averaged here from the definition) and differs
// from the last version; the averaging changes no accounting: the same ε
// per tenant, the same noise, and every ledger holds the same intents
// with the same parameters, and the auditor recomputes the same ε.
func TestDistributedPublishesIterateAverageAtNoCost(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	const rounds = 3
	run := func(decay float64) (*Report, [][]float64, Config) {
		cfg := distributedTestConfig(t, 5, rounds, 61)
		cfg.AverageDecay = decay
		var versions [][]float64
		cfg.Observe = func(_ protocol.TaskSpec, f *coordinator.Federation, e coordinator.Event) {
			if e.Kind == coordinator.EvRoundAggregated {
				m, _ := f.Model(e.Version)
				versions = append(versions, append([]float64(nil), m...))
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		rep, err := Run(ctx, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(versions) != rounds {
			t.Fatalf("decay %v: %d versions aggregated, want %d", decay, len(versions), rounds)
		}
		verifyReport(t, rep)
		return rep, versions, cfg
	}
	avg, versions, cfgAvg := run(DistributedAverageDecay)
	last, lastVersions, cfgLast := run(0)

	b := DistributedAverageDecay
	want := make([]float64, len(versions[0]))
	var norm float64
	for i, v := range versions {
		w := math.Pow(b, float64(len(versions)-1-i))
		norm += w
		for j := range want {
			want[j] += w * v[j]
		}
	}
	var diff float64
	for j := range want {
		want[j] /= norm
		if math.Abs(avg.FinalModel[j]-want[j]) > 1e-9*(1+math.Abs(want[j])) {
			t.Fatalf("published parameter %d is %v, the moving average is %v", j, avg.FinalModel[j], want[j])
		}
		diff = max(diff, math.Abs(avg.FinalModel[j]-versions[rounds-1][j]))
	}
	if diff == 0 {
		t.Fatal("the published model is the last version")
	}
	lv := lastVersions[rounds-1]
	for j := range lv {
		if last.FinalModel[j] != lv[j] {
			t.Fatalf("without averaging, published parameter %d is %v, last version %v", j, last.FinalModel[j], lv[j])
		}
	}

	if avg.Privacy.NoiseMultiplier != last.Privacy.NoiseMultiplier {
		t.Errorf("noise multiplier %v with averaging, %v without", avg.Privacy.NoiseMultiplier, last.Privacy.NoiseMultiplier)
	}
	if len(avg.Epsilon) != 5 || len(last.Epsilon) != 5 {
		t.Fatalf("ε reported for %d and %d tenants", len(avg.Epsilon), len(last.Epsilon))
	}
	for name, e := range avg.Epsilon {
		if e != last.Epsilon[name] || !(e > 0) {
			t.Errorf("%s: ε %v with averaging, %v without", name, e, last.Epsilon[name])
		}
	}
	for _, party := range []string{"tenant-1", "tenant-3", "tenant-5", coordinator.LedgerParty} {
		a := intents(t, filepath.Join(cfgAvg.Workdir, party, "ledger.jsonl"))
		l := intents(t, filepath.Join(cfgLast.Workdir, party, "ledger.jsonl"))
		if len(a) == 0 || len(a) != len(l) {
			t.Fatalf("%s: %d intents with averaging, %d without", party, len(a), len(l))
		}
		for i := range a {
			if a[i].Mechanism != l[i].Mechanism || a[i].Round != l[i].Round || a[i].Params != l[i].Params ||
				a[i].EpsilonCumulative != l[i].EpsilonCumulative {
				t.Errorf("%s: intent %d differs: %+v against %+v", party, i, a[i], l[i])
			}
		}
	}
}

// intents reads the entries of a ledger file that name a mechanism (the
// tenants' intents, the coordinator's received inputs).
func intents(t *testing.T, path string) []ledger.Entry {
	t.Helper()
	es, err := ledger.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []ledger.Entry
	for _, e := range es {
		if e.Mechanism != "" {
			out = append(out, e)
		}
	}
	return out
}
