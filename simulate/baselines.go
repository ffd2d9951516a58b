package simulate

import (
	"context"
	"fmt"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	modeltask "github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
)

// CentralEpochs is how many passes the non-private centralized baseline
// makes over the pooled data.
const CentralEpochs = 10

// features encodes and projects examples with the task's labels
// (task.Encode, as the tenants' learners do).
func features(ctx context.Context, cfg Config, clf *models.Classifier, labels []string, ex []dataset.Example) ([][]float64, []int, error) {
	return modeltask.Encode(ctx, cfg.Encoder, clf, labels, ex, "baseline", cfg.Log)
}

func evaluate(clf *models.Classifier, f [][]float64, y []int, k int) (Metrics, error) {
	m, err := clf.Evaluate(f, y)
	if err != nil {
		return Metrics{}, err
	}
	return MetricsFromConfusion(m.Counts, k), nil
}

func runBaselines(ctx context.Context, cfg Config, s *splitData, rep *Report) error {
	k := len(s.labels)
	newClf := func() (*models.Classifier, error) {
		return models.NewClassifier(models.ClassifierConfig{InputDim: cfg.Encoder.Dim(), Rank: cfg.Rank, Classes: k, Alpha: cfg.LoRAAlpha, Seed: cfg.Seed})
	}
	proj, err := newClf()
	if err != nil {
		return err
	}
	var pooled, test []dataset.Example
	for _, t := range s.tenants {
		pooled = append(pooled, t.train...)
		test = append(test, t.test...)
	}
	testF, testY, err := features(ctx, cfg, proj, s.labels, test)
	if err != nil {
		return err
	}
	rng, err := privacy.NewRand(cfg.Rand)
	if err != nil {
		return err
	}
	rep.Baselines = map[string]Baseline{}

	// Centralized: all training data pooled, no privacy.
	central, err := newClf()
	if err != nil {
		return err
	}
	f, y, err := features(ctx, cfg, central, s.labels, pooled)
	if err != nil {
		return err
	}
	batch := 64
	steps := max(1, CentralEpochs*len(f)/batch)
	if _, err := central.Train(f, y, models.TrainConfig{Steps: steps, LearningRate: cfg.LearningRate / 4, Momentum: cfg.Momentum, BatchSize: batch}, rng); err != nil {
		return fmt.Errorf("simulate: centralized baseline: %w", err)
	}
	m, err := evaluate(central, testF, testY, k)
	if err != nil {
		return err
	}
	rep.Baselines["centralized"] = Baseline{Metrics: m}

	// Local-only: each tenant alone, the same DP-SGD and the same number of
	// steps as in the federation, so the same ε.
	local := Baseline{PerTenant: map[string]Metrics{}}
	for _, t := range s.tenants {
		clf, err := newClf()
		if err != nil {
			return err
		}
		f, y, err := features(ctx, cfg, clf, s.labels, t.train)
		if err != nil {
			return err
		}
		_, err = clf.Train(f, y, models.TrainConfig{Steps: cfg.Rounds * cfg.LocalSteps, LearningRate: cfg.LearningRate, Momentum: cfg.Momentum,
			Private: true, SampleRate: cfg.SampleRate, ClipNorm: cfg.ClipNorm, NoiseMultiplier: cfg.NoiseMultiplier,
			ExpectedBatch: cfg.ExpectedBatch}, rng)
		if err != nil {
			return fmt.Errorf("simulate: local-only baseline of %s: %w", t.name, err)
		}
		m, err := evaluate(clf, testF, testY, k)
		if err != nil {
			return err
		}
		local.PerTenant[t.name] = m
		local.Accuracy += m.Accuracy / float64(len(s.tenants))
		local.MacroF1 += m.MacroF1 / float64(len(s.tenants))
		local.Examples = m.Examples
	}
	rep.Baselines["local_only"] = local
	return nil
}
