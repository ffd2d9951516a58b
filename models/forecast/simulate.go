package forecast

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"

	"github.com/fedb2b/fedb2b/aggregation"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/privacy"
)

// TenantData is one tenant's forecasting examples: training rows for target
// weeks before the hold-out, test rows for the held-back last weeks (with
// the baselines' forecasts alongside).
type TenantData struct {
	Name          string
	Series        int
	TrainX        [][]float64
	TrainZ        []float64
	TestX         [][]float64
	TestY         []float64 // units
	TestNaive     []float64 // seasonal-naive forecasts
	TestMovAvg    []float64 // moving-average forecasts
	firstTestWeek int
}

// Prepare builds a tenant's examples from its weekly series: every
// active (series, week t) with t ≥ 1 is an example; weeks in
// the last holdout weeks of the calendar are test examples.
func Prepare(ctx context.Context, f *Featurizer, name string, ss []Series, holdout, season, window int) (*TenantData, error) {
	weeks := f.Cal.Weeks
	if holdout < 1 || holdout >= weeks-1 {
		return nil, fmt.Errorf("forecast: hold-out of %d weeks does not fit a calendar of %d weeks", holdout, weeks)
	}
	text, err := f.TextFeatures(ctx, ss)
	if err != nil {
		return nil, err
	}
	td := &TenantData{Name: name, Series: len(ss), firstTestWeek: weeks - holdout}
	for i := range ss {
		s := &ss[i]
		for t := 1; t < weeks; t++ {
			if !Active(s, t) {
				continue
			}
			row := make([]float64, f.Dim())
			f.Row(row, s, text[i], t)
			if t < td.firstTestWeek {
				td.TrainX = append(td.TrainX, row)
				td.TrainZ = append(td.TrainZ, Target(s.Qty[t]))
				continue
			}
			td.TestX = append(td.TestX, row)
			td.TestY = append(td.TestY, s.Qty[t])
			td.TestNaive = append(td.TestNaive, SeasonalNaive(s, t, season))
			td.TestMovAvg = append(td.TestMovAvg, MovingAverage(s, t, window))
		}
	}
	return td, nil
}

// Evaluate returns the head's errors on the tenant's test rows.
func (td *TenantData) Evaluate(h *Head) Errors {
	var e Errors
	for i, x := range td.TestX {
		e.Add(h.Predict(x), td.TestY[i])
	}
	return e
}

// SimConfig sets up Simulate.
type SimConfig struct {
	HoldoutWeeks int    // held-back last weeks (default 4)
	MinCustomers int    // countries with fewer customers pool into "Other" (default 10)
	TextDim      int    // projected description features (default 16; -1 for none)
	Seed         uint64 // projection seed (public)
	Season       int    // seasonal-naive period in weeks (default 1)
	Window       int    // moving-average window in weeks (default 4)

	Rounds       int     // federated rounds (default 100)
	LocalSteps   int     // DP-SGD steps per round per tenant (default 10)
	LearningRate float64 // default 1
	SampleRate   float64 // q (default 0.05)
	ClipNorm     float64 // C (default 1)
	// NoiseMultiplier z; 0 calibrates it with the RDP accountant so that
	// every tenant's record-level ε after Rounds·LocalSteps steps is
	// TargetEpsilon at Delta.
	NoiseMultiplier float64
	TargetEpsilon   float64 // default 1
	Delta           float64 // default 1e-5

	CentralSteps int // non-private centralized baseline steps (default 3000)
	Encoder      models.Encoder
	Rand         io.Reader // seeds privacy.NewRand; nil means crypto/rand
}

func (c *SimConfig) fill() error {
	c.HoldoutWeeks = cmp.Or(c.HoldoutWeeks, 4)
	c.MinCustomers = cmp.Or(c.MinCustomers, 10)
	c.TextDim = cmp.Or(c.TextDim, 16)
	if c.TextDim < 0 {
		c.TextDim = 0
	}
	c.Season = cmp.Or(c.Season, 1)
	c.Window = cmp.Or(c.Window, 4)
	c.Rounds = cmp.Or(c.Rounds, 100)
	c.LocalSteps = cmp.Or(c.LocalSteps, 10)
	c.CentralSteps = cmp.Or(c.CentralSteps, 3000)
	c.LearningRate = cmp.Or(c.LearningRate, 1)
	c.SampleRate = cmp.Or(c.SampleRate, 0.05)
	c.ClipNorm = cmp.Or(c.ClipNorm, 1)
	c.TargetEpsilon = cmp.Or(c.TargetEpsilon, 1)
	c.Delta = cmp.Or(c.Delta, 1e-5)
	if c.TextDim > 0 {
		enc, err := models.OrDefault(c.Encoder)
		if err != nil {
			return err
		}
		c.Encoder = enc
	}
	return nil
}

