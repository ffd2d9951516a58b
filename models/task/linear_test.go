package task

import (
	"context"
	"testing"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/privacy"
)

// The linear adapter end to end at the task level: the spec carries the
// public expected batch, the learner trains with DP and learns, its
// parameters are the head's, and bad options are refused.
func TestLinearAdapterTrainsAndChecksOptions(t *testing.T) {
	data := dataset.Synthesize(dataset.SynthConfig{Seed: 3, Records: 1500})
	train, test := dataset.TrainTestSplit(data, 0.2, dataset.SimulationSplitKey(4, 0))
	labels, _ := dataset.LabelIndex(data)
	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: 2048})
	if err != nil {
		t.Fatal(err)
	}
	spec, initial, err := ClassifySpec(KindClassify, ClassifySetup{ID: "lin", Labels: labels, Seed: 1, Adapter: AdapterLinear}, enc)
	if err != nil {
		t.Fatal(err)
	}
	k := len(labels)
	if spec.NumParams != 2048*k+k || len(initial) != spec.NumParams || spec.Options[OptionExpectedBatch] == "" {
		t.Fatalf("spec %d params (initial %d), options %v; want %d and an expected batch", spec.NumParams, len(initial), spec.Options, 2048*k+k)
	}
	l, err := NewClassifier(enc, train, test, nil)(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	lin, ok := l.(*LinearClassifier)
	if !ok {
		t.Fatalf("learner %T, want *LinearClassifier", l)
	}
	rng, err := privacy.NewRand(privacy.SeededReader(5))
	if err != nil {
		t.Fatal(err)
	}
	acc := func() float64 {
		s, err := l.EvalStats()
		if err != nil {
			t.Fatal(err)
		}
		a, _, err := ClassMetrics(s, k)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	before := acc()
	if _, err := l.Train(models.TrainConfig{Steps: 150, LearningRate: 0.05, Private: true, SampleRate: 0.1, ClipNorm: 1, NoiseMultiplier: 1}, rng); err != nil {
		t.Fatal(err)
	}
	after := acc()
	t.Logf("held-out accuracy %.3f before, %.3f after 150 DP-Adam steps", before, after)
	if after < 0.5 || after < before+0.3 {
		t.Fatalf("accuracy %.3f → %.3f: the linear learner did not learn", before, after)
	}
	if p := lin.Head().Params(); len(p) != l.NumParams() {
		t.Fatal("head and learner disagree on the parameter count")
	}
	for _, opt := range []string{"0", "-3", "NaN", "+Inf", "many"} {
		bad := spec
		bad.Options = map[string]string{OptionAdapter: AdapterLinear, OptionExpectedBatch: opt}
		if _, err := NewClassifier(enc, train, test, nil)(context.Background(), bad); err == nil {
			t.Errorf("expected batch %q accepted", opt)
		}
	}
	wrongDim := spec
	wrongDim.InputDim = 1024
	if _, err := NewClassifier(enc, train, test, nil)(context.Background(), wrongDim); err == nil {
		t.Error("a task whose input dimension differs from the encoder's was accepted")
	}
	// Intents take the linear adapter (with an out-of-scope scale), not
	// the encoder LoRA.
	if _, _, err := ClassifySpec(KindIntent, ClassifySetup{ID: "x", Labels: labels, Adapter: AdapterEncoderLoRA}, enc); err == nil {
		t.Error("encoder-lora adapter accepted for the intent kind")
	}
}
