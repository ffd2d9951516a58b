package task

import (
	"fmt"
	"math"

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
// Privacy unit: a customer of a tenant — all of its order lines — with
// add/remove adjacency, for training and evaluation alike. Training and
// released evaluation use each customer's own weekly series
// (forecast.ByCustomer, forecast.PrepareCustomers): every row is a
// (customer, product, week) whose features and target come from that
// customer's lines only, so adding or removing a customer adds or removes
// its rows and changes no other. DP-SGD samples customers and clips each
// sampled customer's summed gradient (forecast.TrainUnits). The tenant's
// deployed forecasts apply the head to product-level series
// (DeployedStats, never released).
//
// Its evaluation statistics are four integers that add up across tenants,
// in fixed point with per-customer clamping (ForecastCustomerStats): over
// the evaluated customers c, with E_c = Σ|ŷ−y|, S_c = Σ(ŷ−y)² and
// Y_c = Σ|y| over c's held-out rows,
//
//	[0] customers·ForecastUnit
//	[1] Σ_c min(E_c, B)/B·ForecastUnit
//	[2] Σ_c min(S_c, B²)/B²·ForecastUnit
//	[3] Σ_c min(Y_c, B)/B·ForecastUnit
//
// each term rounded to the nearest integer, where B is the task's
// evaluation clip in units (option "eval_clip", default
// DefaultForecastEvalClip). Adding or removing a customer changes entry 0
// by ForecastUnit or 0 and each other entry by at most ForecastUnit,
// so L0 = 4 and LInf = ForecastUnit are true bounds for the customer. At
// most the public cap of evaluated customers (MaxEvalUnits of the
// announced bound) are evaluated, chosen by a keyed hash of the customer
// alone (ForecastEvalSubsample): at the cap, adding a customer swaps at
// most one evaluated customer for another, which changes entry 0 by 0 and
// every other entry by at most ForecastUnit, so the bounds still hold and
// no tenant fails for its size. Every customer's scale is the same (the
// count is scaled too), so the Gaussian noise is equally large relative
// to every entry; a smaller B means less noise and more clamping.
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
	// DefaultForecastEvalClip is the default B in units
	// (forecast.DefaultEvalClip).
	DefaultForecastEvalClip = forecast.DefaultEvalClip
	// MaxForecastWAPE caps the WAPE that noised statistics can report
	// (and the WAPE of an errorful forecast of no demand at all).
	MaxForecastWAPE = 100
)

func init() {
	Register(Kind{Name: KindForecast, Unit: "customer (all its order lines)", EvalLen: func(protocol.TaskSpec) int { return ForecastStatsLen },
		L0: ForecastL0, LInf: ForecastUnit, Metrics: forecastMetrics,
		Counts: map[string]string{"mae": "examples", "rmse": "examples", "wape": "examples"}})
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

// ForecastStats returns row-level statistics of forecasts pred of actual
// (units) under clip B: ForecastRow summed over the rows, each row a unit
// of the sums (entry 0 counts rows). They are what the tenant's deployed
// product-level forecasts and the baselines are counted with in
// simulations; a released evaluation uses ForecastCustomerStats.
func ForecastStats(pred, actual []float64, clip float64) ([]int64, error) {
	if len(pred) != len(actual) {
		return nil, fmt.Errorf("task: %d forecasts of %d actual values", len(pred), len(actual))
	}
	if err := checkClip(clip); err != nil {
		return nil, err
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

// ForecastCustomerStats returns one customer's contribution to the
// released statistics (see KindForecast): the forecasts pred of its
// held-out rows' demand actual (units) summed per customer, each sum
// clamped to B (B² for squared errors) and scaled. Every entry is in
// [0, ForecastUnit] and the first is ForecastUnit, whatever the inputs (a
// non-finite sum counts as the clamp).
func ForecastCustomerStats(pred, actual []float64, clip float64) ([ForecastStatsLen]int64, error) {
	if len(pred) != len(actual) {
		return [ForecastStatsLen]int64{}, fmt.Errorf("task: %d forecasts of %d actual values", len(pred), len(actual))
	}
	if err := checkClip(clip); err != nil {
		return [ForecastStatsLen]int64{}, err
	}
	var e, s, a float64
	for i, p := range pred {
		d := math.Abs(p - actual[i])
		e += d
		s += d * d
		a += math.Abs(actual[i])
	}
	fix := func(v, b float64) int64 {
		if !(v <= b) {
			v = b
		}
		return int64(math.Round(v / b * ForecastUnit))
	}
	return [ForecastStatsLen]int64{ForecastUnit, fix(e, clip), fix(s, clip*clip), fix(a, clip)}, nil
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

// ForecastBaselines returns the metrics of every baseline of
// forecast.Panel (the setup's season and window) on the product-level
// held-out rows of the given tenants' order lines, by the baseline's name,
// computed exactly as the deployed statistics (Forecaster.DeployedStats:
// same rows, same clip and fixed point, no noise): figures to print beside
// the federated result as deployed. It reads every tenant's data, so it is
// for simulations and experiments, not for a deployment.
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
