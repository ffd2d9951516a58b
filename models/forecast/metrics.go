package forecast

import "math"

// Errors accumulates forecast errors so that tenants' accumulators add up to
// the accumulator of their union (federated evaluation sends these sums).
type Errors struct {
	N      int64   // forecasts counted
	AbsErr float64 // Σ|ŷ−y|
	SqErr  float64 // Σ(ŷ−y)²
	AbsY   float64 // Σ|y|
}

// Add counts one forecast pred of the actual value y.
func (e *Errors) Add(pred, y float64) {
	d := pred - y
	e.N++
	e.AbsErr += math.Abs(d)
	e.SqErr += d * d
	e.AbsY += math.Abs(y)
}

// Merge adds o into e.
func (e *Errors) Merge(o Errors) {
	e.N += o.N
	e.AbsErr += o.AbsErr
	e.SqErr += o.SqErr
	e.AbsY += o.AbsY
}

// MAE is Σ|ŷ−y|/N (0 when empty).
func (e Errors) MAE() float64 {
	if e.N == 0 {
		return 0
	}
	return e.AbsErr / float64(e.N)
}

// RMSE is √(Σ(ŷ−y)²/N) (0 when empty).
func (e Errors) RMSE() float64 {
	if e.N == 0 {
		return 0
	}
	return math.Sqrt(e.SqErr / float64(e.N))
}

// WAPE is the weighted absolute percentage error Σ|ŷ−y|/Σ|y| (NaN when
// Σ|y| = 0).
func (e Errors) WAPE() float64 {
	if e.AbsY == 0 {
		return math.NaN()
	}
	return e.AbsErr / e.AbsY
}

// Metrics returns {"mae", "rmse", "wape"}.
func (e Errors) Metrics() map[string]float64 {
	return map[string]float64{"mae": e.MAE(), "rmse": e.RMSE(), "wape": e.WAPE()}
}
