package forecast

import (
	"fmt"
	"slices"
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

// Median forecasts week t as the median demand of weeks t−k … t−1 (fewer
// at the start of the calendar; the mean of the middle two for an even
// count; 0 if none). Under absolute error it is the natural simple
// forecast of intermittent demand: the median of a series that sells in
// fewer than half of its weeks is 0.
func Median(s *Series, t, k int) float64 {
	w := window(s, t, k)
	if len(w) == 0 {
		return 0
	}
	m := len(w) / 2
	if len(w)%2 == 1 {
		return w[m]
	}
	return (w[m-1] + w[m]) / 2
}

// window returns the demand of weeks t−k … t−1 that exist, sorted.
func window(s *Series, t, k int) []float64 {
	var w []float64
	for j := 1; j <= k && t-j >= 0; j++ {
		if t-j < len(s.Qty) {
			w = append(w, s.Qty[t-j])
		}
	}
	slices.Sort(w)
	return w
}

// Quantile forecasts week t as the level-q quantile of the demand of
// weeks t−k … t−1 (fewer at the start of the calendar; 0 if none), with
// linear interpolation between order statistics: at position q·(n−1) of
// the n sorted values (q 0.5 is Median). A level below 0.5 forecasts less
// than the median where demand is lumpy, which can lower absolute error
// when a large order rarely repeats the next week.
func Quantile(s *Series, t, k int, q float64) float64 {
	w := window(s, t, k)
	if len(w) == 0 {
		return 0
	}
	p := min(max(q, 0), 1) * float64(len(w)-1)
	lo := int(p)
	if lo+1 >= len(w) {
		return w[lo]
	}
	return w[lo] + (p-float64(lo))*(w[lo+1]-w[lo])
}

// PanelQuantile is the level of the panel's lower-quantile baselines,
// chosen on online_retail's development windows (the four 4-week windows
// before the hold-out; models/forecast TestForecastHeadroomExperiment):
// the 0.4 quantiles of the last 8 and of the last 13 weeks had a lower
// WAPE than the 13-week median in three of them and were within 0.0013 of
// it in the fourth.
const PanelQuantile = 0.4

// CrostonAlpha is the smoothing constant of Croston's method and SBA (the
// customary 0.1).
const CrostonAlpha = 0.1

// Croston forecasts week t from weeks < t by Croston's method for
// intermittent demand with smoothing alpha: the demand size z and the
// interval p between demands are smoothed separately, updated only in
// weeks with demand, and the forecast is z/p. They start at the first
// demand: z is its size and p the weeks from the start of the calendar to
// it (inclusive). 0 before any demand. With sba, the forecast is the
// Syntetos–Boylan approximation (1−alpha/2)·z/p, which removes Croston's
// upward bias.
func Croston(s *Series, t int, alpha float64, sba bool) float64 {
	var z, p float64
	last := -1
	for k := 0; k < t && k < len(s.Qty); k++ {
		q := s.Qty[k]
		if q <= 0 {
			continue
		}
		if last < 0 {
			z, p = q, float64(k+1)
		} else {
			z += alpha * (q - z)
			p += alpha * (float64(k-last) - p)
		}
		last = k
	}
	if last < 0 {
		return 0
	}
	f := z / p
	if sba {
		f *= 1 - alpha/2
	}
	return f
}

// Baseline is a model-free forecast of week t of a series from weeks < t.
type Baseline struct {
	Name     string
	Forecast func(s *Series, t int) float64
}

// Panel is the fixed set of classical baselines every forecasting run
// reports beside its model: the all-zero forecast, the seasonal naive
// forecast of period season, moving averages over 4, 8 and 13 weeks and
// over window weeks (if another length), medians of the last 4, 8 and 13
// weeks, the PanelQuantile quantiles of the last 8 and 13 weeks, Croston
// and SBA (CrostonAlpha). Each is something a seller can
// compute alone from its own series.
func Panel(season, window int) []Baseline {
	p := []Baseline{
		{"zero", func(*Series, int) float64 { return 0 }},
		{"seasonal_naive", func(s *Series, t int) float64 { return SeasonalNaive(s, t, season) }},
	}
	for _, k := range []int{4, 8, 13} {
		p = append(p, Baseline{fmt.Sprintf("moving_average_%d", k), func(s *Series, t int) float64 { return MovingAverage(s, t, k) }})
	}
	if window != 4 && window != 8 && window != 13 {
		p = append(p, Baseline{fmt.Sprintf("moving_average_%d", window), func(s *Series, t int) float64 { return MovingAverage(s, t, window) }})
	}
	for _, k := range []int{4, 8, 13} {
		p = append(p, Baseline{fmt.Sprintf("median_%d", k), func(s *Series, t int) float64 { return Median(s, t, k) }})
	}
	for _, k := range []int{8, 13} {
		p = append(p, Baseline{fmt.Sprintf("quantile%02.0f_%d", 100*PanelQuantile, k), func(s *Series, t int) float64 { return Quantile(s, t, k, PanelQuantile) }})
	}
	return append(p,
		Baseline{"croston", func(s *Series, t int) float64 { return Croston(s, t, CrostonAlpha, false) }},
		Baseline{"sba", func(s *Series, t int) float64 { return Croston(s, t, CrostonAlpha, true) }})
}

// HoldoutBaselines returns the errors of every baseline of panel, by
// name, pooled over every tenant's rows in the last holdout weeks of cal:
// exactly the active (product, week) rows Prepare holds back, so the
// figures stand beside a head evaluated with TenantData.Evaluate (or the
// federated task's deployed statistics) on the same weeks. tenants[i] is the i-th
// tenant's transactions; lines outside cal are ignored.
func HoldoutBaselines(tenants [][]Transaction, cal Calendar, holdout int, panel []Baseline) (map[string]Errors, error) {
	errs := make([]Errors, len(panel))
	err := HoldoutForecasts(tenants, cal, holdout, panel, func(y float64, f []float64) {
		for i, v := range f {
			errs[i].Add(v, y)
		}
	})
	out := map[string]Errors{}
	for i, b := range panel {
		out[b.Name] = errs[i]
	}
	return out, err
}

// HoldoutForecasts calls row with the actual demand and the forecasts of
// every baseline of panel (in panel order) of every held-back row of every
// tenant (see HoldoutBaselines), tenant by tenant, in Prepare's order.
func HoldoutForecasts(tenants [][]Transaction, cal Calendar, holdout int, panel []Baseline, row func(y float64, f []float64)) error {
	if holdout < 1 || holdout >= cal.Weeks-1 {
		return fmt.Errorf("forecast: hold-out of %d weeks does not fit a calendar of %d weeks", holdout, cal.Weeks)
	}
	f := make([]float64, len(panel))
	for _, tx := range tenants {
		ss := WeeklySeries(tx, cal, false)
		for i := range ss {
			s := &ss[i]
			for t := cal.Weeks - holdout; t < cal.Weeks; t++ {
				if !Active(s, t) {
					continue
				}
				for j, b := range panel {
					f[j] = b.Forecast(s, t)
				}
				row(s.Qty[t], f)
			}
		}
	}
	return nil
}
