package simulate

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/intent"
	modeltask "github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/ledger"
	"github.com/fedb2b/fedb2b/privacy/scalar"
)

func TestRunIntentSmallClinc(t *testing.T) {
	ex, _, err := dataset.LoadFile("testdata/clinc_small.csv", dataset.LoadOptions{LabelCol: "label"})
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 1024})
	res, err := RunIntent(context.Background(), ex, IntentConfig{Adapter: modeltask.AdapterHead, Tenants: 3, Alpha: 5, Rank: 32, Rounds: 5, LocalSteps: 30, SampleRate: 0.2,
		LearningRate: 4, CentralSteps: 300, RejectRate: 0.1, EvalEpsilon: 0.5, Encoder: enc, Rand: privacy.SeededReader(3)})
	if err != nil {
		t.Fatal(err)
	}
	oosTest := 0
	for _, tr := range res.Tenants {
		oosTest += tr.OOSTest
	}
	// The keyed split is not stratified: the held-out out-of-scope count
	// is the tenants' own (12 under the old stratified split).
	if res.Intents != 8 || len(res.Tenants) != 3 || res.Federated.OOS != int64(oosTest) || oosTest == 0 || math.Abs(res.Epsilon-8) > 0.05 {
		t.Fatalf("result %+v", res)
	}
	// The global threshold comes from the last noised evaluation and is
	// applied to the same test messages.
	if res.Global.OOS != int64(oosTest) || res.Global.InScope != res.Federated.InScope || !(res.GlobalThreshold >= 0 && res.GlobalThreshold <= 1) {
		t.Fatalf("global threshold %v: %+v vs own thresholds %+v", res.GlobalThreshold, res.Global, res.Federated)
	}
	t.Logf("global threshold %.4f: %v", res.GlobalThreshold, res.Global.Map())
	t.Logf("federated acc %.3f %v; local acc %.3f %v; central acc %.3f %v", res.FederatedAcc, res.Federated.Map(), res.LocalAcc, res.Local.Map(), res.CentralizedAcc, res.Centralized.Map())
	// 8 intents: chance is 1/8.
	if res.FederatedAcc < 0.3 || res.CentralizedAcc < 0.6 {
		t.Errorf("accuracy too low: federated %v centralized %v", res.FederatedAcc, res.CentralizedAcc)
	}
}

