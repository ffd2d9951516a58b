package task

import (
	"context"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/protocol"
)

// AdapterLinear selects the full-rank linear softmax head over the
// encoder output (models.LinearHead): every weight trains, FedAvg of the
// parameters is exactly FedAvg of the model, and training is DP-Adam
// normalised by the public OptionExpectedBatch.
const AdapterLinear = "linear"

// DefaultExpectedBatch is the public expected batch size (OptionExpectedBatch)
// a linear task announces (models.DefaultLinearPrivateConfig's; under Adam
// a constant scale of the gradient does not change the step).
const DefaultExpectedBatch = 64

// linearSpec completes spec (kind, encoder, labels set) for AdapterLinear
// and returns the initial (zero) parameters.
func linearSpec(spec protocol.TaskSpec) (protocol.TaskSpec, []float64, error) {
	spec.Options = map[string]string{OptionAdapter: AdapterLinear}
	if err := SetExpectedBatch(&spec, DefaultExpectedBatch); err != nil {
		return spec, nil, err
	}
	spec.Rank = 0
	h, err := linearHead(spec)
	if err != nil {
		return spec, nil, err
	}
	return spec, h.Params(), nil
}

func linearHead(spec protocol.TaskSpec) (*models.LinearHead, error) {
	h, err := models.NewLinearHead(models.LinearConfig{InputDim: spec.InputDim, Classes: len(spec.Labels)})
	if err != nil {
		return nil, fmt.Errorf("task %q: %w", spec.ID, err)
	}
	return h, nil
}

// LinearClassifier is the classification Learner of AdapterLinear: a
// models.LinearHead over the tenant's sparse encoded examples. Its DP-Adam
// state stays local across rounds (it is computed from noised sums only).
type LinearClassifier struct {
	head         *models.LinearHead
	trainer      *models.LinearTrainer
	batch        float64
	trainX, tstX []models.SparseRow
	trainY, tstY []int
}

// NewLinearClassifier returns a Factory for AdapterLinear tasks: it
// encodes train and test with enc once and keeps them sparse.
func NewLinearClassifier(enc models.Encoder, train, test []dataset.Example, log *slog.Logger) Factory {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, spec protocol.TaskSpec) (Learner, error) {
		if a := spec.Options[OptionAdapter]; a != AdapterLinear {
			return nil, fmt.Errorf("task %q: option %s = %q: this learner is for %q", spec.ID, OptionAdapter, a, AdapterLinear)
		}
		if spec.InputDim != enc.Dim() {
			return nil, fmt.Errorf("task %q: input dimension %d, this tenant's encoder gives %d", spec.ID, spec.InputDim, enc.Dim())
		}
		h, err := linearHead(spec)
		if err != nil {
			return nil, err
		}
		b, err := ExpectedBatch(spec)
		if err != nil {
			return nil, err
		}
		l := &LinearClassifier{head: h, trainer: models.NewLinearTrainer(h), batch: b}
		if l.trainX, l.trainY, err = EncodeSparse(ctx, enc, spec.Labels, train, "train", log); err != nil {
			return nil, err
		}
		if l.tstX, l.tstY, err = EncodeSparse(ctx, enc, spec.Labels, test, "test", log); err != nil {
			return nil, err
		}
		return l, nil
	}
}

// EncodeSparse encodes the examples whose label is in labels into sparse
// rows; the others are counted and reported on log.
func EncodeSparse(ctx context.Context, enc models.Encoder, labels []string, ex []dataset.Example, split string, log *slog.Logger) ([]models.SparseRow, []int, error) {
	texts, ys, unknown := dataset.WithLabels(ex, labels)
	if unknown > 0 {
		log.Warn("examples with labels outside the task were skipped", "split", split, "skipped", unknown)
	}
	if len(texts) == 0 {
		return nil, nil, nil
	}
	rows := make([]models.SparseRow, 0, len(texts))
	const chunk = 512 // bounds the dense vectors alive at once
	for i := 0; i < len(texts); i += chunk {
		x, err := enc.Encode(ctx, texts[i:min(i+chunk, len(texts))])
		if err != nil {
			return nil, nil, fmt.Errorf("task: encode %s split: %w", split, err)
		}
		r, err := models.SparsifyAll(x, enc.Dim())
		if err != nil {
			return nil, nil, fmt.Errorf("task: %s split: %w", split, err)
		}
		rows = append(rows, r...)
	}
	return rows, ys, nil
}

func (l *LinearClassifier) NumParams() int              { return l.head.NumParams() }
func (l *LinearClassifier) Params() []float64           { return l.head.Params() }
func (l *LinearClassifier) SetParams(p []float64) error { return l.head.SetParams(p) }
func (l *LinearClassifier) TrainSize() int              { return len(l.trainX) }
func (l *LinearClassifier) Head() *models.LinearHead    { return l.head }

// Train runs the round's DP-SGD parameters (q, C, z, steps, learning rate,
// public expected batch) as DP-Adam with a frozen bias
// (models.DefaultLinearPrivateConfig); cfg.Momentum is not used.
func (l *LinearClassifier) Train(cfg models.TrainConfig, rng *mrand.Rand) (models.TrainStats, error) {
	lc := models.DefaultLinearPrivateConfig(cfg.Steps, cfg.NoiseMultiplier)
	lc.LearningRate, lc.SampleRate, lc.ClipNorm, lc.ExpectedBatch = cfg.LearningRate, cfg.SampleRate, cfg.ClipNorm, l.batch
	if cfg.ExpectedBatch > 0 { // the plan's, from the same task option
		lc.ExpectedBatch = cfg.ExpectedBatch
	}
	if !cfg.Private {
		lc = models.LinearTrainConfig{Steps: cfg.Steps, LearningRate: cfg.LearningRate, BatchSize: max(cfg.BatchSize, 1)}
	}
	return l.trainer.Train(l.trainX, l.trainY, lc, rng)
}

// ClippedGradSum implements GradSummer with the bias frozen (its
// coordinates are zero, as in Train): only the first
// TrainableParams(spec) parameters carry gradient.
func (l *LinearClassifier) ClippedGradSum(q, clip float64, rng *mrand.Rand) ([]float64, models.GradSumStats, error) {
	return l.trainer.ClippedGradSum(l.trainX, l.trainY, q, clip, true, rng)
}

// TrainableParams is the number of leading parameters a linear task's
// learner trains (the weights W; the bias stays frozen): InputDim·classes.
func TrainableParams(spec protocol.TaskSpec) int { return spec.InputDim * len(spec.Labels) }

// EvalStats returns ClassStats of the held-out split.
func (l *LinearClassifier) EvalStats() ([]int64, error) {
	k := l.head.Config().Classes
	if len(l.tstX) == 0 {
		return make([]int64, 2+3*k), nil
	}
	m, err := l.head.Evaluate(l.tstX, l.tstY)
	if err != nil {
		return nil, err
	}
	return ClassStats(m), nil
}
