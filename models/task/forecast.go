package task

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/forecast"
	"github.com/fedb2b/fedb2b/protocol"
)

// KindForecast is weekly demand forecasting per product (package
// models/forecast): a linear head over lag, rolling-mean, median,
// intermittency, calendar and description features, trained for the
// conditional median (pinball loss) with DP-SGD on each tenant's own order
// lines, evaluated on the last weeks of a shared calendar.
//
// Its evaluation statistics are four integers that add up across tenants,
// in fixed point with per-row clamping (ForecastStats):
//
//	[0] rows·ForecastUnit
//	[1] Σ min(|ŷ−y|, B)/B·ForecastUnit
//	[2] Σ min((ŷ−y)², B²)/B²·ForecastUnit
//	[3] Σ min(|y|, B)/B·ForecastUnit
//
// each term rounded to the nearest integer, where B is the task's
// evaluation clip in units (option "eval_clip", default
// DefaultForecastEvalClip) and ŷ, y are the forecast and the actual demand
// in units. Privacy unit: one held-out row, a (product, week) of the
// tenant's aggregated weekly series with its features (add/remove). Adding
// or removing one row changes entry 0 by exactly ForecastUnit and each
// other entry by at most ForecastUnit, so L0 = 4 and LInf = ForecastUnit
// are true bounds. One order line can change several rows (its week's
// target and later weeks' lag features), so this is not order-line- or
// customer-level DP. Every row's scale is the same (the count is scaled
// too), so the Gaussian noise is equally large relative to every entry;
// a smaller B means less noise and more clamping.
const KindForecast = "forecast"

// Forecast statistics: length, contribution bounds and fixed-point scale.
const (
	ForecastStatsLen = 4
	ForecastL0       = 4
	// ForecastUnit is both the fixed-point scale (one row adds exactly
	// ForecastUnit to the row count, a clamped error of B adds
	// ForecastUnit to Σ|e|) and LInf. The quantisation error per row is
	// at most B/(2·ForecastUnit) units in Σ|e| and Σ|y| and
	// B²/(2·ForecastUnit) units² in Σe².
	ForecastUnit = 1_000_000
	// MaxForecastEvalRows bounds a tenant's held-out rows so that its
	// statistics (≤ rows·ForecastUnit) stay inside the coordinator's
	// ±2^40 per entry, with room for evaluation noise.
	MaxForecastEvalRows = 1_000_000
	// DefaultForecastEvalClip is the default B in units
	// (forecast.DefaultEvalClip).
	DefaultForecastEvalClip = forecast.DefaultEvalClip
	// MaxForecastWAPE caps the WAPE that noised statistics can report
	// (and the WAPE of an errorful forecast of no demand at all).
	MaxForecastWAPE = 100
)

func init() {
	Register(Kind{Name: KindForecast, Unit: "product-week row (not a customer: one customer's orders change many rows)", EvalLen: func(protocol.TaskSpec) int { return ForecastStatsLen },
		L0: ForecastL0, LInf: ForecastUnit, Metrics: forecastMetrics})
}

// ForecastRow returns the contribution of one forecast pred of the actual
// demand y (units) to the statistics under clip B: every entry is in
// [0, ForecastUnit] and the first is ForecastUnit, whatever the inputs (a
// non-finite error or demand counts as B).
func ForecastRow(pred, y, clip float64) [ForecastStatsLen]int64 {
	e := math.Abs(pred - y)
	if !(e <= clip) {
		e = clip
	}
	a := math.Abs(y)
	if !(a <= clip) {
		a = clip
	}
	u := float64(ForecastUnit)
	return [ForecastStatsLen]int64{
		ForecastUnit,
		int64(math.Round(e / clip * u)),
		int64(math.Round(e * e / (clip * clip) * u)),
		int64(math.Round(a / clip * u)),
	}
}

// ForecastStats returns the statistics of forecasts pred of actual (units)
// under clip B (see KindForecast).
func ForecastStats(pred, actual []float64, clip float64) ([]int64, error) {
	if len(pred) != len(actual) {
		return nil, fmt.Errorf("task: %d forecasts of %d actual values", len(pred), len(actual))
	}
	if err := checkClip(clip); err != nil {
		return nil, err
	}
	if len(pred) > MaxForecastEvalRows {
		return nil, fmt.Errorf("task: %d held-out forecast rows exceed the maximum of %d", len(pred), MaxForecastEvalRows)
	}
	s := make([]int64, ForecastStatsLen)
	for i, p := range pred {
		r := ForecastRow(p, actual[i], clip)
		for j, v := range r {
			s[j] += v
		}
	}
	return s, nil
}

