package forecast

import (
	"context"
	"fmt"
)

// SeasonalNaive forecasts week t as the demand of week t−season (0 before
// the series starts). With season 1 it is the naive last-week forecast.
// online_retail's shared history covers 43 weeks, less than a year, so
// yearly seasonality (52) cannot be used there.
func SeasonalNaive(s *Series, t, season int) float64 {
	if season < 1 || t-season < 0 || t-season >= len(s.Qty) {
		return 0
	}
	return s.Qty[t-season]
}

// MovingAverage forecasts week t as the mean demand of weeks t−window … t−1
// (fewer at the start of the calendar; 0 if none).
func MovingAverage(s *Series, t, window int) float64 {
	var sum float64
	n := 0
	for k := 1; k <= window && t-k >= 0; k++ {
		if t-k < len(s.Qty) {
			sum += s.Qty[t-k]
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// BaselineErrors are the baselines' errors pooled over tenants.
type BaselineErrors struct {
	SeasonalNaive Errors
	MovingAverage Errors
	Zero          Errors // the all-zero forecast
}

// HoldoutBaselines returns the errors of the seasonal-naive (period season)
// and moving-average (window weeks) forecasts, and of the all-zero
// forecast, pooled over every tenant's rows in the last holdout weeks of
// cal: exactly the active (product, week) rows Prepare holds back, so the
// figures stand beside a head evaluated with TenantData.Evaluate (or the
// federated task's evaluation) on the same weeks. tenants[i] is the i-th
// tenant's transactions; lines outside cal are ignored.
func HoldoutBaselines(tenants [][]Transaction, cal Calendar, holdout, season, window int) (BaselineErrors, error) {
	var b BaselineErrors
	err := HoldoutForecasts(tenants, cal, holdout, season, window, func(y, naive, movAvg float64) {
		b.SeasonalNaive.Add(naive, y)
		b.MovingAverage.Add(movAvg, y)
		b.Zero.Add(0, y)
	})
	return b, err
}

// HoldoutForecasts calls row with the actual demand and the two baselines'
// forecasts of every held-back row of every tenant (see HoldoutBaselines),
// tenant by tenant, in Prepare's order.
func HoldoutForecasts(tenants [][]Transaction, cal Calendar, holdout, season, window int, row func(y, naive, movAvg float64)) error {
	f, err := NewFeaturizer(nil, 0, 0, cal)
	if err != nil {
		return err
	}
	for i, tx := range tenants {
		td, err := Prepare(context.Background(), f, "", WeeklySeries(tx, cal, false), holdout, season, window)
		if err != nil {
			return fmt.Errorf("forecast: tenant %d: %w", i, err)
		}
		for j, y := range td.TestY {
			row(y, td.TestNaive[j], td.TestMovAvg[j])
		}
	}
	return nil
}
