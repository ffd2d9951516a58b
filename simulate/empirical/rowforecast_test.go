package empirical

import (
	"context"
	"fmt"
	mrand "math/rand/v2"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/protocol"
)

// rowForecaster is the forecast learner as it was before the customer
// became the privacy unit, kept as the deliberately broken variant the
// customer-level red-team test must catch: DP-SGD over product-level
// (product, week) rows of the tenant's aggregated series, each row
// clipped alone, and released evaluation statistics of the product-level
// held-out rows (task.ForecastStats, one row a unit of the sums). One
// customer changes many such rows.
type rowForecaster struct {
	head *forecast.Head
	data *forecast.TenantData
	clip float64
}

func newRowForecaster(enc models.Encoder, tx []forecast.Transaction) task.Factory {
	return func(ctx context.Context, spec protocol.TaskSpec) (task.Learner, error) {
		c, err := task.ForecastSetupOf(spec)
		if err != nil {
			return nil, err
		}
		f, err := forecast.NewFeaturizer(enc, c.TextDim, spec.Seed, c.Calendar)
		if err != nil {
			return nil, err
		}
		td, err := forecast.Prepare(ctx, f, spec.ID, forecast.WeeklySeries(tx, c.Calendar, false), c.Holdout)
		if err != nil {
			return nil, err
		}
		h := forecast.NewHead(f.Dim())
		h.Tau = c.Tau()
		return &rowForecaster{head: h, data: td, clip: c.EvalClip}, nil
	}
}

func (l *rowForecaster) NumParams() int    { return len(l.head.W) }
func (l *rowForecaster) Params() []float64 { return append([]float64(nil), l.head.W...) }
func (l *rowForecaster) TrainSize() int    { return len(l.data.TrainX) }

func (l *rowForecaster) SetParams(p []float64) error {
	if len(p) != len(l.head.W) {
		return fmt.Errorf("%d parameters, want %d", len(p), len(l.head.W))
	}
	copy(l.head.W, p)
	return nil
}

func (l *rowForecaster) Train(cfg models.TrainConfig, rng *mrand.Rand) (models.TrainStats, error) {
	st, err := l.head.TrainWithStats(l.data.TrainX, l.data.TrainZ, forecast.TrainConfig{
		Steps: cfg.Steps, LearningRate: cfg.LearningRate, Private: cfg.Private, SampleRate: cfg.SampleRate,
		ClipNorm: cfg.ClipNorm, NoiseMultiplier: cfg.NoiseMultiplier, ExpectedBatch: cfg.ExpectedBatch, BatchSize: cfg.BatchSize,
	}, rng)
	return models.TrainStats{Steps: st.Steps, Examples: st.Examples}, err
}

func (l *rowForecaster) EvalStats() ([]int64, error) {
	pred := make([]float64, len(l.data.TestX))
	for i, x := range l.data.TestX {
		pred[i] = l.head.Predict(x)
	}
	return task.ForecastStats(pred, l.data.TestY, l.clip)
}
