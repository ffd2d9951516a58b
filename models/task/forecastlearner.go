package task

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"slices"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/protocol"
)

var (
	_ Learner  = (*Forecaster)(nil)
	_ Deployer = (*Forecaster)(nil)
)

// Forecaster is the forecasting Learner: forecast.Head over one tenant's
// customers' own rows (training and released evaluation) and its
// product-level series (deployed forecasts). Its parameters are the head's
// weights (spec.InputDim of them).
type Forecaster struct {
	head *forecast.Head
	data *forecast.CustomerData
	// eval lists the Test units evaluated (ForecastEvalSubsample).
	eval []int
	// product holds the product-level held-out rows the tenant's
	// deployed forecasts are counted on (TestX, TestY; no training rows).
	product *forecast.TenantData
	clip    float64
}

// NewForecast returns a Factory that builds, for an announced forecasting
// task (see ForecastSpec), each customer's own weekly series from the
// tenant's order lines tx on the task's calendar, their feature rows
// (descriptions through enc, which may be nil when the task has no text
// features) and the split: target weeks before the last Holdout weeks
// train, those weeks are held out; and the product-level held-out rows of
// the deployed forecasts. At most MaxEvalUnits(spec) customers are
// evaluated (ForecastEvalSubsample): a tenant of any size starts. log
// (nil: discarded) gets the tenant's counts.
func NewForecast(enc models.Encoder, tx []forecast.Transaction, log *slog.Logger) Factory {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, spec protocol.TaskSpec) (Learner, error) {
		if spec.Kind != KindForecast {
			return nil, fmt.Errorf("task %q is of kind %q; this tenant's data are for %q", spec.ID, spec.Kind, KindForecast)
		}
		c, err := ForecastSetupOf(spec)
		if err != nil {
			return nil, err
		}
		maxEval, err := MaxEvalUnits(spec)
		if err != nil {
			return nil, err
		}
		var fenc models.Encoder
		if c.TextDim > 0 {
			if enc == nil || enc.ID() != spec.EncoderID {
				return nil, fmt.Errorf("task %q: description features need encoder %q, this tenant has %s", spec.ID, spec.EncoderID, encoderName(enc))
			}
			fenc = enc
		}
		f, err := forecast.NewFeaturizer(fenc, c.TextDim, spec.Seed, c.Calendar)
		if err != nil {
			return nil, fmt.Errorf("task %q: %w", spec.ID, err)
		}
		if spec.InputDim != f.Dim() || spec.NumParams != f.Dim() {
			return nil, fmt.Errorf("task %q: input dimension %d and %d parameters announced, the features have %d", spec.ID, spec.InputDim, spec.NumParams, f.Dim())
		}
		cd, err := forecast.PrepareCustomers(ctx, f, spec.ID, forecast.ByCustomer(tx, c.Calendar, false), c.Holdout)
		if err != nil {
			return nil, fmt.Errorf("task %q: %w", spec.ID, err)
		}
		td, err := forecast.Prepare(ctx, f, spec.ID, forecast.WeeklySeries(tx, c.Calendar, false), c.Holdout)
		if err != nil {
			return nil, fmt.Errorf("task %q: %w", spec.ID, err)
		}
		td.TrainX, td.TrainZ = nil, nil
		if cd.Train.Len() == 0 {
			log.Warn("no training rows before the hold-out: this tenant's updates are noise only", "task", spec.ID)
		}
		eval := ForecastEvalSubsample(spec, cd.Test.IDs, int(maxEval))
		log.Info("forecasting data", "task", spec.ID, "customers", cd.Customers, "train_customers", cd.Train.Len(), "train_rows", cd.Train.Rows(),
			"eval_customers", len(eval), "held_out_customers", cd.Test.Len(), "product_test_rows", len(td.TestX))
		head := forecast.NewHead(f.Dim())
		head.Tau = c.Tau()
		return &Forecaster{head: head, data: cd, eval: eval, product: td, clip: c.EvalClip}, nil
	}
}

// ForecastEvalSubsample returns the indices of the units of ids to
// evaluate: all of them when there are at most max, else the max whose
// keyed hash SHA-256(domain, task ID, seed, unit ID) is smallest, in
// their order in ids. Whether a unit is kept depends on its own ID and on
// the kept units' hashes only, so adding a unit at the cap evicts at most
// one other: the statistics change as by swapping one unit (see
// KindForecast), and no tenant fails to start for its size.
func ForecastEvalSubsample(spec protocol.TaskSpec, ids []string, limit int) []int {
	idx := make([]int, len(ids))
	for i := range idx {
		idx[i] = i
	}
	if len(ids) <= limit {
		return idx
	}
	key := func(id string) [32]byte {
		h := sha256.New()
		h.Write([]byte("fedb2b/forecast/eval-subsample/v1\x00"))
		h.Write([]byte(spec.ID))
		h.Write([]byte{0})
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], spec.Seed)
		h.Write(b[:])
		h.Write([]byte(id))
		var k [32]byte
		copy(k[:], h.Sum(nil))
		return k
	}
	keys := make([][32]byte, len(ids))
	for i, id := range ids {
		keys[i] = key(id)
	}
	slices.SortFunc(idx, func(a, b int) int { return bytes.Compare(keys[a][:], keys[b][:]) })
	idx = idx[:limit]
	slices.Sort(idx)
	return idx
}

