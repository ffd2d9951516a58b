package simulate

import (
	"context"
	"math"
	"testing"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/privacy"
)

func TestRunIntentSmallClinc(t *testing.T) {
	ex, _, err := dataset.LoadFile("testdata/clinc_small.csv", dataset.LoadOptions{LabelCol: "label"})
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 1024})
	res, err := RunIntent(context.Background(), ex, IntentConfig{Tenants: 3, Alpha: 5, Rank: 32, Rounds: 5, LocalSteps: 30, SampleRate: 0.2,
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