// The linear intent task over the real coordinator: the global threshold
// comes from the noised energy histogram, every baseline is counted on
// the same test messages, and each tenant's ledger holds the noised
// evaluation release of the histograms with the ε it was noised at (a
// scalar-Gaussian intent of sensitivity 1 at σ for EvalEpsilon, released),
// inside the ε the run reports.
func TestRunIntentLinearSmallClinc(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	ex, enc := clincSmall(t, 1024)
	dir := t.TempDir()
	const evalEps = 0.5
	res, err := RunIntent(context.Background(), ex, IntentConfig{Tenants: 3, Alpha: 5, Rounds: 3, LocalSteps: 30, RejectRate: 0.1,
		EvalEpsilon: evalEps, Encoder: enc, Rand: privacy.SeededReader(4), Workdir: dir})
	if err != nil {
		t.Fatal(err)
	}
	oosTest := 0
	for _, tr := range res.Tenants {
		oosTest += tr.OOSTest
	}
	if res.Adapter != modeltask.AdapterLinear || res.Score.Kind != intent.ScoreEnergy || res.Intents != 8 || oosTest == 0 ||
		res.Global.OOS != int64(oosTest) || res.Federated.OOS != int64(oosTest) || res.FederatedMSP.OOS != int64(oosTest) ||
		res.Centralized.OOS != int64(oosTest) || res.CentralizedMSP.OOS != int64(oosTest) || res.Local.OOS != int64(oosTest) ||
		res.FederatedKNN.OOS != int64(oosTest) || res.CentralizedKNN.OOS != int64(oosTest) || res.FederatedKNN.InScope != res.Federated.InScope ||
		res.Global.InScope != res.Centralized.InScope || math.Abs(res.Epsilon-8) > 0.05 ||
		res.CentralizedEnergyOOS == nil || res.CentralizedEnergyOOS.OOS != int64(oosTest) || len(res.MatchedRecall) != 3 {
		t.Fatalf("result %+v", res)
	}
	if res.GlobalThreshold != res.Federation["threshold"] || math.IsNaN(res.GlobalThreshold) {
		t.Fatalf("global threshold %v, operator's view %v", res.GlobalThreshold, res.Federation)
	}
	t.Logf("τ %.3f global %v; own %v; msp own %v; knn own %v; central %v (msp %v, knn %v); local %v; acc fed %.3f local %.3f central %.3f", res.GlobalThreshold,
		res.Global.Map(), res.Federated.Map(), res.FederatedMSP.Map(), res.FederatedKNN.Map(), res.Centralized.Map(), res.CentralizedMSP.Map(), res.CentralizedKNN.Map(), res.Local.Map(),
		res.FederatedAcc, res.LocalAcc, res.CentralizedAcc)
	if res.FederatedAcc < 0.5 || res.CentralizedAcc < 0.8 {
		t.Errorf("accuracy federated %v centralized %v (8 intents)", res.FederatedAcc, res.CentralizedAcc)
	}
	rec, err := scalar.VectorRecord(1, 1, evalEps, 1e-5, scalar.Gaussian)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range res.Tenants {
		es, err := ledger.ReadFile(filepath.Join(dir, tr.Name, "ledger.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		evals, released := 0, map[uint64]bool{}
		var last ledger.Entry
		for _, e := range es {
			if e.Status == ledger.StatusReleased {
				released[e.Ref] = e.ArtifactHash != ""
			}
			if e.Tenant == tr.Name && e.Status == ledger.StatusIntent {
				last = e
			}
		}
		for _, e := range es {
			if e.Status != ledger.StatusIntent || e.Mechanism != ledger.MechScalarGaussian || e.Task != "intent" {
				continue
			}
			if e.Params.ClipNorm != 1 || math.Abs(e.Params.NoiseMultiplier-rec.NoiseStd) > 1e-9*rec.NoiseStd || !released[e.Seq] {
				continue // a noised count, not the evaluation
			}
			evals++
		}
		// Rounds 3 with EvalEvery 10: the last round's evaluation only.
		if evals != 1 || math.Abs(float64(last.EpsilonCumulative)-res.Epsilon) > 1e-6 {
			t.Errorf("%s: %d released evaluation intents at σ %v (want 1); ledger ε %v, reported %v", tr.Name, evals, rec.NoiseStd, last.EpsilonCumulative, res.Epsilon)
		}
	}
}

// With OOSClass every model trains the tenants' out-of-scope training
// messages as one more class: the score reads the 8 in-scope logits,
// the held-out out-of-scope messages are all counted (none was trained
// on: they are in the held-out splits), and the centralized model is
// also scored by energy minus the class's logit.
func TestRunIntentLinearOOSClass(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	ex, enc := clincSmall(t, 1024)
	cfg := IntentConfig{Tenants: 3, Alpha: 5, Rounds: 2, LocalSteps: 30, RejectRate: 0.1, EvalEpsilon: 0.5, Encoder: enc,
		Rand: privacy.SeededReader(4), OOSClass: true}
	res, err := RunIntent(context.Background(), ex, cfg)
	if err != nil {
		t.Fatal(err)
	}
	in, oos := intent.SplitOOS(ex)
	raws, err := splitIntentTenants(in, oos, cfg)
	if err != nil {
		t.Fatal(err)
	}
	oosTest, oosTrain := 0, 0
	for i, tr := range res.Tenants {
		oosTest += tr.OOSTest
		for _, e := range raws[i].train {
			if e.Label == intent.OOSLabel {
				oosTrain++
			}
		}
	}
	if res.Score.InScopeClasses != 8 || res.Intents != 9 || oosTest == 0 || oosTrain == 0 || res.CentralizedEnergyOOS == nil ||
		res.Global.OOS != int64(oosTest) || res.Centralized.OOS != int64(oosTest) || res.CentralizedEnergyOOS.OOS != int64(oosTest) ||
		res.Local.OOS != int64(oosTest) || res.CentralizedEnergyOOS.InScope != res.Centralized.InScope {
		t.Fatalf("result %+v (%d out-of-scope training messages)", res, oosTrain)
	}
	if res.CentralizedAcc < 0.8 {
		t.Errorf("centralized accuracy %v over the 8 in-scope intents", res.CentralizedAcc)
	}
	// The operator's noised view comes with its noise: a handful of
	// held-out out-of-scope messages per tenant against σ ≈ 7 per bucket.
	if !slices.Contains(res.FederationUnmeasurable, "oos_recall") || res.FederationSD["calibration"] <= 0 {
		t.Errorf("operator's view %v, noise sd %v, not measurable %q: want the out-of-scope recall flagged", res.Federation, res.FederationSD, res.FederationUnmeasurable)
	}
	if len(res.MatchedRecall) != 3 || res.RejectRate != 0.1 {
		t.Errorf("matched recall %v at reject rate %v: want federated, centralized and centralized_energy_oos", res.MatchedRecall, res.RejectRate)
	}
	t.Logf("%d out-of-scope training messages; global %v; central %v, energy−oos %v; matched %v", oosTrain, res.Global.Map(), res.Centralized.Map(), res.CentralizedEnergyOOS.Map(), res.MatchedRecall)
	cfg.Adapter = modeltask.AdapterHead
	if _, err := RunIntent(context.Background(), ex, cfg); err == nil {
		t.Error("the LoRA head accepted a trained out-of-scope class")
	}
}

// clincSmall loads testdata/clinc_small.csv and a hashing encoder of dim
// buckets for it.
func clincSmall(t *testing.T, dim int) ([]dataset.Example, models.Encoder) {
	t.Helper()
	ex, _, err := dataset.LoadFile("testdata/clinc_small.csv", dataset.LoadOptions{LabelCol: "label"})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: dim})
	if err != nil {
		t.Fatal(err)
	}
	return ex, enc
}
