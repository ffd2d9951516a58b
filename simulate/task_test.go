package simulate

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	modeltask "github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/protocol"
)

// RunTask drives any registered kind from the tenants' own factories: here
// classification assembled by hand, with noised evaluation.
func TestRunTaskWithOwnLearners(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: 512})
	if err != nil {
		t.Fatal(err)
	}
	data := dataset.Synthesize(dataset.SynthConfig{Seed: 5, Records: 900})
	labels, _ := dataset.LabelIndex(data)
	parts, err := dataset.SplitDirichlet(data, 3, 1, 5, dataset.SplitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	clf, err := models.NewClassifier(models.ClassifierConfig{InputDim: enc.Dim(), Rank: 64, Classes: len(labels), Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	spec := protocol.TaskSpec{ID: "hand-made", Kind: modeltask.KindClassify, EncoderID: enc.ID(), InputDim: enc.Dim(), Rank: 64, Labels: labels, Seed: 9, NumParams: clf.NumParams()}
	spec.EvalLen = modeltask.ClassStatsLen(spec)
	fed := TaskFederation{Spec: spec, Initial: clf.Params(), Central: models.TrainConfig{Steps: 300, LearningRate: 2, BatchSize: 64}}
	var allTrain, allTest []dataset.Example
	for i, p := range parts {
		train, test := dataset.TrainTestSplit(p, 0.2, dataset.SimulationSplitKey(0, i))
		fed.Tenants = append(fed.Tenants, TaskTenant{Name: fmt.Sprintf("t%d", i), Learner: modeltask.NewClassifier(enc, train, test, nil)})
		allTrain, allTest = append(allTrain, train...), append(allTest, test...)
	}
	fed.Pooled = modeltask.NewClassifier(enc, allTrain, allTest, nil)
	cfg := Config{Encoder: enc, Rounds: 3, LocalSteps: 20, SampleRate: 0.1, TargetEpsilon: 8, EvalEpsilon: 1, WeightEpsilon: 0.05,
		RoundTimeout: 5 * time.Second, Rand: privacy.SeededReader(6), Baselines: true}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var seen int
	rep, err := RunTask(ctx, cfg, fed, func(RoundReport) { seen++ })
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rounds) != 3 || seen != 3 || len(rep.FinalModel) != spec.NumParams {
		t.Fatalf("%d rounds reported, %d seen, final model of %d parameters", len(rep.Rounds), seen, len(rep.FinalModel))
	}
	for _, r := range rep.Rounds {
		if r.Evaluators != 3 || r.Values["accuracy"] != r.Accuracy || r.Values["examples"] <= 0 {
			t.Fatalf("round %d: %+v", r.Round, r)
		}
	}
	if rep.FinalValues["accuracy"] != rep.Rounds[2].Accuracy {
		t.Fatalf("final values %v, last round %v", rep.FinalValues, rep.Rounds[2].Values)
	}
	// The exact figure counts every held-out example once.
	var held float64
	for i, p := range parts {
		_, test := dataset.TrainTestSplit(p, 0.2, dataset.SimulationSplitKey(0, i))
		held += float64(len(test))
	}
	if ex := rep.FinalExactValues; ex["examples"] != held || !(ex["accuracy"] > 0) {
		t.Fatalf("exact final values %v, %v held-out examples", ex, held)
	}
	// Baselines on the same held-out examples: each tenant alone with the
	// same DP, and all data pooled without privacy (which must do better).
	loc, cen := rep.BaselineValues["local_only"], rep.BaselineValues["centralized"]
	if loc["examples"] != held || cen["examples"] != held || !(cen["accuracy"] > loc["accuracy"]) {
		t.Fatalf("baselines %v", rep.BaselineValues)
	}
	t.Logf("federated %.3f, local-only %.3f, centralized %.3f", rep.FinalExactValues["accuracy"], loc["accuracy"], cen["accuracy"])
	for name, e := range rep.Epsilon {
		if !(e > 7 && e <= 8*(1+1e-6)) {
			t.Errorf("%s: ε %v, want just under 8", name, e)
		}
	}

	other, _ := models.NewHashingEncoder(models.HashingConfig{Dim: 256})
	cfg.Encoder = other
	if _, err := RunTask(ctx, cfg, fed, nil); err == nil || !strings.Contains(err.Error(), "needs encoder") {
		t.Errorf("encoder mismatch: %v", err)
	}
	cfg.Encoder = enc
	fed.Spec.Kind = "weather"
	if _, err := RunTask(ctx, cfg, fed, nil); err == nil || !strings.Contains(err.Error(), `unknown kind "weather"`) {
		t.Errorf("unknown kind: %v", err)
	}
}
