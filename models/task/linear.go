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
	trainX, tstX *models.RowStore
	trainY, tstY []int
}

// NewLinearClassifier returns a Factory for AdapterLinear tasks: it
// encodes train and test with enc once and keeps them in a compact
// models.RowStore (about 2 bytes per non-zero hashed feature).
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

// EncodeSparse encodes the examples whose label is in labels into a
// compact models.RowStore; the others are counted and reported on log.
// It encodes EncodeChunk texts at a time, so the dense vectors alive at
// once are bounded whatever the number of examples.
func EncodeSparse(ctx context.Context, enc models.Encoder, labels []string, ex []dataset.Example, split string, log *slog.Logger) (*models.RowStore, []int, error) {
	texts, ys, unknown := dataset.WithLabels(ex, labels)
	if unknown > 0 {
		log.Warn("examples with labels outside the task were skipped", "split", split, "skipped", unknown)
	}
	rows, err := models.NewRowStore(enc.Dim(), len(texts))
	if err != nil {
		return nil, nil, fmt.Errorf("task: %s split: %w", split, err)
	}
	if h, ok := enc.(*models.HashingEncoder); ok {
		// Straight to sparse: no dense vector at all.
		var row models.SparseRow
		var sc models.SparseScratch
		for i, t := range texts {
			if i%EncodeChunk == 0 {
				if err := ctx.Err(); err != nil {
					return nil, nil, fmt.Errorf("task: encode %s split: %w", split, err)
				}
			}
			row = h.AppendSparse(row, t, &sc)
			if err := rows.AppendSparse(row); err != nil {
				return nil, nil, fmt.Errorf("task: %s split: %w", split, err)
			}
		}
		return rows, ys, nil
	}
	for i := 0; i < len(texts); i += EncodeChunk {
		x, err := enc.Encode(ctx, texts[i:min(i+EncodeChunk, len(texts))])
		if err != nil {
			return nil, nil, fmt.Errorf("task: encode %s split: %w", split, err)
		}
		for _, v := range x {
			if err := rows.AppendDense(v); err != nil {
				return nil, nil, fmt.Errorf("task: %s split: %w", split, err)
			}
		}
	}
	return rows, ys, nil
}

// EncodeChunk is how many texts the encoding helpers give the encoder at
// once: 128 dense vectors of the linear head's 8192 dimensions are 8 MiB.
const EncodeChunk = 128

// Data returns the learner's encoded training and held-out rows and their
// label indices (for the simulation's baselines, which reuse them instead
// of encoding the tenant's data again). The caller must not modify them.
func (l *LinearClassifier) Data() (trainX models.Rows, trainY []int, testX models.Rows, testY []int) {
	return l.trainX, l.trainY, l.tstX, l.tstY
}

func (l *LinearClassifier) NumParams() int              { return l.head.NumParams() }
func (l *LinearClassifier) Params() []float64           { return l.head.Params() }
func (l *LinearClassifier) SetParams(p []float64) error { return l.head.SetParams(p) }
func (l *LinearClassifier) TrainSize() int              { return l.trainX.Len() }
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
	return l.trainer.TrainRows(l.trainX, l.trainY, lc, rng)
}

// ClippedGradSum implements GradSummer with the bias frozen (its
// coordinates are zero, as in Train): only the first
// TrainableParams(spec) parameters carry gradient.
func (l *LinearClassifier) ClippedGradSum(q, clip float64, rng *mrand.Rand) ([]float64, models.GradSumStats, error) {
	return l.trainer.ClippedGradSumRows(l.trainX, l.trainY, q, clip, true, rng)
}

// TrainableParams is the number of leading parameters a linear task's
// learner trains (the weights W; the bias stays frozen): InputDim·classes.
func TrainableParams(spec protocol.TaskSpec) int { return spec.InputDim * len(spec.Labels) }

// EvalStats returns ClassStats of the held-out split.
func (l *LinearClassifier) EvalStats() ([]int64, error) {
	k := l.head.Config().Classes
	if l.tstX.Len() == 0 {
		return make([]int64, 2+3*k), nil
	}
	m, err := l.head.EvaluateRows(l.tstX, l.tstY)
	if err != nil {
		return nil, err
	}
	return ClassStats(m), nil
}