func checkClip(clip float64) error {
	if !(clip > 0 && clip <= forecast.MaxEvalClip) {
		return fmt.Errorf("task: forecast evaluation clip %v units must be in (0, %d]", clip, forecast.MaxEvalClip)
	}
	return nil
}

// ForecastMetrics returns MAE and RMSE (units) and WAPE = Σ|e|/Σ|y| of
// forecast statistics under clip B. Noised statistics may be negative or
// inconsistent: every sum is clamped at zero, MAE and RMSE to [0, B] (their
// range under clamping) and WAPE to [0, MaxForecastWAPE] (post-processing,
// no privacy cost). Without rows every metric is 0; with Σ|y| = 0 WAPE is
// 0 if Σ|e| = 0 and MaxForecastWAPE otherwise. Exact statistics of
// unclamped rows give forecast.Errors' figures up to the quantisation.
func ForecastMetrics(stats []int64, clip float64) (mae, rmse, wape float64, err error) {
	if len(stats) != ForecastStatsLen {
		return 0, 0, 0, fmt.Errorf("task: %d forecast statistics, want %d", len(stats), ForecastStatsLen)
	}
	if err := checkClip(clip); err != nil {
		return 0, 0, 0, err
	}
	u := float64(ForecastUnit)
	pos := func(v int64) float64 { return float64(max(v, 0)) / u }
	n, absE, sqE, absY := pos(stats[0]), pos(stats[1])*clip, pos(stats[2])*clip*clip, pos(stats[3])*clip
	if n > 0 {
		mae = min(absE/n, clip)
		rmse = min(math.Sqrt(sqE/n), clip)
	}
	switch {
	case absY > 0:
		wape = min(absE/absY, MaxForecastWAPE)
	case absE > 0:
		wape = MaxForecastWAPE
	}
	return mae, rmse, wape, nil
}

// ForecastSpec returns the task a coordinator announces for forecasting
// with setup s (zero fields take forecast.Setup's defaults) and the
// initial parameters (forecast.NewHead's public prior: weight 1 on the
// 13-week median). The options carry s; InputDim and NumParams are the
// feature dimension; Seed derives the description projection; EncoderID
// is enc's (the built-in hashing encoder's when enc is nil): tenants need
// that encoder when s has description features.
func ForecastSpec(id string, enc models.Encoder, s forecast.Setup, seed uint64) (protocol.TaskSpec, []float64, error) {
	s, err := s.Filled()
	if err != nil {
		return protocol.TaskSpec{}, nil, fmt.Errorf("task %q: %w", id, err)
	}
	if enc, err = models.OrDefault(enc); err != nil {
		return protocol.TaskSpec{}, nil, err
	}
	d := s.Dim()
	spec := protocol.TaskSpec{ID: id, Kind: KindForecast, EncoderID: enc.ID(), InputDim: d, Seed: seed,
		NumParams: d, EvalLen: ForecastStatsLen, Options: s.Options()}
	return spec, forecast.NewHead(d).W, nil
}

// ForecastSetupOf reads the forecasting setup an announced spec carries.
func ForecastSetupOf(spec protocol.TaskSpec) (forecast.Setup, error) {
	s, err := forecast.ParseSetup(withoutCommon(spec.Options))
	if err != nil {
		return forecast.Setup{}, fmt.Errorf("task %q: %w", spec.ID, err)
	}
	return s, nil
}

func forecastMetrics(spec protocol.TaskSpec, stats []int64) (map[string]float64, error) {
	c, err := ForecastSetupOf(spec)
	if err != nil {
		return nil, err
	}
	return forecastValues(stats, c.EvalClip)
}

func forecastValues(stats []int64, clip float64) (map[string]float64, error) {
	mae, rmse, wape, err := ForecastMetrics(stats, clip)
	if err != nil {
		return nil, err
	}
	rows := float64(max(stats[0], 0)) / ForecastUnit
	return map[string]float64{"mae": mae, "rmse": rmse, "wape": wape, "examples": rows}, nil
}

var _ Learner = (*Forecaster)(nil)

// Forecaster is the forecasting Learner: forecast.Head over one tenant's
// prepared rows. Its parameters are the head's weights (spec.InputDim of
// them).
type Forecaster struct {
	head *forecast.Head
	data *forecast.TenantData
	clip float64
}

