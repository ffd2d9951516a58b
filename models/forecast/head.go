package forecast

import (
	"fmt"
	"math"
	mrand "math/rand/v2"
)

// Head is the linear regression head: it predicts z = log1p(q)/Scale as
// w·x, so that the forecast is expm1(Scale·w·x) ≥ 0 units (0 whenever
// w·x ≤ 0). With Tau in (0, 1) training minimises the pinball (quantile)
// loss of z at level Tau: the log1p transform is monotone, so the
// Tau-quantile of z maps to the Tau-quantile of the demand, and Tau = 0.5
// estimates the conditional median, the forecast that minimises absolute
// error (MAE, WAPE) — for intermittent demand often exactly 0, which a
// mean-trained model never forecasts. Otherwise (Tau 0) it minimises the
// Huber loss of z with threshold Delta.
type Head struct {
	W     []float64
	Delta float64
	Tau   float64
}

// DefaultHuberDelta is the Huber threshold in z units (0.2·Scale = 1 in
// log1p units: errors beyond a factor of e count linearly).
const DefaultHuberDelta = 0.2

// PriorFeature is the feature the public prior weighs 1: median13, so
// that the initial head forecasts exactly the 13-week median (in units:
// expm1(Scale·log1p(m)/Scale) = m), the strongest simple forecast under
// absolute error on online_retail's development weeks; training learns
// corrections to it.
const PriorFeature = 18

// NewHead returns a head of dim weights initialised to the public prior:
// weight 1 on PriorFeature (if dim has it), 0 elsewhere.
func NewHead(dim int) *Head {
	w := make([]float64, dim)
	if dim > PriorFeature {
		w[PriorFeature] = 1
	}
	return &Head{W: w, Delta: DefaultHuberDelta}
}

// PredictZ returns w·x.
func (h *Head) PredictZ(x []float64) float64 {
	if len(x) != len(h.W) {
		panic("forecast: PredictZ: feature row has the wrong length")
	}
	var s float64
	for i, v := range x {
		s += h.W[i] * v
	}
	return s
}

// Predict returns the forecast in units, expm1(Scale·w·x) clamped to ≥ 0.
func (h *Head) Predict(x []float64) float64 {
	z := h.PredictZ(x) * Scale
	if z > 30 {
		z = 30
	}
	return math.Max(0, math.Expm1(z))
}

// Target is the training target of a quantity: log1p(max(q,0))/Scale.
func Target(q float64) float64 { return math.Log1p(math.Max(q, 0)) / Scale }

// TrainConfig sets up DP-SGD (or plain SGD) on the head.
type TrainConfig struct {
	Steps        int
	LearningRate float64
	Private      bool
	// DP-SGD: Poisson sampling rate q, clip norm C, noise multiplier z.
	SampleRate, ClipNorm, NoiseMultiplier float64
	// ExpectedBatch divides every private step's noised sum: a public
	// constant of the plan, never q·N of the tenant's own N (which the
	// noise scale would then reveal).
	ExpectedBatch float64
	// BatchSize is the minibatch size without Private.
	BatchSize int
}

// Check validates cfg.
func (c TrainConfig) Check() error {
	if c.Steps < 0 || !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 0) {
		return fmt.Errorf("forecast: steps %d and learning rate %v must be ≥ 0 and > 0", c.Steps, c.LearningRate)
	}
	if c.Private {
		if !(c.SampleRate > 0 && c.SampleRate <= 1) || !(c.ClipNorm > 0) || !(c.NoiseMultiplier > 0) {
			return fmt.Errorf("forecast: DP-SGD needs q in (0,1], C > 0, z > 0; got q=%v C=%v z=%v", c.SampleRate, c.ClipNorm, c.NoiseMultiplier)
		}
		if !(c.ExpectedBatch > 0) || math.IsInf(c.ExpectedBatch, 0) {
			return fmt.Errorf("forecast: DP-SGD needs a public expected batch > 0, got %v", c.ExpectedBatch)
		}
	} else if c.BatchSize < 1 {
		return fmt.Errorf("forecast: batch size %d < 1", c.BatchSize)
	}
	return nil
}

// lossGrad returns the head's loss and its derivative dL/dpred at
// residual r = pred − z.
func (h *Head) lossGrad(r float64) (loss, grad float64) {
	if h.Tau > 0 && h.Tau < 1 {
		if r > 0 {
			return (1 - h.Tau) * r, 1 - h.Tau
		}
		if r < 0 {
			return -h.Tau * r, -h.Tau
		}
		return 0, 0
	}
	return huberLoss(r, h.Delta), huberGrad(r, h.Delta)
}

// huberGrad is dL/dpred of the Huber loss at residual r = pred − y.
func huberGrad(r, delta float64) float64 {
	if r > delta {
		return delta
	}
	if r < -delta {
		return -delta
	}
	return r
}

// huberLoss is the Huber loss of residual r with threshold delta.
func huberLoss(r, delta float64) float64 {
	if a := math.Abs(r); a > delta {
		return delta * (a - delta/2)
	}
	return r * r / 2
}

// TrainStats describes a Train call. The figures come from private rows:
// they are for the tenant's own logs, not for release.
type TrainStats struct {
	Steps    int // steps taken
	Examples int // per-example gradients computed (sum of batch sizes)
	// MeanLoss is the mean loss (Huber or pinball, z units) of those
	// examples, each before its step.
	MeanLoss float64
	// ClippedFraction is the fraction of sampled units (a row for
	// TrainWithStats) whose summed gradient's L2 norm exceeded ClipNorm
	// or was not finite (such a unit is dropped; private training only).
	ClippedFraction float64
}

// Train runs cfg.Steps steps on the rows x with targets z (from Target).
// With Private every step is a DP-SGD step: Poisson sampling with rate q,
// each per-example gradient ψ(w·x−z)·x clipped to L2 norm C, their sum plus
// N(0, (zC)²) per coordinate, divided by the public ExpectedBatch. All
// randomness comes from rng (privacy.NewRand in production). Its ε is
// per row: for a customer-level guarantee train with TrainUnits over
// customers' own rows (PrepareCustomers), as models/task does.
func (h *Head) Train(x [][]float64, z []float64, cfg TrainConfig, rng *mrand.Rand) error {
	_, err := h.TrainWithStats(x, z, cfg, rng)
	return err
}

// TrainWithStats is Train that also reports what the steps saw: TrainUnits
// with every row its own unit (row-level DP-SGD).
func (h *Head) TrainWithStats(x [][]float64, z []float64, cfg TrainConfig, rng *mrand.Rand) (TrainStats, error) {
	if len(x) != len(z) {
		return TrainStats{}, fmt.Errorf("forecast: %d rows but %d targets", len(x), len(z))
	}
	return TrainUnits(h, RowUnits(x, z), cfg, rng)
}

// Weights returns the head's live weights (Model).
func (h *Head) Weights() []float64 { return h.W }

// AddGrad adds the gradient ψ(w·x−z)·x of the head's loss at row x with
// target z to g and returns the loss (Model).
func (h *Head) AddGrad(g, x []float64, z float64) float64 {
	l, c := h.lossGrad(h.PredictZ(x) - z)
	if c != 0 {
		for j, v := range x {
			g[j] += c * v
		}
	}
	return l
}