func encoderName(enc models.Encoder) string {
	if enc == nil {
		return "none"
	}
	return fmt.Sprintf("%q", enc.ID())
}

// NumParams is the head's number of weights (the feature dimension).
func (l *Forecaster) NumParams() int { return len(l.head.W) }

// Params returns a copy of the head's weights.
func (l *Forecaster) Params() []float64 { return append([]float64(nil), l.head.W...) }

// TrainSize is the number of training units: customers with at least one
// training row.
func (l *Forecaster) TrainSize() int { return l.data.Train.Len() }

// Evaluated is the number of customers EvalStats counts.
func (l *Forecaster) Evaluated() int { return len(l.eval) }

// Model is the head (its weights are the current parameters).
func (l *Forecaster) Model() *forecast.Head { return l.head }

// SetParams loads p; it must have NumParams finite values.
func (l *Forecaster) SetParams(p []float64) error {
	if len(p) != len(l.head.W) {
		return fmt.Errorf("task: %d forecast parameters, want %d", len(p), len(l.head.W))
	}
	for i, v := range p {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("task: forecast parameter %d is %v", i, v)
		}
	}
	copy(l.head.W, p)
	return nil
}

// Train runs cfg on the head over the customers' training rows
// (forecast.TrainUnits: pinball loss of log1p(q)/Scale at the setup's
// quantile, or Huber; with cfg.Private, DP-SGD that Poisson-samples
// customers with rate q, clips each sampled customer's summed gradient to
// C, adds noise of multiplier z and divides by the task's public expected
// batch — a task without one is refused — privacy unit one customer;
// without it, minibatch SGD over rows). The head has no momentum: a cfg
// with Momentum is refused. TrainStats.MeanLoss is the mean loss per row.
func (l *Forecaster) Train(cfg models.TrainConfig, rng *mrand.Rand) (models.TrainStats, error) {
	if err := cfg.Check(); err != nil {
		return models.TrainStats{}, fmt.Errorf("task: forecast training: %w", err)
	}
	if cfg.Momentum != 0 {
		return models.TrainStats{}, fmt.Errorf("task: the forecast head trains without momentum (asked for %v)", cfg.Momentum)
	}
	st, err := forecast.TrainUnits(l.head, &l.data.Train, forecast.TrainConfig{
		Steps: cfg.Steps, LearningRate: cfg.LearningRate, Private: cfg.Private, SampleRate: cfg.SampleRate,
		ClipNorm: cfg.ClipNorm, NoiseMultiplier: cfg.NoiseMultiplier, ExpectedBatch: cfg.ExpectedBatch, BatchSize: cfg.BatchSize,
	}, rng)
	return models.TrainStats{Steps: st.Steps, Examples: st.Examples, MeanLoss: st.MeanLoss, ClippedFraction: st.ClippedFraction}, err
}

// EvalStats returns the released statistics: ForecastCustomerStats of
// the head's forecasts of each evaluated customer's own held-out rows,
// summed over those customers.
func (l *Forecaster) EvalStats() ([]int64, error) {
	s := make([]int64, ForecastStatsLen)
	var pred []float64
	for _, i := range l.eval {
		x, y := l.data.Test.Unit(i)
		pred = pred[:0]
		for _, xr := range x {
			pred = append(pred, l.head.Predict(xr))
		}
		c, err := ForecastCustomerStats(pred, y, l.clip)
		if err != nil {
			return nil, err
		}
		for j, v := range c {
			s[j] += v
		}
	}
	return s, nil
}

// DeployedStats returns ForecastStats (row-level) of the head's forecasts
// of the tenant's product-level held-out rows: how the tenant uses the
// model. Never released (no per-customer bound); simulations count them.
func (l *Forecaster) DeployedStats() ([]int64, error) {
	pred := make([]float64, len(l.product.TestX))
	for i, x := range l.product.TestX {
		pred[i] = l.head.Predict(x)
	}
	return ForecastStats(pred, l.product.TestY, l.clip)
}

// Errors returns the head's unclamped errors on the product-level
// held-out rows (local use only: they are not noised).
func (l *Forecaster) Errors() forecast.Errors { return l.product.Evaluate(l.head) }