// SimResult is what Simulate measured, pooled over the tenants' held-back
// weeks.
type SimResult struct {
	Tenants         []TenantSummary
	Federated       Errors
	Centralized     Errors // one head on all tenants' data, no privacy
	Local           Errors // each tenant alone, same DP-SGD steps
	SeasonalNaive   Errors
	MovingAverage   Errors
	Zero            Errors  // the all-zero forecast (intermittent demand makes it strong)
	Epsilon, Delta  float64 // record-level, per tenant (RDP accountant)
	NoiseMultiplier float64
	Steps           int // DP-SGD steps each tenant took
}

// TenantSummary describes one simulated tenant.
type TenantSummary struct {
	Name                        string
	Series, TrainRows, TestRows int
}

// Simulate splits the transactions into tenants by country, builds each
// tenant's examples, runs federated DP-SGD of the head with FedAvg over
// cfg.Rounds rounds (all tenants every round, weighted by their number of
// training rows) and evaluates it, the baselines, a non-private centralized
// head and each tenant's local-only DP head on the held-back last weeks.
func Simulate(ctx context.Context, tx []Transaction, cfg SimConfig) (*SimResult, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	cal, err := CalendarOf(tx)
	if err != nil {
		return nil, err
	}
	f, err := NewFeaturizer(cfg.Encoder, cfg.TextDim, cfg.Seed, cal)
	if err != nil {
		return nil, err
	}
	names, parts := SplitByCountry(tx, cfg.MinCustomers)
	res := &SimResult{Delta: cfg.Delta}
	var tds []*TenantData
	for _, n := range names {
		td, err := Prepare(ctx, f, n, WeeklySeries(parts[n], cal, false), cfg.HoldoutWeeks, cfg.Season, cfg.Window)
		if err != nil {
			return nil, fmt.Errorf("forecast: tenant %s: %w", n, err)
		}
		if len(td.TrainX) == 0 {
			continue
		}
		tds = append(tds, td)
		res.Tenants = append(res.Tenants, TenantSummary{n, td.Series, len(td.TrainX), len(td.TestX)})
		for i, y := range td.TestY {
			res.SeasonalNaive.Add(td.TestNaive[i], y)
			res.MovingAverage.Add(td.TestMovAvg[i], y)
			res.Zero.Add(0, y)
		}
	}
	if len(tds) == 0 {
		return nil, fmt.Errorf("forecast: no tenant has training examples")
	}
	res.Steps = cfg.Rounds * cfg.LocalSteps
	z, eps, err := privacy.NoiseForSteps(cfg.SampleRate, res.Steps, cfg.Delta, cfg.TargetEpsilon, cfg.NoiseMultiplier)
	if err != nil {
		return nil, fmt.Errorf("forecast: %w", err)
	}
	res.NoiseMultiplier, res.Epsilon = z, eps
	rng, err := privacy.NewRand(cfg.Rand)
	if err != nil {
		return nil, err
	}
	local := TrainConfig{Steps: cfg.LocalSteps, LearningRate: cfg.LearningRate, Private: true,
		SampleRate: cfg.SampleRate, ClipNorm: cfg.ClipNorm, NoiseMultiplier: z}

	// Federated: FedAvg of the head's update.
	global := NewHead(f.Dim())
	strategy := &aggregation.FedAvg{}
	for r := 0; r < cfg.Rounds; r++ {
		agg := aggregation.Aggregate{WeightedSum: make([]float64, f.Dim())}
		for _, td := range tds {
			h := &Head{W: append([]float64(nil), global.W...), Delta: global.Delta}
			if err := h.Train(td.TrainX, td.TrainZ, local, rng); err != nil {
				return nil, fmt.Errorf("forecast: tenant %s round %d: %w", td.Name, r, err)
			}
			w := float64(len(td.TrainX))
			for j := range h.W {
				agg.WeightedSum[j] += w * (h.W[j] - global.W[j])
			}
			agg.TotalWeight += w
			agg.Clients++
		}
		next, err := strategy.AggregateFit(r, global.W, agg, nil)
		if err != nil {
			return nil, err
		}
		global.W = next
	}
	// Local only, same privacy and steps; and centralized without privacy.
	var allX [][]float64
	var allZ []float64
	for _, td := range tds {
		res.Federated.Merge(td.Evaluate(global))
		h := NewHead(f.Dim())
		lc := local
		lc.Steps = res.Steps
		if err := h.Train(td.TrainX, td.TrainZ, lc, rng); err != nil {
			return nil, fmt.Errorf("forecast: tenant %s local: %w", td.Name, err)
		}
		res.Local.Merge(td.Evaluate(h))
		allX = append(allX, td.TrainX...)
		allZ = append(allZ, td.TrainZ...)
	}
	central := NewHead(f.Dim())
	if err := central.Train(allX, allZ, TrainConfig{Steps: cfg.CentralSteps, LearningRate: cfg.LearningRate, BatchSize: 256}, rng); err != nil {
		return nil, fmt.Errorf("forecast: centralized: %w", err)
	}
	for _, td := range tds {
		res.Centralized.Merge(td.Evaluate(central))
	}
	if math.IsNaN(res.Federated.MAE()) {
		return nil, fmt.Errorf("forecast: federated evaluation is NaN")
	}
	return res, nil
}
