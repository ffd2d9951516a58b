package forecast

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
