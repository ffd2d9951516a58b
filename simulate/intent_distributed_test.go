package simulate

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/intent"
	modeltask "github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/audit"
	"github.com/fedb2b/fedb2b/privacy/keys"
	"github.com/fedb2b/fedb2b/privacy/ledger"
	"github.com/fedb2b/fedb2b/privacy/scalar"
	"github.com/fedb2b/fedb2b/protocol"
)

// TestRunIntentDistributedEvaluationRelease runs the intent task in the
// record-level distributed mode over the real coordinator with its
// evaluation release and attacks the accounting and the threshold:
//   - every tenant's ledger holds one distributed-mode intent per round
//     and exactly one released evaluation intent (Gaussian, sensitivity 1
//     — one message moves one bucket of one histogram by one — at the σ
//     of EvalEpsilon; 4 here, so that the noised histograms of a few
//     hundred messages still give a threshold inside the public range); its cumulative ε is the run's, within the target,
//     and strictly above the ε of the rounds alone: the evaluation is
//     charged and composed (the test fails if the release is not on the
//     ledger or not counted);
//   - the noise was planned to leave room for it (the rounds alone stay
//     below the target by the evaluation's share);
//   - the auditor, from the signed ledgers alone, recomputes each
//     tenant's ε;
//   - the global threshold every tenant applies is the one the intent
//     kind reads from the noised sum of the released histograms the
//     coordinator received, nothing else;
//   - on the evaluated model, a neighbouring tenant data set (one
//     training message fewer, or one held-out message more) moves the
//     released statistics by one in one bucket.
func TestRunIntentDistributedEvaluationRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	ex, enc := clincSmall(t, 256)
	dir := t.TempDir()
	const evalEps, rounds, target = 4.0, 150, 8.0
	var mu sync.Mutex
	var spec protocol.TaskSpec
	var noised []int64
	var evaluated []float64
	evals := 0
	cfg := IntentConfig{Tenants: 3, Alpha: 5, Rounds: rounds, RejectRate: 0.1, EvalEpsilon: evalEps, Encoder: enc,
		Rand: privacy.SeededReader(5), Workdir: dir, DPMode: DPModeDistributed,
		Observe: func(s protocol.TaskSpec, f *coordinator.Federation, e coordinator.Event) {
			if e.Kind != coordinator.EvEvaluated {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			evals++
			spec, noised = s, slices.Clone(e.Stats)
			evaluated, _ = f.Model(e.Version)
		}}
	res, err := RunIntent(context.Background(), ex, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.DPMode != DPModeDistributed || res.HonestTenants < 1 || res.Steps != rounds || !(res.NoiseMultiplier > 0) {
		t.Fatalf("result: mode %q, %d honest shares, %d steps, z %v", res.DPMode, res.HonestTenants, res.Steps, res.NoiseMultiplier)
	}
	if evals != 1 || noised == nil || evaluated == nil {
		t.Fatalf("%d evaluations observed (want one, after the last round)", evals)
	}
	// The threshold is the intent kind's reading of the noised sum.
	m, err := modeltask.Metrics(spec, noised)
	if err != nil {
		t.Fatal(err)
	}
	if res.GlobalThreshold != m["threshold"] || res.Federation["threshold"] != m["threshold"] || math.IsNaN(res.GlobalThreshold) {
		t.Fatalf("global threshold %v, operator's view %v, read from the noised sum %v", res.GlobalThreshold, res.Federation["threshold"], m["threshold"])
	}
	// Ledgers: the rounds, the one evaluation, the composed ε.
	rec, err := scalar.VectorRecord(1, 1, evalEps, 1e-5, scalar.Gaussian)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	var trusted []audit.TrustedKey
	for _, party := range append([]string{coordinator.LedgerParty}, tenantNames(res)...) {
		paths = append(paths, filepath.Join(dir, party, "ledger.jsonl"))
		pub, err := keys.ReadPublic(keys.PublicPath(filepath.Join(dir, party, "signing.key.age")))
		if err != nil {
			t.Fatal(err)
		}
		trusted = append(trusted, audit.TrustedKey{Party: party, Key: pub})
	}
	for _, name := range tenantNames(res) {
		es, err := ledger.ReadFile(filepath.Join(dir, name, "ledger.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		released := map[uint64]bool{}
		for _, e := range es {
			if e.Status == ledger.StatusReleased {
				released[e.Ref] = true
			}
		}
		var train []ledger.Params
		var last ledger.Entry
		evalIntents := 0
		for _, e := range es {
			if e.Status != ledger.StatusIntent || e.Tenant != name {
				continue
			}
			last = e
			switch e.Mechanism {
			case ledger.MechDDGRecord:
				train = append(train, e.Params)
			case ledger.MechScalarGaussian:
				if e.Params.ClipNorm != 1 || math.Abs(e.Params.NoiseMultiplier-rec.NoiseStd) > 1e-9*rec.NoiseStd || !released[e.Seq] {
					t.Errorf("%s: evaluation intent %+v (want sensitivity 1, σ %v, released)", name, e.Params, rec.NoiseStd)
				}
				evalIntents++
			default:
				t.Errorf("%s: unexpected mechanism %q", name, e.Mechanism)
			}
		}
		if len(train) != rounds || evalIntents != 1 {
			t.Fatalf("%s: %d distributed-mode intents (want %d), %d evaluation intents (want 1)", name, len(train), rounds, evalIntents)
		}
		total := float64(last.EpsilonCumulative)
		if math.Abs(total-res.Epsilon) > 1e-9 || total > target || total < 0.99*target {
			t.Errorf("%s: ledger ε %v, reported %v, target %v", name, total, res.Epsilon, target)
		}
		acc := privacy.NewRDPAccountant(nil)
		for _, p := range train {
			if err := acc.ComposeRDP(ledger.DDGRecord(p).RDPAt, p.Steps); err != nil {
				t.Fatal(err)
			}
		}
		alone, _, err := acc.Epsilon(1e-5)
		if err != nil {
			t.Fatal(err)
		}
		if !(alone < total-0.01) {
			t.Errorf("%s: the rounds alone give ε %v, the ledger %v: the evaluation is not charged", name, alone, total)
		}
		if name == "tenant-1" {
			t.Logf("%s: the %d rounds alone ε %.4f, with the evaluation %.4f", name, len(train), alone, total)
		}
	}
	ar := audit.Verify(audit.Load(paths...), trusted)
	if !ar.OK {
		f, _ := ar.First()
		t.Fatalf("audit failed: %+v", f)
	}
	seen := 0
	for _, b := range ar.Budgets {
		if b.Party == b.Tenant && b.Unit == ledger.UnitRecord {
			seen++
			if math.Abs(float64(b.Epsilon)-res.Epsilon) > 1e-9 {
				t.Errorf("%s: audit recomputed ε %v, run %v", b.Tenant, b.Epsilon, res.Epsilon)
			}
		}
	}
	if seen != cfg.Tenants {
		t.Errorf("audit budgets for %d tenants, want %d", seen, cfg.Tenants)
	}
	checkNeighbourStats(t, ex, cfg, spec, evaluated)
	t.Logf("τ %.3f from the noised histograms: %v; ε %v, z on the sum %.3f", res.GlobalThreshold, res.Global.Map(), res.Epsilon, res.NoiseMultiplier)
}

func tenantNames(r *IntentResult) []string {
	var out []string
	for _, t := range r.Tenants {
		out = append(out, t.Name)
	}
	return out
}

// checkNeighbourStats rebuilds tenant 1's learner as the run split it and
// counts its evaluation statistics under params, then for neighbouring
// data sets: one training message fewer (the calibration histogram), one
// held-out in-scope or out-of-scope message more. Each must move exactly
// one entry by exactly one.
func checkNeighbourStats(t *testing.T, ex []dataset.Example, cfg IntentConfig, spec protocol.TaskSpec, params []float64) {
	t.Helper()
	if err := cfg.fill(); err != nil {
		t.Fatal(err)
	}
	in, oos := intent.SplitOOS(ex)
	raws, err := splitIntentTenants(in, oos, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := raws[0]
	stats := func(train, test []dataset.Example) []int64 {
		l, err := modeltask.NewIntent(cfg.Encoder, train, test, nil)(context.Background(), spec)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.SetParams(params); err != nil {
			t.Fatal(err)
		}
		s, err := l.EvalStats()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base := stats(r.train, r.test)
	for name, n := range map[string][2][]dataset.Example{
		"one training message fewer":         {r.train[1:], r.test},
		"one held-out in-scope message more": {r.train, append(slices.Clone(r.test), in[0])},
		"one held-out out-of-scope more":     {r.train, append(slices.Clone(r.test), oos[0])},
	} {
		s := stats(n[0], n[1])
		moved, total := 0, int64(0)
		for i := range s {
			if d := s[i] - base[i]; d != 0 {
				moved++
				total += d
				if d != 1 && d != -1 {
					t.Errorf("%s: entry %d moved by %d", name, i, d)
				}
			}
		}
		if moved != 1 || (total != 1 && total != -1) {
			t.Errorf("%s: %d entries moved, by %d in all (want one by one)", name, moved, total)
		}
	}
}