// NewForecast returns a Factory that builds, for an announced forecasting
// task (see ForecastSpec), the tenant's weekly series from its order lines
// tx on the task's calendar, the feature rows (descriptions through enc,
// which may be nil when the task has no text features) and the split:
// target weeks before the last Holdout weeks train, those weeks are held
// out. log (nil: discarded) gets the tenant's row counts.
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
		ss := forecast.WeeklySeries(tx, c.Calendar, false)
		td, err := forecast.Prepare(ctx, f, spec.ID, ss, c.Holdout)
		if err != nil {
			return nil, fmt.Errorf("task %q: %w", spec.ID, err)
		}
		if len(td.TestX) > MaxForecastEvalRows {
			return nil, fmt.Errorf("task %q: %d held-out rows exceed the maximum of %d", spec.ID, len(td.TestX), MaxForecastEvalRows)
		}
		if len(td.TrainX) == 0 {
			log.Warn("no training rows before the hold-out: this tenant's updates are noise only", "task", spec.ID)
		}
		log.Info("forecasting data", "task", spec.ID, "series", td.Series, "train_rows", len(td.TrainX), "test_rows", len(td.TestX))
		head := forecast.NewHead(f.Dim())
		head.Tau = c.Tau()
		return &Forecaster{head: head, data: td, clip: c.EvalClip}, nil
	}
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

// TrainSize is the number of training rows (active product-weeks before
// the hold-out).
func (l *Forecaster) TrainSize() int { return len(l.data.TrainX) }

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

// Train runs cfg on the head (forecast.Head.TrainWithStats: pinball loss
// of log1p(q)/Scale at the setup's quantile, or Huber; with cfg.Private,
// DP-SGD with Poisson rate q, clip C and noise multiplier z, each step
// divided by the task's public expected batch — a task without one is
// refused — privacy unit one training row). The head has no momentum: a
// cfg with Momentum is refused. TrainStats.MeanLoss is the mean loss.
func (l *Forecaster) Train(cfg models.TrainConfig, rng *mrand.Rand) (models.TrainStats, error) {
	if err := cfg.Check(); err != nil {
		return models.TrainStats{}, fmt.Errorf("task: forecast training: %w", err)
	}
	if cfg.Momentum != 0 {
		return models.TrainStats{}, fmt.Errorf("task: the forecast head trains without momentum (asked for %v)", cfg.Momentum)
	}
	st, err := l.head.TrainWithStats(l.data.TrainX, l.data.TrainZ, forecast.TrainConfig{
		Steps: cfg.Steps, LearningRate: cfg.LearningRate, Private: cfg.Private, SampleRate: cfg.SampleRate,
		ClipNorm: cfg.ClipNorm, NoiseMultiplier: cfg.NoiseMultiplier, ExpectedBatch: cfg.ExpectedBatch, BatchSize: cfg.BatchSize,
	}, rng)
	return models.TrainStats{Steps: st.Steps, Examples: st.Examples, MeanLoss: st.MeanLoss, ClippedFraction: st.ClippedFraction}, err
}

// EvalStats returns ForecastStats of the head's forecasts of the held-out
// rows.
func (l *Forecaster) EvalStats() ([]int64, error) {
	pred := make([]float64, len(l.data.TestX))
	for i, x := range l.data.TestX {
		pred[i] = l.head.Predict(x)
	}
	return ForecastStats(pred, l.data.TestY, l.clip)
}

// Errors returns the head's unclamped errors on the held-out rows (local
// use only: they are not noised).
func (l *Forecaster) Errors() forecast.Errors { return l.data.Evaluate(l.head) }

// ForecastBaselines returns the metrics of every baseline of
// forecast.Panel (the setup's season and window) on the held-out rows of
// the given tenants' order lines, by the baseline's name, computed exactly
// as the task's evaluation (same rows, same clip and fixed point, no
// noise): figures to print beside the federated result. It reads every
// tenant's data, so it is for simulations and experiments, not for a
// deployment.
func ForecastBaselines(spec protocol.TaskSpec, tenants [][]forecast.Transaction) (map[string]map[string]float64, error) {
	c, err := ForecastSetupOf(spec)
	if err != nil {
		return nil, err
	}
	panel := forecast.Panel(c.Season, c.Window)
	sums := make([][ForecastStatsLen]int64, len(panel))
	err = forecast.HoldoutForecasts(tenants, c.Calendar, c.Holdout, panel, func(y float64, f []float64) {
		for i, v := range f {
			r := ForecastRow(v, y, c.EvalClip)
			for j, x := range r {
				sums[i][j] += x
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("task %q: %w", spec.ID, err)
	}
	out := map[string]map[string]float64{}
	for i, b := range panel {
		if out[b.Name], err = forecastValues(sums[i][:], c.EvalClip); err != nil {
			return nil, err
		}
	}
	return out, nil
}
